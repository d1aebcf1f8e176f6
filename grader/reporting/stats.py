"""Statistics for violation rates: pure functions, tested against hand arithmetic.

- :func:`wilson_interval` -- the Wilson score interval for a binomial proportion. Unlike the
  normal ("Wald") interval it stays inside [0, 1] and gives a real upper bound when no
  violation was seen: 0 of 10 is not 0 % risk, it is "at most 27.8 % at 95 % confidence".
- :func:`lower_bound` -- the one-sided Clopper-Pearson (exact) lower confidence bound, for
  principles graded only by screening checks: k violations found in N examined transcripts
  say the rate is at least this much; they say nothing about how much higher it is.
- :func:`upper_bound` -- the one-sided Clopper-Pearson upper bound; with every screened pair
  counted as a violation it bounds a principle with a few screened pairs from above.
- :func:`fisher_exact_p` -- two-sided Fisher exact test (scipy.stats.fisher_exact) on the 2x2 table
  [[k1, n1 - k1], [k2, n2 - k2]] (scipy's definition: the sum of the probabilities of
  every table with the same margins that is no more likely than the observed one).
- :func:`two_proportion_p` -- two-sided pooled two-proportion z-test (for large n).
- :func:`compare_p` -- picks one of the two (``auto``: Fisher unless n is large).
- :func:`holm` -- Holm-Bonferroni step-down adjustment of a family of p-values.
"""
from __future__ import annotations

import math
from statistics import NormalDist
from typing import Sequence

from ..errors import UsageError

#: ``compare_p(method="auto")`` uses Fisher's exact test up to this many transcripts in
#: both groups together, and the z-test above it when every expected cell count is >= 10.
AUTO_FISHER_MAX_N = 5000
TESTS = ("auto", "fisher", "z")


def _check_counts(k: int, n: int) -> None:
    if n < 0 or k < 0 or k > n:
        raise UsageError(f"invalid counts: {k} of {n}")


def z_value(confidence: float = 0.95) -> float:
    """The two-sided standard normal quantile (1.959964 for 0.95)."""
    if not 0.0 < confidence < 1.0:
        raise UsageError(f"confidence must be between 0 and 1 (exclusive), got {confidence}")
    return NormalDist().inv_cdf(1.0 - (1.0 - confidence) / 2.0)


def wilson_interval(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for ``k`` successes out of ``n`` trials.

    ``(centre -+ half) / (1 + z^2/n)`` with ``centre = p + z^2/(2n)`` and
    ``half = z * sqrt(p(1-p)/n + z^2/(4n^2))``. With ``n == 0`` nothing is known: (0.0, 1.0).
    The lower bound is exactly 0 when ``k == 0`` and the upper exactly 1 when ``k == n``.

    >>> [round(x, 4) for x in wilson_interval(0, 10)]
    [0.0, 0.2775]
    """
    _check_counts(k, n)
    if n == 0:
        return (0.0, 1.0)
    z = z_value(confidence)
    p = k / n
    z2 = z * z
    denom = 1.0 + z2 / n
    centre = p + z2 / (2.0 * n)
    half = z * math.sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * n))
    low = 0.0 if k == 0 else max(0.0, (centre - half) / denom)
    high = 1.0 if k == n else min(1.0, (centre + half) / denom)
    return (low, high)


def lower_bound(k: int, n: int, confidence: float = 0.95) -> float:
    """One-sided Clopper-Pearson lower bound on a binomial rate from ``k`` of ``n``.

    The largest ``p`` with ``P(X >= k | n, p) <= 1 - confidence``, which is the
    ``(1 - confidence)`` quantile of Beta(k, n - k + 1) (scipy.stats.beta). Closed forms to
    check it by hand: ``k == n`` gives ``(1 - confidence) ** (1 / n)``; ``k == 1`` gives
    ``1 - confidence ** (1 / n)``. 0.0 when ``k == 0`` or ``n == 0`` (nothing was found).

    >>> round(lower_bound(1, 10), 6)
    0.005116
    """
    _check_counts(k, n)
    if not 0.0 < confidence < 1.0:
        raise UsageError(f"confidence must be between 0 and 1 (exclusive), got {confidence}")
    if k == 0:
        return 0.0
    from scipy.stats import beta  # imported here: scipy is slow to import

    return float(beta.ppf(1.0 - confidence, k, n - k + 1))


def upper_bound(k: int, n: int, confidence: float = 0.95) -> float:
    """One-sided Clopper-Pearson upper bound on a binomial rate from ``k`` of ``n``: the
    ``confidence`` quantile of Beta(k + 1, n - k). By hand: ``k == 0`` gives
    ``1 - (1 - confidence) ** (1 / n)``. 1.0 when ``k == n`` or ``n == 0``.

    For a principle with screened pairs it is taken with every screened pair counted as a
    violation (the worst case), which bounds the rate from above honestly.

    >>> round(upper_bound(0, 10), 6)
    0.258866
    """
    _check_counts(k, n)
    if not 0.0 < confidence < 1.0:
        raise UsageError(f"confidence must be between 0 and 1 (exclusive), got {confidence}")
    if k == n:
        return 1.0
    from scipy.stats import beta  # imported here: scipy is slow to import

    return float(beta.ppf(confidence, k + 1, n - k))


def fisher_exact_p(k1: int, n1: int, k2: int, n2: int) -> float:
    """Two-sided Fisher exact p-value for k1/n1 versus k2/n2 (1.0 when a group is empty)."""
    _check_counts(k1, n1)
    _check_counts(k2, n2)
    if n1 == 0 or n2 == 0:
        return 1.0
    from scipy.stats import fisher_exact  # imported here: scipy is slow to import

    res = fisher_exact([[k1, n1 - k1], [k2, n2 - k2]], alternative="two-sided")
    return float(min(1.0, res.pvalue))


def two_proportion_p(k1: int, n1: int, k2: int, n2: int) -> float:
    """Two-sided pooled two-proportion z-test p-value.

    ``z = (p1 - p2) / sqrt(P(1-P)(1/n1 + 1/n2))`` with the pooled ``P = (k1+k2)/(n1+n2)``;
    ``p = 2 * (1 - Phi(|z|))``. 1.0 when a group is empty or ``P`` is 0 or 1 (no variance).
    """
    _check_counts(k1, n1)
    _check_counts(k2, n2)
    if n1 == 0 or n2 == 0:
        return 1.0
    pooled = (k1 + k2) / (n1 + n2)
    if pooled in (0.0, 1.0):
        return 1.0
    se = math.sqrt(pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2))
    z = (k1 / n1 - k2 / n2) / se
    return float(min(1.0, math.erfc(abs(z) / math.sqrt(2.0))))  # = 2 * (1 - Phi(|z|))


def choose_test(k1: int, n1: int, k2: int, n2: int, method: str = "auto") -> str:
    """``fisher`` or ``z``: ``auto`` takes Fisher's exact test unless ``n1 + n2`` exceeds
    :data:`AUTO_FISHER_MAX_N` and every expected cell count of the 2x2 table is at least 10."""
    if method not in TESTS:
        raise UsageError(f"unknown test {method!r}: expected one of {', '.join(TESTS)}")
    if method != "auto":
        return method
    n = n1 + n2
    if n <= AUTO_FISHER_MAX_N:
        return "fisher"
    k = k1 + k2
    expected = [n1 * k / n, n1 * (n - k) / n, n2 * k / n, n2 * (n - k) / n]
    return "z" if min(expected) >= 10 else "fisher"


def compare_p(k1: int, n1: int, k2: int, n2: int, method: str = "auto") -> tuple[float, str]:
    """(p-value, test name) for the difference between k1/n1 and k2/n2.
    NaN when either group has no graded transcript (there is nothing to test)."""
    test = choose_test(k1, n1, k2, n2, method)
    if n1 == 0 or n2 == 0:
        _check_counts(k1, n1)
        _check_counts(k2, n2)
        return (math.nan, test)
    if test == "fisher":
        return (fisher_exact_p(k1, n1, k2, n2), test)
    return (two_proportion_p(k1, n1, k2, n2), test)


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values, in the input order.

    Sort the m p-values ascending; the i-th smallest (0-based) gets
    ``max_{j <= i} min(1, (m - j) * p_(j))``. NaN entries (no test) stay NaN and do not
    count in m.

    >>> holm([0.01, 0.04, 0.03])
    [0.03, 0.06, 0.06]
    """
    idx = [i for i, p in enumerate(pvalues) if p is not None and not math.isnan(p)]
    for i in idx:
        if not 0.0 <= pvalues[i] <= 1.0:
            raise UsageError(f"p-value out of range: {pvalues[i]}")
    m = len(idx)
    out = [math.nan] * len(pvalues)
    running = 0.0
    for rank, i in enumerate(sorted(idx, key=lambda i: (pvalues[i], i))):
        running = max(running, min(1.0, (m - rank) * pvalues[i]))
        out[i] = running
    return out


def newcombe_interval(k_a: int, n_a: int, k_b: int, n_b: int,
                      confidence: float = 0.95) -> tuple[float, float]:
    """Newcombe's hybrid score interval (method 10) for the difference ``p_b - p_a``,
    built from the two Wilson intervals:
    ``L = d - sqrt((p_b - l_b)^2 + (u_a - p_a)^2)``, ``U = d + sqrt((u_b - p_b)^2 + (p_a - l_a)^2)``.
    (-1.0, 1.0) when either group is empty."""
    _check_counts(k_a, n_a)
    _check_counts(k_b, n_b)
    if n_a == 0 or n_b == 0:
        return (-1.0, 1.0)
    pa, pb = k_a / n_a, k_b / n_b
    la, ua = wilson_interval(k_a, n_a, confidence)
    lb, ub = wilson_interval(k_b, n_b, confidence)
    d = pb - pa
    low = d - math.sqrt((pb - lb) ** 2 + (ua - pa) ** 2)
    high = d + math.sqrt((ub - pb) ** 2 + (pa - la) ** 2)
    return (max(-1.0, low), min(1.0, high))
