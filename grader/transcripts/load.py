"""Read transcripts from files and folders, whatever their format.

``iter_inputs(paths, format)`` streams ``Transcript`` values and, for every input that cannot
be read, an ``InputError`` value (never raised): the engine records those and goes on.
``load_transcripts(paths, format, on_error)`` is the library-facing variant.

Formats (``FORMATS``): ``openai``, ``anthropic``, ``inspect``, ``text``. Without ``format``
each file is read by its extension and content:

- ``.jsonl``: one conversation per line (OpenAI or Anthropic, detected per line);
- ``.json``: an Inspect log (top-level ``version`` + ``eval``), else one conversation, a list
  of conversations, or a bare list of messages; several JSON values in a row are read as JSONL;
- ``.eval``: an Inspect log (needs the ``inspect`` extra);
- ``.txt``: plain text with ``User:`` / ``Assistant:`` turns; ``.md`` the same (in a folder,
  Markdown files without turn markers are skipped silently);
- ``.parquet`` and saved Hugging Face dataset folders (``tabular``), and the formats of
  ``grader.formats`` plug-ins (``plugins``), whose detectors see a file's first
  ``DETECT_BYTES`` before the built-in rules do. A folder holding a saved dataset is read as
  one input, not walked.

With ``format`` every file is read as that format (``openai``/``anthropic`` files as JSON or
JSONL whatever their extension). A folder is walked recursively in sorted name order,
following symbolic links (a link back to an enclosing folder is an InputError); hidden
entries (``.name``) are skipped, and so are files whose extension the format does not read;
an entry with a readable extension that is not a regular file (a FIFO, a socket) is an InputError.
An explicitly named file of unknown type is an InputError.

Positions (``Source.locator``): ``line N`` (1-based) in JSONL, ``item N`` (0-based, as in
``jq '.[N]'``) in a JSON list, ``sample ID epoch N`` in an Inspect log, empty for a file holding
one conversation.

Ids are stable (same input, same id) and readable:
- JSON/JSONL: the input's own ``id`` (top level, else ``metadata.id``), else
  ``<file stem>-<line or item number>-<first 8 hex of content_hash()>``, or
  ``<file stem>-<8 hex>`` for a file holding one conversation;
- plain text: ``<file stem>-<8 hex>``;
- Inspect: ``<task>/<sample id>/<epoch>``.
Ids repeated across inputs are made unique by the engine (``id#2``).
"""
from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence, Union

from ..errors import FormatPluginError, InputError, UsageError
from .inspect_format import iter_inspect
from .jsonio import CONCATENATED, iter_jsonl, os_reason, read_document
from .model import Transcript
from .objects import is_bare_messages, transcript_from_value
from .formats import Format
from .plugins import plugin_formats
from .tabular import HF_DATASET_FORMAT, TABULAR_FORMATS, is_dataset_folder
from .text_format import read_text_file

FORMATS = ("openai", "anthropic", "inspect", "text")

# extensions read when walking a folder, per format (None: detected)
FOLDER_EXTENSIONS: dict[str | None, frozenset[str]] = {
    None: frozenset({".json", ".jsonl", ".eval", ".txt", ".md"}),
    "openai": frozenset({".json", ".jsonl"}),
    "anthropic": frozenset({".json", ".jsonl"}),
    "inspect": frozenset({".eval", ".json"}),
    "text": frozenset({".txt", ".md"}),
}

# The opening of a JSON log written by Inspect: {"version": 2, "status": ...
_INSPECT_JSON_HEAD = re.compile(rb'\A(?:\xef\xbb\xbf)?\s*\{\s*"version"\s*:\s*\d+\s*,\s*"status"\s*:')

# bytes of a file's head given to the detectors of extra formats (a whole first record of a
# typical agent log fits)
DETECT_BYTES = 64 * 1024

PathArg = Union[str, "os.PathLike[str]"]
OnError = Union[str, Callable[[InputError], object]]


def iter_inputs(paths: Sequence[PathArg] | PathArg, format: str | None = None) -> Iterator[Transcript | InputError]:
    """Stream the transcripts of ``paths`` (files or folders), in order, with an
    ``InputError`` value in place of every input that cannot be read.

    Raises UsageError at once for an unknown ``format``; never raises for bad input.
    """
    if format is not None and format not in FORMATS and format not in _extra_formats():
        names = [*FORMATS, *_extra_formats()]
        raise UsageError(f"unknown transcript format {format!r} (expected one of: {', '.join(names)})")
    items = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    return _iter_all([os.fspath(p) for p in items], format)


def load_transcripts(paths: Sequence[PathArg] | PathArg, format: str | None = None,
                     on_error: OnError = "raise") -> Iterator[Transcript]:
    """Stream transcripts for library use.

    ``on_error``: ``"raise"`` raises the first InputError, ``"skip"`` drops bad inputs,
    a callable receives each InputError and reading goes on.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "chat.jsonl"
    >>> _ = p.write_text('{"id": "c1", "messages": [{"role": "user", "content": "hi"}]}\\n')
    >>> [t.id for t in load_transcripts([p])]
    ['c1']
    """
    if not (on_error in ("raise", "skip") or callable(on_error)):
        raise UsageError(f"on_error must be 'raise', 'skip' or a callable, not {on_error!r}")
    return _filter(iter_inputs(paths, format), on_error)


def _filter(items: Iterable[Transcript | InputError], on_error: OnError) -> Iterator[Transcript]:
    for item in items:
        if isinstance(item, InputError):
            if on_error == "raise":
                raise item
            if callable(on_error):
                on_error(item)
            continue
        yield item


def _iter_all(paths: list[str], fmt: str | None) -> Iterator[Transcript | InputError]:
    for p in paths:
        yield from _iter_path(p, fmt)


def _iter_path(path: str, fmt: str | None) -> Iterator[Transcript | InputError]:
    for item in _path_files(path, fmt):
        if isinstance(item, InputError):
            yield item
        else:
            yield from read_file(item[0], fmt, explicit=item[0] == path)


def input_files(paths: Sequence[PathArg] | PathArg, format: str | None = None) -> list[tuple[str, int, int]]:
    """``(path, size, mtime_ns)`` of every file ``iter_inputs`` would read, in its order
    (unreadable ones left out: they are input errors). A fingerprint of the inputs."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    out = []
    for p in paths:
        for item in _path_files(os.fspath(p), format):
            if not isinstance(item, InputError):
                out.append((item[0], item[1].st_size, item[1].st_mtime_ns))
    return out


def input_change(recorded: Sequence[Sequence[object]], current: Sequence[Sequence[object]]) -> str | None:
    """How the files of :func:`input_files` differ from an earlier fingerprint (the first
    difference, in words), or None when they are the same files, sizes and times."""
    before = {str(r[0]): (r[1], r[2]) for r in recorded}
    now = {str(r[0]): (r[1], r[2]) for r in current}
    for path, (size, mtime) in now.items():
        if path not in before:
            return f"{path} is new"
        if before[path][0] != size:
            return f"{path} changed size ({before[path][0]} -> {size} bytes)"
        if before[path][1] != mtime:
            return f"{path} was modified"
    gone = [p for p in before if p not in now]
    return f"{gone[0]} is gone" if gone else None


def _path_files(path: str, fmt: str | None) -> Iterator[tuple[str, os.stat_result] | InputError]:
    """The regular files behind ``path`` (itself, or a folder's readable files, walked)."""
    try:
        st = os.stat(path)
    except OSError as e:
        yield InputError(path, "", _stat_reason(path, e))
        return
    if stat.S_ISDIR(st.st_mode) and _reads_folder(path, fmt):
        yield path, st
    elif stat.S_ISDIR(st.st_mode):
        yield from _walk(path, fmt, frozenset({(st.st_dev, st.st_ino)}))
    elif stat.S_ISREG(st.st_mode):
        yield path, st
    else:
        yield InputError(path, "", "not a regular file or folder")


def _stat_reason(path: str, e: OSError) -> str:
    if os.path.islink(path) and isinstance(e, FileNotFoundError):
        return "broken symbolic link"
    if isinstance(e, FileNotFoundError):
        return "no such file or folder"
    return os_reason(e)


def _walk(folder: str, fmt: str | None, ancestors: frozenset[tuple[int, int]]
          ) -> Iterator[tuple[str, os.stat_result] | InputError]:
    try:
        names = sorted(os.listdir(folder))
    except OSError as e:
        yield InputError(folder, "", f"cannot list folder: {os_reason(e)}")
        return
    wanted = _wanted(fmt)
    for name in names:
        if name.startswith("."):
            continue
        full = os.path.join(folder, name)
        readable = _ext(name) in wanted
        try:
            st = os.stat(full)
        except OSError as e:
            if readable or os.path.islink(full):
                yield InputError(full, "", _stat_reason(full, e))
            continue
        if stat.S_ISDIR(st.st_mode) and _reads_folder(full, fmt):
            yield full, st
        elif stat.S_ISDIR(st.st_mode):
            key = (st.st_dev, st.st_ino)
            if key in ancestors:
                yield InputError(full, "", "folder symbolic link loop (it leads back to an enclosing folder)")
                continue
            yield from _walk(full, fmt, ancestors | {key})
        elif stat.S_ISREG(st.st_mode) and readable:
            yield full, st
        elif readable and not stat.S_ISREG(st.st_mode):  # a FIFO, socket or device named like an input
            yield InputError(full, "", "not a regular file or folder")


def _ext(name: str) -> str:
    return os.path.splitext(name)[1].lower()


def read_file(path: str, fmt: str | None = None, explicit: bool = True) -> Iterator[Transcript | InputError]:
    """The transcripts of one file (see module doc for detection)."""
    ext = _ext(path)
    stem = Path(path).stem
    extra = _extra_format_for(path, ext, fmt)
    if extra is not None:
        yield from _read_extra(extra, path, stem)
        return
    if fmt == "inspect" or (fmt is None and ext == ".eval"):
        yield from iter_inspect(path, stem)
    elif fmt == "text" or (fmt is None and ext in (".txt", ".md")):
        try:
            t = read_text_file(path, stem, only_if_marked=(ext == ".md" and not explicit))
        except InputError as e:
            yield e
            return
        if t is not None:
            yield t
    elif ext == ".jsonl":
        yield from _read_jsonl(path, fmt, stem)
    elif ext == ".json" or fmt is not None:
        yield from _read_json(path, fmt, stem)
    else:
        yield InputError(path, "", f"unknown file type {ext or '(no extension)'}: expected .json, .jsonl, "
                                   f".eval, .txt or .md (or give a format: {', '.join(FORMATS)})")


def _read_jsonl(path: str, fmt: str | None, stem: str) -> Iterator[Transcript | InputError]:
    for item in iter_jsonl(path):
        if isinstance(item, InputError):
            yield item
            continue
        n, value = item
        try:
            yield transcript_from_value(value, fmt, path, f"line {n}", stem, n)
        except InputError as e:
            yield e


def _read_json(path: str, fmt: str | None, stem: str) -> Iterator[Transcript | InputError]:
    if fmt is None and _looks_like_inspect_json(path):
        yield from iter_inspect(path, stem)
        return
    try:
        value = read_document(path)
    except InputError as e:
        yield e
        return
    if value is CONCATENATED:
        yield from _read_jsonl(path, fmt, stem)
    elif fmt is None and isinstance(value, dict) and "version" in value and isinstance(value.get("eval"), dict):
        del value
        yield from iter_inspect(path, stem)
    elif isinstance(value, list) and not is_bare_messages(value):
        if not value:
            yield InputError(path, "", "empty list: no conversations")
        for k, item in enumerate(value):
            try:
                yield transcript_from_value(item, fmt, path, f"item {k}", stem, k)
            except InputError as e:
                yield e
    else:
        try:
            yield transcript_from_value(value, fmt, path, "", stem, None)
        except InputError as e:
            yield e


def _looks_like_inspect_json(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError:
        return False  # read_document reports it
    return bool(_INSPECT_JSON_HEAD.match(head))


# -- hook: formats outside the built-in branches above (tabular files, dataset folders and
# ``grader.formats`` plug-ins). Once the table of formats (formats.py) drives this module,
# these rows join it and this hook goes.

def _extra_formats() -> dict[str, Format]:
    return {f.name: f for f in (*TABULAR_FORMATS, *plugin_formats())}


def _wanted(fmt: str | None) -> frozenset[str]:
    if fmt in FOLDER_EXTENSIONS:
        base = FOLDER_EXTENSIONS[fmt]
        if fmt is None:  # detected: extra formats' extensions are read too
            return base.union(*(f.extensions for f in _extra_formats().values() if f.detect is not None))
        return base
    return _extra_formats()[str(fmt)].extensions


def _reads_folder(path: str, fmt: str | None) -> bool:
    """A folder read as one input (a saved Hugging Face dataset), not walked."""
    return fmt in (None, HF_DATASET_FORMAT.name) and is_dataset_folder(path)


def _extra_format_for(path: str, ext: str, fmt: str | None) -> Format | None:
    extra = _extra_formats()
    if fmt is not None:
        return extra.get(fmt)
    if os.path.isdir(path):
        return HF_DATASET_FORMAT if is_dataset_folder(path) else None
    candidates = [f for f in extra.values() if f.detect is not None and ext in f.extensions]
    if not candidates:
        return None
    try:
        with open(path, "rb") as f:
            head = f.read(DETECT_BYTES)
    except OSError:
        return None  # the built-in reader reports it
    for candidate in candidates:
        try:
            claimed = candidate.detect is not None and candidate.detect(head, path)
        except Exception as e:  # a plug-in's bug: stop with its name rather than a bare traceback
            raise FormatPluginError(f"format {candidate.name!r}: detect failed on {path}: "
                                    f"{type(e).__name__}: {e}") from e
        if claimed:
            return candidate
    return None


def _read_extra(fmt: Format, path: str, stem: str) -> Iterator[Transcript | InputError]:
    try:
        yield from fmt.read(path, stem)
    except InputError as e:  # the contract says yield, but a raised one is still an input error
        yield e
