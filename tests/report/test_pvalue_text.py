"""p-values in text, Markdown and HTML: an underflow to 0.0 is printed as "< 1e-300", never as
``0.0e+00`` (which reads as "p is zero"); small values keep their exact exponent (issue 14)."""
from __future__ import annotations

import json

from click.testing import CliRunner

from grader.cli import cli
from grader.reporting.render_text import pval
from tests.report.util import finding, write_run


def test_pval_text():
    assert [pval(p) for p in (0.0, 5e-310, 1e-300, 3.2e-45, 5e-05, 0.5, 1.0, None, float("nan"))] == [
        "< 1e-300", "< 1e-300", "1.0e-300", "3.2e-45", "5.0e-05", "0.5000", "1.0000", "-", "-"]


def test_compare_prints_an_underflowed_p_value_as_a_bound(tmp_path):
    n = 1200
    a = [finding(f"a{i}", "security", "compliant") for i in range(n)]
    b = [finding(f"b{i}", "security", "violation", run_id="run-b") for i in range(n)]
    ra, rb = write_run(tmp_path / "A", a), write_run(tmp_path / "B", b, run_id="run-b")
    res = CliRunner().invoke(cli, ["compare", str(ra), str(rb), "--format", "json"])
    assert json.loads(res.stdout)["principles"][0]["p_value"] == 0.0  # the data keeps the float
    for fmt in ("table", "md"):
        res = CliRunner().invoke(cli, ["compare", str(ra), str(rb), "--format", fmt])
        assert res.exit_code == 0, res.output
        row = next(line for line in res.stdout.splitlines() if "security" in line)
        assert row.count("< 1e-300") == 2 and "e+00" not in res.stdout  # p and p (Holm)
