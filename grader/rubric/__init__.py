"""Rubrics: principles, their checks and judge settings, loaded from YAML/JSON (``model``).

Running a rubric's own examples (``grader rubric test``) is grading, so it lives in
:mod:`grader.grading.examples`.
"""
from __future__ import annotations

from .model import (DEFAULT_RUBRIC, RUBRIC_SUFFIXES, SEVERITIES, CheckSpec, Example, JudgeSpec, Principle, Rubric,
                    load_rubric_path, load_rubrics)

__all__ = ["DEFAULT_RUBRIC", "RUBRIC_SUFFIXES", "SEVERITIES", "CheckSpec", "Example", "JudgeSpec", "Principle",
           "Rubric", "load_rubric_path", "load_rubrics"]
