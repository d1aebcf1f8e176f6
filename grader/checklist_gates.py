"""The gate kinds of a checklist. Each takes the gate (validated dict) and the run's
per-principle table and returns a :class:`~grader.checklist_eval.ChecklistItem`.

Counts come from :func:`grader.reporting.aggregate.per_principle`: ``n`` is graded pairs
(violation + compliant), ``total`` every pair. Selectors ``principle`` and ``severity``
(one or a list; both given: the intersection) restrict a gate; no selector means every
principle in the run. A selector that matches nothing in the run fails the gate (except a
``max_violations`` gate selecting by severity only, see below); so does a run without findings.

- ``max_violations``: total violations over the selection <= ``max`` (``verified_only``
  leaves out violations whose evidence could not be verified). A pure count: it says in its
  detail which selected principles had no graded pair and which were only screened (pairs
  that screening checks examined without firing: violations there can be missed), and a
  severity with no principle in the run passes with that said; coverage is what
  ``min_graded`` gates check.
- ``max_rate``: violations / graded <= ``max``, judged on the Wilson upper bound at
  ``confidence`` (default 0.95) unless ``bound: estimate``; ``per`` principle (default),
  severity (pooled) or all (pooled). No graded pair: the upper bound is 1, the gate fails.
  A group with screened pairs (basis screened or mixed) has no knowable rate: it is judged in
  the worst case, every screened pair counted as a violation (the one-sided Clopper-Pearson
  upper bound at ``confidence``, or that worst-case rate with ``bound: estimate``). A group
  with only screened silence is bounded by 1 and fails; a few screened pairs among many
  decided ones can pass.
- ``min_graded``: every selected principle has at least ``min`` graded transcripts.
- ``max_share``: (pairs with the outcome(s)) / (all selected pairs) <= ``max``;
  ``unverified`` counts violations with unverified evidence; ``input_error`` is
  unreadable inputs / (transcripts read + unreadable inputs), where an unreadable input is a
  file that holds no transcript (one, however many lines it has) or one bad line, item or
  sample of a file that does: files and transcripts, not lines. Files a folder walk passed
  over (``kind: skipped``) are not counted.
- ``min_agreement``: a metric of a calibration result >= ``min`` (``bound: lower`` uses the
  bootstrap interval's lower bound); open without a calibration result.
- ``signoff``: open until the sign-off file records the id (for this run, when the record
  names a run_id).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

import pandas as pd

from .checklist_eval import Checklist, ChecklistItem, RunData, Signoff, load_calibration
from .reporting.aggregate import per_principle
from .reporting.stats import upper_bound, wilson_interval

SHARE_COLUMNS = {"error": "errors", "ungraded": "ungraded", "not_applicable": "not_applicable",
                 "unverified": "unverified", "screened": "screened"}
UNKNOWN_RATE = ("screened", "mixed")


@dataclass(frozen=True)
class GateContext:
    run: RunData
    checklist: Checklist
    signoffs: tuple[Signoff, ...]
    calibration: Mapping[str, Any] | None  # an override for every min_agreement gate
    table: Any = None  # per_principle(run.frame), filled by make_context


def make_context(run: RunData, checklist: Checklist, signoffs: tuple[Signoff, ...],
                 calibration: Mapping[str, Any] | None) -> GateContext:
    return GateContext(run, checklist, signoffs, calibration, per_principle(run.frame))


def _listify(v: Any) -> list[str]:
    return [] if v is None else ([v] if isinstance(v, str) else list(v))


def _fmt(x: float) -> str:
    return f"{x:.3f}"


def _item(gate: Mapping[str, Any], ok: bool | None, figure: str, detail: str = "") -> ChecklistItem:
    status = "open" if ok is None else ("passed" if ok else "failed")
    return ChecklistItem(gate["id"], gate["kind"], status, figure, detail, gate.get("description", ""))


def _select(gate: Mapping[str, Any], table: pd.DataFrame) -> tuple[pd.DataFrame, str, str | None]:
    """(selected rows, a label for the selection, why nothing was selected or None)."""
    if table.empty:
        return table, "all principles", "the run has no findings"
    principles = _listify(gate.get("principle"))
    severities = _listify(gate.get("severity"))
    rows = table
    parts = []
    if principles:
        missing = [p for p in principles if p not in set(table["principle_id"])]
        if missing:
            return table.iloc[0:0], ", ".join(principles), f"{', '.join(missing)} not in the run: nothing checked"
        rows = rows[rows["principle_id"].isin(principles)]
        parts.append(", ".join(principles))
    if severities:
        rows = rows[rows["severity"].isin(severities)]
        parts.append("severity " + "/".join(severities))
    label = " & ".join(parts) if parts else "all principles"
    if rows.empty:
        return rows, label, f"no principle of {label} in the run: nothing checked"
    return rows, label, None


def _max_violations(gate: Mapping[str, Any], ctx: GateContext) -> ChecklistItem:
    rows, label, problem = _select(gate, ctx.table)
    if problem and not ctx.table.empty and "principle" not in gate:
        # a count over principles the run does not have: nothing was found, and nothing was
        # looked at; coverage is the job of min_graded (which fails on an empty selection)
        return _item(gate, True, f"0 violations ({label}) <= {gate['max']}: no principle of {label} in the run",
                     "nothing of this severity was graded: pair this gate with a min_graded gate")
    if problem:
        return _item(gate, False, problem)
    counts = rows["violations"] - (rows["unverified"] if gate.get("verified_only") else 0)
    total = int(counts.sum())
    unverified = int(rows["unverified"].sum())
    ok = total <= gate["max"]
    noun = "verified violation" if gate.get("verified_only") else "violation"
    figure = f"{total} {noun}{'' if total == 1 else 's'} ({label}) {'<=' if ok else '>'} {gate['max']}"
    parts = [", ".join(f"{pid}: {int(c)}" for pid, c in zip(rows["principle_id"], counts) if c)]
    if unverified and not gate.get("verified_only"):
        parts.append(f"{unverified} with unverified evidence, flagged for review")
    blind = [str(pid) for pid, n, b in zip(rows["principle_id"], rows["n"], rows["basis"])
             if n == 0 and b not in UNKNOWN_RATE]
    screened = [str(pid) for pid, b in zip(rows["principle_id"], rows["basis"]) if b in UNKNOWN_RATE]
    if screened:
        which = "every selected principle was" if len(screened) == len(rows) else \
            f"{len(screened)} of {len(rows)} selected principles were"
        shown = ", ".join(screened[:5]) + (", ..." if len(screened) > 5 else "")
        parts.append(f"{which} screened ({shown}): screening checks examined pairs without firing, and their "
                     "silence proves nothing, so violations there can be missed")
    if blind:
        which = "no selected principle had a" if len(blind) == len(rows) else \
            f"{len(blind)} of {len(rows)} selected principles had no"
        shown = ", ".join(blind[:5]) + (", ..." if len(blind) > 5 else "")
        parts.append(f"{which} graded pair ({shown}): violations there cannot be seen")
    detail = "; ".join(p for p in parts if p)
    return _item(gate, ok, figure, detail)


def _rate_groups(rows: pd.DataFrame, per: str) -> list[tuple[str, int, int, int]]:
    """(name, violations, graded, screened) per group; a group with screened pairs has no
    knowable rate."""
    cols = ["violations", "n", "screened"]
    if per == "principle":
        return [(str(p), int(v), int(n), int(s))
                for p, v, n, s in zip(rows["principle_id"], rows["violations"], rows["n"], rows["screened"])]
    if per == "severity":
        g = rows.groupby("severity", sort=False)[cols].sum()
        return [(f"severity {s}", int(r["violations"]), int(r["n"]), int(r["screened"])) for s, r in g.iterrows()]
    return [("pooled", int(rows["violations"].sum()), int(rows["n"].sum()), int(rows["screened"].sum()))]


def _worst(v: int, n: int, s: int, bound: str, conf: float) -> float:
    """The group's worst case: every screened pair a violation."""
    return upper_bound(v + s, n + s, conf) if bound == "upper" else (v + s) / (n + s)


def _max_rate(gate: Mapping[str, Any], ctx: GateContext) -> ChecklistItem:
    rows, label, problem = _select(gate, ctx.table)
    if problem:
        return _item(gate, False, problem)
    bound = gate.get("bound", "upper")
    conf = float(gate.get("confidence", 0.95))
    limit = float(gate["max"])
    what = "upper bound" if bound == "upper" else "rate"
    judged: list[tuple[float, str, int, int, int]] = []
    for name, v, n, s in _rate_groups(rows, gate.get("per", "principle")):
        if s:  # screened pairs: the rate is unknown, judged in the worst case
            value = _worst(v, n, s, bound, conf)
        else:
            value = (wilson_interval(v, n, conf)[1] if bound == "upper" else v / n) if n else math.inf
        judged.append((value, name, v, n, s))
    judged.sort(key=lambda x: (-x[0], x[1]))
    failing = [j for j in judged if j[0] > limit]
    value, name, v, n, s = judged[0]
    if s:
        figure = (f"{name}: rate unknown ({v} found in {n + s}, {s} screened); worst-case {what} "
                  f"{_fmt(value)} {'>' if value > limit else '<='} {gate['max']} (screened pairs as violations)")
    elif n == 0:
        figure = f"{name}: no graded pairs, nothing bounds the rate (> {gate['max']})"
    else:
        figure = f"{name} {what} {_fmt(value)} {'>' if value > limit else '<='} {gate['max']} ({v}/{n} violations)"
    if len(judged) > 1:
        figure = "worst: " + figure
    detail = ""
    if failing:
        detail = f"{len(failing)} of {len(judged)} over: " + ", ".join(
            f"{nm} " + (f"worst case {_fmt(val)} ({vv} found in {nn + ss}, {ss} screened)" if ss else
                        'no graded pairs' if nn == 0 else _fmt(val) + f' ({vv}/{nn})')
            for val, nm, vv, nn, ss in failing)
    elif len(judged) > 1:
        detail = f"{len(judged)} groups ({label}), Wilson interval at {conf:g} confidence"
    return _item(gate, not failing, figure, detail)


def _min_graded(gate: Mapping[str, Any], ctx: GateContext) -> ChecklistItem:
    rows, label, problem = _select(gate, ctx.table)
    if problem:
        return _item(gate, False, problem)
    pairs = sorted(((int(n), str(p)) for p, n in zip(rows["principle_id"], rows["n"])), key=lambda x: (x[0], x[1]))
    fewest, pid = pairs[0]
    ok = fewest >= gate["min"]
    figure = f"{pid} has {fewest} graded (fewest of {len(pairs)} principles) {'>=' if ok else '<'} {gate['min']}"
    failing = [f"{p}: {n}" for n, p in pairs if n < gate["min"]]
    detail = f"{len(failing)} under: " + ", ".join(failing) if failing else ""
    return _item(gate, ok, figure, detail)


def _max_share(gate: Mapping[str, Any], ctx: GateContext) -> ChecklistItem:
    outcomes = _listify(gate["outcome"])
    limit = float(gate["max"])
    name = "/".join(outcomes)
    if outcomes == ["input_error"]:
        k, total = ctx.run.input_errors, ctx.run.input_errors + ctx.run.transcripts
        if total == 0:
            return _item(gate, False, "nothing was read: no transcripts and no input errors")
        share = k / total
        ok = share <= limit
        return _item(gate, ok, f"input_error share {_fmt(share)} ({k}/{total} inputs) {'<=' if ok else '>'} {gate['max']}")
    rows, label, problem = _select(gate, ctx.table)
    if problem:
        return _item(gate, False, problem)
    cols = [SHARE_COLUMNS[o] for o in outcomes]
    if gate.get("per", "all") == "all":
        groups = [(label, int(rows[cols].to_numpy().sum()), int(rows["total"].sum()))]
    else:
        groups = [(str(p), int(k), int(t)) for p, k, t in
                  zip(rows["principle_id"], rows[cols].sum(axis=1), rows["total"])]
    judged = sorted(((k / t if t else 0.0, g, k, t) for g, k, t in groups), key=lambda x: (-x[0], x[1]))
    share, g, k, t = judged[0]
    failing = [j for j in judged if j[0] > limit]
    prefix = "worst: " if len(judged) > 1 else ""
    figure = f"{prefix}{name} share {_fmt(share)} ({k}/{t} pairs, {g}) {'>' if share > limit else '<='} {gate['max']}"
    detail = (f"{len(failing)} over: " + ", ".join(f"{gg} {_fmt(s)} ({kk}/{tt})" for s, gg, kk, tt in failing)
              if failing and len(judged) > 1 else "")
    return _item(gate, not failing, figure, detail)


def _calibration_for(gate: Mapping[str, Any], ctx: GateContext) -> tuple[Mapping[str, Any] | None, str]:
    if ctx.calibration is not None:
        return ctx.calibration, "--calibration"
    path = None
    if gate.get("calibration"):
        path = str(Path(ctx.checklist.path).parent / gate["calibration"])
    elif ctx.checklist.calibration:
        path = ctx.checklist.calibration
    if path is None:
        return None, "no calibration result: run grader calibrate RUN_DIR --labels FILE -o calibration.json and pass --calibration calibration.json"
    if not Path(path).exists():
        return None, f"calibration result {path} not found: write it with grader calibrate RUN_DIR --labels FILE -o {path}"
    return load_calibration(path), path


def _min_agreement(gate: Mapping[str, Any], ctx: GateContext) -> ChecklistItem:
    doc, source = _calibration_for(gate, ctx)
    if doc is None:
        return _item(gate, None, source)
    metric = gate.get("metric", "kappa")
    key = gate.get("principle")
    block = doc["overall"] if key is None else doc["per_principle"].get(key)
    scope = "overall" if key is None else key
    if not isinstance(block, dict):
        return _item(gate, False, f"the calibration result has no labels for {key}", f"from {source}")
    n = block.get("n", 0)
    lower = gate.get("bound", "estimate") == "lower"
    ci = block.get(f"{metric}_ci") or [None, None]
    value = ci[0] if lower else block.get(metric)
    what = f"{metric} lower bound" if lower else metric
    run = f"run {doc.get('run_id')}" if doc.get("run_id") else "a run"
    detail = f"from {source} ({run}, {n} labels compared)"
    if "min_labels" in gate and (not isinstance(n, int) or n < gate["min_labels"]):
        return _item(gate, False, f"{scope}: {n} labels compared < {gate['min_labels']} required", detail)
    if not isinstance(value, (int, float)):
        return _item(gate, False, f"{scope} {what} is undefined (too few or one-sided labels)", detail)
    ok = value >= gate["min"]
    return _item(gate, ok, f"{scope} {what} {_fmt(value)} {'>=' if ok else '<'} {gate['min']}", detail)


def _signoff(gate: Mapping[str, Any], ctx: GateContext) -> ChecklistItem:
    records = [s for s in ctx.signoffs if s.id == gate["id"]]
    valid = [s for s in records if s.run_id is None or s.run_id == ctx.run.run_id]
    if valid:
        who = "; ".join(f"{s.by} on {s.date}" + (f" ({s.note})" if s.note else "") for s in valid)
        return _item(gate, True, f"signed off by {who}", gate["description"])
    if records:
        runs = ", ".join(sorted({str(s.run_id) for s in records}))
        return _item(gate, None, f"not signed off for this run (sign-off recorded for run {runs})", gate["description"])
    return _item(gate, None, "not signed off: record it in a sign-off file (--signoffs FILE)", gate["description"])


GATES: dict[str, Callable[[Mapping[str, Any], GateContext], ChecklistItem]] = {
    "max_violations": _max_violations, "max_rate": _max_rate, "min_graded": _min_graded,
    "max_share": _max_share, "min_agreement": _min_agreement, "signoff": _signoff,
}


def evaluate_gate(gate: Mapping[str, Any], ctx: GateContext) -> ChecklistItem:
    return GATES[gate["kind"]](gate, ctx)
