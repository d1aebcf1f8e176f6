"""calibrate(): joining labels with findings, counting what could not be compared, the CLI."""
from __future__ import annotations

import json
import math

import pytest
from click.testing import CliRunner

from grader.review.calibration.agreement import cohen_kappa
from grader.review.calibration.compute import calibrate, transcript_outcome
from grader.cli import cli

from tests.report.gates_util import fnd, write_run

LABELS = """transcript_id,principle_id,label
t1,P1,violation
t2,P1,compliant
t3,P1,compliant
t4,P1,violation
t5,P1,violation
t6,P1,compliant
t1,P2,compliant
t5,P2,compliant
t9,P2,compliant
t1,*,violation
t3,*,compliant
t6,*,compliant
t4,*,compliant
"""


def _findings() -> list[dict]:
    p1 = {"t1": "violation", "t2": "violation", "t3": "compliant", "t4": "compliant", "t5": "not_applicable",
          "t6": "ungraded"}
    p2 = {"t1": "compliant", "t2": "compliant", "t3": "compliant", "t4": "compliant", "t5": "error",
          "t6": "compliant"}
    return ([fnd(t, "P1", o) for t, o in p1.items()]
            + [fnd(t, "P2", o, severity="critical") for t, o in p2.items()])


@pytest.fixture
def run_and_labels(tmp_path):
    run = write_run(tmp_path / "run", _findings())
    labels = tmp_path / "labels.csv"
    labels.write_text(LABELS, encoding="utf-8")
    return run, labels


def test_transcript_level_outcome():
    assert transcript_outcome(["compliant", "violation", "error"]) == "violation"
    assert transcript_outcome(["compliant", "ungraded", "error"]) == "error"
    assert transcript_outcome(["compliant", "ungraded", "not_applicable"]) == "ungraded"
    assert transcript_outcome(["compliant", "not_applicable"]) == "compliant"
    assert transcript_outcome(["not_applicable"]) == "not_applicable"


def test_join_counts_and_metrics(run_and_labels):
    run, labels = run_and_labels
    r = calibrate(run, labels, bootstrap=200, seed=0)
    p1 = r.per_principle["P1"]
    # t1 TP, t2 FP, t3 TN, t4 FN, t5 not_applicable -> compliant prediction -> FN, t6 ungraded
    assert (p1.confusion.tp, p1.confusion.fp, p1.confusion.fn, p1.confusion.tn) == (1, 1, 2, 1)
    assert (p1.labels, p1.not_applicable, p1.ungraded, p1.errors, p1.missing) == (6, 1, 1, 0, 0)
    # po = 2/5, pe = (2*3 + 3*2)/25 = 12/25, kappa = (0.4 - 0.48)/0.52 ...
    assert cohen_kappa(p1.confusion) == pytest.approx((0.4 - 0.48) / 0.52)
    # ... but from 5 labels it is not reported as if it meant something
    assert math.isnan(p1.metrics["kappa"]) and p1.notes == {"kappa": "not estimable: fewer than 10 labels compared"}
    p2 = r.per_principle["P2"]
    assert (p2.n, p2.labels, p2.errors, p2.missing) == (1, 3, 1, 1)
    assert math.isnan(p2.metrics["kappa"])
    star = r.per_principle["*"]
    assert (star.confusion.tp, star.confusion.tn, star.ungraded) == (1, 2, 1)
    assert list(r.per_principle) == ["P1", "P2", "*"]
    o = r.overall
    assert (o.confusion.tp, o.confusion.fp, o.confusion.fn, o.confusion.tn) == (2, 1, 2, 4)
    # po = 6/9, pe = (3*4 + 6*5)/81 = 42/81 -> kappa = (54 - 42)/(81 - 42) = 12/39; 9 labels: not estimable
    assert cohen_kappa(o.confusion) == pytest.approx(12 / 39) and math.isnan(o.metrics["kappa"])
    assert o.metrics["precision"] == pytest.approx(2 / 3)
    assert o.metrics["recall"] == pytest.approx(0.5)
    assert r.counts == {"labels": 13, "duplicate_labels": 0, "compared": 9, "labelled_not_applicable": 1,
                        "labelled_ungraded": 2, "labelled_screened": 0, "labelled_screened_violations": 0,
                        "labelled_error": 1, "labels_without_findings": 1,
                        "findings": 12, "findings_without_labels": 4, "transcripts": 6,
                        "transcripts_without_labels": 0}
    assert r.unmatched == ("line 10: t9 / P2",)


def test_not_applicable_can_be_excluded(run_and_labels):
    run, labels = run_and_labels
    p1 = calibrate(run, labels, bootstrap=0, not_applicable="exclude").per_principle["P1"]
    assert (p1.confusion.tp, p1.confusion.fp, p1.confusion.fn, p1.confusion.tn) == (1, 1, 1, 1)
    assert p1.not_applicable == 1 and cohen_kappa(p1.confusion) == pytest.approx(0.0)


def _twelve(tmp_path):
    """12 labelled P1 pairs: TP 4, FP 1, FN 2, TN 5. po = 9/12, pe = (5*6 + 7*6)/144 = 1/2,
    kappa = (0.75 - 0.5) / 0.5 = 0.5."""
    grader_says = ["violation"] * 4 + ["violation"] + ["compliant"] * 2 + ["compliant"] * 5
    human_says = ["violation"] * 4 + ["compliant"] + ["violation"] * 2 + ["compliant"] * 5
    run = write_run(tmp_path / "run12", [fnd(f"u{i}", "P1", o) for i, o in enumerate(grader_says)])
    labels = tmp_path / "labels12.csv"
    labels.write_text("transcript_id,principle_id,label\n" + "".join(
        f"u{i},P1,{h}\n" for i, h in enumerate(human_says)), encoding="utf-8")
    return run, labels


def test_seed_fixes_the_intervals(tmp_path):
    run, labels = _twelve(tmp_path)
    a = calibrate(run, labels, bootstrap=300, seed=5).to_dict()
    b = calibrate(run, labels, bootstrap=300, seed=5).to_dict()
    assert a == b
    assert a["overall"]["kappa"] == pytest.approx(0.5) and "kappa_note" not in a["overall"]
    lo, hi = a["overall"]["kappa_ci"]
    assert lo <= a["overall"]["kappa"] <= hi


def test_findings_can_be_passed_directly(run_and_labels):
    _, labels = run_and_labels
    r = calibrate(_findings(), labels, bootstrap=0)
    assert r.run_dir is None and r.run_id == "run-x" and r.overall.n == 9


def test_cli_json_output_and_file(run_and_labels, tmp_path):
    run, labels = run_and_labels
    out = tmp_path / "cal.json"
    res = CliRunner().invoke(cli, ["calibrate", str(run), "--labels", str(labels), "--format", "json",
                                   "--bootstrap", "200", "-o", str(out)])
    assert res.exit_code == 0, res.output
    printed = json.loads(res.stdout)
    saved = json.loads(out.read_text())
    assert printed == saved
    assert saved["kind"] == "grader-calibration"
    assert saved["overall"]["confusion"] == {"tp": 2, "fp": 1, "fn": 2, "tn": 4}
    assert saved["overall"]["kappa"] is None
    assert saved["overall"]["kappa_note"] == "not estimable: fewer than 10 labels compared"
    assert saved["per_principle"]["P2"]["kappa"] is None
    assert saved["per_principle"]["P2"]["kappa_ci"] == [None, None]


def test_cli_table_and_markdown(run_and_labels):
    run, labels = run_and_labels
    res = CliRunner().invoke(cli, ["calibrate", str(run), "--labels", str(labels), "--bootstrap", "0"])
    assert res.exit_code == 0
    lines = res.stdout.splitlines()
    assert lines[0].split()[:6] == ["principle", "n", "TP", "FP", "FN", "TN"]
    overall = next(x for x in lines if x.startswith("overall"))
    assert overall.split()[:6] == ["overall", "9", "2", "1", "2", "4"]
    assert "not estimable" in overall and "0.308" not in overall
    assert lines[-2] == "kappa not estimable: fewer than 10 labels compared (4 rows: P1, P2, *, ...)"
    assert ("13 labels: 9 compared, 1 on not_applicable pairs (counted as compliant), 2 ungraded (0 screened, "
            "0 of them labelled violation: missed by the screening checks), 1 error, "
            "1 without a finding, 0 duplicate(s); 4 of 12 findings and 0 of 6 transcripts unlabelled") in res.stdout
    md = CliRunner().invoke(cli, ["calibrate", str(run), "--labels", str(labels), "--format", "md"])
    assert "| **overall** | 9 | 2 | 1 | 2 | 4 |" in md.stdout


def test_cli_bad_labels_is_a_one_line_error(tmp_path):
    run = write_run(tmp_path / "run", _findings())
    bad = tmp_path / "bad.csv"
    bad.write_text("transcript_id,principle_id,label\nt1,P1,yes\n", encoding="utf-8")
    res = CliRunner().invoke(cli, ["calibrate", str(run), "--labels", str(bad)])
    assert res.exit_code == 2
    assert res.stderr == f"error: {bad}: line 2: label 'yes' is not one of violation, compliant\n"


def test_cli_broken_results_line_is_a_one_line_error(run_and_labels):
    run, labels = run_and_labels
    with (run / "results.jsonl").open("a", encoding="utf-8") as f:
        f.write('{"run_id": "x"}\n')
    n = len((run / "results.jsonl").read_text(encoding="utf-8").splitlines())
    res = CliRunner().invoke(cli, ["calibrate", str(run), "--labels", str(labels)])
    assert res.exit_code == 2  # not 1, which would mean "the gate failed"
    assert res.stderr.startswith(f"error: {run / 'results.jsonl'}: line {n}: not a finding (KeyError")
    assert res.stderr.count("\n") == 1


def test_cli_help_has_an_example():
    res = CliRunner().invoke(cli, ["calibrate", "--help"])
    assert "grader calibrate runs/demo --labels" in res.stdout


def test_calibration_file_feeds_the_checklist(run_and_labels, tmp_path):
    from grader.review.checklist import evaluate

    run, labels = _twelve(tmp_path)
    cal = tmp_path / "cal.json"
    assert CliRunner().invoke(cli, ["calibrate", str(run), "--labels", str(labels), "-o", str(cal),
                                    "--bootstrap", "200"]).exit_code == 0
    gates = tmp_path / "g.yaml"
    gates.write_text("id: g\ntitle: g\ngates:\n  - {id: k, kind: min_agreement, min: 0.3}\n"
                     "  - {id: k-p1, kind: min_agreement, min: 0.6, principle: P1}\n", encoding="utf-8")
    items = {i.id: i for i in evaluate(run, gates, calibration=cal).items}
    assert (items["k"].status, items["k"].figure) == ("passed", "overall kappa 0.500 >= 0.3")
    assert (items["k-p1"].status, items["k-p1"].figure) == ("failed", "P1 kappa 0.500 < 0.6")
    # kappa from 9 labels is not estimable: the gate cannot say it passed
    small, small_labels = run_and_labels
    assert CliRunner().invoke(cli, ["calibrate", str(small), "--labels", str(small_labels), "-o", str(cal),
                                    "--bootstrap", "200"]).exit_code == 0
    items = {i.id: i for i in evaluate(small, gates, calibration=cal).items}
    assert (items["k"].status, items["k"].figure) == ("undetermined", "overall kappa is not estimable "
                                                                      "(too few or one-sided labels)")


def test_one_of_one_gets_a_wilson_interval_not_certainty(tmp_path):
    """The first-run trap: TP = 1 printed as precision 1.000 [1.000, 1.000]."""
    run = write_run(tmp_path / "run", [fnd("t1", "P1", "violation")])
    labels = tmp_path / "l.csv"
    labels.write_text("transcript_id,principle_id,label\nt1,P1,violation\n", encoding="utf-8")
    r = calibrate(run, labels, bootstrap=1000, seed=0)
    p1 = r.per_principle["P1"]
    for m in ("precision", "recall", "accuracy"):
        assert p1.metrics[m] == 1.0
        lo, hi = p1.intervals[m]
        assert (round(lo, 4), hi) == (0.2065, 1.0), m
    # F1 through the Jaccard index: J in [0.2065, 1] -> F1 = 2J / (1 + J) in [0.3424, 1]
    assert (round(p1.intervals["f1"][0], 4), p1.intervals["f1"][1]) == (0.3424, 1.0)
    assert math.isnan(p1.metrics["kappa"]) and p1.notes["kappa"] == "not estimable: fewer than 10 labels compared"
    res = CliRunner().invoke(cli, ["calibrate", str(run), "--labels", str(labels)])
    assert res.exit_code == 0
    row = next(x for x in res.stdout.splitlines() if x.startswith("P1 "))
    assert row.split() == ["P1", "1", "1", "0", "0", "0", "1.000", "[0.207,", "1.000]", "1.000", "[0.207,", "1.000]",
                           "1.000", "[0.342,", "1.000]", "1.000", "[0.207,", "1.000]", "not", "estimable",
                           "0", "0", "0", "(0)", "0", "0"]
    assert "1.000 [1.000, 1.000]" not in res.stdout


def test_one_sided_human_labels_make_kappa_not_estimable(tmp_path):
    run = write_run(tmp_path / "run", [fnd(f"t{i}", "P1", "compliant" if i else "violation") for i in range(12)])
    labels = tmp_path / "l.csv"
    labels.write_text("transcript_id,principle_id,label\n" + "".join(f"t{i},P1,compliant\n" for i in range(12)),
                      encoding="utf-8")
    p1 = calibrate(run, labels).per_principle["P1"]
    assert cohen_kappa(p1.confusion) == 0.0  # defined, but 0 whatever the grader did
    assert math.isnan(p1.metrics["kappa"]) and p1.notes == {"kappa": "not estimable: the human labels are all one class"}
    assert all(math.isnan(x) for x in p1.intervals["kappa"])


def test_bootstrap_needs_enough_resamples(run_and_labels):
    run, labels = run_and_labels
    res = CliRunner().invoke(cli, ["calibrate", str(run), "--labels", str(labels), "--bootstrap", "50"])
    assert res.exit_code == 2
    assert res.stderr == "error: bootstrap must be 0 (off) or at least 200 resamples, got 50\n"


def test_screened_pairs_are_no_prediction_and_their_labelled_violations_are_counted(tmp_path):
    findings = [fnd("t1", "P1", "violation"), fnd("t2", "P1", "ungraded", flags=["screened"]),
                fnd("t3", "P1", "ungraded", flags=["screened"]), fnd("t4", "P1", "ungraded"),
                fnd("t5", "P1", "compliant")]
    labels = tmp_path / "labels.csv"
    labels.write_text("transcript_id,principle_id,label\nt1,P1,violation\nt2,P1,violation\n"
                      "t3,P1,compliant\nt4,P1,violation\nt5,P1,compliant\nt2,*,violation\n", encoding="utf-8")
    r = calibrate(write_run(tmp_path / "run", findings), labels, bootstrap=0)
    p1 = r.per_principle["P1"]
    # t2 and t3 were only screened: neither a compliant nor a violation prediction
    assert (p1.confusion.tp, p1.confusion.fp, p1.confusion.fn, p1.confusion.tn) == (1, 0, 0, 1)
    assert (p1.ungraded, p1.screened, p1.screened_violations) == (3, 2, 1)
    star = r.per_principle["*"]  # t2's only pair is screened: the transcript is ungraded
    assert (star.n, star.ungraded, star.screened) == (0, 1, 0)
    assert (r.counts["labelled_screened"], r.counts["labelled_screened_violations"]) == (2, 1)
    d = r.to_dict()["per_principle"]["P1"]
    assert (d["screened"], d["screened_violations"]) == (2, 1)
    res = CliRunner().invoke(cli, ["calibrate", str(tmp_path / "run"), "--labels", str(labels), "--bootstrap", "0"])
    p1_line = next(x for x in res.stdout.splitlines() if x.startswith("P1"))
    assert p1_line.split()[-6:] == ["0", "3", "2", "(1)", "0", "0"]


def test_hostile_label_ids_are_inert_in_table_and_markdown(tmp_path):
    run = write_run(tmp_path / "run", [fnd("t1", "P1", "violation")])
    labels = tmp_path / "l.csv"
    evil = "t9\x1b]0;PWN\x07<img src=x onerror=alert(1)>"
    labels.write_text(f"transcript_id,principle_id,label\nt1,P1,violation\n\"{evil}\",P1,violation\n", encoding="utf-8")
    table = CliRunner().invoke(cli, ["calibrate", str(run), "--labels", str(labels), "--bootstrap", "0"])
    assert table.exit_code == 0 and "\x1b" not in table.stdout and "\x07" not in table.stdout
    md_out = CliRunner().invoke(cli, ["calibrate", str(run), "--labels", str(labels), "--bootstrap", "0",
                                      "--format", "md"]).stdout
    import re

    assert not re.search(r"(?<!\\)<img", md_out) and "\\<img src=x onerror=alert(1)\\>" in md_out
