"""The judge side of the engine's contract.

A judge grades one transcript against several principles and returns one
:class:`JudgeOutcome` per principle id. Anything implementing :class:`Judge` can be
passed to the engine (a harness can plug in its own model client this way).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Protocol, Sequence, runtime_checkable

from ..run.folder import Evidence
from ..rubric import Principle
from ..transcripts.model import Transcript

VERDICTS = ("violation", "compliant", "not_applicable")


@dataclass(frozen=True)
class JudgeOutcome:
    """The judge's decision on one (transcript, principle) pair.

    ``outcome`` is a verdict or ``"error"`` (then ``error`` says why; never a grade).
    ``info`` becomes the finding's ``judge`` object (model, samples, votes, tokens, cost, cached).
    ``flags`` may hold ``unverified_evidence`` and ``split_vote``."""

    outcome: str
    rationale: str = ""
    evidence: tuple[Evidence, ...] = ()
    confidence: float | None = None
    info: Mapping[str, Any] = field(default_factory=dict)
    flags: tuple[str, ...] = ()
    error: str | None = None


class JudgePending(Exception):
    """Raised by :meth:`Judge.grade` when some answers for the transcript are not there yet
    (batch mode: they wait in a provider's batch). The engine then writes nothing for that
    transcript, and a later pass (``--resume``) grades it. Not a :class:`GraderError`: it is
    no failure, and nothing on the way may turn it into an ``error`` outcome."""

    def __init__(self, requests: int = 1):
        super().__init__(f"{requests} judge request(s) wait for a batch")
        self.requests = requests


@runtime_checkable
class Judge(Protocol):
    """What the engine needs from a judge."""

    #: A short description recorded in run.json, e.g. ``"openai:gpt-4.1-mini"``.
    spec: str

    async def grade(self, transcript: Transcript, principles: Sequence[Principle]) -> Mapping[str, JudgeOutcome]:
        """Grade ``transcript`` against each of ``principles`` (all have a ``judge`` block).

        Must return an outcome for every principle id; must not raise for a per-pair
        failure (return ``JudgeOutcome("error", error=...)`` instead). May raise
        :class:`JudgePending` when answers are still on their way (batch mode)."""
        ...

    def settings(self) -> Mapping[str, Any]:
        """Judge settings for run.json (no secrets)."""
        ...

    def usage(self) -> Mapping[str, Any]:
        """Totals so far: requests, input/output/cached tokens, cost_usd."""
        ...

    async def aclose(self) -> None:
        """Release clients."""
        ...
