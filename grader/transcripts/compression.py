"""Compressed inputs: ``.gz``, ``.bz2``, ``.xz`` and ``.zst`` around any format, streamed.

``open_input(path)`` opens a file for binary reading, decompressing on the fly when its name
ends with a compression suffix (nothing is unpacked to disk); every reader that opens a file
goes through it. ``inner_suffix(name)`` is the suffix that says the format
(``chat.jsonl.gz`` -> ``.jsonl``). gzip, bz2 and lzma come from the standard library, zstd
from the ``zstandard`` package. A damaged stream raises one of ``READ_ERRORS`` while reading.
"""
from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import zlib
from typing import IO, Callable

import zstandard

from ..errors import InputError


def _open_zstd(path: str) -> IO[bytes]:
    raw = open(path, "rb")
    try:
        reader = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True, closefd=True)
    except BaseException:
        raw.close()
        raise
    return io.BufferedReader(reader, buffer_size=2**16)  # type: ignore[arg-type]


OPENERS: dict[str, Callable[[str], IO[bytes]]] = {
    ".gz": lambda p: gzip.open(p, "rb"),  # type: ignore[dict-item,return-value]
    ".bz2": lambda p: bz2.open(p, "rb"),
    ".xz": lambda p: lzma.open(p, "rb"),
    ".zst": _open_zstd,
}
COMPRESSIONS = frozenset(OPENERS)

# what reading a damaged compressed stream raises (besides OSError, which covers BadGzipFile
# and bz2's "Invalid data stream")
READ_ERRORS: tuple[type[BaseException], ...] = (OSError, EOFError, zlib.error, lzma.LZMAError,
                                                 zstandard.ZstdError)


def compression_of(name: str) -> str | None:
    """The compression suffix of ``name`` (``.gz`` ...), or None."""
    ext = os.path.splitext(name)[1].lower()
    return ext if ext in OPENERS else None


def inner_name(name: str) -> str:
    """``name`` without its compression suffix (``chat.jsonl.gz`` -> ``chat.jsonl``)."""
    return name[: -len(compression_of(name) or "")] if compression_of(name) else name


def inner_suffix(name: str) -> str:
    """The lower-case suffix that names the format, compression stripped."""
    return os.path.splitext(inner_name(os.path.basename(name)))[1].lower()


def inner_stem(path: str) -> str:
    """The file name without compression suffix and format suffix (``a/chat.jsonl.gz`` -> ``chat``)."""
    return os.path.splitext(inner_name(os.path.basename(path)))[0]


def open_input(path: str) -> IO[bytes]:
    """Open ``path`` for binary reading, decompressing by suffix. Raises OSError."""
    opener = OPENERS.get(compression_of(path) or "")
    return opener(path) if opener else open(path, "rb")


def reason(e: BaseException) -> str:
    """A one-line reason for a read failure (I/O or a damaged compressed stream)."""
    if isinstance(e, OSError) and e.strerror:
        return e.strerror.lower()
    if isinstance(e, EOFError):
        return "compressed stream ends early (truncated file)"
    text = str(e) or type(e).__name__
    return f"damaged compressed data: {text}"


def read_head(path: str, size: int = 2**16) -> bytes:
    """The first ``size`` (decompressed) bytes, or b"" when the file cannot be read (the
    reader then reports why)."""
    try:
        with open_input(path) as f:
            return f.read(size)
    except READ_ERRORS:
        return b""


def read_all(path: str, limit: int) -> bytes:
    """The whole (decompressed) content, refusing more than ``limit`` bytes; raises InputError."""
    try:
        if compression_of(path) is None:
            size = os.path.getsize(path)
            if size > limit:
                raise InputError(path, "", f"file is {size / 2**20:.0f} MiB, over the "
                                           f"{limit // 2**20} MiB limit for one document (use JSONL)")
        with open_input(path) as f:
            data = f.read(limit + 1)
    except READ_ERRORS as e:
        raise InputError(path, "", f"cannot read: {reason(e)}") from None
    if len(data) > limit:
        raise InputError(path, "", f"file is over the {limit // 2**20} MiB limit for one document "
                                   "once decompressed (use JSONL)")
    return data
