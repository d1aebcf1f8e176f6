"""The gate kinds of a checklist. Each takes the gate (validated dict) and the run's
per-principle table and returns a :class:`~grader.review.checklist.model.ChecklistItem`.

Counts come from :func:`grader.reporting.aggregate.per_principle`: ``n`` is graded pairs
(violation + compliant), ``total`` every pair. Selectors ``principle`` and ``severity``
(one or a list; both given: the intersection) restrict a gate; no selector means every
principle in the run. A principle named by the gate but missing from the run fails the gate
(the checklist and the run do not match).

A gate over no evidence is ``undetermined``, never passed: a run without findings, a
severity with no principle in the run, a count over principles none of which was graded
(every pair ungraded or error), a rate with no graded pair (violation or compliant).
Undetermined counts as not passed unless the checklist (or the gate) sets
``allow_undetermined: true`` (see :mod:`grader.review.checklist.model`).

- ``max_violations``: total violations over the selection <= ``max`` (``verified_only``
  leaves out violations whose evidence could not be verified). It says in its detail which
  selected principles were not graded (every pair ungraded or error; not_applicable pairs
  count as looked at) and which were only screened (pairs that screening checks examined
  without firing: violations there can be missed); when no selected principle was graded it
  is undetermined; coverage is what ``min_graded`` gates check.
- ``max_rate``: violations / graded <= ``max``, judged on the Wilson upper bound at
  ``confidence`` (default 0.95) unless ``bound: estimate``; ``per`` principle (default),
  severity (pooled) or all (pooled). A group with screened pairs (basis screened or mixed) has
  no knowable rate: it is judged in the worst case, every screened pair counted as a violation
  (the one-sided Clopper-Pearson upper bound at ``confidence``, or that worst-case rate with
  ``bound: estimate``). A group with no graded pair has no rate: the gate fails when a judged
  group is over, else it is undetermined while any group has no graded pair.
- ``min_graded``: every selected principle has at least ``min`` graded transcripts (a
  determined count: 0 graded fails it).
- ``max_share``: (pairs with the outcome(s)) / (all selected pairs) <= ``max``;
  ``unverified`` counts violations with unverified evidence; ``input_error`` is
  unreadable inputs / (transcripts read + unreadable inputs), where an unreadable input is a
  file that holds no transcript (one, however many lines it has) or one bad line, item or
  sample of a file that does: files and transcripts, not lines. Files a folder walk passed
  over (``kind: skipped``) are not counted. No pairs (no inputs): undetermined.
- ``min_agreement``: a metric of a calibration result >= ``min`` (``bound: lower`` uses the
  bootstrap interval's lower bound); open without a calibration result, undetermined when
  the metric was not estimable (too few or one-sided labels).
- ``signoff``: open until the sign-off file records the id (for this run, when the record
  names a run_id).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

import pandas as pd

from .model import Checklist, ChecklistItem, RunData, Signoff, load_calibration
from ...reporting.aggregate import per_principle
from ...reporting.stats import upper_bound, wilson_interval

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


def _names(names: list[str], shown: int = 5) -> str:
    return ", ".join(names[:shown]) + (", ..." if len(names) > shown else "")


def _fmt(x: float) -> str:
    return f"{x:.3f}"


UNDETERMINED = "undetermined"


def _item(gate: Mapping[str, Any], ok: bool | str | None, figure: str, detail: str = "") -> ChecklistItem:
    """``ok``: True passed, False failed, None open, ``UNDETERMINED`` (no evidence either way)."""
    status = ok if ok == UNDETERMINED else ("open" if ok is None else ("passed" if ok else "failed"))
    return ChecklistItem(gate["id"], gate["kind"], str(status), figure, detail, gate.get("description", ""))


@dataclass(frozen=True)
class Selection:
    rows: pd.DataFrame
    label: str
    problem: str | None = None  # why nothing was selected
    mismatch: bool = False  # a named principle is missing from the run (a failure, not a lack of evidence)


def _select(gate: Mapping[str, Any], table: pd.DataFrame) -> Selection:
    if table.empty:
        return Selection(table, "all principles", "the run has no findings")
    principles = _listify(gate.get("principle"))
    severities = _listify(gate.get("severity"))
    rows = table
    parts = []
    if principles:
        missing = [p for p in principles if p not in set(table["principle_id"])]
        if missing:
            return Selection(table.iloc[0:0], ", ".join(principles),
                             f"{', '.join(missing)} not in the run: nothing checked", mismatch=True)
        rows = rows[rows["principle_id"].isin(principles)]
        parts.append(", ".join(principles))
    if severities:
        rows = rows[rows["severity"].isin(severities)]
        parts.append("severity " + "/".join(severities))
    label = " & ".join(parts) if parts else "all principles"
    if rows.empty:
        return Selection(rows, label, f"no principle of {label} in the run: nothing checked")
    return Selection(rows, label)


def _unselected(gate: Mapping[str, Any], sel: Selection) -> ChecklistItem:
    """The item of a gate whose selection is empty: failed on a mismatch, else undetermined."""
    return _item(gate, False if sel.mismatch else UNDETERMINED, str(sel.problem))


def _max_violations(gate: Mapping[str, Any], ctx: GateContext) -> ChecklistItem:
    sel = _select(gate, ctx.table)
    if sel.problem:
        return _unselected(gate, sel)
    rows, label = sel.rows, sel.label
    counts = rows["violations"] - (rows["unverified"] if gate.get("verified_only") else 0)
    total = int(counts.sum())
    unverified = int(rows["unverified"].sum())
    ok = total <= gate["max"]
    noun = "verified violation" if gate.get("verified_only") else "violation"
    figure = f"{total} {noun}{'' if total == 1 else 's'} ({label}) {'<=' if ok else '>'} {gate['max']}"
    parts = [", ".join(f"{pid}: {int(c)}" for pid, c in zip(rows["principle_id"], counts) if c)]
    if unverified and not gate.get("verified_only"):
        parts.append(f"{unverified} with unverified evidence, flagged for review")
    screened = [str(pid) for pid, b in zip(rows["principle_id"], rows["basis"]) if b in UNKNOWN_RATE]
    if screened:
        which = "every selected principle was" if len(screened) == len(rows) else \
            f"{len(screened)} of {len(rows)} selected principles were"
        parts.append(f"{which} screened ({_names(screened)}): screening checks examined pairs without firing, and "
                     "their silence proves nothing, so violations there can be missed")
    # not graded: every pair ungraded or error (not_applicable is a determination: nothing to violate)
    not_graded = [str(pid) for pid, n, na in zip(rows["principle_id"], rows["n"], rows["not_applicable"]) if n + na == 0]
    blind = [pid for pid in not_graded if pid not in screened]
    if blind:
        which = "no selected principle was" if len(blind) == len(rows) else \
            f"{len(blind)} of {len(rows)} selected principles were not"
        parts.append(f"{which} graded ({_names(blind)}: every pair ungraded or error): violations there cannot be seen")
    detail = "; ".join(p for p in parts if p)
    if ok and len(not_graded) == len(rows):
        # nothing was looked at: zero violations found among no graded pairs proves nothing
        return _item(gate, UNDETERMINED, f"nothing graded ({label}): the violation count is undetermined", detail)
    if ok and screened:
        # under the limit, but screening checks' silence proves nothing: violations may be missed
        return _item(gate, UNDETERMINED, f"{figure}, but {len(screened)} selected principle(s) only screened: "
                                         "the count is a lower bound", detail)
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
    sel = _select(gate, ctx.table)
    if sel.problem:
        return _unselected(gate, sel)
    rows, label = sel.rows, sel.label
    bound = gate.get("bound", "upper")
    conf = float(gate.get("confidence", 0.95))
    limit = float(gate["max"])
    what = "upper bound" if bound == "upper" else "rate"
    groups = _rate_groups(rows, gate.get("per", "principle"))
    blind = [name for name, _, n, _ in groups if n == 0]
    judged = sorted(((_worst(v, n, s, bound, conf) if s else
                      (wilson_interval(v, n, conf)[1] if bound == "upper" else v / n), name, v, n, s)
                     for name, v, n, s in groups if n), key=lambda x: (-x[0], x[1]))
    failing = [j for j in judged if j[0] > limit]
    blind_text = f"{len(blind)} of {len(groups)} with no graded pair, rate undetermined: {_names(blind)}"
    if not judged:
        figure = f"no graded pair ({label}): the rate is undetermined"
        return _item(gate, UNDETERMINED, figure, blind_text if len(groups) > 1 else "")
    value, name, v, n, s = judged[0]
    if s:
        figure = (f"{name}: rate unknown ({v} found in {n + s}, {s} screened); worst-case {what} "
                  f"{_fmt(value)} {'>' if value > limit else '<='} {gate['max']} (screened pairs as violations)")
    else:
        figure = f"{name} {what} {_fmt(value)} {'>' if value > limit else '<='} {gate['max']} ({v}/{n} violations)"
    if len(groups) > 1:
        figure = "worst graded: " + figure if blind else "worst: " + figure
    parts = []
    if failing:
        parts.append(f"{len(failing)} of {len(groups)} over: " + ", ".join(
            f"{nm} " + (f"worst case {_fmt(val)} ({vv} found in {nn + ss}, {ss} screened)" if ss else
                        f"{_fmt(val)} ({vv}/{nn})")
            for val, nm, vv, nn, ss in failing))
    if blind:
        parts.append(blind_text)
    if not parts and len(groups) > 1:
        parts.append(f"{len(groups)} groups ({label}), Wilson interval at {conf:g} confidence")
    status: bool | str = False if failing else (UNDETERMINED if blind else True)
    return _item(gate, status, figure, "; ".join(parts))


def _min_graded(gate: Mapping[str, Any], ctx: GateContext) -> ChecklistItem:
    sel = _select(gate, ctx.table)
    if sel.problem:
        # a count of graded pairs is determined even over nothing: none is fewer than min
        return _item(gate, False, str(sel.problem))
    rows = sel.rows
    pairs = sorted(((int(n), str(p)) for p, n in zip(rows["principle_id"], rows["n"])), key=lambda x: (x[0], x[1]))
    fewest, pid = pairs[0]
    ok = fewest >= gate["min"]
    of = f"fewest of {len(pairs)} principles" if len(pairs) > 1 else "the only principle selected"
    figure = f"{pid} has {fewest} graded ({of}) {'>=' if ok else '<'} {gate['min']}"
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
            return _item(gate, UNDETERMINED, "nothing was read: no transcripts and no input errors")
        share = k / total
        ok = share <= limit
        return _item(gate, ok, f"input_error share {_fmt(share)} ({k}/{total} inputs) {'<=' if ok else '>'} {gate['max']}")
    sel = _select(gate, ctx.table)
    if sel.problem:
        return _unselected(gate, sel)
    rows, label = sel.rows, sel.label
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
        return _item(gate, UNDETERMINED, f"{scope} {what} is not estimable (too few or one-sided labels)", detail)
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
