"""Agreement between a run's findings and human labels (``grader calibrate``).

Labels (see :mod:`grader.review.calibration.labels`) are joined with findings on
(transcript_id, principle_id). The grader's prediction for a labelled pair:

- ``violation`` -> violation; ``compliant`` -> compliant (exempt findings are compliant);
- ``not_applicable`` -> compliant by default: the grader asserts the principle could not
  have been violated, so a human ``violation`` label on such a pair is a miss. With
  ``not_applicable="exclude"`` these pairs are left out of the table instead. Either way
  they are counted (``not_applicable``);
- ``ungraded`` and ``error`` -> no prediction: left out of the table and counted.
  ``screened`` counts the ungraded pairs only screening checks examined (none fired), and
  ``screened_violations`` those of them a human labelled ``violation``: violations the
  screening checks missed, which only a judge (or a person) can find. A screened pair is
  never a compliant prediction: the checks' silence there proves nothing.

A ``*`` label is compared with the transcript-level outcome over every principle the run
graded for that transcript: ``violation`` if any pair is a violation; otherwise ``error``
if any pair is an error, ``ungraded`` if any is ungraded (an ungraded principle may hide a
violation, so the transcript cannot be called compliant); otherwise ``compliant`` if any pair
is compliant, else ``not_applicable``.

``overall`` pools every compared label (pair labels and ``*`` labels); ``per_principle``
has one entry per principle id present in the labels, plus ``*``. Intervals (see
:mod:`grader.review.calibration.agreement`): Wilson for the proportions, widened by a bootstrap over
transcripts (fixed seed) where that is wider; kappa from the bootstrap, and *not estimable*
(None in JSON, with ``kappa_note`` saying why) on too few labels or one-sided human labels.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np

from .labels import ANY_PRINCIPLE, Label, LabelSet, load_labels
from .agreement import (CELLS, METRICS, MIN_BOOTSTRAP, Confusion, agreement_intervals, bootstrap_intervals,
                              finite_or_none, kappa_not_estimable, metrics, stream_seed)
from ...errors import UsageError
from ...run.folder import Finding, RunFolder

NA_POLICIES = ("compliant", "exclude")
RESULT_KIND = "grader-calibration"
RESULT_VERSION = 1
_CELL_INDEX = {("violation", "violation"): 0, ("compliant", "violation"): 1,
               ("violation", "compliant"): 2, ("compliant", "compliant"): 3}


@dataclass(frozen=True)
class Agreement:
    """Agreement for one group of labels (a principle, ``*``, or everything)."""

    key: str
    confusion: Confusion
    metrics: Mapping[str, float]
    intervals: Mapping[str, tuple[float, float]]
    labels: int = 0
    not_applicable: int = 0
    ungraded: int = 0
    errors: int = 0
    missing: int = 0
    screened: int = 0
    screened_violations: int = 0
    notes: Mapping[str, str] = field(default_factory=dict)  # metric -> why it is not estimable

    @property
    def n(self) -> int:
        """Labels compared (the table's total)."""
        return self.confusion.n

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"n": self.n, "labels": self.labels,
                             "confusion": {c: getattr(self.confusion, c) for c in CELLS},
                             "not_applicable": self.not_applicable, "ungraded": self.ungraded,
                             "errors": self.errors, "missing": self.missing, "screened": self.screened,
                             "screened_violations": self.screened_violations}
        for m in METRICS:
            d[m] = finite_or_none(self.metrics[m])
            lo, hi = self.intervals[m]
            d[f"{m}_ci"] = [finite_or_none(lo), finite_or_none(hi)]
            if m in self.notes:
                d[f"{m}_note"] = self.notes[m]
        return d


@dataclass(frozen=True)
class CalibrationResult:
    """What :func:`calibrate` found; :meth:`to_dict` is the ``-o FILE`` JSON shape."""

    labels_path: str
    run_dir: str | None
    run_id: str | None
    overall: Agreement
    per_principle: Mapping[str, Agreement]
    counts: Mapping[str, int]
    bootstrap: int
    seed: int
    confidence: float
    not_applicable: str
    unmatched: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": RESULT_KIND, "version": RESULT_VERSION, "labels": self.labels_path,
                "run_dir": self.run_dir, "run_id": self.run_id, "bootstrap": self.bootstrap,
                "seed": self.seed, "confidence": self.confidence, "not_applicable_as": self.not_applicable,
                "counts": dict(self.counts), "unmatched_examples": list(self.unmatched),
                "overall": self.overall.to_dict(),
                "per_principle": {k: v.to_dict() for k, v in self.per_principle.items()}}


def transcript_outcome(outcomes: Iterable[str]) -> str:
    """The transcript-level outcome of a transcript's pair outcomes (module docstring)."""
    seen = set(outcomes)
    for o in ("violation", "error", "ungraded", "compliant"):
        if o in seen:
            return o
    return "not_applicable"


def _prediction(outcome: str, na_policy: str) -> str | None:
    if outcome in ("violation", "compliant"):
        return outcome
    if outcome == "not_applicable" and na_policy == "compliant":
        return "compliant"
    return None


class _Group:
    def __init__(self) -> None:
        self.labels = self.na = self.ungraded = self.errors = self.missing = 0
        self.screened = self.screened_violations = 0
        self.cells: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(4))

    def add(self, label: Label, outcome: str | None, na_policy: str, screened: bool = False) -> bool:
        """Record one label against the grader's outcome (None: not in the run); True if
        compared. ``screened``: the pair is ungraded and flagged screened."""
        self.labels += 1
        if outcome is None:
            self.missing += 1
            return False
        if outcome == "not_applicable":
            self.na += 1
        elif outcome == "ungraded":
            self.ungraded += 1
            if screened:
                self.screened += 1
                self.screened_violations += label.label == "violation"
        elif outcome == "error":
            self.errors += 1
        pred = _prediction(outcome, na_policy)
        if pred is None:
            return False
        self.cells[label.transcript_id][_CELL_INDEX[(label.label, pred)]] += 1
        return True

    def agreement(self, key: str, n_boot: int, seed: int, confidence: float) -> Agreement:
        clusters = np.array(list(self.cells.values())) if self.cells else np.zeros((0, 4))
        total = clusters.sum(axis=0) if len(clusters) else np.zeros(4)
        conf = Confusion(*(int(x) for x in total))
        boot = bootstrap_intervals(clusters, n_boot, stream_seed(seed, key), confidence)
        values = metrics(conf)
        notes = {}
        why = kappa_not_estimable(conf)
        if why and conf.n:
            values["kappa"] = float("nan")
            notes["kappa"] = why
        return Agreement(key, conf, values, agreement_intervals(conf, boot, confidence), self.labels, self.na,
                         self.ungraded, self.errors, self.missing, self.screened,
                         self.screened_violations, notes)


def _findings(source: Any) -> tuple[list[Finding], str | None, str | None]:
    if isinstance(source, (str, Path)):
        folder = RunFolder.open(source)
        run_id = folder.read_manifest().get("run_id")
        return list(folder.findings()), str(source), run_id
    found = [f if isinstance(f, Finding) else Finding.from_dict(f) for f in source]
    return found, None, (found[0].run_id if found else None)


def calibrate(run_dir_or_findings: "str | Path | Iterable[Finding | Mapping[str, Any]]",
              labels: "str | Path | LabelSet", bootstrap: int = 1000, seed: int = 0,
              confidence: float = 0.95, not_applicable: str = "compliant") -> CalibrationResult:
    """Compare a run (folder or findings) with human labels (file or :class:`LabelSet`).

    Raises :class:`~grader.errors.LabelsError` for a bad labels file,
    :class:`~grader.errors.RunFolderError` for a bad run folder and
    :class:`~grader.errors.UsageError` for bad options.
    """
    if not_applicable not in NA_POLICIES:
        raise UsageError(f"not_applicable must be one of {', '.join(NA_POLICIES)}, got {not_applicable!r}")
    if bootstrap < 0 or 0 < bootstrap < MIN_BOOTSTRAP:
        raise UsageError(f"bootstrap must be 0 (off) or at least {MIN_BOOTSTRAP} resamples, got {bootstrap}")
    if not 0.0 < confidence < 1.0:
        raise UsageError(f"confidence must be between 0 and 1 (exclusive), got {confidence}")
    label_set = labels if isinstance(labels, LabelSet) else load_labels(labels)
    findings, run_dir, run_id = _findings(run_dir_or_findings)

    pair_outcome: dict[tuple[str, str], str] = {}
    screened: set[tuple[str, str]] = set()
    by_transcript: dict[str, list[str]] = defaultdict(list)
    for f in findings:
        if f.pair in pair_outcome:
            continue
        pair_outcome[f.pair] = f.outcome
        if f.outcome == "ungraded" and "screened" in f.flags:
            screened.add(f.pair)
        by_transcript[f.transcript_id].append(f.outcome)

    groups: dict[str, _Group] = defaultdict(_Group)
    overall = _Group()
    unmatched: list[str] = []
    labelled_pairs: set[tuple[str, str]] = set()
    labelled_transcripts: set[str] = set()
    for lab in label_set.labels:
        labelled_transcripts.add(lab.transcript_id)
        if lab.principle_id == ANY_PRINCIPLE:
            outs = by_transcript.get(lab.transcript_id)
            outcome = transcript_outcome(outs) if outs else None
        else:
            labelled_pairs.add(lab.pair)
            outcome = pair_outcome.get(lab.pair)
        groups[lab.principle_id].add(lab, outcome, not_applicable, lab.pair in screened)
        overall.add(lab, outcome, not_applicable, lab.pair in screened)
        if outcome is None and len(unmatched) < 5:
            unmatched.append(f"{lab.where}: {lab.transcript_id} / {lab.principle_id}")

    keys = sorted(k for k in groups if k != ANY_PRINCIPLE) + ([ANY_PRINCIPLE] if ANY_PRINCIPLE in groups else [])
    per = {k: groups[k].agreement(k, bootstrap, seed, confidence) for k in keys}
    total = overall.agreement("overall", bootstrap, seed, confidence)
    counts = {
        "labels": len(label_set.labels), "duplicate_labels": label_set.duplicates,
        "compared": total.n, "labelled_not_applicable": total.not_applicable,
        "labelled_ungraded": total.ungraded, "labelled_screened": total.screened,
        "labelled_screened_violations": total.screened_violations, "labelled_error": total.errors,
        "labels_without_findings": total.missing,
        "findings": len(pair_outcome),
        "findings_without_labels": sum(1 for p in pair_outcome if p not in labelled_pairs),
        "transcripts": len(by_transcript),
        "transcripts_without_labels": sum(1 for t in by_transcript if t not in labelled_transcripts),
    }
    return CalibrationResult(label_set.path, run_dir, run_id, total, per, counts, bootstrap, seed,
                             confidence, not_applicable, tuple(unmatched))
