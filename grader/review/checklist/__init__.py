"""Checklists: gates over a run (``grader checklist``).

``model`` holds the checklist, sign-off and result records and their loaders; ``gates``
decides one gate; ``evaluate`` runs a whole checklist; ``render`` writes Markdown, JSON and
JUnit XML. The flow is one way: model <- gates <- evaluate; render reads results only.
"""
from __future__ import annotations

from .evaluate import evaluate
from .model import (DEFAULT_CHECKLIST, Checklist, ChecklistItem, ChecklistResult, Signoff, load_calibration,
                    load_checklist, load_signoffs)

__all__ = ["Checklist", "ChecklistItem", "ChecklistResult", "Signoff", "DEFAULT_CHECKLIST", "evaluate",
           "load_checklist", "load_signoffs", "load_calibration"]
