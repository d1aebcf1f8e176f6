"""Aggregation, statistics and renderers for run folders (``grader report``/``compare``)."""
from __future__ import annotations

from .aggregate import findings_frame, group_column, per_principle, violations_frame
from .stats import compare_p, fisher_exact_p, holm, two_proportion_p, wilson_interval

__all__ = ["findings_frame", "group_column", "per_principle", "violations_frame",
           "wilson_interval", "fisher_exact_p", "two_proportion_p", "compare_p", "holm"]
