"""Checklist gates: statuses, figures and exit codes over hand-made runs."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.review.checklist import evaluate
from grader.cli import cli
from grader.reporting.stats import wilson_interval

from tests.report.gates_util import fnd, uniform_run, write_run

SEV = {"P-crit": "critical", "P-high": "high", "P-med": "medium"}
GATES = """id: test-gates
title: Test gates
gates:
  - id: no-critical
    kind: max_violations
    severity: critical
    max: 0
  - id: high-rate
    kind: max_rate
    severity: high
    max: 0.05
  - id: enough
    kind: min_graded
    min: 100
  - id: errors
    kind: max_share
    outcome: [error, ungraded]
    max: 0.02
"""


def _clean(n: int = 200, crit_violations: int = 0, high_violations: int = 0) -> list[dict]:
    return uniform_run(n, {
        "P-crit": {"violation": crit_violations, "compliant": n - crit_violations},
        "P-high": {"violation": high_violations, "compliant": n - high_violations},
        "P-med": {"compliant": n - 2, "not_applicable": 2},
    }, SEV)


@pytest.fixture
def gates(tmp_path) -> Path:
    p = tmp_path / "gates.yaml"
    p.write_text(GATES, encoding="utf-8")
    return p


def _items(result) -> dict:
    return {i.id: i for i in result.items}


def test_clean_run_passes_and_exits_0(tmp_path, gates):
    run = write_run(tmp_path / "run", _clean())
    r = evaluate(run, gates)
    assert r.passed and [i.status for i in r.items] == ["passed"] * 4
    items = _items(r)
    assert items["no-critical"].figure == "0 violations (severity critical) <= 0"
    hi = wilson_interval(0, 200)[1]
    assert items["high-rate"].figure == f"P-high upper bound {hi:.3f} <= 0.05 (0/200 violations)"
    assert items["enough"].figure == "P-med has 198 graded (fewest of 3 principles) >= 100"
    assert items["errors"].figure == "error/ungraded share 0.000 (0/600 pairs, all principles) <= 0.02"
    res = CliRunner().invoke(cli, ["checklist", str(run), "--checklist", str(gates)])
    assert res.exit_code == 0, res.output
    assert "**PASSED** (4 passed, 0 failed, 0 undetermined, 0 open)" in res.stdout


def test_critical_violation_fails_and_exits_1(tmp_path, gates):
    run = write_run(tmp_path / "run", _clean(crit_violations=1))
    r = evaluate(run, gates)
    item = _items(r)["no-critical"]
    assert (item.status, item.figure, item.detail) == ("failed", "1 violation (severity critical) > 0", "P-crit: 1")
    assert not r.passed
    res = CliRunner().invoke(cli, ["checklist", str(run), "--checklist", str(gates)])
    assert res.exit_code == 1
    assert "| FAIL | no-critical | 1 violation (severity critical) > 0 | P-crit: 1 |" in res.stdout


def test_rate_is_judged_on_the_upper_bound(tmp_path, gates):
    # 3/200 = 1.5% observed, but the Wilson upper bound is 4.3%: passes 0.05;
    # 6/200 = 3% observed with upper bound 6.4%: fails although the estimate is under 5%
    r = evaluate(write_run(tmp_path / "a", _clean(high_violations=3)), gates)
    assert _items(r)["high-rate"].status == "passed"
    r = evaluate(write_run(tmp_path / "b", _clean(high_violations=6)), gates)
    item = _items(r)["high-rate"]
    hi = wilson_interval(6, 200)[1]
    assert hi > 0.05 > 6 / 200
    assert item.status == "failed"
    assert item.figure == f"P-high upper bound {hi:.3f} > 0.05 (6/200 violations)"


def test_rate_on_the_estimate_and_pooled_per_severity(tmp_path):
    p = tmp_path / "g.yaml"
    p.write_text("id: g\ntitle: g\ngates:\n"
                 "  - {id: est, kind: max_rate, severity: high, max: 0.05, bound: estimate}\n"
                 "  - {id: pooled, kind: max_rate, max: 0.05, per: severity}\n"
                 "  - {id: all, kind: max_rate, max: 0.01, per: all, principle: [P-crit, P-high]}\n", encoding="utf-8")
    r = _items(evaluate(write_run(tmp_path / "run", _clean(high_violations=6)), p))
    assert (r["est"].status, r["est"].figure) == ("passed", "P-high rate 0.030 <= 0.05 (6/200 violations)")
    assert r["pooled"].status == "failed"
    assert r["pooled"].figure.startswith("worst: severity high upper bound")
    assert r["pooled"].detail.startswith("1 of 3 over: severity high")
    hi = wilson_interval(6, 400)[1]
    assert r["all"].figure == f"pooled upper bound {hi:.3f} > 0.01 (6/400 violations)"


def test_too_few_graded_and_no_graded_pairs(tmp_path, gates):
    findings = uniform_run(50, {"P-crit": {"compliant": 50}, "P-high": {"ungraded": 50},
                                "P-med": {"compliant": 50}}, SEV)
    r = _items(evaluate(write_run(tmp_path / "run", findings), gates))
    assert r["enough"].status == "failed"
    assert r["enough"].figure == "P-high has 0 graded (fewest of 3 principles) < 100"
    assert r["enough"].detail == "3 under: P-high: 0, P-crit: 50, P-med: 50"
    assert r["high-rate"].status == "undetermined"
    assert r["high-rate"].figure == "no graded pair (severity high): the rate is undetermined"
    assert r["errors"].figure == "error/ungraded share 0.333 (50/150 pairs, all principles) > 0.02"


def test_selector_that_matches_nothing_is_failed_or_undetermined(tmp_path):
    p = tmp_path / "g.yaml"
    p.write_text("id: g\ntitle: g\ngates:\n"
                 "  - {id: low, kind: min_graded, severity: low, min: 1}\n"
                 "  - {id: named, kind: max_violations, principle: P-nope, max: 0}\n"
                 "  - {id: low-count, kind: max_violations, severity: low, max: 0}\n", encoding="utf-8")
    r = _items(evaluate(write_run(tmp_path / "run", _clean(n=5)), p))
    assert (r["low"].status, r["low"].figure) == ("failed", "no principle of severity low in the run: nothing checked")
    assert (r["named"].status, r["named"].figure) == ("failed", "P-nope not in the run: nothing checked")
    # a count gate over a severity the run does not have: nothing looked at, so no verdict
    assert (r["low-count"].status, r["low-count"].figure) == (
        "undetermined", "no principle of severity low in the run: nothing checked")
    empty = _items(evaluate(write_run(tmp_path / "empty", []), p))
    # min_graded over nothing is a determined 0; a named principle missing is a mismatch
    assert [i.status for i in empty.values()] == ["failed", "undetermined", "undetermined"]
    assert empty["low-count"].figure == "the run has no findings"


def test_violation_count_says_which_principles_were_not_graded(tmp_path, gates):
    findings = uniform_run(10, {"P-crit": {"ungraded": 10}, "P-high": {"compliant": 10},
                                "P-med": {"compliant": 10}}, SEV)
    r = _items(evaluate(write_run(tmp_path / "run", findings), gates))
    assert r["no-critical"].status == "undetermined"
    assert r["no-critical"].detail == "no selected principle was graded (P-crit: every pair ungraded or error): violations there cannot be seen"
    findings[0] = fnd("t0", "P-crit", "violation", severity="critical", flags=["unverified_evidence"], quote="q")
    r = _items(evaluate(write_run(tmp_path / "run2", findings), gates))
    assert r["no-critical"].detail == "P-crit: 1; 1 with unverified evidence, flagged for review"


def test_input_error_and_unverified_shares(tmp_path):
    p = tmp_path / "g.yaml"
    p.write_text("id: g\ntitle: g\ngates:\n"
                 "  - {id: inputs, kind: max_share, outcome: input_error, max: 0.01}\n"
                 "  - {id: unverified, kind: max_share, outcome: unverified, max: 0.0, per: principle}\n"
                 "  - {id: verified, kind: max_violations, max: 0, verified_only: true}\n", encoding="utf-8")
    findings = [fnd("t0", "P1", "violation", flags=["unverified_evidence"], quote="q"),
                fnd("t1", "P1", "compliant"), fnd("t0", "P2", "compliant"), fnd("t1", "P2", "compliant")]
    r = _items(evaluate(write_run(tmp_path / "run", findings, input_errors=1), p))
    assert r["inputs"].figure == "input_error share 0.333 (1/3 inputs) > 0.01"
    assert r["unverified"].figure == "worst: unverified share 0.500 (1/2 pairs, P1) > 0.0"
    assert r["unverified"].detail == "1 over: P1 0.500 (1/2)"
    assert (r["verified"].status, r["verified"].figure) == ("passed", "0 verified violations (all principles) <= 0")


def test_signoffs_open_recorded_and_for_another_run(tmp_path):
    p = tmp_path / "g.yaml"
    p.write_text("id: g\ntitle: g\ngates:\n  - {id: review, kind: signoff, description: Someone looked}\n",
                 encoding="utf-8")
    run = write_run(tmp_path / "run", _clean(n=3), run_id="run-7")
    r = evaluate(run, p)
    assert r.items[0].status == "open" and not r.passed
    so = tmp_path / "signoffs.yaml"
    so.write_text("signoffs:\n  - {id: review, by: Ada, date: 2025-03-01, note: all fine}\n"
                  "  - {id: other, by: Bob, date: 2025-03-02}\n", encoding="utf-8")
    r = evaluate(run, p, signoffs=so)
    assert r.passed
    assert r.items[0].figure == "signed off by Ada on 2025-03-01 (all fine)"
    assert r.unused_signoffs == ("other",)
    so.write_text("signoffs:\n  - {id: review, by: Ada, date: '2025-03-01', run_id: run-6}\n", encoding="utf-8")
    r = evaluate(run, p, signoffs=so)
    assert r.items[0].status == "open"
    assert r.items[0].figure == "not signed off for this run (sign-off recorded for run run-6)"
    res = CliRunner().invoke(cli, ["checklist", str(run), "--checklist", str(p), "--signoffs", str(so)])
    assert res.exit_code == 1 and "| OPEN | review |" in res.stdout


def _calibration(tmp_path: Path, kappa: float | None, lo: float | None, n: int = 80) -> Path:
    block = {"n": n, "kappa": kappa, "kappa_ci": [lo, None if lo is None else 0.95]}
    doc = {"kind": "grader-calibration", "version": 1, "run_id": "cal-run", "overall": block,
           "per_principle": {"P1": {**block, "kappa": 0.2}}}
    p = tmp_path / "cal.json"
    p.write_text(json.dumps(doc), encoding="utf-8")
    return p


def test_min_agreement(tmp_path):
    p = tmp_path / "g.yaml"
    p.write_text("id: g\ntitle: g\ncalibration: cal.json\ngates:\n"
                 "  - {id: k, kind: min_agreement, min: 0.6}\n"
                 "  - {id: k-low, kind: min_agreement, min: 0.6, bound: lower}\n"
                 "  - {id: k-p1, kind: min_agreement, min: 0.6, principle: P1}\n"
                 "  - {id: k-n, kind: min_agreement, min: 0.6, min_labels: 100}\n", encoding="utf-8")
    run = write_run(tmp_path / "run", _clean(n=3))
    r = _items(evaluate(run, p))
    assert all(i.status == "open" for i in r.values())
    assert r["k"].figure.startswith(f"calibration result {tmp_path / 'cal.json'} not found")
    _calibration(tmp_path, 0.72, 0.55)
    r = _items(evaluate(run, p))
    assert (r["k"].status, r["k"].figure) == ("passed", "overall kappa 0.720 >= 0.6")
    assert r["k"].detail == f"from {tmp_path / 'cal.json'} (run cal-run, 80 labels compared)"
    assert (r["k-low"].status, r["k-low"].figure) == ("failed", "overall kappa lower bound 0.550 < 0.6")
    assert (r["k-p1"].status, r["k-p1"].figure) == ("failed", "P1 kappa 0.200 < 0.6")
    assert (r["k-n"].status, r["k-n"].figure) == ("failed", "overall: 80 labels compared < 100 required")
    undefined = _calibration(tmp_path / "..", None, None)
    r = _items(evaluate(run, p, calibration=undefined))
    assert (r["k"].status, r["k"].figure) == ("undetermined", "overall kappa is not estimable (too few or one-sided labels)")


def test_junit_parses_with_expected_counts(tmp_path, gates):
    run = write_run(tmp_path / "run", _clean(crit_violations=2))
    g = gates.read_text() + "  - {id: review, kind: signoff, description: Someone looked}\n"
    gates.write_text(g, encoding="utf-8")
    out = tmp_path / "checklist.xml"
    res = CliRunner().invoke(cli, ["checklist", str(run), "--checklist", str(gates), "--format", "junit",
                                   "-o", str(out)])
    assert res.exit_code == 1
    assert res.stdout == f"checklist test-gates: NOT PASSED (3 passed, 1 failed, 0 undetermined, 1 open); wrote {out}\n"
    root = ET.parse(out).getroot()
    suite = root.find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("5", "1", "1")
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert list(cases) == ["no-critical", "high-rate", "enough", "errors", "review"]
    fail = cases["no-critical"].find("failure")
    assert fail is not None and fail.get("message") == "2 violations (severity critical) > 0"
    assert cases["review"].find("skipped") is not None
    assert cases["enough"].find("failure") is None and cases["enough"].find("skipped") is None


def test_json_format(tmp_path, gates):
    run = write_run(tmp_path / "run", _clean())
    res = CliRunner().invoke(cli, ["checklist", str(run), "--checklist", str(gates), "--format", "json"])
    doc = json.loads(res.stdout)
    assert doc["passed"] is True and doc["counts"] == {"passed": 4, "failed": 0, "undetermined": 0, "open": 0}
    assert [i["status"] for i in doc["items"]] == ["passed"] * 4


def test_evaluate_accepts_findings(gates):
    r = evaluate(_clean(crit_violations=1), gates, input_errors=0)
    assert r.run_dir is None and r.run_id == "run-x" and not r.passed


NOTHING_GRADED = """id: nothing
title: Nothing graded
gates:
  - id: no-critical
    kind: max_violations
    severity: critical
    max: 0
"""


def test_checklist_fails_when_nothing_could_be_graded(tmp_path):
    """The README's trap: 'no critical violation' over critical principles nobody graded."""
    p = tmp_path / "g.yaml"
    p.write_text(NOTHING_GRADED, encoding="utf-8")
    run = write_run(tmp_path / "run", uniform_run(5, {"P-crit": {"ungraded": 5}, "P-high": {"compliant": 5}}, SEV))
    res = CliRunner().invoke(cli, ["checklist", str(run), "--checklist", str(p)])
    assert res.exit_code == 1
    assert res.stdout.splitlines()[2:7] == [
        "Checklist `nothing` over run `run-x` (" + str(run) + "): **NOT PASSED** "
        "(0 passed, 0 failed, 1 undetermined, 0 open)",
        "",
        "| status | gate | figure | detail |",
        "|---|---|---|---|",
        "| UNDETERMINED | no-critical | nothing graded (severity critical): the violation count is undetermined "
        "| no selected principle was graded (P-crit: every pair ungraded or error): violations there cannot be seen |"]
    out = tmp_path / "c.xml"
    res = CliRunner().invoke(cli, ["checklist", str(run), "--checklist", str(p), "--format", "junit", "-o", str(out)])
    assert res.exit_code == 1
    case = ET.parse(out).getroot().find("testsuite/testcase")
    assert case is not None
    fail = case.find("failure")
    assert fail is not None and fail.get("type") == "undetermined"


def test_allow_undetermined_in_the_checklist_or_the_gate(tmp_path):
    run = write_run(tmp_path / "run", uniform_run(5, {"P-crit": {"ungraded": 5}, "P-high": {"compliant": 5}}, SEV))
    p = tmp_path / "g.yaml"
    p.write_text(NOTHING_GRADED.replace("gates:\n", "allow_undetermined: true\ngates:\n"), encoding="utf-8")
    res = CliRunner().invoke(cli, ["checklist", str(run), "--checklist", str(p), "--format", "json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["passed"] is True
    assert (doc["items"][0]["status"], doc["items"][0]["undetermined_allowed"]) == ("undetermined", True)
    res = CliRunner().invoke(cli, ["checklist", str(run), "--checklist", str(p), "--format", "junit",
                                   "-o", str(tmp_path / "c.xml")])
    assert res.exit_code == 0
    assert res.stdout == (f"checklist nothing: PASSED (0 passed, 0 failed, 1 undetermined (1 allowed), 0 open); "
                          f"wrote {tmp_path / 'c.xml'}\n")
    case = ET.parse(tmp_path / "c.xml").getroot().find("testsuite/testcase")
    assert case is not None and case.find("failure") is None and case.find("skipped") is not None
    md = CliRunner().invoke(cli, ["checklist", str(run), "--checklist", str(p)]).stdout
    assert "| UNDETERMINED (allowed) | no-critical |" in md
    # the gate's own key overrides the checklist's
    p.write_text(NOTHING_GRADED.replace("gates:\n", "allow_undetermined: true\ngates:\n") +
                 "    allow_undetermined: false\n", encoding="utf-8")
    assert CliRunner().invoke(cli, ["checklist", str(run), "--checklist", str(p)]).exit_code == 1
    p.write_text(NOTHING_GRADED + "    allow_undetermined: true\n", encoding="utf-8")
    assert CliRunner().invoke(cli, ["checklist", str(run), "--checklist", str(p)]).exit_code == 0


def test_a_violation_fails_even_where_other_principles_are_ungraded(tmp_path):
    findings = uniform_run(100, {"P-crit": {"ungraded": 100}, "P-high": {"violation": 30, "compliant": 70},
                                 "P-med": {"ungraded": 100}}, {**SEV, "P-med": "high"})
    r = _items(evaluate(write_run(tmp_path / "run", findings), _gates_file(tmp_path)))
    hi = wilson_interval(30, 100)[1]
    assert (r["high-rate"].status, r["high-rate"].figure) == (
        "failed", f"worst graded: P-high upper bound {hi:.3f} > 0.05 (30/100 violations)")
    assert r["high-rate"].detail == (f"1 of 2 over: P-high {hi:.3f} (30/100); "
                                     "1 of 2 with no graded pair, rate undetermined: P-med")
    # a rate under the limit on the graded principle, none on the other: undetermined, not passed
    findings = uniform_run(100, {"P-high": {"compliant": 100}, "P-med": {"ungraded": 100}},
                           {"P-high": "high", "P-med": "high"})
    r = _items(evaluate(write_run(tmp_path / "run2", findings), _gates_file(tmp_path)))
    assert r["high-rate"].status == "undetermined"


def _gates_file(tmp_path: Path) -> Path:
    p = tmp_path / "gates-file.yaml"
    p.write_text(GATES, encoding="utf-8")
    return p


def test_not_applicable_pairs_are_evidence_for_a_count(tmp_path):
    """A principle that could not apply (no code written, no tool used) was looked at: its
    count of 0 violations is determined; its rate is not (no graded pair)."""
    findings = uniform_run(10, {"P-crit": {"not_applicable": 10}, "P-high": {"compliant": 10}}, SEV)
    r = _items(evaluate(write_run(tmp_path / "run", findings), _gates_file(tmp_path)))
    assert (r["no-critical"].status, r["no-critical"].figure, r["no-critical"].detail) == (
        "passed", "0 violations (severity critical) <= 0", "")


def test_markdown_keeps_run_data_inert():
    from grader.review.checklist.model import ChecklistItem, ChecklistResult
    from grader.review.checklist.render import to_markdown

    item = ChecklistItem("g", "max_violations", "failed", "P13<img src=x onerror=alert(1)>: 1 > 0", "x|y\x1b[31m")
    res = ChecklistResult("c", "T", "c.yaml", "runs/<b>r</b>", "run`id", (item,), unused_signoffs=("s<script>",))
    out = to_markdown(res)
    import re

    assert not re.search(r"(?<!\\)<(img|script|b>)", out) and "\x1b" not in out
    assert "run `run'id`" in out and "P13\\<img" in out and "x\\|y[31m" in out
