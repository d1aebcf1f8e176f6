"""Agreement statistics between the grader and human labels: pure functions, tested by
hand arithmetic.

"Positive" is ``violation``. The human label is the reference, the grader the prediction:

- ``tp``: human violation, grader violation;   ``fn``: human violation, grader compliant;
- ``fp``: human compliant, grader violation;   ``tn``: human compliant, grader compliant.

Metrics (NaN where the denominator is 0, i.e. the metric is undefined):

- precision ``tp / (tp + fp)``; recall ``tp / (tp + fn)``;
  F1 ``2 tp / (2 tp + fp + fn)`` (the harmonic mean of the two);
  accuracy ``(tp + tn) / n``;
- Cohen's kappa ``(po - pe) / (1 - pe)`` with observed agreement ``po = (tp + tn) / n`` and
  chance agreement ``pe = ((tp + fp)(tp + fn) + (fn + tn)(fp + tn)) / n^2``; undefined (NaN)
  when ``pe == 1`` (both raters gave one and the same label to everything), as in scikit-learn.

Intervals (:func:`agreement_intervals`):

- precision, recall and accuracy are proportions: each gets its Wilson score interval
  (:func:`grader.reporting.stats.wilson_interval`), which never has zero width from a handful
  of cases (1 of 1 is [0.207, 1] at 95%, not [1, 1]); F1 gets the Wilson interval of the
  Jaccard index ``tp / (tp + fp + fn)`` mapped through ``F1 = 2J / (1 + J)`` (monotone).
  Where a cluster bootstrap ran and is wider, its bounds widen the interval, so pairs of one
  transcript that move together are accounted for;
- kappa is not a proportion: its interval is the percentile cluster bootstrap, and kappa is
  *not estimable* (NaN, with the reason from :func:`kappa_not_estimable`) with fewer than
  :data:`KAPPA_MIN_N` compared labels or when the human labels are all one class (kappa is
  then 0 or undefined whatever the grader does). Its interval is not estimable when under
  half of the resamples give a defined kappa.

Bootstrap resamples *clusters* (transcripts) with replacement, so the pairs of one
transcript move together; with one pair per transcript this is the ordinary bootstrap.
A resample is a multinomial weight vector over the clusters, so B resamples are one matrix
product (vectorised, chunked to bound memory). Percentile intervals are taken over the
resamples where the metric is defined; fewer than :data:`MIN_BOOTSTRAP` resamples is refused
(the tails of a percentile interval need them).
"""
from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

import numpy as np

from ...reporting.stats import wilson_interval

METRICS = ("precision", "recall", "f1", "accuracy", "kappa")
CELLS = ("tp", "fp", "fn", "tn")
PROPORTIONS = ("precision", "recall", "accuracy")
KAPPA_MIN_CLASS = 5  # human labels of each class kappa needs
KAPPA_MIN_N = 10  # fewer compared labels: kappa is not estimable
MIN_BOOTSTRAP = 200  # fewest resamples for a percentile interval (0 turns the bootstrap off)
_CHUNK_CELLS = 2_000_000  # bootstrap weights held in memory at once (resamples x clusters)


@dataclass(frozen=True)
class Confusion:
    """A 2x2 confusion table (positive = violation; rows human, columns grader)."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    @property
    def n(self) -> int:
        return self.tp + self.fp + self.fn + self.tn


def metric_arrays(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray, tn: np.ndarray) -> dict[str, np.ndarray]:
    """Every metric of :data:`METRICS` for arrays of cell counts (elementwise; NaN where undefined)."""
    tp, fp, fn, tn = (np.asarray(x, dtype=float) for x in (tp, fp, fn, tn))
    n = tp + fp + fn + tn
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(tp + fp > 0, tp / (tp + fp), np.nan)
        recall = np.where(tp + fn > 0, tp / (tp + fn), np.nan)
        f1 = np.where(2 * tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), np.nan)
        accuracy = np.where(n > 0, (tp + tn) / n, np.nan)
        po = accuracy
        pe = np.where(n > 0, ((tp + fp) * (tp + fn) + (fn + tn) * (fp + tn)) / (n * n), np.nan)
        # pe == 1 up to rounding: both raters used a single label for everything
        defined = (n > 0) & (np.abs(1.0 - pe) > 1e-12)
        kappa = np.where(defined, (po - pe) / (1.0 - pe), np.nan)
    return {"precision": precision, "recall": recall, "f1": f1, "accuracy": accuracy, "kappa": kappa}


def metrics(c: Confusion) -> dict[str, float]:
    """The metrics of one confusion table as floats (NaN where undefined)."""
    arrays = metric_arrays(np.array(c.tp), np.array(c.fp), np.array(c.fn), np.array(c.tn))
    return {k: float(v) for k, v in arrays.items()}


def cohen_kappa(c: Confusion) -> float:
    """Cohen's kappa of a 2x2 table (see the module docstring)."""
    return metrics(c)["kappa"]


def kappa_not_estimable(c: Confusion) -> str | None:
    """Why kappa cannot be estimated from this table, or None when it can."""
    if c.n < KAPPA_MIN_N:
        return f"not estimable: fewer than {KAPPA_MIN_N} labels compared"
    if c.tp + c.fn == 0 or c.fp + c.tn == 0:
        return "not estimable: the human labels are all one class"
    if min(c.tp + c.fn, c.fp + c.tn) < KAPPA_MIN_CLASS:
        # one or two labels of a class decide kappa alone, and a bootstrap over them collapses
        # to a zero-width interval: a number there would read as certainty
        return (f"not estimable: fewer than {KAPPA_MIN_CLASS} human labels of one class "
                f"({c.tp + c.fn} violation, {c.fp + c.tn} compliant)")
    return None


def proportion_interval(metric: str, c: Confusion, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson interval of a proportion metric (or of F1 through the Jaccard index);
    NaN bounds where the metric is undefined."""
    k, n = {"precision": (c.tp, c.tp + c.fp), "recall": (c.tp, c.tp + c.fn),
            "accuracy": (c.tp + c.tn, c.n), "f1": (c.tp, c.tp + c.fp + c.fn)}[metric]
    if n == 0:
        return (math.nan, math.nan)
    lo, hi = wilson_interval(k, n, confidence)
    if metric == "f1":
        return (2 * lo / (1 + lo), 2 * hi / (1 + hi))
    return (lo, hi)


def agreement_intervals(c: Confusion, boot: dict[str, tuple[float, float]],
                        confidence: float = 0.95) -> dict[str, tuple[float, float]]:
    """Every metric's interval (module docstring): Wilson for the proportions and F1, widened
    by the bootstrap's where that is wider; the bootstrap's for kappa, NaN when not estimable."""
    out: dict[str, tuple[float, float]] = {}
    for m in METRICS:
        blo, bhi = boot.get(m, (math.nan, math.nan))
        if m == "kappa":
            out[m] = (math.nan, math.nan) if kappa_not_estimable(c) else (blo, bhi)
            continue
        lo, hi = proportion_interval(m, c, confidence)
        if not math.isnan(lo) and not math.isnan(blo):
            lo, hi = min(lo, blo), max(hi, bhi)
        out[m] = (lo, hi)
    return out


def _percentile_interval(values: np.ndarray, confidence: float) -> tuple[float, float]:
    ok = values[~np.isnan(values)]
    if ok.size == 0 or ok.size * 2 < values.size:
        return (math.nan, math.nan)
    alpha = (1.0 - confidence) / 2.0
    lo, hi = np.quantile(ok, [alpha, 1.0 - alpha])
    return (float(lo), float(hi))


def bootstrap_intervals(clusters: np.ndarray, n_boot: int, rng: np.random.Generator,
                        confidence: float = 0.95) -> dict[str, tuple[float, float]]:
    """Percentile bootstrap intervals of every metric.

    ``clusters`` is a (k, 4) array: the (tp, fp, fn, tn) counts of each cluster (transcript).
    Each of the ``n_boot`` resamples draws k clusters with replacement (a multinomial weight
    vector) and sums their cells. With no clusters or ``n_boot == 0`` every interval is NaN.
    """
    clusters = np.asarray(clusters, dtype=float).reshape(-1, 4)
    k = clusters.shape[0]
    if k == 0 or n_boot <= 0:
        return {m: (math.nan, math.nan) for m in METRICS}
    probs = np.full(k, 1.0 / k)
    chunk = max(1, _CHUNK_CELLS // k)
    sums = np.empty((n_boot, 4))
    done = 0
    while done < n_boot:
        b = min(chunk, n_boot - done)
        weights = rng.multinomial(k, probs, size=b).astype(float)
        sums[done:done + b] = weights @ clusters
        done += b
    arrays = metric_arrays(sums[:, 0], sums[:, 1], sums[:, 2], sums[:, 3])
    return {m: _percentile_interval(arrays[m], confidence) for m in METRICS}


def stream_seed(seed: int, key: str) -> np.random.Generator:
    """A generator for one group (principle) derived from the user's seed and the group's
    name, so a group's intervals do not change when other groups are added or removed."""
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, zlib.crc32(key.encode("utf-8"))])


def finite_or_none(x: float) -> float | None:
    """JSON-ready: NaN becomes None."""
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)

