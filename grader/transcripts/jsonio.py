"""Reading JSON documents and JSONL files defensively.

Every failure becomes an ``InputError`` value with a one-line reason that names the place:
undecodable bytes (with the byte offset in the file), invalid or truncated JSON (with line and
column), absurd nesting (``RecursionError`` from the parser), over-long lines and oversized
documents, empty or whitespace-only files. JSONL is read one line at a time in binary mode,
so memory stays flat whatever the file size. Files are opened through
``compression.open_input``, so ``.gz``/``.bz2``/``.xz``/``.zst`` files are read the same way.
"""
from __future__ import annotations

import codecs
import json
import re
from typing import Any, Final, Iterator

from ..errors import InputError
from .compression import READ_ERRORS, open_input, read_all
from .compression import reason as read_reason

MAX_LINE_BYTES = 64 * 2**20  # one JSONL line
MAX_DOCUMENT_BYTES = 512 * 2**20  # one .json document or text file (read whole)

# returned by read_document when the file holds several JSON values one after another
CONCATENATED: Final = object()

_BOM = codecs.BOM_UTF8
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _constant(name: str) -> str:
    """NaN, Infinity and -Infinity (which Python's json accepts but JSON does not) are
    kept as strings, so everything the grader writes back out stays valid JSON."""
    return name


def _fix_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_fix_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {_fix_surrogates(k): _fix_surrogates(v) for k, v in value.items()}
    return value


def loads(text: str) -> Any:
    """``json.loads`` for untrusted input: NaN/Infinity become strings, and a lone
    surrogate escape (``"\\ud800"``, which no UTF-8 file or terminal can carry) becomes
    U+FFFD. The escape check is a cheap search, so ordinary lines pay nothing more."""
    value = json.loads(text, parse_constant=_constant)
    if _SURROGATE_ESCAPE.search(text):
        value = _fix_surrogates(value)
    return value


def os_reason(e: OSError) -> str:
    """A one-line reason for an OSError (no path: InputError carries it)."""
    return e.strerror.lower() if e.strerror else str(e)


def read_bytes(path: str) -> bytes:
    """The whole file (decompressed, see ``compression``), refusing oversized ones; raises InputError."""
    return read_all(path, MAX_DOCUMENT_BYTES)


def decode(data: bytes, path: str, locator: str = "", base_offset: int = 0) -> str:
    """UTF-8 (a leading BOM is dropped); raises InputError naming the byte offset."""
    start = 3 if data.startswith(_BOM) else 0
    try:
        return data[start:].decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(path, locator, f"undecodable bytes (not UTF-8) at byte offset "
                                        f"{base_offset + start + e.start}") from None


def empty_reason(data: bytes) -> str | None:
    if not data:
        return "empty file"
    if not data.strip():
        return "file has only whitespace"
    return None


def _json_error(e: json.JSONDecodeError, text: str, with_line: bool) -> str:
    where = f"line {e.lineno} column {e.colno}" if with_line else f"column {e.colno}"
    if e.msg.startswith("Unterminated string"):  # the string ran to the end of the data
        return f"truncated JSON: unterminated string starting at {where}"
    if e.pos >= len(text.rstrip()):
        return f"truncated JSON (ends at {where}): {e.msg}"
    return f"invalid JSON at {where}: {e.msg}"


def read_document(path: str) -> Any:
    """Parse a whole file as one JSON value, or return ``CONCATENATED`` when it holds
    several values in a row (JSONL under a .json name). Raises InputError."""
    data = read_bytes(path)
    reason = empty_reason(data)
    if reason:
        raise InputError(path, "", reason)
    text = decode(data, path)
    try:
        return loads(text)
    except json.JSONDecodeError as e:
        if e.msg == "Extra data":
            return CONCATENATED
        raise InputError(path, "", _json_error(e, text, with_line=True)) from None
    except RecursionError:
        raise InputError(path, "", "JSON nested too deeply to read") from None


def iter_jsonl(path: str) -> Iterator[tuple[int, Any] | InputError]:
    """``(line number, value)`` for each non-blank line (1-based numbers), or an
    InputError for a line that cannot be read; blank lines are skipped."""
    try:
        f = open_input(path)
    except READ_ERRORS as e:
        yield InputError(path, "", f"cannot read: {read_reason(e)}")
        return
    with f:
        offset = 0
        n = 0
        seen_bytes = False
        seen_content = False
        readline = f.readline
        while True:
            try:
                raw = readline(MAX_LINE_BYTES + 1)
            except READ_ERRORS as e:
                yield InputError(path, f"line {n + 1}", f"cannot read: {read_reason(e)}")
                return
            if not raw:
                break
            n += 1
            start = offset
            offset += len(raw)
            seen_bytes = True
            if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                offset += _skip_rest_of_line(f)
                seen_content = True
                yield InputError(path, f"line {n}", f"line longer than {MAX_LINE_BYTES // 2**20} MiB")
                continue
            if not raw.strip():
                continue
            seen_content = True
            if n == 1 and raw.startswith(_BOM):
                raw = raw[3:]
                start += 3
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                yield InputError(path, f"line {n}", f"undecodable bytes (not UTF-8) at byte offset {start + e.start}")
                continue
            try:
                value = loads(text)
            except json.JSONDecodeError as e:
                yield InputError(path, f"line {n}", _json_error(e, text, with_line=False))
                continue
            except RecursionError:
                yield InputError(path, f"line {n}", "JSON nested too deeply to read")
                continue
            yield n, value
        if not seen_content:
            yield InputError(path, "", "file has only whitespace" if seen_bytes else "empty file")


def _skip_rest_of_line(f: Any) -> int:
    skipped = 0
    while True:
        chunk = f.readline(2**20)
        skipped += len(chunk)
        if not chunk or chunk.endswith(b"\n"):
            return skipped
