"""Batch mode's passes over the engine (``grader grade --batch``).

A pass is an ordinary engine run (``--resume`` after the first) whose judge answers from
the batch results in the run folder; transcripts still waiting are left for a later pass
(:class:`~grader.judges.base.JudgePending`). Between passes the waiting requests are
submitted and the open batches polled and collected (:mod:`grader.judges.batching`).
With ``wait=False`` the command returns once everything is submitted; the same command
with ``--resume`` later collects what has ended and carries on.
"""
from __future__ import annotations

from pathlib import Path
from typing import Awaitable, Callable

from .engine import RunSummary
from ..errors import JudgeError
from ..judges.batching import BatchJudge
from ..run.folder import RunFolder

#: One engine run over the job: ``(resume, run_id) -> summary`` (built by ``grader.api.grade_into``).
Pass = Callable[[bool, "str | None"], Awaitable[RunSummary]]


async def run_batched(one_pass: Pass, judge: BatchJudge, resume: bool, run_dir: str | Path, *, wait: bool = True,
                      run_id: str | None = None) -> RunSummary:
    """Grade into ``run_dir`` through provider batches, ``one_pass`` at a time (the first
    resumes when ``resume``); returns the last pass's summary (``pending`` > 0 when answers
    are still out, only with ``wait=False``). A new run gets ``run_id`` (or a new id)."""
    if resume:
        await judge.recover()  # a batch whose creation a killed process never recorded
        await judge.collect(wait=False)  # what ended while no command was running
    while True:
        judge.new_pass()
        summary = await one_pass(resume, None if resume else run_id)
        resume = True
        await judge.submit_pending()
        _record(run_dir, judge)
        if not summary.pending or not wait:
            return summary
        if not judge.log.open_batches():
            raise JudgeError(f"{run_dir}: {summary.pending} transcript(s) wait for answers that no batch holds")
        await judge.collect(wait=True)


def _record(run_dir: str | Path, judge: BatchJudge) -> None:
    folder = RunFolder.open(run_dir)
    manifest = folder.read_manifest()
    manifest["batch"] = judge.summary()
    folder.write_manifest(manifest)
