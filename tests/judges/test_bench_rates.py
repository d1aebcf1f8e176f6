"""The benchmark's sustained-rate arithmetic (grader.testing.rates, used by bench/judge_throughput.py), by hand."""
from __future__ import annotations

import math

from grader.testing.rates import steady_rate


def test_steady_rate_counts_from_the_first_to_the_last_tenth():
    # 10 transcripts of 10 judgments, one a second: the first tenth ends at t=1, the last
    # tenth starts at t=9; 80 judgments finish in between, over 8 s
    assert steady_rate([(float(t), 10) for t in range(1, 11)]) == 10.0
    # uneven: 30 by t=0.5 (past the first tenth), 40 more at t=1, 30 more at t=3 -> 70 in 2.5 s
    assert steady_rate([(3.0, 30), (0.5, 30), (1.0, 40)]) == 28.0


def test_steady_rate_without_a_span_is_nan():
    assert math.isnan(steady_rate([]))
    assert math.isnan(steady_rate([(1.0, 8)]))
