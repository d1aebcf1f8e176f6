"""Failure reasons grouped by kind, so a summary can say what went wrong in a few lines
("19 pairs: connection refused to http://127.0.0.1:8000/v1") instead of only pointing at a file.

Two reasons are of one kind when they differ only in their numbers (``line 3`` / ``line 7``,
``in 0.3s``, ``transcript 12``, a port): what the failure *is* stays in the words. A group
keeps its count, the first reason met and where that was.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_NUMBER = re.compile(r"\d+(?:\.\d+)?")
MAX_KINDS = 1000  # distinct kinds kept; further new kinds are counted together


def kind_of(reason: str) -> str:
    """The kind of a reason: the reason with its numbers masked."""
    return _NUMBER.sub("N", " ".join(reason.split()))


@dataclass(frozen=True)
class ReasonGroup:
    """``count`` failures of one kind; ``reason`` and ``where`` are those of the first."""

    count: int
    reason: str
    where: str | None = None


class ReasonTally:
    """Counts reasons by kind, in order of first appearance."""

    OTHER = "(other reasons)"

    def __init__(self) -> None:
        self._groups: dict[str, list] = {}  # kind -> [count, first reason, first where]

    def add(self, reason: str | None, where: str | None = None) -> None:
        text = " ".join((reason or "no reason recorded").split())
        key = kind_of(text)
        if key not in self._groups and len(self._groups) >= MAX_KINDS:
            key = text = self.OTHER
        group = self._groups.setdefault(key, [0, text, where])
        group[0] += 1

    def __len__(self) -> int:
        return sum(g[0] for g in self._groups.values())

    @property
    def kinds(self) -> int:
        return len(self._groups)

    def top(self, n: int = 3) -> tuple[ReasonGroup, ...]:
        """The ``n`` largest groups (ties: the one met first)."""
        ordered = sorted(enumerate(self._groups.values()), key=lambda ig: (-ig[1][0], ig[0]))
        return tuple(ReasonGroup(g[0], g[1], g[2]) for _, g in ordered[:n])
