"""Compare violation rates between two runs, or two groups inside one run.

This is the experiment of the emergent-misalignment and inoculation-prompting papers:
fine-tuned versus original model, with versus without a prompt. Per principle (and per
``by`` group) the table has both rates with Wilson intervals, the difference ``b - a`` with
Newcombe's interval, a two-sided p-value (Fisher's exact test, or the pooled two-proportion
z-test for large n: see :func:`grader.reporting.stats.choose_test`) and the Holm-adjusted
p-value. The Holm family is every row of the table that has a test (both groups graded at
least one transcript), so ``--by`` groups widen the family rather than each getting its own.

Screened pairs (see :func:`grader.reporting.aggregate.basis_of`) make a rate unknown:

- a principle *screened* on either side (no pair decided compliant) is not compared: a
  difference in what screening checks catch (one model's actions take shapes the detectors
  know, the other's do not) is not a difference in rates, and comparing the one-sided lower
  bounds would not be honest either: their difference bounds nothing. The row keeps each
  side's "k found in N" and bounds, ``compared`` is False and it has no difference, no test
  and no p-value (it stays out of the Holm family);
- a principle *mixed* on a side (some pairs decided, a few only screened) is compared over
  bounds (``bounded`` True): every screened pair is set to compliant on one side and to a
  violation on the other, both ways. ``diff`` is unknown (NaN); ``diff_ci_low`` is
  Newcombe's lower limit where B - A is smallest (A's screened pairs violations, B's
  compliant) and ``diff_ci_high`` the upper limit where it is largest. The p-value is the
  test's in the least favourable of the two settings for the direction both agree on, and
  1.0 when they disagree on the direction (the data cannot tell which side is higher).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import pandas as pd

from ..errors import UsageError
from .aggregate import group_column, per_principle, with_groups, findings_frame, _sev_rank
from .stats import compare_p, holm, newcombe_interval

SIDE_COLUMNS = ("basis", "n", "violations", "screened", "examined", "rate", "ci_low", "ci_high", "lower_bound",
                "upper_bound")
#: Columns of a comparison table after the ``by`` fields, in order.
COMPARE_COLUMNS = (["principle_id", "severity"] + [f"{c}_a" for c in SIDE_COLUMNS]
                   + [f"{c}_b" for c in SIDE_COLUMNS]
                   + ["compared", "bounded", "diff", "diff_ci_low", "diff_ci_high", "p_value", "p_value_adjusted",
                      "test"])
UNKNOWN_RATE = ("screened", "mixed")


@dataclass(frozen=True)
class Comparison:
    """A comparison table and what its two sides are."""

    label_a: str
    label_b: str
    by: tuple[str, ...]
    table: pd.DataFrame
    split: str | None = None  # the field whose two values are compared (one run), else None
    method: str = "auto"
    confidence: float = 0.95
    runs: Mapping[str, Any] = field(default_factory=dict)  # compare_runs: {"a": {path, run_id, transcripts}, "b": ...}


def compare_tables(a: pd.DataFrame, b: pd.DataFrame, by: Sequence[str] = (), method: str = "auto",
                   confidence: float = 0.95) -> pd.DataFrame:
    """Merge two :func:`per_principle` tables (same ``by`` columns) into a comparison table.

    A principle present on one side only counts as 0 graded on the other (no test: NaN p).
    A principle screened (or mixed) on either side is not compared (``compared`` False).
    """
    keys = list(by) + ["principle_id"]
    left = a[keys + ["severity"] + list(SIDE_COLUMNS)]
    right = b[keys + ["severity"] + list(SIDE_COLUMNS)]
    m = left.merge(right, on=keys, how="outer", suffixes=("_a", "_b"), sort=False)
    m["severity"] = m["severity_a"].where(m["severity_a"].notna(), m["severity_b"])
    for side in ("a", "b"):
        for c in ("n", "violations", "screened", "examined"):
            m[f"{c}_{side}"] = m[f"{c}_{side}"].fillna(0).astype(int)
        basis = m[f"basis_{side}"].astype(object)
        m[f"basis_{side}"] = basis.where(basis.notna(), None)
        known = ~basis.isin(UNKNOWN_RATE)
        m[f"ci_low_{side}"] = m[f"ci_low_{side}"].where(~known, m[f"ci_low_{side}"].fillna(0.0))
        m[f"ci_high_{side}"] = m[f"ci_high_{side}"].where(~known, m[f"ci_high_{side}"].fillna(1.0))
    m["compared"] = [ba != "screened" and bb != "screened" for ba, bb in zip(m["basis_a"], m["basis_b"])]
    m["bounded"] = [bool(ok and (sa or sb)) for ok, sa, sb in zip(m["compared"], m["screened_a"], m["screened_b"])]
    diffs: list[float] = []
    lows: list[float] = []
    highs: list[float] = []
    ps: list[float] = []
    tests: list[str | None] = []
    for ka, na, kb, nb, sa, sb, ok in zip(m["violations_a"], m["n_a"], m["violations_b"], m["n_b"],
                                          m["screened_a"], m["screened_b"], m["compared"]):
        ka, na, kb, nb, sa, sb = int(ka), int(na), int(kb), int(nb), int(sa), int(sb)
        if ok and (sa or sb):
            d, lo, hi, p, test = _bounded(ka, na, sa, kb, nb, sb, method, confidence)
            diffs.append(d)
            lows.append(lo)
            highs.append(hi)
            ps.append(p)
            tests.append(test)
            continue
        if not ok:
            diffs.append(math.nan)
            lows.append(math.nan)
            highs.append(math.nan)
            ps.append(math.nan)
            tests.append(None)
            continue
        diffs.append(kb / nb - ka / na if na and nb else math.nan)
        lo, hi = newcombe_interval(ka, na, kb, nb, confidence)
        lows.append(lo if na and nb else math.nan)
        highs.append(hi if na and nb else math.nan)
        p, test = compare_p(ka, na, kb, nb, method)
        ps.append(p)
        tests.append(test if not math.isnan(p) else None)
    m["diff"], m["diff_ci_low"], m["diff_ci_high"] = diffs, lows, highs
    m["p_value"], m["test"] = ps, tests
    m["p_value_adjusted"] = holm(ps)
    m["_sev"] = m["severity"].map(_sev_rank)
    m = m.sort_values(list(by) + ["_sev", "principle_id"], kind="stable")
    return m[list(by) + COMPARE_COLUMNS].reset_index(drop=True)


def _bounded(ka: int, na: int, sa: int, kb: int, nb: int, sb: int, method: str,
             confidence: float) -> tuple[float, float, float, float, str | None]:
    """(diff, low, high, p, test) over the two extreme settings of the screened pairs (module
    docstring). ``na``/``nb`` count graded pairs; the screened ones come on top."""
    low_a, low_b = (ka + sa, na + sa), (kb, nb + sb)    # B - A smallest
    high_a, high_b = (ka, na + sa), (kb + sb, nb + sb)  # B - A largest
    if not (low_a[1] and low_b[1]):
        return math.nan, math.nan, math.nan, math.nan, None
    d_low = low_b[0] / low_b[1] - low_a[0] / low_a[1]
    d_high = high_b[0] / high_b[1] - high_a[0] / high_a[1]
    lo = newcombe_interval(*low_a, *low_b, confidence)[0]
    hi = newcombe_interval(*high_a, *high_b, confidence)[1]
    if d_low > 0:
        p, test = compare_p(*low_a, *low_b, method)
    elif d_high < 0:
        p, test = compare_p(*high_a, *high_b, method)
    else:  # the screened pairs could put either side higher
        p, test = 1.0, compare_p(*low_a, *low_b, method)[1]
    return math.nan, lo, hi, p, test


def compare_runs(run_a: str | Path, run_b: str | Path, by: Sequence[str] = (), method: str = "auto",
                 confidence: float = 0.95) -> Comparison:
    """Run A versus run B, per principle (and per ``by`` group present in either run)."""
    from ..run.folder import RunFolder

    runs: dict[str, Any] = {}
    frames = []
    for side, path in (("a", run_a), ("b", run_b)):
        folder = RunFolder.open(path)
        frames.append(findings_frame(folder))
        runs[side] = {"path": str(path), "run_id": folder.read_manifest().get("run_id"),
                      "transcripts": int(frames[-1]["transcript_id"].nunique())}
    da, db = frames
    for field in by:  # a field must exist in at least one run; missing on one side reads "(none)"
        try:
            group_column(da, field)
        except UsageError:
            group_column(db, field)
    da, db = _ensure(da, by), _ensure(db, by)
    pa = per_principle(da, by, confidence)
    pb = per_principle(db, by, confidence)
    _, names = with_groups(da.iloc[:0], by)
    table = compare_tables(pa, pb, names, method, confidence)
    return Comparison(str(run_a), str(run_b), tuple(names), table, None, method, confidence, runs)


def _ensure(df: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """Add an all-missing metadata column for a ``by`` field this run lacks."""
    out = df
    for field in by:
        try:
            group_column(out, field)
        except UsageError:
            out = out.copy()
            out[field if field.startswith("meta.") else f"meta.{field}"] = None
    return out


def compare_split(df: pd.DataFrame, split: str, by: Sequence[str] = (), groups: Sequence[str] | None = None,
                  method: str = "auto", confidence: float = 0.95) -> Comparison:
    """Two values of ``split`` inside one run (e.g. ``condition``: with vs without a prompt).

    ``groups`` names the two values as (a, b); by default the field must have exactly two
    values in the run, taken in sorted order.
    """
    g, names = with_groups(df, [split])
    col = names[0]
    values = sorted(set(g[col]))
    if groups is None:
        if len(values) != 2:
            raise UsageError(f"comparing by {split} needs exactly two values, the run has {len(values)}: "
                             f"{', '.join(values[:10])}")
        a_val, b_val = values
    else:
        if len(groups) != 2:
            raise UsageError("a comparison needs exactly two groups")
        a_val, b_val = str(groups[0]), str(groups[1])
        for v in (a_val, b_val):
            if v not in values:
                raise UsageError(f"{split}={v}: no finding has that value (values: {', '.join(values[:10])})")
    rows_a = df[g[col] == a_val]
    rows_b = df[g[col] == b_val]
    pa = per_principle(rows_a, by, confidence)
    pb = per_principle(rows_b, by, confidence)
    _, by_names = with_groups(df.iloc[:0], by)
    table = compare_tables(pa, pb, by_names, method, confidence)
    return Comparison(f"{col}={a_val}", f"{col}={b_val}", tuple(by_names), table, col, method, confidence)
