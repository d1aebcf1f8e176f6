"""Running a rubric's deterministic checks over transcripts, in this process or in a
pool of worker processes (bandit is CPU-bound; both cores are used on large runs)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from .checks.base import Check, CheckResult
from .checks.context import TranscriptContext
from .checks.registry import build
from .outcomes import applies
from .rubric import Principle
from .transcripts.model import Transcript


@dataclass(frozen=True)
class CheckStage:
    """What the checks said about one (transcript, principle) pair."""

    applies: bool
    not_applicable_reason: str
    results: tuple[CheckResult, ...]
    error: str | None


class CheckRunner:
    """Built checks for a list of principles; :meth:`run` grades one transcript."""

    def __init__(self, principles: Sequence[Principle]):
        self.principles = {p.id: p for p in principles}
        self.checks: dict[str, list[Check]] = {p.id: [build(s) for s in p.checks] for p in principles}

    def run(self, transcript: Transcript, principle_ids: Sequence[str]) -> dict[str, CheckStage]:
        ctx = TranscriptContext(transcript)
        out: dict[str, CheckStage] = {}
        for pid in principle_ids:
            principle = self.principles[pid]
            try:
                ok, why = applies(principle, ctx)
            except Exception as e:  # a transcript that breaks code extraction: the pair is an error
                out[pid] = CheckStage(True, "", (), f"applies_when: {type(e).__name__}: {e}")
                continue
            if not ok:
                out[pid] = CheckStage(False, why, (), None)
                continue
            results: list[CheckResult] = []
            error = None
            for check in self.checks[pid]:
                try:
                    results.append(check.run(transcript, ctx))
                except Exception as e:  # recorded as the pair's error outcome, never as a grade
                    error = f"check {check.id} failed: {type(e).__name__}: {e}"
                    break
            out[pid] = CheckStage(True, "", tuple(results), error)
        return out


_WORKER: CheckRunner | None = None


def init_worker(principles: Sequence[Principle]) -> None:
    """Process-pool initializer: build the checks once per worker."""
    global _WORKER
    _WORKER = CheckRunner(principles)


def run_chunk(chunk: Sequence[tuple[Transcript, Sequence[str]]]) -> list[dict[str, CheckStage]]:
    """Worker entry point: check a chunk of transcripts."""
    assert _WORKER is not None, "init_worker was not called"
    return [_WORKER.run(t, pids) for t, pids in chunk]
