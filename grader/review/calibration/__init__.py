"""Calibration: agreement between a run's findings and human labels (``grader calibrate``).

``labels`` reads label files, ``agreement`` holds the confusion-table metrics and their
bootstrap (proportion intervals come from :mod:`grader.reporting.stats`, the one statistics
module), ``compute`` joins labels with findings.
"""
from __future__ import annotations

from .agreement import METRICS
from .compute import RESULT_KIND, Agreement, CalibrationResult, calibrate, transcript_outcome
from .labels import load_labels

__all__ = ["Agreement", "CalibrationResult", "METRICS", "RESULT_KIND", "calibrate", "load_labels",
           "transcript_outcome"]
