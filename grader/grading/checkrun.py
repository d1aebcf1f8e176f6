"""Running a rubric's deterministic checks over transcripts, in this process or in a
pool of worker processes (bandit is CPU-bound; both cores are used on large runs)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

from ..checks import Check, CheckResult, TranscriptContext, build
from ..judges.base import JudgeOutcome
from .outcomes import PairOutcome, applies, decide
from ..run.folder import Finding, finding_line
from ..rubric import Principle
from ..transcripts.model import Transcript
from .workerguard import guard_worker


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
            errors = []
            for check in self.checks[pid]:
                try:
                    results.append(check.run(transcript, ctx))
                except Exception as e:  # recorded with the pair (outcomes.from_checks), never as a grade
                    errors.append(f"check {check.id} failed: {type(e).__name__}: {e}")
            out[pid] = CheckStage(True, "", tuple(results), "; ".join(errors) or None)
        return out


def findings_for(principles: Sequence[Principle], run_id: str, t: Transcript,
                 stages: Mapping[str, CheckStage], verdicts: Mapping[str, JudgeOutcome],
                 judge_configured: bool) -> list[Finding]:
    """One Finding per principle that has a stage (pairs already done have none)."""
    out = []
    source = t.source.to_dict()
    for p in principles:
        stage = stages.get(p.id)
        if stage is None:
            continue
        if not stage.applies:
            outcome = PairOutcome("not_applicable", "check", (), rationale=stage.not_applicable_reason)
        else:
            outcome = decide(p, stage.results, stage.error, verdicts.get(p.id), judge_configured)
        out.append(Finding(
            run_id=run_id, transcript_id=t.id, source=source, principle_id=p.id,
            rubric_id=p.rubric_id, rubric_version=p.rubric_version, severity=p.severity,
            outcome=outcome.outcome, method=outcome.method, check_ids=outcome.check_ids,
            evidence=outcome.evidence, rationale=outcome.rationale, judge=outcome.judge,
            error=outcome.error, metadata=t.metadata, flags=outcome.flags))
    return out


#: What a worker returns for a chunk in render mode: the JSONL text of its findings and,
#: per finding, (transcript_id, principle_id, outcome, flags, error) for the run's counts.
Rendered = tuple[str, list[tuple[str, str, str, tuple[str, ...], str | None]]]

_WORKER: CheckRunner | None = None
_RUN_ID: str | None = None


def init_worker(principles: Sequence[Principle], run_id: str | None = None,
                grader_pid: int | None = None) -> None:
    """Process-pool initializer: build the checks once per worker. With ``run_id`` the
    worker also decides outcomes and serialises findings (checks-only runs), so the
    parent process only writes bytes. With ``grader_pid`` the worker exits when that
    process dies and leaves SIGINT/SIGTERM to it (:mod:`grader.grading.workerguard`)."""
    global _WORKER, _RUN_ID
    if grader_pid is not None:
        guard_worker(grader_pid)
    _WORKER = CheckRunner(principles)
    _RUN_ID = run_id


def run_chunk(chunk: Sequence[tuple[Transcript, Sequence[str]]]) -> list[dict[str, CheckStage]] | Rendered:
    """Worker entry point: check a chunk of transcripts."""
    assert _WORKER is not None, "init_worker was not called"
    stages = [_WORKER.run(t, pids) for t, pids in chunk]
    if _RUN_ID is None:
        return stages
    principles = list(_WORKER.principles.values())
    lines: list[str] = []
    tally: list[tuple[str, str, str, tuple[str, ...], str | None]] = []
    for (t, _), st in zip(chunk, stages):
        for f in findings_for(principles, _RUN_ID, t, st, {}, False):
            lines.append(finding_line(f))
            tally.append((f.transcript_id, f.principle_id, f.outcome, f.flags, f.error))
    return "".join(lines), tally
