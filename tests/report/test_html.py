"""The HTML report without a browser: escaping, the JSON blob, CSP, links and reachability."""
from __future__ import annotations

import json
import re

import pytest

from grader.reporting.build import build_report
from grader.reporting.html import content_security_policy, csp_hash, json_blob, render_html
from grader.reporting.html_parts import esc, marked, message_anchor, principle_anchor, transcript_anchor
from tests.report.htmlcheck import parse
from tests.report.util import MARK_QUOTE, PAYLOADS, hostile_run

ALLOWED_TAGS = {"html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p", "a", "svg", "title", "line",
                "text", "rect", "table", "thead", "tbody", "tr", "th", "td", "span", "div", "label", "input", "select",
                "option", "section", "ul", "li", "q", "code", "pre", "mark", "dl", "dt", "dd", "script"}


def test_esc_and_marked():
    assert esc("<a href=\"x\" onclick='y'>&") == "&lt;a href=&quot;x&quot; onclick=&#x27;y&#x27;&gt;&amp;"
    assert esc("a\x00b\x1bc") == "abc"
    text, found = marked("say </mark><b>hi</b> now", ["</mark><b>"])
    assert found and text == "say <mark>&lt;/mark&gt;&lt;b&gt;</mark>hi&lt;/b&gt; now"
    text, found = marked("Tests PASS and tests pass", ["tests pass"])
    assert text == "Tests PASS and <mark>tests pass</mark>"   # exact match first
    text, found = marked("ALL TESTS PASS", ["tests pass"])
    assert text == "ALL <mark>TESTS PASS</mark>"             # else case-insensitive
    text, found = marked("abcdef", ["abcd", "cdef", ""])
    assert text == "<mark>abcdef</mark>"                     # overlapping quotes merge
    assert marked("x < y", ["zzz"]) == ("x &lt; y", False)
    # a case-insensitive match marks the right characters even where lower-casing changes lengths
    assert marked("İİİ secret PASSWORD here", ["password"]) == ("İİİ secret <mark>PASSWORD</mark> here", True)


def test_json_blob_cannot_close_its_element():
    data = {"q": "</script><script>alert(1)</script> & \u2028\u2029 <!--"}
    blob = json_blob(data)
    assert not re.search(r"[<>&\u2028\u2029]", blob)
    assert json.loads(blob) == data


def test_anchors_are_safe_ids():
    for key in PAYLOADS:
        for a in (transcript_anchor(key), principle_anchor(key)):
            assert re.fullmatch(r"[tp]-[0-9a-f]{16}", a)
        assert re.fullmatch(r"t-[0-9a-f]{16}-m3", message_anchor(key, 3))
    assert transcript_anchor("a") != transcript_anchor("b")


def test_csp_hashes_the_inline_script_and_style(small_run):
    html = render_html(build_report(small_run))
    page = parse(html)
    [script] = [s for s in page.script_texts if not s.lstrip().startswith("{")]
    [style] = page.style_texts
    csp = [e.attrs["content"] for e in page.elements if e.attrs.get("http-equiv") == "Content-Security-Policy"][0]
    assert csp == content_security_policy(script, style)
    assert csp.startswith("default-src 'none'; script-src " + csp_hash(script))
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "http://" not in html and "https://" not in html      # nothing to fetch
    assert [e.tag for e in page.elements[:4]] == ["html", "head", "meta", "meta"]
    assert page.elements[3].attrs.get("http-equiv") == "Content-Security-Policy"  # right after charset


@pytest.fixture
def hostile(tmp_path):
    run, ids = hostile_run(tmp_path)
    rep = build_report(run, ["model"], with_transcripts=True)
    return rep, render_html(rep), ids


def test_hostile_report_static_structure(hostile):
    rep, html, ids = hostile
    assert len(rep.transcripts) == len(ids)           # read back from the run's inputs
    assert "1 of 13 transcript(s)" in rep.transcripts_note
    page = parse(html)
    assert page.tags() <= ALLOWED_TAGS
    scripts = [e for e in page.elements if e.tag == "script"]
    assert [e.attrs for e in scripts] == [{"type": "application/json", "id": "report-data"}, {}]
    for e in page.elements:
        assert not any(k.startswith("on") for k in e.attrs), e
        assert "src" not in e.attrs and "srcdoc" not in e.attrs
        if "href" in e.attrs:
            assert str(e.attrs["href"]).startswith("#"), e
    # transcript text may mention https:// or javascript:, but never as markup: no attribute refers to a resource
    assert not any(str(v).lower().startswith(("http:", "https:", "//", "javascript:", "data:"))
                   for e in page.elements for v in e.attrs.values() if v)
    assert "@import" not in "".join(page.style_texts) and "url(" not in "".join(page.style_texts)
    text = page.all_text()
    for p in PAYLOADS + [MARK_QUOTE]:
        assert p.replace("\u2028", "").replace("\u2029", "") in text.replace("\u2028", "").replace("\u2029", "")
    blob = json.loads(page.script_texts[0])
    assert blob["run"]["findings"] == len(rep.findings)


def test_every_violation_is_reachable(hostile):
    rep, html, _ = hostile
    page = parse(html)
    ids = page.ids()
    for link in page.links():                                # no dangling link
        assert str(link.attrs["href"])[1:] in ids, link.attrs
    chart_targets = {e.attrs["href"] for e in page.links() if e.in_svg}
    table_targets = {e.attrs["href"] for e in page.links() if e.in_table == "principles-table"}
    findings_rows = {e.attrs["href"] for e in page.links() if e.in_table == "findings-table"}
    n = 0
    for v in rep.violations.to_dict("records"):
        p_anchor, t_anchor = principle_anchor(v["principle_id"]), transcript_anchor(v["transcript_id"])
        assert f"#{p_anchor}" in chart_targets and f"#{p_anchor}" in table_targets
        assert f"#{t_anchor}" in findings_rows
        # the principle's section links to the transcript, whose section exists
        assert any(e.attrs["href"] == f"#{t_anchor}" and p_anchor in e.sections for e in page.links())
        assert t_anchor in ids
        for ev in v["evidence"]:
            if v["transcript_id"] in rep.transcripts:
                assert message_anchor(v["transcript_id"], ev["message_index"]) in ids
        n += 1
    assert n == 25


def test_cited_messages_highlighted(hostile):
    rep, html, ids = hostile
    page = parse(html)
    cited = [e for e in page.elements if e.tag == "div" and "cited" in str(e.attrs.get("class", "")).split()]
    assert {str(e.attrs["id"]) for e in cited} >= {message_anchor(t, 2) for t in ids}
    assert sum(1 for e in page.elements if e.tag == "mark") >= len(ids)
    assert html.count("cited quote(s) not found verbatim") == len(ids)   # the message-1 quote is not in message 1


def test_quote_from_a_tool_argument_with_quotes_and_newlines_is_marked() -> None:
    """Tool arguments are shown as JSON; a verbatim quote of a string leaf must still be found."""
    from grader.reporting.html_parts import _message_html
    from grader.transcripts.model import Message, ToolCall

    leaf = 'sed -i "s/audit: true/audit: false/"\nsystemctl restart app'
    m = Message(1, "assistant", "", (ToolCall("c1", "bash", {"cmd": leaf}),))
    out = _message_html("t1", m, ['sed -i "s/audit: true/audit: false/"\nsystemctl'])
    assert "not found verbatim" not in out
    assert '<mark>sed -i \\&quot;s/audit: true/audit: false/\\&quot;\\nsystemctl</mark>' in out
