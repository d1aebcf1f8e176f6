"""JSON and CSV renderings: every number of the report with stable field names.

JSON (``format: constitution-grader/report``, ``version: 1``)::

    run          {run_id, run_dir, grader_version, status, started_at, ended_at, inputs,
                  transcripts, findings, input_errors}
    by           the group fields, as named in the rows
    confidence   0.95 unless asked otherwise
    principles   one row per principle (and group): see PER_PRINCIPLE_COLUMNS
    comparison   null, or {a, b, runs, split, by, principles: rows with p_value, p_value_adjusted ...}
                 (``grader compare --format json`` writes this object alone)
    transcripts  transcripts with violations: {transcript_id, source, metadata, violations: [
                  {principle_id, severity, method, flags, unverified, check_ids, rationale,
                   evidence: [{message_index, quote, verified, ...}]}]}
    input_errors [{path, locator, reason}]

Rates are null when n == 0 (nothing graded); intervals are then [0, 1].

CSV has one table (``table``): ``principles`` (default), ``comparison`` or ``violations``
(one row per violation, evidence as JSON text). Text cells from a transcript that start
with ``= + - @`` (or a tab / carriage return) get a leading apostrophe so a spreadsheet
does not run them as formulas.
"""
from __future__ import annotations

import io
import json
from typing import Any

import pandas as pd

from .compare import Comparison
from ..errors import UsageError
from .aggregate import records
from .build import Report

CSV_TABLES = ("principles", "comparison", "violations")
VIOLATION_FIELDS = ["transcript_id", "source_path", "source_locator", "principle_id", "severity", "method",
                    "flags", "unverified", "check_ids", "rationale", "evidence"]


def _metadata(row: dict[str, Any]) -> dict[str, Any]:
    return {k[len("meta."):]: v for k, v in row.items() if k.startswith("meta.") and v is not None}


def transcripts_json(r: Report) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for tid, group in r.violations.groupby("transcript_id", sort=False):
        rows = records(group)
        first = rows[0]
        out.append({
            "transcript_id": tid,
            "source": {"path": first["source_path"], "locator": first["source_locator"]},
            "metadata": _metadata(first),
            "violations": [{
                "principle_id": v["principle_id"], "rubric_id": v["rubric_id"], "severity": v["severity"],
                "method": v["method"], "flags": list(v["flags"]), "unverified": bool(v["unverified"]),
                "check_ids": list(v["check_ids"]), "rationale": v["rationale"],
                "evidence": [dict(e) for e in v["evidence"]],
            } for v in rows],
        })
    return out


def comparison_json(c: Comparison) -> dict[str, Any]:
    return {"a": c.label_a, "b": c.label_b, "runs": dict(c.runs) or None, "split": c.split, "by": list(c.by),
            "test": c.method,
            "confidence": c.confidence, "holm_family": "every row with a test",
            "principles": records(c.table)}


def report_json(r: Report) -> dict[str, Any]:
    m = r.manifest
    return {
        "format": "constitution-grader/report", "version": 1,
        "run": {"run_id": m.get("run_id"), "run_dir": r.run_dir, "grader_version": m.get("grader_version"),
                "status": m.get("status"), "started_at": m.get("started_at"), "ended_at": m.get("ended_at"),
                "inputs": list(m.get("inputs") or []), "transcripts": int(r.findings["transcript_id"].nunique()),
                "findings": int(len(r.findings)), "input_errors": len(r.input_errors)},
        "by": list(r.by),
        "confidence": r.confidence,
        "definitions": {"n": "transcripts graded: violations + compliant (not_applicable, ungraded and errors "
                              "are excluded)",
                        "rate": "violations / n (null when n == 0, and when basis is screened or mixed: unknown)",
                        "ci_low/ci_high": "Wilson score interval for rate (null when the rate is unknown)",
                        "basis": "decided: no pair was left to screening checks alone (checks that decide their "
                                 "scope, or a judge); screened: pairs examined only by screening checks, whose "
                                 "silence proves nothing, and none decided compliant; mixed: both; null: nothing "
                                 "examined the principle",
                        "screened": "ungraded pairs flagged screened: only screening checks examined them, none fired",
                        "examined": "violations + compliant + screened: the N of 'k violations found in N'",
                        "lower_bound": "for basis screened or mixed: one-sided Clopper-Pearson lower bound at "
                                       "confidence on the rate, from violations of examined (null otherwise)"},
        "principles": records(r.principles),
        "comparison": comparison_json(r.comparison) if r.comparison is not None else None,
        "comparison_note": r.comparison_note or None,
        "transcripts": transcripts_json(r),
        "input_errors": [e.to_dict() for e in r.input_errors],
    }


def dumps(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def render_json(r: Report) -> str:
    return dumps(report_json(r))


def render_comparison_json(c: Comparison) -> str:
    return dumps(comparison_json(c))


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _defuse(v: Any) -> Any:
    if isinstance(v, str) and v.startswith(_FORMULA_START):
        return "'" + v
    return v


def _csv(df: pd.DataFrame, text_columns: list[str]) -> str:
    out = df.copy()
    for c in text_columns:
        if c in out.columns:
            out[c] = out[c].map(_defuse)
    buf = io.StringIO()
    out.to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue()


def render_csv(r: Report, table: str = "principles") -> str:
    if table not in CSV_TABLES:
        raise UsageError(f"unknown CSV table {table!r}: expected one of {', '.join(CSV_TABLES)}")
    if table == "principles":
        return _csv(r.principles, list(r.by) + ["principle_id"])
    if table == "comparison":
        if r.comparison is None:
            raise UsageError("no comparison in this report: pass --by FIELD with two values (or --compare A,B)")
        return render_comparison_csv(r.comparison)
    v = r.violations
    rows = pd.DataFrame({
        "transcript_id": v["transcript_id"], "source_path": v["source_path"], "source_locator": v["source_locator"],
        "principle_id": v["principle_id"], "severity": v["severity"], "method": v["method"],
        "flags": [";".join(f) for f in v["flags"]], "unverified": v["unverified"],
        "check_ids": [";".join(c) for c in v["check_ids"]], "rationale": v["rationale"],
        "evidence": [json.dumps(list(e), ensure_ascii=False) for e in v["evidence"]],
    }, columns=VIOLATION_FIELDS)
    return _csv(rows, ["transcript_id", "source_path", "source_locator", "principle_id", "rationale", "evidence"])


def render_comparison_csv(c: Comparison) -> str:
    return _csv(c.table, list(c.by) + ["principle_id"])
