"""Read transcripts from files and folders, whatever their format.

``iter_inputs(paths, format, messages_path)`` streams ``Transcript`` values and, for every
input that cannot be read, an ``InputError`` value (never raised): the engine records those
and goes on. ``load_transcripts(paths, format, on_error, messages_path)`` is the
library-facing variant.

Formats come from the table (``table.all_formats()``: name, extensions, reader, detector).
Without ``format`` each file is read by the first row whose extensions hold the file's suffix
(a compression suffix ``.gz``/``.bz2``/``.xz``/``.zst`` is looked through: ``chat.jsonl.gz``
is a ``.jsonl``) and whose detector claims its first bytes: Inspect logs (``.eval``, ``.json``
starting with ``"version"`` and ``"status"``), Claude Code sessions, one-message-per-line
JSONL, plug-ins, then every other ``.json``/``.jsonl`` file by the ``json`` row (shapes
detected value by value, see ``shapes``), and ``.txt``/``.md`` as plain text.

With ``format`` every file is read as that format (JSON-based formats read any extension as
JSON or JSONL). ``messages_path`` (a ``selector``) reads every JSON/JSONL file by the values
it selects in each JSON value; it goes with no format or a JSON-based one (UsageError
otherwise).

A folder is walked recursively in sorted name order, following symbolic links (a link back to
an enclosing folder is an InputError); hidden entries (``.name``) are passed over. Every other
file the walk does not read is listed as a ``SkippedInput`` (an InputError subclass the engine
records with ``kind: skipped``, not counted as an error): a suffix no format reads (``skipped:
unknown extension .log``), a suffix the given format does not read, a Markdown file without
turn markers. An entry with a readable extension that is not a regular file (a FIFO, a socket)
is an InputError. An explicitly named file of unknown type is an InputError.

Positions (``Source.locator``): ``line N`` (1-based) in JSONL, ``item N`` (0-based, as in
``jq '.[N]'``) in a JSON list, the selector path (``results[3].conversation``) for nested
conversations, ``sample ID epoch N`` in an Inspect log, empty for a file holding one
conversation.

Ids are stable (same input, same id) and readable:
- JSON/JSONL: the input's own ``id`` (top level, else ``metadata.id``), else
  ``<file stem>-<line or item number>-<first 8 hex of content_hash()>``, or
  ``<file stem>-<8 hex>`` for a file holding one conversation;
- preference pairs: ``<pair id>/chosen`` and ``<pair id>/rejected``;
- Claude Code: the session id (``<session id>/sidechain-<agent>`` for sub-agents);
- plain text: ``<file stem>-<8 hex>``;
- Inspect: ``<task>/<sample id>/<epoch>``.
Ids repeated across inputs are made unique by the engine (``id#2``).
"""
from __future__ import annotations

import os
import stat
from typing import Callable, Iterable, Iterator, Sequence, Union

from ..errors import FormatPluginError, InputError, SkippedInput, UsageError
from .compression import compression_of, inner_stem, inner_suffix, read_head
from .jsonfile import read_conversations
from .jsonio import os_reason
from .model import Transcript
from .formats import Format
from .selector import Selector, parse_selector
from .tabular import HF_DATASET_FORMAT, is_dataset_folder
from .table import JSON, SELECTABLE, all_formats, detecting_extensions, format_names, get_format
from .text_format import read_text_file

FORMATS = format_names()
HEAD_BYTES = 2**20  # what a detector sees of a file

PathArg = Union[str, "os.PathLike[str]"]
OnError = Union[str, Callable[[InputError], object]]


def iter_inputs(paths: Sequence[PathArg] | PathArg, format: str | None = None,
                messages_path: str | None = None) -> Iterator[Transcript | InputError]:
    """Stream the transcripts of ``paths`` (files or folders), in order, with an
    ``InputError`` value in place of every input that cannot be read (a ``SkippedInput``
    for a file a folder walk does not read).

    Raises UsageError at once for an unknown ``format`` or a bad ``messages_path``; never
    raises for bad input.
    """
    if format is not None:
        get_format(format)
    selector = check_messages_path(messages_path, format)
    items = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    return _iter_all([os.fspath(p) for p in items], format, selector)


def check_messages_path(messages_path: str | None, format: str | None) -> Selector | None:
    """The parsed selector (None for none); UsageError for bad syntax or a format that is not
    read from JSON values."""
    if messages_path is None:
        return None
    if format is not None and format not in SELECTABLE:
        raise UsageError(f"--messages-path reads JSON values; it does not go with --format {format}")
    return parse_selector(messages_path)


def load_transcripts(paths: Sequence[PathArg] | PathArg, format: str | None = None,
                     on_error: OnError = "raise", messages_path: str | None = None) -> Iterator[Transcript]:
    """Stream transcripts for library use.

    ``on_error``: ``"raise"`` raises the first InputError, ``"skip"`` drops bad inputs,
    a callable receives each InputError and reading goes on. Files a folder walk passes over
    (``SkippedInput``) are given to a callable and otherwise dropped, never raised.
    ``messages_path``: where conversations sit inside each JSON value (see ``selector``).

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "chat.jsonl"
    >>> _ = p.write_text('{"id": "c1", "messages": [{"role": "user", "content": "hi"}]}\\n')
    >>> [t.id for t in load_transcripts([p])]
    ['c1']
    """
    if not (on_error in ("raise", "skip") or callable(on_error)):
        raise UsageError(f"on_error must be 'raise', 'skip' or a callable, not {on_error!r}")
    return _filter(iter_inputs(paths, format, messages_path), on_error)


def _filter(items: Iterable[Transcript | InputError], on_error: OnError) -> Iterator[Transcript]:
    for item in items:
        if isinstance(item, InputError):
            if on_error == "raise" and not isinstance(item, SkippedInput):
                raise item
            if callable(on_error):
                on_error(item)
            continue
        yield item


def _iter_all(paths: list[str], fmt: str | None, selector: Selector | None) -> Iterator[Transcript | InputError]:
    for p in paths:
        yield from _iter_path(p, fmt, selector)


def _iter_path(path: str, fmt: str | None, selector: Selector | None) -> Iterator[Transcript | InputError]:
    for item in _path_files(path, fmt):
        if isinstance(item, InputError):
            yield item
        else:
            yield from read_file(item[0], fmt, explicit=item[0] == path, selector=selector)


def input_files(paths: Sequence[PathArg] | PathArg, format: str | None = None) -> list[tuple[str, int, int]]:
    """``(path, size, mtime_ns)`` of every file ``iter_inputs`` would read, in its order
    (unreadable ones left out: they are input errors). A fingerprint of the inputs."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    out = []
    for p in paths:
        for item in _path_files(os.fspath(p), format):
            if not isinstance(item, InputError):  # (skipped files are not inputs)
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
    wanted = get_format(fmt).extensions if fmt else detecting_extensions()
    for name in names:
        if name.startswith("."):
            continue
        full = os.path.join(folder, name)
        readable = inner_suffix(name) in wanted
        try:
            st = os.stat(full)
        except OSError as e:
            if readable or os.path.islink(full):
                yield InputError(full, "", _stat_reason(full, e))
            continue
        if stat.S_ISDIR(st.st_mode):
            key = (st.st_dev, st.st_ino)
            if key in ancestors:
                yield InputError(full, "", "folder symbolic link loop (it leads back to an enclosing folder)")
                continue
            if _reads_folder(full, fmt):
                yield full, st
                continue
            yield from _walk(full, fmt, ancestors | {key})
        elif stat.S_ISREG(st.st_mode) and readable:
            yield full, st
        elif readable and not stat.S_ISREG(st.st_mode):  # a FIFO, socket or device named like an input
            yield InputError(full, "", "not a regular file or folder")
        elif stat.S_ISREG(st.st_mode):
            yield SkippedInput(full, "", _skip_reason(name, fmt))


def _skip_reason(name: str, fmt: str | None) -> str:
    ext = inner_suffix(name) or "(none)"
    if fmt:
        exts = ", ".join(sorted(get_format(fmt).extensions))
        return f"skipped: extension {ext} is not read by --format {fmt} (it reads {exts})"
    return f"skipped: unknown extension {ext} (read: {', '.join(sorted(detecting_extensions()))})"


def read_file(path: str, fmt: str | None = None, explicit: bool = True,
              selector: Selector | None = None) -> Iterator[Transcript | InputError]:
    """The transcripts of one file (see module doc for detection)."""
    ext = inner_suffix(path)
    stem = inner_stem(path)
    if ext == ".md" and not explicit and fmt in (None, "text"):  # Markdown notes in a folder
        yield from _markdown_in_folder(path, stem)
        return
    if os.path.isdir(path):  # a saved Hugging Face dataset (the walk gives no other folder)
        yield from _read_row(HF_DATASET_FORMAT, path, stem)
        return
    if fmt is not None:
        if selector is not None:
            yield from read_conversations(path, stem, None if fmt == "json" else fmt, selector)
        else:
            yield from _read_row(get_format(fmt), path, stem)
        return
    if selector is not None and ext in JSON:
        yield from read_conversations(path, stem, None, selector)
        return
    rows = [f for f in all_formats() if f.detect is not None and ext in f.extensions]
    head = read_head(path, HEAD_BYTES) if rows else b""
    for row in rows:
        if _claims(row, head, path):
            yield from _read_row(row, path, stem)
            return
    names = ", ".join(format_names())
    known = ", ".join(sorted(detecting_extensions()))
    inside = compression_of(path)
    yield InputError(path, "", f"unknown file type {ext or '(no extension)'}"
                               f"{' inside ' + inside if inside else ''}: "
                               f"expected {known} (or give a format: {names})")


def _markdown_in_folder(path: str, stem: str) -> Iterator[Transcript | InputError]:
    try:
        t = read_text_file(path, stem, only_if_marked=True)
    except InputError as e:
        yield e
        return
    if t is None:
        yield SkippedInput(path, "", "skipped: Markdown file without turn markers (not a transcript)")
    else:
        yield t


def _reads_folder(path: str, fmt: str | None) -> bool:
    """A folder read as one input (a saved Hugging Face dataset), not walked."""
    return fmt in (None, HF_DATASET_FORMAT.name) and is_dataset_folder(path)


def _claims(row: Format, head: bytes, path: str) -> bool:
    try:
        return bool(row.detect is not None and row.detect(head, path))
    except Exception as e:  # a plug-in's bug: stop with its name rather than a bare traceback
        raise FormatPluginError(f"format {row.name!r}: detect failed on {path}: {type(e).__name__}: {e}") from e


def _read_row(row: Format, path: str, stem: str) -> Iterator[Transcript | InputError]:
    try:
        yield from row.read(path, stem)
    except InputError as e:  # the contract says yield, but a raised one is still an input error
        yield e
