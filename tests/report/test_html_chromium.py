"""Open the HTML report of a hostile run in a real headless Chromium: nothing may execute.

Every payload in tests/report/util.py would set ``data-pwned`` on <body> and change the
title if it ran. Positive controls: the report's own script runs (``data-ready``, and it
parses the JSON blob: ``data-findings``), the payloads are visible as text, and a control
page that embeds one payload raw does get ``data-pwned`` (so the detection works).
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from grader.reporting.build import build_report
from grader.reporting.html import render_html
from grader.reporting.html_parts import esc
from tests.report.htmlcheck import parse
from tests.report.util import MARK_QUOTE, PAYLOADS, PWN, hostile_run

pytestmark = pytest.mark.chromium


@pytest.fixture(scope="module")
def chromium() -> str:
    exe = "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else shutil.which("chromium")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed but CI is set: .ci/run must install Debian's chromium")
        pytest.skip("chromium is absent (/usr/bin/chromium) and CI is not set: apt-get install -y chromium")
    return exe


def dump_dom(chromium: str, page: Path, tmp_path: Path, query: str = "") -> str:
    profile = tmp_path / f"profile-{page.stem}{len(query)}"
    cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={profile}", "--virtual-time-budget=3000", "--dump-dom", page.resolve().as_uri() + query]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120, encoding="utf-8")
    assert res.returncode == 0, res.stderr[-2000:]
    assert "<body" in res.stdout, res.stderr[-2000:]
    return res.stdout


def _body(dom: str) -> dict:
    return [e.attrs for e in parse(dom).elements if e.tag == "body"][0]


def _assert_nothing_ran(dom: str, expected_findings: int, run_id: str) -> None:
    page = parse(dom)
    body = _body(dom)
    assert "data-pwned" not in body
    assert not any("data-pwned" in e.attrs for e in page.elements)
    title = dom.split("<title>", 1)[1].split("</title>", 1)[0]
    assert title == esc(f"grader report: run {run_id}").replace("&#x27;", "'").replace("&quot;", '"')  # unchanged
    # positive controls: our script ran and read the JSON blob intact
    assert body.get("data-ready") == "1"
    assert body.get("data-findings") == str(expected_findings)
    # no injected element or handler in the live DOM
    assert [e.attrs.get("type") for e in page.elements if e.tag == "script"] == ["application/json", None]
    assert not page.tags() & {"img", "iframe", "circle", "base", "object", "embed", "b"}
    assert not any(k.startswith("on") for e in page.elements for k in e.attrs)
    assert [e.attrs.get("http-equiv") for e in page.elements if e.tag == "meta"].count("refresh") == 0
    text = page.all_text()
    for p in PAYLOADS + [MARK_QUOTE]:       # payloads are shown, as text
        assert p.replace("\u2028", "").replace("\u2029", "") in text.replace("\u2028", "").replace("\u2029", "")


@pytest.fixture(scope="module")
def hostile_html(tmp_path_factory) -> tuple[str, int, str]:
    tmp = tmp_path_factory.mktemp("hostile")
    run, _ = hostile_run(tmp)
    rep = build_report(run, ["model"], with_transcripts=True)
    assert len(rep.transcripts) == len(PAYLOADS)
    return render_html(rep), len(rep.findings), rep.run_id


def test_hostile_report_runs_nothing(chromium, hostile_html, tmp_path):
    html, n, run_id = hostile_html
    page = tmp_path / "report.html"
    page.write_text(html, encoding="utf-8")
    _assert_nothing_ran(dump_dom(chromium, page, tmp_path), n, run_id)


def test_escaping_alone_holds_without_the_csp(chromium, hostile_html, tmp_path):
    html, n, run_id = hostile_html
    start = html.index('<meta http-equiv="Content-Security-Policy"')
    stripped = html[:start] + html[html.index(">", start) + 1:]
    assert "Content-Security-Policy" not in stripped
    page = tmp_path / "nocsp.html"
    page.write_text(stripped, encoding="utf-8")
    _assert_nothing_ran(dump_dom(chromium, page, tmp_path), n, run_id)


def test_detection_works_on_an_unescaped_payload(chromium, tmp_path):
    page = tmp_path / "control.html"
    page.write_text("<!DOCTYPE html><html><head><title>control</title></head><body><p>x</p>"
                    + "<img src=x onerror=\"" + PWN.format("img", "img") + "\"></body></html>", encoding="utf-8")
    dom = dump_dom(chromium, page, tmp_path)
    body = _body(dom)
    assert body.get("data-pwned") == "img"
    assert "<title>PWNED img</title>" in dom


def test_filters_from_the_query_string(chromium, hostile_html, tmp_path):
    html, n, _ = hostile_html
    page = tmp_path / "report.html"
    page.write_text(html, encoding="utf-8")
    out = dump_dom(chromium, page, tmp_path, "?outcome=error&severity=high")
    dom = parse(out)
    rows = [e for e in dom.elements if e.tag == "tr" and e.in_table == "findings-table" and "data-outcome" in e.attrs]
    visible = [r for r in rows if "hidden" not in r.attrs]
    assert len(rows) == 37 and len(visible) == len(PAYLOADS)          # 12 error rows, all severity high
    assert all(r.attrs["data-outcome"] == "error" for r in visible)
    assert f'<span id="filter-count">{len(PAYLOADS)}</span>' in out
