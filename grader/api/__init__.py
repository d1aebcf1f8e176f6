"""The public face of the grader: load, grade, read and audit.

The CLI, the Inspect integration and library users call these; ``grader`` re-exports them
(``grader.grade`` is ``grader.api.grade``). ``loading`` reads rubrics and transcripts;
``grading`` grades (:func:`grade`, :func:`agrade`, and :func:`grade_into`, the one place
a run is started, used by the CLI; the judge helpers ``make_judge``/``as_judge``; the
settings :class:`GradeSettings` = :class:`RunSettings` + :class:`JudgeSettings`);
``reading`` the readers of a finished run (:func:`load_run`, :func:`report`,
:func:`checklist`, :func:`calibrate`); ``auditing`` :func:`audit`.
"""
from __future__ import annotations

from ..errors import GraderError
from ..grading.engine import RunSummary
from ..grading.settings import RunSettings
from ..judges.base import Judge, JudgeOutcome
from ..judges.settings import JudgeSettings
from ..review.checklist.model import ChecklistResult
from ..rubric import Principle, Rubric
from ..run.folder import Evidence, Finding
from .results import Results
from ..transcripts.model import Message, Source, ToolCall, Transcript
from .loading import as_rubric, load_rubric, load_transcripts, merge_rubrics
from .grading import GradeSettings, agrade, as_judge, grade, grade_into, make_judge
from ..grading.merge import merge_runs
from .reading import REPORT_FORMATS, calibrate, checklist, load_run, report
from .auditing import audit, audit_run

__all__ = [
    # reading inputs
    "load_rubric", "load_transcripts", "merge_rubrics", "Transcript", "Message", "ToolCall", "Source",
    "Rubric", "Principle",
    # grading
    "grade", "agrade", "merge_runs", "Results", "Finding", "Evidence", "make_judge", "Judge", "JudgeOutcome",
    "GradeSettings", "RunSettings", "JudgeSettings", "as_judge", "as_rubric", "grade_into", "RunSummary",
    # reading a run
    "load_run", "report", "REPORT_FORMATS", "checklist", "ChecklistResult", "calibrate", "audit", "audit_run",
    "GraderError",
]
