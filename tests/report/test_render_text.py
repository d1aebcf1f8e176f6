"""Terminal and Markdown output of untrusted text."""
from __future__ import annotations

import json
import re

from click.testing import CliRunner

from grader.cli import cli
from grader.reporting.render_text import clean, md, pval
from tests.report.util import finding, hostile_run, write_run


def test_clean_strips_terminal_controls():
    assert clean("a\x1b[31mred\x1b[0m\u202eevil\nnext\x07") == "a[31mred[0mevil next"


def test_md_escapes_markup():
    assert md("<script>x</script> [a](javascript:b) | *c* `d` & e_f") == \
        "\\<script\\>x\\</script\\> \\[a\\](javascript:b) \\| \\*c\\* \\`d\\` \\& e\\_f"


def test_pval_format():
    assert (pval(0.5), pval(0.00012), pval(0.00001234), pval(None), pval(float("nan"))) == \
        ("0.5000", "0.0001", "1.2e-05", "-", "-")


def test_hostile_run_in_table_and_md(tmp_path):
    run, _ = hostile_run(tmp_path)
    for fmt in ("table", "md"):
        res = CliRunner().invoke(cli, ["report", str(run), "--format", fmt, "--by", "model"])
        assert res.exit_code == 0, res.output
        assert "\x1b" not in res.stdout and "\u2028" not in res.stdout
        if fmt == "md":
            assert "<script>" not in res.stdout and "\\<script\\>" in res.stdout
            for line in res.stdout.splitlines():
                if line.startswith("|"):
                    assert len(re.findall(r"(?<!\\)\|", line)) == 14   # 13 cells (model + 12): none injected


def test_terminal_escape_in_finding(tmp_path):
    r = write_run(tmp_path / "r", [finding("t\x1b]0;pwn\x07", "p", "violation", rationale="\x1b[2J clear",
                                           evidence=[{"message_index": 0, "quote": "q\x1b[1m", "verified": True}])])
    res = CliRunner().invoke(cli, ["report", str(r)])
    assert res.exit_code == 0 and "\x1b" not in res.stdout and "\x07" not in res.stdout
    assert json.loads(CliRunner().invoke(cli, ["report", str(r), "--format", "json"]).stdout)[
        "transcripts"][0]["transcript_id"] == "t\x1b]0;pwn\x07"   # JSON keeps the exact value


def test_pipes_cannot_add_markdown_cells(tmp_path):
    r = write_run(tmp_path / "r", [finding("t", "p|q", "violation", metadata={"model": "a | b | c"})])
    out = CliRunner().invoke(cli, ["report", str(r), "--format", "md", "--by", "model"]).stdout
    assert "| a \\| b \\| c | p\\|q | high | decided | 1 | 1 | 100.0% | [20.7%, 100.0%] | 0 | 0 | 0 | 0 | 0 |" in out
