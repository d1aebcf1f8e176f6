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
    assert (full, part) == (10, 8)
    assert ("10 principles entirely ungraded (every pair) and 8 partly ungraded (some pairs): needs a judge: "
            "none configured (pass --judge openai:MODEL or anthropic:MODEL)\n") in res.stdout
