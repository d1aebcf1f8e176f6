"""The table of transcript formats: one row per format, read by detection, the CLI's
``--format`` choices, ``audit`` and the docs. Adding a format is one module and one row
(or, outside this package, one ``grader.formats`` entry point that names a ``Format``).

Contract of a row (shared by built-in formats and plug-ins):
- ``name``: what ``--format`` takes;
- ``description``: one line for ``--help`` and the README;
- ``extensions``: lower-case suffixes a folder walk reads for it (compression suffixes such as
  ``.gz`` are stripped before matching);
- ``read(path, stem)``: yields ``Transcript`` values and, in place of anything unreadable,
  ``InputError`` values (never raises for bad input);
- ``detect(head, path)``: given the first bytes of the (decompressed) file, whether this format
  claims it without ``--format``; ``None`` means the format is read only when named.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator, Optional, Union

from ..errors import InputError
from .model import Transcript

ReadFn = Callable[[str, str], Iterator[Union[Transcript, InputError]]]
DetectFn = Callable[[bytes, str], bool]


@dataclass(frozen=True)
class Format:
    """One transcript format: how to recognise a file of it and how to read it."""

    name: str
    description: str
    extensions: frozenset[str]
    read: ReadFn
    detect: Optional[DetectFn] = None
