"""constitution-grader: check AI transcripts against a constitution.

Deterministic checks and an optional LLM judge grade every (transcript, principle) pair
as ``violation``, ``compliant``, ``not_applicable``, ``ungraded`` or ``error``.

>>> import grader
>>> results = grader.grade("transcripts/")                  # doctest: +SKIP
>>> print(grader.report(results, format="md"))              # doctest: +SKIP
>>> grader.checklist(results).passed                        # doctest: +SKIP

Public names are listed in ``__all__``; they are imported on first use, so ``import
grader`` stays light (pandas, the model SDKs and inspect_ai load only when needed).
Errors are the typed exceptions of :mod:`grader.errors` (all subclasses of ``GraderError``).
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS = {
    "load_rubric": "grader.api",
    "load_transcripts": "grader.api",
    "grade": "grader.api",
    "agrade": "grader.api",
    "load_run": "grader.api_read",
    "merge_runs": "grader.merge",
    "make_judge": "grader.api",
    "Results": "grader.results_api",
    "Finding": "grader.results",
    "Evidence": "grader.results",
    "Transcript": "grader.transcripts.model",
    "Message": "grader.transcripts.model",
    "ToolCall": "grader.transcripts.model",
    "Source": "grader.transcripts.model",
    "Rubric": "grader.rubric",
    "Principle": "grader.rubric",
    "ChecklistResult": "grader.checklist_eval",
    "report": "grader.api_read",
    "checklist": "grader.api_read",
    "calibrate": "grader.api_read",
    "audit": "grader.api_read",
    "Judge": "grader.judges.base",
    "JudgeOutcome": "grader.judges.base",
    "GraderError": "grader.errors",
}

__all__ = [
    "__version__",
    # reading inputs
    "load_rubric", "load_transcripts", "Transcript", "Message", "ToolCall", "Source",
    "Rubric", "Principle",
    # grading
    "grade", "agrade", "merge_runs", "Results", "Finding", "Evidence", "make_judge", "Judge", "JudgeOutcome",
    # reading a run
    "load_run", "report", "checklist", "ChecklistResult", "calibrate", "audit",
    # errors (the subclasses live in grader.errors)
    "GraderError",
]

if TYPE_CHECKING:
    from .api import agrade, grade, load_rubric, load_transcripts, make_judge
    from .api_read import audit, calibrate, checklist, load_run, report
    from .checklist_eval import ChecklistResult
    from .errors import GraderError
    from .judges.base import Judge, JudgeOutcome
    from .merge import merge_runs
    from .results import Evidence, Finding
    from .results_api import Results
    from .rubric import Principle, Rubric
    from .transcripts.model import Message, Source, ToolCall, Transcript


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'grader' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
