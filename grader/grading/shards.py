"""Sharded runs: ``--shard I/N`` grades a stable, disjoint 1/N of a job's pairs.

A transcript belongs to shard ``blake2b(id) mod N + 1`` (the id after the engine made it
unique, so ``x#2`` may land elsewhere than ``x``); all its principles go with it. The hash
is computed from the id's UTF-8 bytes, so the split is the same on every machine and every
Python version (Python's own ``hash`` of a str is salted per process).

Every shard reads all the inputs (``--limit`` and ``--sample`` pick the same transcripts
everywhere) and grades only its own. It records what the job was — a digest of the input
files' contents and of every selected transcript id — so that :mod:`grader.grading.merge` can tell
the shards of one job from runs that merely look alike.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Sequence

from ..errors import UsageError
from ..transcripts.model import Transcript

_SPEC = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``count`` (1-based: ``Shard(1, 3)`` is the first of three)."""

    index: int
    count: int

    def __post_init__(self) -> None:
        if not (isinstance(self.index, int) and isinstance(self.count, int)
                and 1 <= self.index <= self.count):
            raise UsageError(f"shard {self.index}/{self.count}: expected I/N with 1 <= I <= N (e.g. 2/8)")

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def owns(self, transcript_id: str) -> bool:
        return shard_of(transcript_id, self.count) == self.index


def parse_shard(value: "str | Sequence[int] | Shard | None") -> Shard | None:
    """``"2/8"``, ``(2, 8)`` or a Shard -> Shard; None -> None. Bad values are a UsageError."""
    if value is None or isinstance(value, Shard):
        return value
    if isinstance(value, str):
        m = _SPEC.match(value)
        if not m:
            raise UsageError(f"shard {value!r}: expected I/N with 1 <= I <= N (e.g. 2/8)")
        return Shard(int(m.group(1)), int(m.group(2)))
    try:
        i, n = value
    except (TypeError, ValueError):
        raise UsageError(f"shard {value!r}: expected (I, N) or 'I/N' with 1 <= I <= N") from None
    if isinstance(i, bool) or isinstance(n, bool):
        raise UsageError(f"shard {value!r}: expected (I, N) or 'I/N' with 1 <= I <= N")
    return Shard(i, n)


def shard_of(transcript_id: str, count: int) -> int:
    """The 1-based shard of ``count`` that ``transcript_id`` belongs to (stable everywhere)."""
    digest = hashlib.blake2b(transcript_id.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % count + 1


def files_digest(files: Iterable[Sequence[Any]]) -> str:
    """sha256 over the path and content of each file of :func:`~grader.transcripts.load.input_files`
    (``(path, size, mtime)`` rows), in order. Modification times are left out: copies of the
    same data on other machines have the same digest."""
    h = hashlib.sha256()
    for row in files:
        path = str(row[0])
        with open(path, "rb") as f:
            content = hashlib.file_digest(f, "sha256").hexdigest()
        h.update(f"{path}\0{content}\n".encode("utf-8", "surrogatepass"))
    return h.hexdigest()


class ShardFilter:
    """Passes on the transcripts of one shard, while hashing the ids of all of them (the
    job's transcript set, identical on every shard of one job)."""

    def __init__(self, shard: Shard):
        self.shard = shard
        self._ids = hashlib.sha256()
        self.seen = 0
        self.kept = 0

    def __call__(self, stream: Iterable[Transcript]) -> Iterator[Transcript]:
        for t in stream:
            self._ids.update(t.id.encode("utf-8", "surrogatepass") + b"\0")
            self.seen += 1
            if self.shard.owns(t.id):
                self.kept += 1
                yield t

    def manifest(self, inputs_sha256: str | None) -> dict[str, Any]:
        """The ``shard`` entry of run.json."""
        return {"index": self.shard.index, "count": self.shard.count,
                "inputs_sha256": inputs_sha256, "job_transcripts": self.seen,
                "job_transcripts_sha256": self._ids.hexdigest(), "transcripts": self.kept}
