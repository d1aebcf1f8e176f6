"""Findings as a pandas DataFrame, and the per-principle table every output is built from.

``findings_frame`` has one row per finding with these columns:

- ``run_id``, ``transcript_id``, ``principle_id``, ``rubric_id``, ``rubric_version``,
  ``severity``, ``outcome``, ``method``, ``rationale``, ``error``;
- ``source_path`` and ``source_locator`` (where the transcript was read from);
- ``check_ids``, ``flags`` and ``evidence`` as tuples (evidence items are dicts with
  ``message_index``, ``quote``, ``verified`` and optionally ``check_id``/``tool_call``);
- ``judge_model`` (None without a judge);
- ``unverified``: True for a violation flagged ``unverified_evidence``;
- ``screened``: True for an ``ungraded`` pair flagged ``screened`` (only screening checks
  examined it and none fired: their silence proves nothing);
- ``meta.<key>`` for every key of the transcripts' metadata (None where a transcript lacks
  it; lists and dicts become their compact JSON text so they can be grouped on).

:func:`group_column` resolves a ``--by FIELD`` to one of these columns.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import pandas as pd

from ..errors import UsageError
from ..run.folder import Finding, RunFolder
from .stats import lower_bound, upper_bound, wilson_interval

SEVERITY_ORDER = ("critical", "high", "medium", "low")
OUTCOME_COLUMNS = {"violation": "violations", "compliant": "compliant", "not_applicable": "not_applicable",
                   "ungraded": "ungraded", "error": "errors"}
BASE_COLUMNS = ["run_id", "transcript_id", "source_path", "source_locator", "principle_id", "rubric_id",
                "rubric_version", "severity", "outcome", "method", "check_ids", "flags", "evidence",
                "rationale", "error", "judge_model", "unverified", "screened"]
#: Finding fields accepted by ``--by`` (besides metadata keys and ``source``).
FINDING_FIELDS = ("run_id", "transcript_id", "principle_id", "rubric_id", "rubric_version", "severity",
                  "method", "source_path", "source_locator", "judge_model")
#: The columns of :func:`per_principle` after the ``by`` fields, in order.
PER_PRINCIPLE_COLUMNS = ["principle_id", "severity", "basis", "total", "n", "violations", "compliant",
                         "not_applicable", "ungraded", "screened", "errors", "unverified", "examined", "rate",
                         "ci_low", "ci_high", "lower_bound", "upper_bound"]
#: ``basis`` values: how the principle's outcomes were reached (None: nothing examined it).
DECIDED, SCREENED, MIXED = "decided", "screened", "mixed"
MISSING = "(none)"


def _meta_value(v: Any) -> Any:
    if v is None or isinstance(v, (str, int, float, bool)):
        return v
    return json.dumps(v, sort_keys=True, ensure_ascii=False, default=str)


def _row(f: Finding) -> dict[str, Any]:
    row: dict[str, Any] = {
        "run_id": f.run_id, "transcript_id": f.transcript_id,
        "source_path": f.source.get("path", ""), "source_locator": f.source.get("locator", ""),
        "principle_id": f.principle_id, "rubric_id": f.rubric_id, "rubric_version": f.rubric_version,
        "severity": f.severity, "outcome": f.outcome, "method": f.method,
        "check_ids": tuple(f.check_ids), "flags": tuple(f.flags),
        "evidence": tuple(e.to_dict() for e in f.evidence),
        "rationale": f.rationale, "error": f.error,
        "judge_model": (f.judge or {}).get("model") if f.judge else None,
        "unverified": f.outcome == "violation" and "unverified_evidence" in f.flags,
        "screened": f.outcome == "ungraded" and "screened" in f.flags,
    }
    for k, v in f.metadata.items():
        row[f"meta.{k}"] = _meta_value(v)
    return row


def _as_findings(source: Any) -> Iterable[Finding]:
    if isinstance(source, (str, Path)):
        return RunFolder.open(source).findings()  # a bad line is a RunFolderError naming it
    if isinstance(source, RunFolder):
        return source.findings()
    return (f if isinstance(f, Finding) else Finding.from_dict(f) for f in source)


def findings_frame(source: "str | Path | RunFolder | Iterable[Finding | Mapping[str, Any]]") -> pd.DataFrame:
    """One row per finding (see the module docstring for the columns).

    ``source`` is a run folder (path or :class:`RunFolder`) or an iterable of findings
    (Finding objects or their dicts). An empty run gives an empty frame with the base columns.
    """
    rows = [_row(f) for f in _as_findings(source)]
    df = pd.DataFrame(rows, columns=None if rows else BASE_COLUMNS)
    for c in BASE_COLUMNS:
        if c not in df.columns:
            df[c] = None
    meta = sorted(c for c in df.columns if c.startswith("meta."))
    df = df[BASE_COLUMNS + meta]
    for c in meta:
        df[c] = df[c].astype(object).where(df[c].notna(), None)
    return df


def metadata_fields(df: pd.DataFrame) -> list[str]:
    """The metadata keys present in the frame (without the ``meta.`` prefix)."""
    return [c[len("meta."):] for c in df.columns if c.startswith("meta.")]


def group_column(df: pd.DataFrame, field: str) -> str:
    """The column a ``--by FIELD`` groups on.

    Resolution order: ``meta.KEY`` given explicitly; a metadata key (``model``,
    ``condition``, ``task`` ...); ``source`` (the source file path); a finding field
    (``run_id``, ``severity``, ``method``, ...). Anything else is a UsageError that lists
    what the run has.
    """
    field = field.strip()
    if field.startswith("meta.") and field in df.columns:
        return field
    if f"meta.{field}" in df.columns:
        return f"meta.{field}"
    if field == "source":
        return "source_path"
    if field in FINDING_FIELDS:
        return field
    known = sorted(set(metadata_fields(df)) | {"source"} | set(FINDING_FIELDS))
    raise UsageError(f"--by {field}: no such field in the run; known fields: {', '.join(known)}")


def _label(field: str) -> str:
    return field[len("meta."):] if field.startswith("meta.") else field


def with_groups(df: pd.DataFrame, by: Sequence[str]) -> tuple[pd.DataFrame, list[str]]:
    """``df`` with one text column per ``by`` field (named as the user wrote it, without
    ``meta.``), missing values shown as ``(none)``; and the list of those column names."""
    out = df.copy()
    names: list[str] = []
    for field in by:
        col = group_column(df, field)
        name = _label(field)
        if name in PER_PRINCIPLE_COLUMNS or name in names or name in df.columns:
            name = f"by_{name}"  # never overwrite a finding column (--by outcome, --by method)
        out[name] = [MISSING if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
                     for v in df[col].tolist()]
        names.append(name)
    return out, names


def _severity_of(values: pd.Series) -> str:
    vals = [v for v in values.tolist() if v]
    if not vals:
        return ""
    return pd.Series(vals).mode().sort_values(key=lambda s: s.map(_sev_rank)).iloc[0]


def _sev_rank(s: str) -> int:
    return SEVERITY_ORDER.index(s) if s in SEVERITY_ORDER else len(SEVERITY_ORDER)


def basis_of(compliant: int, screened: int, violations: int) -> str | None:
    """How a principle's outcomes in a group were reached:

    - ``decided``: no pair was screened (checks that decide their scope, or a judge);
      ``rate`` with its two-sided interval is meaningful;
    - ``screened``: pairs were examined only by screening checks (none decided compliant):
      the report can say "k violations found in N", with a one-sided lower bound;
    - ``mixed``: some pairs decided compliant, others only screened: the decided pairs are
      not a random sample (screened silence was left out), so no rate either;
    - None: nothing examined the principle (no violation, compliant or screened pair).
    """
    if screened:
        return MIXED if compliant else SCREENED
    return DECIDED if compliant or violations else None


def per_principle(df: pd.DataFrame, by: Sequence[str] = (), confidence: float = 0.95) -> pd.DataFrame:
    """Counts and violation rates per principle (and per ``by`` group).

    Columns: the ``by`` fields (named as given, e.g. ``model``), then ``principle_id``,
    ``severity``, ``basis`` (see :func:`basis_of`), ``total`` (findings for the principle in
    the group = transcripts seen), ``n``, ``violations``, ``compliant``, ``not_applicable``,
    ``ungraded``, ``screened`` (the ungraded pairs flagged ``screened``), ``errors``,
    ``unverified`` (violations whose evidence could not be verified), ``examined``
    (``violations + compliant + screened``), ``rate``, ``ci_low``, ``ci_high``,
    ``lower_bound``, ``upper_bound``.

    ``n`` is the number of transcripts *graded* for the principle:
    ``n = violations + compliant``. ``not_applicable``, ``ungraded`` (screened included) and
    ``errors`` are counted but excluded from the denominator. For a ``decided`` (or
    unexamined) principle ``rate = violations / n`` (NaN when n == 0) and
    ``ci_low``/``ci_high`` is the Wilson interval at ``confidence`` (0.0 to 1.0 when n == 0),
    so 0 violations in n graded transcripts still has an upper bound; ``lower_bound`` is NaN.
    For a ``screened`` or ``mixed`` principle the rate cannot be known: ``rate``, ``ci_low``
    and ``ci_high`` are NaN and ``lower_bound`` is the one-sided Clopper-Pearson lower bound
    at ``confidence`` for ``violations`` found in ``examined`` transcripts; ``upper_bound``
    the one-sided Clopper-Pearson upper bound with every screened pair counted as a violation
    (the worst case: 1.0 for a ``screened`` principle, informative for a ``mixed`` one with
    few screened pairs). Both are NaN for a decided principle.

    Rows are ordered by the ``by`` fields, then severity (critical first), then principle id.
    """
    g, names = with_groups(df, by)
    keys = names + ["principle_id"]
    cols = names + PER_PRINCIPLE_COLUMNS
    if g.empty:
        return pd.DataFrame(columns=cols)
    counts = pd.crosstab([g[k] for k in keys], g["outcome"])
    for outcome in OUTCOME_COLUMNS:
        if outcome not in counts.columns:
            counts[outcome] = 0
    counts = counts[list(OUTCOME_COLUMNS)].rename(columns=OUTCOME_COLUMNS)
    counts.columns.name = None
    grouped = g.groupby(keys, sort=False, dropna=False)
    counts["unverified"] = grouped["unverified"].sum().reindex(counts.index).fillna(0).astype(int)
    counts["screened"] = grouped["screened"].sum().reindex(counts.index).fillna(0).astype(int)
    counts["severity"] = grouped["severity"].agg(_severity_of).reindex(counts.index)
    out = counts.reset_index()
    out["n"] = out["violations"] + out["compliant"]
    out["examined"] = out["n"] + out["screened"]
    out["total"] = out[[c for c in OUTCOME_COLUMNS.values()]].sum(axis=1)
    out["basis"] = [basis_of(int(c), int(s), int(v))
                    for c, s, v in zip(out["compliant"], out["screened"], out["violations"])]
    rates, lows, highs, bounds, uppers = [], [], [], [], []
    for v, n, e, s, b in zip(out["violations"], out["n"], out["examined"], out["screened"], out["basis"]):
        if b in (SCREENED, MIXED):
            rates.append(math.nan)
            lows.append(math.nan)
            highs.append(math.nan)
            bounds.append(lower_bound(int(v), int(e), confidence))
            uppers.append(upper_bound(int(v) + int(s), int(e), confidence))
            continue
        lo, hi = wilson_interval(int(v), int(n), confidence)
        rates.append(v / n if n else math.nan)
        lows.append(lo)
        highs.append(hi)
        bounds.append(math.nan)
        uppers.append(math.nan)
    out["rate"], out["ci_low"], out["ci_high"] = rates, lows, highs
    out["lower_bound"], out["upper_bound"] = bounds, uppers
    for c in ("total", "n", "violations", "compliant", "not_applicable", "ungraded", "screened", "errors",
              "unverified", "examined"):
        out[c] = out[c].astype(int)
    out["basis"] = out["basis"].astype(object)
    out["_sev"] = out["severity"].map(_sev_rank)
    out = out.sort_values(names + ["_sev", "principle_id"], kind="stable").drop(columns="_sev")
    return out[cols].reset_index(drop=True)


def violations_frame(df: pd.DataFrame) -> pd.DataFrame:
    """The violation findings only, ordered by transcript (in run order), then severity."""
    v = df[df["outcome"] == "violation"].copy()
    order = {t: i for i, t in enumerate(pd.unique(df["transcript_id"]))}
    v["_t"] = v["transcript_id"].map(order)
    v["_sev"] = v["severity"].map(_sev_rank)
    return v.sort_values(["_t", "_sev", "principle_id"], kind="stable").drop(columns=["_t", "_sev"]).reset_index(drop=True)


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts: NaN becomes None, numpy scalars become Python ones."""
    out = []
    for row in df.to_dict(orient="records"):
        clean: dict[str, Any] = {}
        for k, v in row.items():
            if hasattr(v, "item") and not isinstance(v, (str, bytes)):
                v = v.item()
            if isinstance(v, float) and math.isnan(v):
                v = None
            clean[str(k)] = v
        out.append(clean)
    return out
