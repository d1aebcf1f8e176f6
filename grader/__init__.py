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

# every public name is defined by (or re-exported from) the public face, grader.api
_API = "grader.api"

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
    from .api import (ChecklistResult, Evidence, Finding, GraderError, Judge, JudgeOutcome, Message, Principle,
                      Results, Rubric, Source, ToolCall, Transcript, agrade, audit, calibrate, checklist, grade,
                      load_rubric, load_run, load_transcripts, make_judge, merge_runs, report)


def __getattr__(name: str) -> Any:
    if name not in __all__ or name == "__version__":
        raise AttributeError(f"module 'grader' has no attribute {name!r}")
    value = getattr(importlib.import_module(_API), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
