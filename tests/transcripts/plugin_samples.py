"""Objects that test entry points of the grader.formats group point at (good and bad)."""
from __future__ import annotations

from typing import Iterator

from grader.errors import InputError
from grader.transcripts.formats import Format
from grader.transcripts.model import Transcript


def _read(path: str, stem: str) -> Iterator[Transcript | InputError]:
    yield InputError(path, "", "sample plug-in reads nothing")


GOOD = Format("sample-log", "a sample plug-in format", frozenset({".samplelog"}), _read, None)


def make_good() -> Format:
    return Format("sample-made", "made by a factory", frozenset({".made"}), _read, None)


def make_broken() -> Format:
    raise RuntimeError("factory exploded")


NOT_A_FORMAT = {"name": "dict-log"}
CLASHING = Format("openai", "named like a built-in", frozenset({".json"}), _read, None)
BAD_NAME = Format("My Log", "spaces and capitals", frozenset({".log"}), _read, None)
BAD_EXTENSION = Format("ext-log", "extension without a dot", frozenset({"log"}), _read, None)
BAD_EXTENSIONS_TYPE = Format("list-log", "a list, not a frozenset", [".log"], _read, None)  # type: ignore[arg-type]
BAD_READ = Format("read-log", "read is not callable", frozenset({".log"}), "read", None)  # type: ignore[arg-type]
BAD_DETECT = Format("detect-log", "detect is not callable", frozenset({".log"}), _read, 42)  # type: ignore[arg-type]
DUPLICATE = Format("sample-log", "same name as GOOD", frozenset({".other"}), _read, None)


def _raise(head: bytes, path: str) -> bool:
    raise ValueError("cannot tell")


RAISING_DETECT = Format("boom-log", "a detector with a bug", frozenset({".samplelog"}), _read, _raise)
