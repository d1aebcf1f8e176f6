"""Agreement statistics, checked against hand arithmetic."""
from __future__ import annotations

import math

import numpy as np
import pytest

from grader.review.calibration.agreement import Confusion, bootstrap_intervals, cohen_kappa, metric_arrays, metrics, stream_seed


def test_kappa_hand_arithmetic():
    # rows human (violation, compliant), columns grader: [[20, 5], [10, 15]]
    c = Confusion(tp=20, fn=5, fp=10, tn=15)
    # po = (20 + 15) / 50 = 0.7
    # pe = (grader V 30 * human V 25 + grader C 20 * human C 25) / 50^2 = (750 + 500) / 2500 = 0.5
    # kappa = (0.7 - 0.5) / (1 - 0.5) = 0.4
    assert cohen_kappa(c) == pytest.approx(0.4)
    m = metrics(c)
    assert m["accuracy"] == pytest.approx(0.7)
    assert m["precision"] == pytest.approx(20 / 30)
    assert m["recall"] == pytest.approx(20 / 25)
    # F1 = 2PR/(P+R) = 2 * (2/3) * 0.8 / (2/3 + 0.8) = 16/22
    assert m["f1"] == pytest.approx(16 / 22)


def test_kappa_matches_the_closed_form_2x2_formula():
    # kappa = 2 (tp tn - fn fp) / ((tp + fp)(fp + tn) + (tp + fn)(fn + tn)): an independent formula
    rng = np.random.default_rng(7)
    for _ in range(50):
        tp, fp, fn, tn = (int(x) for x in rng.integers(0, 40, size=4))
        denom = (tp + fp) * (fp + tn) + (tp + fn) * (fn + tn)
        if denom == 0:
            continue
        expected = 2 * (tp * tn - fn * fp) / denom
        assert cohen_kappa(Confusion(tp, fp, fn, tn)) == pytest.approx(expected)


def test_kappa_below_chance_is_negative():
    # total disagreement with balanced margins: po = 0, pe = 0.5 -> kappa = -1
    assert cohen_kappa(Confusion(tp=0, fp=5, fn=5, tn=0)) == pytest.approx(-1.0)


def test_perfect_agreement_and_undefined_cases():
    assert cohen_kappa(Confusion(tp=3, tn=7)) == pytest.approx(1.0)
    # both raters say compliant for everything: pe = 1, kappa undefined (as scikit-learn)
    m = metrics(Confusion(tn=10))
    assert math.isnan(m["kappa"]) and math.isnan(m["precision"]) and math.isnan(m["recall"])
    assert math.isnan(m["f1"]) and m["accuracy"] == 1.0
    assert all(math.isnan(v) for v in metrics(Confusion()).values())
    # no positive prediction: precision undefined, recall 0
    m = metrics(Confusion(fn=4, tn=6))
    assert math.isnan(m["precision"]) and m["recall"] == 0.0 and m["f1"] == 0.0


def test_metric_arrays_are_elementwise():
    out = metric_arrays(np.array([20, 0]), np.array([10, 5]), np.array([5, 5]), np.array([15, 0]))
    assert out["kappa"][0] == pytest.approx(0.4) and out["kappa"][1] == pytest.approx(-1.0)


def _items(tp: int, fp: int, fn: int, tn: int) -> np.ndarray:
    rows = [[1, 0, 0, 0]] * tp + [[0, 1, 0, 0]] * fp + [[0, 0, 1, 0]] * fn + [[0, 0, 0, 1]] * tn
    return np.array(rows, dtype=float)


def test_bootstrap_is_deterministic_for_a_seed():
    cl = _items(20, 10, 5, 15)
    a = bootstrap_intervals(cl, 500, stream_seed(0, "P1"))
    b = bootstrap_intervals(cl, 500, stream_seed(0, "P1"))
    c = bootstrap_intervals(cl, 500, stream_seed(1, "P1"))
    assert a == b
    assert a != c


def test_bootstrap_interval_brackets_the_estimate_and_narrows_with_n():
    small = bootstrap_intervals(_items(20, 10, 5, 15), 2000, stream_seed(0, "x"))
    large = bootstrap_intervals(_items(200, 100, 50, 150), 2000, stream_seed(0, "x"))
    lo, hi = small["kappa"]
    assert lo < 0.4 < hi
    assert (large["kappa"][1] - large["kappa"][0]) < (hi - lo)
    # the normal-approximation width for kappa at n=500 is about 2 * 1.96 * 0.04 = 0.16
    assert 0.10 < large["kappa"][1] - large["kappa"][0] < 0.22
    assert small["accuracy"][0] <= 0.7 <= small["accuracy"][1]


def test_bootstrap_chunks_give_the_same_answer(monkeypatch):
    import grader.review.calibration.agreement as st

    cl = _items(12, 3, 4, 21)
    whole = bootstrap_intervals(cl, 300, stream_seed(3, "k"))
    monkeypatch.setattr(st, "_CHUNK_CELLS", 40)  # one resample per chunk
    assert bootstrap_intervals(cl, 300, stream_seed(3, "k")) == whole


def test_bootstrap_without_data_or_resamples_is_nan():
    empty = bootstrap_intervals(np.zeros((0, 4)), 100, stream_seed(0, "x"))
    assert all(math.isnan(lo) and math.isnan(hi) for lo, hi in empty.values())
    none = bootstrap_intervals(_items(1, 1, 1, 1), 0, stream_seed(0, "x"))
    assert all(math.isnan(lo) for lo, _ in none.values())


def test_cluster_bootstrap_moves_a_transcripts_pairs_together():
    # one transcript holding every pair: every resample is that transcript -> zero width
    one = bootstrap_intervals(np.array([[3.0, 1.0, 2.0, 4.0]]), 200, stream_seed(0, "x"))
    k = metrics(Confusion(3, 1, 2, 4))["kappa"]
    assert one["kappa"] == (pytest.approx(k), pytest.approx(k))


def test_proportion_intervals_are_wilson_widened_by_a_wider_bootstrap():
    from grader.review.calibration.agreement import agreement_intervals, proportion_interval

    c = Confusion(tp=8, fp=2, fn=0, tn=10)
    # precision 8/10: Wilson 95% [0.4902, 0.9433] (hand: centre 0.8 + 1.9208/10, ...)
    lo, hi = proportion_interval("precision", c)
    assert (round(lo, 4), round(hi, 4)) == (0.4902, 0.9433)
    assert proportion_interval("recall", c) == (pytest.approx(0.6756, abs=1e-4), 1.0)
    wide = agreement_intervals(c, {"precision": (0.3, 0.99), "kappa": (0.1, 0.9)})
    assert wide["precision"] == (0.3, 0.99)
    assert wide["kappa"] == (0.1, 0.9)
    narrow = agreement_intervals(c, {"precision": (0.7, 0.9)})
    assert narrow["precision"] == (pytest.approx(0.4902, abs=1e-4), pytest.approx(0.9433, abs=1e-4))
    # an undefined metric stays undefined
    assert all(math.isnan(x) for x in proportion_interval("precision", Confusion(fn=3, tn=4)))


def test_kappa_needs_five_human_labels_of_each_class():
    from grader.review.calibration.agreement import kappa_not_estimable

    # 16 violations and one compliant label: kappa 1.0 with a bootstrap interval of zero width
    assert cohen_kappa(Confusion(tp=16, fp=0, fn=0, tn=1)) == 1.0
    assert kappa_not_estimable(Confusion(tp=16, fp=0, fn=0, tn=1)) == (
        "not estimable: fewer than 5 human labels of one class (16 violation, 1 compliant)")
    # the human labels decide the classes, not the grader's: 4 compliant labels, one predicted violation
    assert kappa_not_estimable(Confusion(tp=6, fp=1, fn=0, tn=3)) == (
        "not estimable: fewer than 5 human labels of one class (6 violation, 4 compliant)")
    assert kappa_not_estimable(Confusion(tp=5, fp=1, fn=0, tn=4)) is None
