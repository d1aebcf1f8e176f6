"""Rate arithmetic of the benchmark scripts (tested by hand in ``tests/judges/test_bench_rates.py``)."""
from __future__ import annotations


def steady_rate(stamps: list[tuple[float, int]]) -> float:
    """Judgments per second between the first and the last tenth of the run (by judgments
    finished): the sustained rate, without the ramp-up and the drain."""
    stamps = sorted(stamps)
    total = sum(n for _, n in stamps)
    seen, lo, hi, between = 0, None, None, 0
    for t, n in stamps:
        seen += n
        if lo is None and seen >= 0.1 * total:
            lo, between = t, 0
        elif lo is not None and hi is None:
            between += n
            if seen >= 0.9 * total:
                hi = t
    return between / (hi - lo) if lo is not None and hi is not None and hi > lo else float("nan")
