"""The judge's settings: one frozen object, built once at the edge (``grader grade``'s
options, :func:`grader.make_judge`'s keywords or :func:`grader.grade`'s) and handed to
:func:`grader.judges.factory.make_judge`."""
from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Iterable, Mapping

from .retry import RetryPolicy


@dataclass(frozen=True)
class JudgeSettings:
    """How a judge spec becomes a judge (see ``grader grade --help``).

    ``temperature`` None is 0, or 1 with ``samples`` > 1; ``timeout``/``max_attempts`` None
    read ``$GRADER_JUDGE_TIMEOUT``/``$GRADER_JUDGE_MAX_ATTEMPTS``; ``retry`` replaces the
    whole retry policy (tests use tiny waits); ``answers`` (scripted judges only) replaces
    the answers file with an in-memory list."""

    base_url: str | None = None
    mode: str = "per-principle"
    concurrency: int = 8
    samples: int = 1
    temperature: float | None = None
    cache: bool = True
    cache_dir: str | Path | None = None
    price_table: str | Path | Mapping[str, Any] | None = None
    timeout: float | None = None
    max_attempts: int | None = None
    max_reasks: int = 2
    retry: RetryPolicy | None = None
    answers: Iterable[Any] | None = None

    @classmethod
    def names(cls) -> frozenset[str]:
        return frozenset(f.name for f in fields(cls))
