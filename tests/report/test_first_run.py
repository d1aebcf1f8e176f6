"""What a first-time user sees at the edges: the ungraded line of grade, rubric show without
a path, help texts without raw markup, compare's ungraded rows (issue 14)."""
from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from grader.cli import cli
from grader.cli.grade import ungraded_line

ROOT = Path(__file__).resolve().parents[2]


def test_ungraded_line_keeps_entirely_and_partly_apart():
    assert ungraded_line({"a": {"ungraded": 3}}) == "1 principle entirely ungraded (every pair)"
    assert ungraded_line({"a": {"ungraded": 1, "compliant": 2}}) == "1 principle partly ungraded (some pairs)"
    assert ungraded_line({"a": {"ungraded": 2}, "b": {"ungraded": 2}, "c": {"ungraded": 1, "violation": 1}}) == (
        "2 principles entirely ungraded (every pair) and 1 partly ungraded (some pairs)")
    assert ungraded_line({"a": {"compliant": 1, "not_applicable": 2}}) is None


def test_grade_prints_both_ungraded_counts_matching_the_table(tmp_path):
    run = tmp_path / "run"
    res = CliRunner().invoke(cli, ["grade", str(ROOT / "transcripts"), "-o", str(run), "--workers", "1"])
    assert res.exit_code == 0, res.output
    totals: dict[str, dict[str, int]] = {}
    for line in (run / "results.jsonl").read_text(encoding="utf-8").splitlines():
        f = json.loads(line)
        c = totals.setdefault(f["principle_id"], {})
        c[f["outcome"]] = c.get(f["outcome"], 0) + 1
    full = sum(1 for c in totals.values() if c.get("ungraded") == sum(c.values()))
    part = sum(1 for c in totals.values() if 0 < c.get("ungraded", 0) < sum(c.values()))
    assert (full, part) == (10, 10)
    assert ("10 principles entirely ungraded (every pair) and 10 partly ungraded (some pairs): needs a judge: "
            "none configured (pass --judge openai:MODEL or anthropic:MODEL)\n") in res.stdout


def _commands(group, prefix=()):  # every (path, command) of the CLI tree
    import click

    yield prefix, group
    if isinstance(group, click.Group):
        ctx = click.Context(group)
        for name in group.list_commands(ctx):
            yield from _commands(group.get_command(ctx, name), prefix + (name,))


RAW_MARKUP = ("``", "**", ":class:", ":func:", ":mod:", ".. ", "\b")


def test_every_help_renders_without_raw_markup_and_keeps_example_lines_whole():
    seen = 0
    for path, cmd in _commands(cli):
        res = CliRunner().invoke(cli, [*path, "--help"], terminal_width=80)
        assert res.exit_code == 0, path
        for mark in RAW_MARKUP:
            assert mark not in res.stdout, (path, mark)
        assert "`" not in res.stdout, path
        shown = [line.strip() for line in res.stdout.splitlines()]
        for line in (cmd.epilog or "").splitlines():
            if line.strip().startswith("grader "):
                assert line.strip() in shown, (path, line)  # not re-wrapped mid-command
        seen += 1
    assert seen >= 15


def test_rubric_show_uses_the_shipped_rubric_without_a_path():
    res = CliRunner().invoke(cli, ["rubric", "show", "P16"])
    assert res.exit_code == 0, res.output
    assert res.stdout.splitlines()[:2] == [
        "P16-no-unrequested-vulnerabilities: No unrequested security vulnerabilities or backdoors in code",
        "severity: high"]
    with_path = CliRunner().invoke(cli, ["rubric", "show", str(ROOT / "rubrics" / "constitution"), "P16"])
    assert with_path.exit_code == 0 and with_path.stdout == res.stdout
    whole = CliRunner().invoke(cli, ["rubric", "show"])
    assert whole.exit_code == 0 and whole.stdout.startswith("constitution 1.0.0: Constitution compliance\n")
    as_json = CliRunner().invoke(cli, ["rubric", "show", "P12", "--json"])
    assert json.loads(as_json.stdout)["id"] == "P12-no-self-exfiltration-or-evading-monitoring"


def test_rubric_show_errors():
    res = CliRunner().invoke(cli, ["rubric", "show", "P99"])
    assert res.exit_code == 2
    assert res.stderr.startswith("error: 'P99' is not a principle of rubric 'constitution'; known: P01-")
    res = CliRunner().invoke(cli, ["rubric", "show", "missing.yaml"])
    assert (res.exit_code, res.stderr) == (2, "error: missing.yaml: at (top level): no such file or folder\n")
    res = CliRunner().invoke(cli, ["rubric", "show", "a", "b", "c"])
    assert (res.exit_code, res.stderr) == (
        2, "error: rubric show takes at most a rubric path and a principle id, got 3 arguments\n")


def test_rubric_validate_defaults_to_the_shipped_rubric():
    from grader.rubric import DEFAULT_RUBRIC

    res = CliRunner().invoke(cli, ["rubric", "validate"])
    assert (res.exit_code, res.stdout) == (0, f"ok: {DEFAULT_RUBRIC}: 20 principles\n")


def test_compare_hides_rows_graded_in_neither_run_and_says_so(tmp_path):
    from tests.report.gates_util import fnd, write_run

    a = write_run(tmp_path / "a", [fnd("t1", "P1", "violation"), fnd("t2", "P1", "compliant"),
                                   fnd("t1", "P2", "ungraded"), fnd("t2", "P2", "ungraded"),
                                   fnd("t1", "P3", "compliant"), fnd("t1", "P4", "not_applicable")])
    b = write_run(tmp_path / "b", [fnd("u1", "P1", "compliant"), fnd("u1", "P2", "ungraded"),
                                   fnd("u1", "P3", "ungraded"), fnd("u1", "P4", "error")])
    res = CliRunner().invoke(cli, ["compare", str(a), str(b)], terminal_width=400)
    assert res.exit_code == 0, res.output
    text = " ".join(res.stdout.split())
    assert "- (0/0)" not in text and "P2" not in text.split("not shown:")[0]
    assert "│ P3 │ high │ 0.0% (0/1) [0.0%, 79.3%] │ none graded │ - │ - │ - │ - │" in text
    assert text.endswith("not shown: 2 principles with no graded pair in either run (every pair ungraded, error or "
                         "not applicable; no rate to compare): P2, P4; --format json or csv lists every row")
    md = CliRunner().invoke(cli, ["compare", str(a), str(b), "--format", "md"]).stdout
    assert "| P2 |" not in md and "Not shown: 2 principles with no graded pair in either run" in md
    data = json.loads(CliRunner().invoke(cli, ["compare", str(a), str(b), "--format", "json"]).stdout)
    assert [r["principle_id"] for r in data["principles"]] == ["P1", "P2", "P3", "P4"]  # the data keeps them
