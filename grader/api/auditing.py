"""Auditing a data set that claims one label for every row (re-exported by :mod:`grader`):
graded through :func:`grader.api.grade_into` like any run, then measured by
:func:`grader.review.audit.analyse`."""
from __future__ import annotations

import asyncio
import dataclasses
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from ..errors import UsageError
from ..review.audit import EXPECTS, analyse, select_rubrics
from ..run.folder import RunFolder, unreadable
from .grading import GradeSettings, as_judge, grade_into
from .loading import PathLike, as_rubric
from .results import Results

if TYPE_CHECKING:
    from ..review.audit import AuditResult
    from ..rubric import Rubric


def audit(data: Results | PathLike | Sequence[PathLike], expect: str, rubric: Any = None,
          judge: Any = None, *, principles: Sequence[str] | None = None, max_rate: float = 0.05,
          examples: int = 5, confidence: float = 0.95, run_dir: PathLike | None = None,
          **options: Any) -> "AuditResult":
    """Does a data set match the label it claims for every row (``expect`` = ``compliant``
    or ``violation``)? E.g. "this fine-tuning set is all safe code".

    ``data`` is a file/folder (or several), graded first (``rubric``, ``judge``,
    ``principles`` and keyword ``options`` as in :func:`grader.grade`; the run folder goes
    to ``run_dir`` or a kept temporary folder), or :class:`~grader.Results` already graded.
    The result has ``rate`` of contradicting rows with its Wilson interval, ``failed`` (the
    interval's lower bound is above ``max_rate``), ``per_principle`` and ``examples``.

    >>> a = grader.audit("data/secure.jsonl", expect="compliant", principles=["P16"])  # doctest: +SKIP
    >>> a.rate, a.failed                                                               # doctest: +SKIP
    """
    if isinstance(data, Results):
        return analyse(data.findings, expect, input_errors=len(unreadable(data.input_errors)),
                       run_dir=os.fspath(data.run_dir) if data.run_dir else "", max_rate=max_rate,
                       examples=examples, confidence=confidence)
    paths = [os.fspath(data)] if isinstance(data, (str, os.PathLike)) else [os.fspath(p) for p in data]
    rub = None if rubric is None and principles is None else [as_rubric(rubric, principles)]
    settings = GradeSettings.parse({**options, "run_dir": run_dir})
    return audit_run(paths, expect, rub, judge, settings, max_rate=max_rate, examples=examples,
                     confidence=confidence)


def audit_run(paths: Sequence[PathLike], expect: str, rubrics: Sequence["Rubric | str | Path"] | None,
              judge: Any, settings: GradeSettings = GradeSettings(), *, max_rate: float = 0.05,
              examples: int = 5, confidence: float = 0.95) -> "AuditResult":
    """Grade ``paths`` into ``settings.run_dir`` (default: a new, kept temporary folder) and
    audit the findings. ``rubrics``: rubric paths or loaded rubrics (default: the shipped
    constitution), cut to ``settings.principles`` (``P16`` stands for a unique ``P16-...``);
    ``judge``: None, a spec string (built with ``settings.judge``, closed here) or a Judge.
    Raises UsageError/RubricError/RunFolderError as grading does."""
    if expect not in EXPECTS:
        raise UsageError(f"--expect must be one of {', '.join(EXPECTS)}, got {expect!r}")
    loaded = select_rubrics(rubrics, settings.principles)
    folder = Path(settings.run_dir) if settings.run_dir is not None else Path(tempfile.mkdtemp(prefix="grader-audit-"))

    async def go() -> Any:
        the_judge, owned = as_judge(judge, settings.judge)
        try:
            return await grade_into(list(paths), loaded, the_judge, settings.run, folder, progress=settings.progress)
        finally:
            if owned and the_judge is not None:
                await the_judge.aclose()

    summary = asyncio.run(go())
    result = analyse(RunFolder.open(folder).findings(), expect, input_errors=summary.input_errors,
                     run_dir=str(folder), max_rate=max_rate, examples=examples, confidence=confidence)
    return dataclasses.replace(result, skipped=summary.skipped) if summary.skipped else result
