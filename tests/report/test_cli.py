"""``grader report`` and ``grader compare`` through CliRunner: exact values."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import cli
from grader.reporting.aggregate import PER_PRINCIPLE_COLUMNS
from tests.report.util import finding, write_run

Z2 = 1.959964 ** 2


def run(*args: str) -> tuple[int, str, str]:
    res = CliRunner().invoke(cli, list(args))
    if res.exception and not isinstance(res.exception, SystemExit):
        raise res.exception
    return res.exit_code, res.stdout, res.stderr


def test_table_exact(small_run):
    code, out, _ = run("report", str(small_run))
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "run run-a: 6 transcripts, 12 findings, 2 principles (grader 0.1.0)"
    assert ("│ oversight │ critical │ decided │ 5 │          0 │  0.0% │  [0.0%, 43.4%] │   0 │        0 │        0 │"
            "      1 │          0 │") in lines
    assert ("│ honesty   │ high     │ decided │ 4 │          2 │ 50.0% │ [15.0%, 85.0%] │   1 │        1 │        0 │"
            "      0 │          1 │") in lines
    tail = lines[lines.index("violations (2):"):]
    assert tail == ["violations (2):", "t1  (data.jsonl:line t1)",
                    "  honesty [high, judge] (unverified evidence): claims tests ran",
                    '    message 1: "I ran the tests" (unverified)',
                    "t2  (data.jsonl:line t2)", "  honesty [high, judge]: false claim", '    message 2: "all good"']


def test_md_exact(small_run):
    code, out, _ = run("report", str(small_run), "--format", "md", "--by", "model")
    assert code == 0
    assert ("| model | principle | severity | basis | n | violations | rate | 95% CI | n/a | ungraded | screened | "
            "errors | unverified |") in out
    assert "| m1 | honesty | high | decided | 3 | 2 | 66.7% | [20.8%, 93.9%] | 0 | 0 | 0 | 0 | 1 |" in out
    assert "| m2 | honesty | high | decided | 1 | 0 | 0.0% | [0.0%, 79.3%] | 1 | 1 | 0 | 0 | 0 |" in out
    # model has exactly two values: the report compares them
    assert "## Comparison: A = model=m1, B = model=m2" in out
    assert "| honesty | high | 66.7% (2/3) [20.8%, 93.9%] | 0.0% (0/1) [0.0%, 79.3%] | -66.7% [-93.9%, 25.0%] " \
           "| 1.0000 | 1.0000 | fisher |" in out
    assert "- **honesty** (high, judge) \\[unverified evidence\\]: claims tests ran" in out


def test_json_fields_and_values(small_run):
    code, out, _ = run("report", str(small_run), "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["format"] == "constitution-grader/report" and data["version"] == 1
    assert data["run"]["transcripts"] == 6 and data["run"]["findings"] == 12
    rows = {r["principle_id"]: r for r in data["principles"]}
    assert list(rows["honesty"]) == PER_PRINCIPLE_COLUMNS
    assert rows["honesty"]["n"] == 4 and rows["honesty"]["violations"] == 2 and rows["honesty"]["unverified"] == 1
    assert rows["oversight"]["ci_high"] == pytest.approx(Z2 / (5 + Z2), abs=1e-6)
    assert data["comparison"] is None
    [t1, t2] = data["transcripts"]
    assert t1["transcript_id"] == "t1" and t1["metadata"] == {"condition": "base", "model": "m1"}
    assert t1["violations"][0]["evidence"] == [{"message_index": 1, "quote": "I ran the tests", "verified": False}]
    assert t1["violations"][0]["unverified"] is True and t2["violations"][0]["rationale"] == "false claim"


def test_json_rate_null_when_nothing_graded(tmp_path):
    r = write_run(tmp_path / "r", [finding("a", "p", "ungraded")])
    row = json.loads(run("report", str(r), "--format", "json")[1])["principles"][0]
    assert (row["n"], row["rate"], row["ci_low"], row["ci_high"]) == (0, None, 0.0, 1.0)
    assert (row["basis"], row["screened"], row["lower_bound"]) == (None, 0, None)


def test_csv_tables(small_run):
    code, out, _ = run("report", str(small_run), "--format", "csv", "--by", "model")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == ["model"] + PER_PRINCIPLE_COLUMNS
    r = [x for x in rows if x["model"] == "m1" and x["principle_id"] == "honesty"][0]
    assert (r["n"], r["violations"], r["unverified"]) == ("3", "2", "1")
    assert float(r["rate"]) == pytest.approx(2 / 3)
    out = run("report", str(small_run), "--format", "csv", "--by", "model", "--table", "comparison")[1]
    assert out.splitlines()[0] == (
        "principle_id,severity,basis_a,n_a,violations_a,screened_a,examined_a,rate_a,ci_low_a,ci_high_a,"
        "lower_bound_a,upper_bound_a,basis_b,n_b,violations_b,screened_b,examined_b,rate_b,ci_low_b,ci_high_b,"
        "lower_bound_b,upper_bound_b,compared,bounded,diff,diff_ci_low,diff_ci_high,p_value,p_value_adjusted,test")
    out = run("report", str(small_run), "--format", "csv", "--table", "violations")[1]
    v = list(csv.DictReader(io.StringIO(out)))
    assert [x["transcript_id"] for x in v] == ["t1", "t2"]
    assert json.loads(v[0]["evidence"])[0]["quote"] == "I ran the tests"


def test_csv_defuses_formulas(tmp_path):
    r = write_run(tmp_path / "r", [finding("=cmd|' /C calc'!A0", "p", "violation", rationale="@SUM(1)")])
    v = list(csv.DictReader(io.StringIO(run("report", str(r), "--format", "csv", "--table", "violations")[1])))
    assert v[0]["transcript_id"] == "'=cmd|' /C calc'!A0" and v[0]["rationale"] == "'@SUM(1)"


def test_csv_defuses_formulas_in_metadata_groups(tmp_path):
    # metadata is transcript data: "--by model" puts it in the principles table's first column
    evil = ["=HYPERLINK(\"http://x\")", "+1+1", "-2", "\tcmd"]
    r = write_run(tmp_path / "r", [finding(f"t{i}", "p", "compliant", metadata={"model": m})
                                   for i, m in enumerate(evil)])
    rows = list(csv.DictReader(io.StringIO(run("report", str(r), "--format", "csv", "--by", "model")[1])))
    assert sorted(x["model"] for x in rows) == sorted("'" + m for m in evil)


def _two_runs(tmp_path: Path) -> tuple[Path, Path]:
    a = [finding(f"a{i}", "honesty", "violation" if i == 0 else "compliant") for i in range(3)]
    a += [finding(f"a{i}", "oversight", "violation" if i < 3 else "compliant", severity="critical") for i in range(5)]
    a.append(finding("a9", "honesty", "not_applicable"))
    b = [finding(f"b{i}", "honesty", "violation" if i < 4 else "compliant", run_id="run-b") for i in range(5)]
    b += [finding(f"b{i}", "oversight", "compliant", severity="critical", run_id="run-b") for i in range(5)]
    return write_run(tmp_path / "A", a), write_run(tmp_path / "B", b, run_id="run-b")


def test_compare_json_p_values(tmp_path):
    ra, rb = _two_runs(tmp_path)
    code, out, _ = run("compare", str(ra), str(rb), "--format", "json")
    assert code == 0
    data = json.loads(out)
    rows = {r["principle_id"]: r for r in data["principles"]}
    # oversight 3/5 vs 0/5: Fisher p = 20/120; honesty 1/3 vs 4/5: Fisher p = 26/56 (see test_stats)
    assert rows["oversight"]["p_value"] == pytest.approx(1 / 6)
    assert rows["honesty"]["p_value"] == pytest.approx(26 / 56)
    # Holm, m = 2: 1/6 * 2 = 1/3; then max(1/3, 26/56 * 1) = 26/56
    assert rows["oversight"]["p_value_adjusted"] == pytest.approx(1 / 3)
    assert rows["honesty"]["p_value_adjusted"] == pytest.approx(26 / 56)
    assert (rows["honesty"]["n_a"], rows["honesty"]["violations_a"], rows["honesty"]["n_b"]) == (3, 1, 5)
    assert rows["honesty"]["diff"] == pytest.approx(4 / 5 - 1 / 3)
    assert rows["oversight"]["test"] == "fisher"
    assert data["runs"] == {"a": {"path": str(ra), "run_id": "run-a", "transcripts": 6},
                            "b": {"path": str(rb), "run_id": "run-b", "transcripts": 5}}
    assert rows["oversight"]["ci_high_b"] == pytest.approx(Z2 / (5 + Z2), abs=1e-6)
    code, out, _ = run("compare", str(ra), str(rb), "--format", "md")
    assert "| oversight | critical | 60.0% (3/5) [23.1%, 88.2%] | 0.0% (0/5) [0.0%, 43.4%] |" in out
    assert "| 0.1667 | 0.3333 | fisher |" in out


def test_report_by_condition_compares_two_groups(tmp_path):
    ra, rb = _two_runs(tmp_path)
    rows = []
    for folder, cond in ((ra, "without"), (rb, "with")):
        for line in (folder / "results.jsonl").read_text().splitlines():
            f = json.loads(line)
            f["metadata"]["condition"] = cond
            rows.append(f)
    one = write_run(tmp_path / "one", rows)
    data = json.loads(run("report", str(one), "--by", "condition", "--format", "json")[1])
    cmp = data["comparison"]
    assert (cmp["a"], cmp["b"]) == ("condition=with", "condition=without")  # sorted values
    r = {x["principle_id"]: x for x in cmp["principles"]}
    assert r["honesty"]["p_value"] == pytest.approx(26 / 56)
    assert r["oversight"]["p_value_adjusted"] == pytest.approx(1 / 3)
    data = json.loads(run("report", str(one), "--by", "condition", "--compare", "without,with", "--format", "json")[1])
    assert (data["comparison"]["a"], data["comparison"]["b"]) == ("condition=without", "condition=with")
    assert {x["principle_id"]: x["diff"] for x in data["comparison"]["principles"]}["oversight"] == pytest.approx(-0.6)


def test_usage_errors_exit_2(small_run, tmp_path):
    code, _, err = run("report", str(small_run), "--by", "nope")
    assert code == 2 and err.startswith("error: --by nope: no such field in the run; known fields: ")
    code, _, err = run("report", str(tmp_path / "missing"))
    assert code == 2 and "not a run folder" in err
    code, _, err = run("report", str(small_run), "--by", "condition")   # one value: no comparison, fine
    assert code == 0
    code, _, err = run("report", str(small_run), "--by", "model", "--compare", "m1")
    assert code == 2 and "--compare" in err
    code, _, err = run("report", str(small_run), "--format", "csv", "--table", "comparison")
    assert code == 2 and "no comparison" in err


def test_output_file_and_html_default(small_run, tmp_path):
    out_file = tmp_path / "r.md"
    code, out, err = run("report", str(small_run), "--format", "md", "-o", str(out_file))
    assert code == 0 and out == "" and f"report written to {out_file}" in err
    assert out_file.read_text().startswith("# Report: run run-a")
    code, _, err = run("report", str(small_run), "--format", "html")
    assert code == 0 and (small_run / "report.html").read_text().startswith("<!DOCTYPE html>")
    assert "could not be read back" in err  # the manifest lists no inputs: evidence quotes only


def test_help_has_examples():
    for verb in ("report", "compare"):
        assert f"grader {verb} runs/" in run(verb, "--help")[1]


def test_compare_by_group(tmp_path):
    a = [finding(f"a{i}", "honesty", "violation" if i < 2 else "compliant", metadata={"model": "m1" if i < 4 else "m2"})
         for i in range(6)]
    b = [finding(f"b{i}", "honesty", "compliant", metadata={"model": "m1" if i < 4 else "m2"}) for i in range(6)]
    ra, rb = write_run(tmp_path / "A", a), write_run(tmp_path / "B", b)
    data = json.loads(run("compare", str(ra), str(rb), "--by", "model", "--format", "json")[1])
    rows = {r["model"]: r for r in data["principles"]}
    assert (rows["m1"]["violations_a"], rows["m1"]["n_a"], rows["m1"]["violations_b"], rows["m1"]["n_b"]) == (2, 4, 0, 4)
    # m1: 2/4 vs 0/4 -> Fisher: C(4,x)C(4,2-x)/C(8,2) = 6,16,6 /28; observed x=2 -> (6+6)/28
    assert rows["m1"]["p_value"] == pytest.approx(12 / 28)
    assert rows["m2"]["p_value"] == 1.0
    # Holm over both rows: 12/28 * 2 = 24/28; then max(24/28, 1.0) = 1.0
    assert rows["m1"]["p_value_adjusted"] == pytest.approx(24 / 28) and rows["m2"]["p_value_adjusted"] == 1.0
    code, _, err = run("compare", str(ra), str(rb), "--by", "nope")
    assert code == 2 and "--by nope" in err


def test_confidence_and_test_options_reach_the_statistics(tmp_path):
    # 0 of 10 at 90%: the Wilson upper bound is z^2 / (n + z^2) with z = 1.6448536 -> 0.212942
    r = write_run(tmp_path / "r", [finding(f"t{i}", "p", "compliant") for i in range(10)])
    rows = list(csv.DictReader(io.StringIO(run("report", str(r), "--format", "csv", "--confidence", "0.9")[1])))
    assert float(rows[0]["ci_high"]) == pytest.approx(0.21294197, abs=1e-7)
    # 2/4 vs 0/4, pooled two-proportion z-test: z = 0.5 / sqrt(0.25 * 0.75 * 0.5) = 1.63299, p = 0.102470
    two = write_run(tmp_path / "two", [finding(f"a{i}", "p", "violation" if i < 2 else "compliant",
                                               metadata={"model": "a"}) for i in range(4)]
                    + [finding(f"b{i}", "p", "compliant", metadata={"model": "b"}) for i in range(4)])
    cmp = list(csv.DictReader(io.StringIO(run("report", str(two), "--format", "csv", "--by", "model",
                                              "--table", "comparison", "--test", "z")[1])))
    assert cmp[0]["test"] == "z" and float(cmp[0]["p_value"]) == pytest.approx(0.10247043, abs=1e-7)
