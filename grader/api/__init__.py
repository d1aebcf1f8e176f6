"""The public face of the grader: load, grade, read and audit.

The CLI, the Inspect integration and library users call these; ``grader`` re-exports them
(``grader.grade`` is ``grader.api.grade``). ``grading`` holds loading and grading
(:func:`grade`, :func:`agrade`, :func:`merge_runs` of sharded runs, the input and judge helpers ``as_rubric``/``as_judge`` and the
validated keyword options :class:`GradeSettings`), ``reading`` the readers of a finished run
(:func:`load_run`, :func:`report`, :func:`checklist`, :func:`calibrate`) and :func:`audit`.
"""
from __future__ import annotations

from ..errors import GraderError
from ..judges.base import Judge, JudgeOutcome
from ..review.checklist.model import ChecklistResult
from ..rubric import Principle, Rubric
from ..run.folder import Evidence, Finding
from .results import Results
from ..transcripts.model import Message, Source, ToolCall, Transcript
from .grading import (GradeSettings, agrade, as_judge, as_rubric, grade, load_rubric, load_transcripts, make_judge,
                      merge_rubrics)
from ..grading.merge import merge_runs
from .reading import REPORT_FORMATS, audit, calibrate, checklist, load_run, report

__all__ = [
    # reading inputs
    "load_rubric", "load_transcripts", "merge_rubrics", "Transcript", "Message", "ToolCall", "Source",
    "Rubric", "Principle",
    # grading
    "grade", "agrade", "merge_runs", "Results", "Finding", "Evidence", "make_judge", "Judge", "JudgeOutcome",
    "GradeSettings", "as_judge", "as_rubric",
    # reading a run
    "load_run", "report", "REPORT_FORMATS", "checklist", "ChecklistResult", "calibrate", "audit",
    "GraderError",
]
