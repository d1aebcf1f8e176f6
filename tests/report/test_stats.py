"""Statistics against hand arithmetic (z = 1.959964 for 95 %, z^2 = 3.841459)."""
from __future__ import annotations

import math

import pytest

from grader.errors import UsageError
from grader.reporting.stats import (choose_test, compare_p, fisher_exact_p, holm, lower_bound,
                                 newcombe_interval, two_proportion_p, upper_bound, wilson_interval, z_value)

Z = 1.959964
Z2 = Z * Z


def test_z_value():
    assert z_value(0.95) == pytest.approx(Z, abs=1e-6)
    assert z_value(0.90) == pytest.approx(1.644854, abs=1e-6)


def test_wilson_zero_of_ten_has_an_upper_bound():
    # k = 0: centre = half = z^2/2n, so upper = (z^2/n) / (1 + z^2/n) = z^2 / (n + z^2)
    low, high = wilson_interval(0, 10)
    assert low == 0.0
    assert high == pytest.approx(Z2 / (10 + Z2), abs=1e-6)
    assert round(high, 4) == 0.2775


def test_wilson_half():
    # p = .5, n = 10: centre = .5 + z^2/20 = .692073; half = z*sqrt(.025 + z^2/400) = .364596;
    # denominator 1 + z^2/10 = 1.384146
    low, high = wilson_interval(5, 10)
    assert low == pytest.approx(0.2366, abs=1e-4)
    assert high == pytest.approx(0.7634, abs=1e-4)
    assert low + high == pytest.approx(1.0)


def test_wilson_all_and_empty():
    low, high = wilson_interval(10, 10)
    assert high == 1.0
    assert low == pytest.approx(10 / (10 + Z2), abs=1e-6)  # mirror of 0 of 10
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_wilson_other_confidence_is_wider_or_narrower():
    # 90 %: z = 1.644854, upper for 0 of 10 = z^2/(10+z^2) = 2.705543/12.705543
    assert wilson_interval(0, 10, 0.90)[1] == pytest.approx(2.705543 / 12.705543, abs=1e-6)


def test_wilson_rejects_bad_counts():
    with pytest.raises(UsageError):
        wilson_interval(3, 2)
    with pytest.raises(UsageError):
        wilson_interval(-1, 2)


def test_fisher_hand_hypergeometric():
    # [[3, 2], [0, 5]]: X ~ Hypergeom(10, 5, 3); P(X=x) = C(5,x)C(5,3-x)/C(10,3) = 10,50,50,10 /120.
    # Observed x=3 (10/120); tables no more likely: x=0 and x=3 -> 20/120.
    assert fisher_exact_p(3, 5, 0, 5) == pytest.approx(20 / 120, abs=1e-12)
    # [[1, 2], [4, 1]]: P(X=x) = C(3,x)C(5,5-x)/C(8,5) = 1, 15, 30, 10 /56 for x = 0..3.
    # Observed x=1 (15/56); no more likely: x=0, 1, 3 -> 26/56.
    assert fisher_exact_p(1, 3, 4, 5) == pytest.approx(26 / 56, abs=1e-12)
    assert fisher_exact_p(2, 4, 2, 4) == pytest.approx(1.0)
    assert fisher_exact_p(0, 0, 3, 5) == 1.0


def test_two_proportion_z():
    # 30/100 vs 20/100: pooled .25, se = sqrt(.25*.75*(2/100)) = .0612372, z = 1.632993
    z = 0.1 / math.sqrt(0.25 * 0.75 * 0.02)
    assert z == pytest.approx(1.632993, abs=1e-6)
    from scipy.stats import norm

    assert two_proportion_p(30, 100, 20, 100) == pytest.approx(2 * norm.sf(z), abs=1e-12)
    assert two_proportion_p(3000, 10000, 2000, 10000) == pytest.approx(2 * norm.sf(0.1 / math.sqrt(0.25 * 0.75 * 2e-4)),
                                                                      rel=1e-6)  # tiny p keeps its precision
    assert two_proportion_p(30, 100, 20, 100) == pytest.approx(0.10247, abs=1e-5)
    assert two_proportion_p(0, 50, 0, 50) == 1.0  # no variance


def test_choose_and_compare():
    assert choose_test(3, 10, 1, 10) == "fisher"
    assert choose_test(300, 3000, 350, 3000) == "z"        # large, every expected count >= 10
    assert choose_test(3, 3000, 1, 3000) == "fisher"        # large but rare
    assert choose_test(300, 3000, 350, 3000, "fisher") == "fisher"
    p, test = compare_p(3, 5, 0, 5)
    assert (p, test) == (pytest.approx(1 / 6), "fisher")
    p, test = compare_p(0, 0, 1, 5)
    assert math.isnan(p)
    with pytest.raises(UsageError):
        choose_test(1, 2, 1, 2, "chi2")


def test_holm_hand_example():
    # sorted: .005*4 = .02, .01*3 = .03, .03*2 = .06, .04*1 = .04 -> running max .06
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, 0.6]) == [1.0, 1.0]  # capped at 1
    out = holm([0.02, math.nan, 0.04])     # NaN is not a test: m = 2
    assert out[0] == pytest.approx(0.04) and out[2] == pytest.approx(0.04) and math.isnan(out[1])
    assert holm([]) == []
    assert holm([0.3]) == [0.3]


def test_newcombe_difference():
    # 0/10 vs 5/10: d = .5; L = .5 - sqrt((.5 - .2366)^2 + (.2775 - 0)^2) = .1174; U = .5 + (.7634 - .5)
    low, high = newcombe_interval(0, 10, 5, 10)
    assert low == pytest.approx(0.1174, abs=1e-3)
    assert high == pytest.approx(0.7634, abs=1e-4)
    assert newcombe_interval(0, 0, 1, 2) == (-1.0, 1.0)


def test_one_sided_lower_bound_by_hand():
    # k = 1: P(X >= 1) = 1 - (1 - p)^n = 0.05  =>  p = 1 - 0.95^(1/n)
    assert lower_bound(1, 10) == pytest.approx(1 - 0.95 ** 0.1, abs=1e-12)
    assert round(lower_bound(1, 10), 6) == 0.005116
    assert lower_bound(1, 34) == pytest.approx(0.0015075, abs=1e-7)
    # k = n: P(X >= n) = p^n = 0.05  =>  p = 0.05^(1/n)
    assert lower_bound(1, 1) == pytest.approx(0.05, abs=1e-12)
    assert lower_bound(2, 2) == pytest.approx(math.sqrt(0.05), abs=1e-12)  # 0.223607
    # k = 2, n = 3: P(X >= 2) = 3p^2(1 - p) + p^3 = 3p^2 - 2p^3 = 0.05 has the root p = 0.135350
    p = lower_bound(2, 3)
    assert 3 * p ** 2 - 2 * p ** 3 == pytest.approx(0.05, abs=1e-12)
    assert round(p, 6) == 0.13535
    # nothing found, or nothing examined: the bound is 0
    assert lower_bound(0, 50) == 0.0 and lower_bound(0, 0) == 0.0
    # 90% one-sided: 1 - 0.9^(1/10)
    assert lower_bound(1, 10, 0.90) == pytest.approx(1 - 0.9 ** 0.1, abs=1e-12)
    with pytest.raises(UsageError):
        lower_bound(3, 2)
    with pytest.raises(UsageError):
        lower_bound(1, 2, 1.0)


def test_one_sided_upper_bound_by_hand():
    # k = 0: P(X <= 0) = (1 - p)^n = 0.05  =>  p = 1 - 0.05^(1/n)
    assert upper_bound(0, 10) == pytest.approx(1 - 0.05 ** 0.1, abs=1e-12)
    assert round(upper_bound(0, 10), 6) == 0.258866
    # k = n - 1: P(X <= n - 1) = 1 - p^n = 0.05  =>  p = 0.95^(1/n)
    assert upper_bound(2, 3) == pytest.approx(0.95 ** (1 / 3), abs=1e-12)  # 0.983048
    assert upper_bound(3, 3) == 1.0 and upper_bound(0, 0) == 1.0
    with pytest.raises(UsageError):
        upper_bound(4, 3)
