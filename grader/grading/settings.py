"""The run's settings: which inputs a run grades and how (one frozen object, built once
at the edge: ``grader grade``'s options or :func:`grader.grade`'s keywords)."""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Iterable, Mapping

from ..errors import UsageError

from .shards import Shard


@dataclass(frozen=True)
class RunSettings:
    """Options of one grading run (see ``grader grade --help``)."""

    format: str | None = None
    messages_path: str | None = None  # where conversations sit inside JSON values (a selector)
    limit: int | None = None
    sample: int | None = None
    seed: int = 0
    tags: Mapping[str, str] = field(default_factory=dict)
    workers: int | None = None  # None: both cores on large runs; 1: in-process
    resume: bool = False
    shard: Shard | None = None  # grade only this shard of the job (see grader.grading.shards)

    @classmethod
    def names(cls) -> frozenset[str]:
        return frozenset(f.name for f in fields(cls))


def parse_tags(pairs: Iterable[str]) -> dict[str, str]:
    """``["k=v", ...]`` -> dict; raises UsageError on a malformed pair."""
    out = {}
    for p in pairs:
        if "=" not in p or not p.split("=", 1)[0].strip():
            raise UsageError(f"--tag {p!r}: expected key=value")
        k, v = p.split("=", 1)
        out[k.strip()] = v
    return out
