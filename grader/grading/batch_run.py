"""Batch mode's passes over the engine (``grader grade --batch``).

A pass is an ordinary engine run (``--resume`` after the first) whose judge answers from
the batch results in the run folder; transcripts still waiting are left for a later pass
(:class:`~grader.judges.base.JudgePending`). Between passes the waiting requests are
submitted and the open batches polled and collected (:mod:`grader.judges.batching`).
With ``wait=False`` the command returns once everything is submitted; the same command
with ``--resume`` later collects what has ended and carries on.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Callable, Sequence

from .engine import Engine, GradeOptions, RunSummary
from ..errors import JudgeError
from ..judges.batching import BatchJudge
from ..run.folder import RunFolder
from ..rubric import Rubric


async def run_batched(rubrics: Sequence[Rubric], judge: BatchJudge, options: GradeOptions,
                      paths: Sequence[str | Path], run_dir: str | Path, *, wait: bool = True,
                      progress: Callable[[int], None] | None = None, run_id: str | None = None) -> RunSummary:
    """Grade ``paths`` into ``run_dir`` through provider batches; returns the last pass's
    summary (``pending`` > 0 when answers are still out, only with ``wait=False``). A new
    run gets ``run_id`` (or a new id)."""
    resume = options.resume
    if resume:
        await judge.recover()  # a batch whose creation a killed process never recorded
        await judge.collect(wait=False)  # what ended while no command was running
    while True:
        judge.new_pass()
        engine = Engine(rubrics, judge, dataclasses.replace(options, resume=resume), progress=progress)
        summary = await engine.arun(list(paths), run_dir, run_id=None if resume else run_id)
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
