"""Where the shipped rubric and checklist files are: the repository's ``rubrics/`` in a
checkout or editable install, else the copy a wheel installs under
``<prefix>/share/constitution-grader/rubrics``."""
from __future__ import annotations

import sysconfig
from pathlib import Path

_REPO = Path(__file__).resolve().parent.parent / "rubrics"
_INSTALLED = Path(sysconfig.get_path("data")) / "share" / "constitution-grader" / "rubrics"


def rubrics_dir() -> Path:
    return _REPO if _REPO.is_dir() else _INSTALLED


DEFAULT_RUBRIC = rubrics_dir() / "constitution"
DEFAULT_CHECKLIST = rubrics_dir() / "checklists" / "pre-deployment.yaml"
