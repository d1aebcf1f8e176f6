"""The shipped constitution rubric: content contracts and its own examples."""
from __future__ import annotations

import re

import pytest

from grader.rubric import DEFAULT_RUBRIC, load_rubric_path
from grader.grading.examples import run_examples

NON_SUBVERSION = {"P11", "P12", "P13", "P19"}
AGENTIC_REQUIRED = {"P11", "P12", "P13", "P14", "P15", "P17"}


@pytest.fixture(scope="module")
def shipped():
    return load_rubric_path(DEFAULT_RUBRIC)


def _key(pid: str) -> str:
    return pid.split("-", 1)[0]


def test_header(shipped):
    assert (shipped.id, shipped.title) == ("constitution", "Constitution compliance")
    urls = {s["url"] for s in shipped.sources}
    assert urls == {"https://www.anthropic.com/constitution", "https://model-spec.openai.com/2025-09-12.html"}


def test_twenty_principles_in_order(shipped):
    keys = [_key(p.id) for p in shipped.principles]
    assert keys == [f"P{i:02d}" for i in range(1, 21)]
    for p in shipped.principles:
        assert re.fullmatch(r"P\d\d-[a-z0-9]+(-[a-z0-9]+)*", p.id), p.id


def test_non_subversion_principles_are_critical(shipped):
    crit = {_key(p.id) for p in shipped.principles if p.severity == "critical"}
    assert NON_SUBVERSION <= crit
    # among the principles this file set owns (all but P16), only those four are critical
    assert crit - {"P16"} == NON_SUBVERSION


def test_every_principle_has_both_kinds_of_example(shipped):
    for p in shipped.principles:
        expects = {e.expect for e in p.examples}
        assert {"violation", "compliant"} <= expects, p.id


def test_agentic_examples_for_action_principles(shipped):
    for p in shipped.principles:
        if _key(p.id) not in AGENTIC_REQUIRED:
            continue
        agentic = {e.expect for e in p.examples
                   if any(m.get("tool_calls") or isinstance(m.get("content"), list) and
                          any(b.get("type") == "tool_use" for b in m["content"]) for m in e.messages)}
        assert agentic == {"violation", "compliant"}, p.id


def test_judge_blocks_are_complete(shipped):
    for p in shipped.principles:
        j = p.judge
        assert j is not None, p.id
        assert j.question.endswith("?"), p.id
        for field in ("counts", "does_not_count", "violating", "compliant"):
            assert len(getattr(j, field)) >= 2, (p.id, field)
        for field in ("performative", "not_applicable", "scale"):
            assert len(getattr(j, field)) > 40, (p.id, field)


def test_sources_cite_sections_with_urls(shipped):
    for p in shipped.principles:
        assert p.sources, p.id
        for s in p.sources:
            assert s.get("section") and s.get("url", "").startswith("https://"), (p.id, s)


def test_check_ids_are_prefixed_by_their_principle(shipped):
    for p in shipped.principles:
        for c in p.checks:
            assert c.id.startswith(_key(p.id).lower() + "-"), (p.id, c.id)


def test_expected_check_kinds(shipped):
    kinds = {_key(p.id): sorted({c.kind for c in p.checks}) for p in shipped.principles}
    assert kinds["P02"] == kinds["P04"] == kinds["P05"] == ["claim_vs_action"]
    assert kinds["P07"] == ["claim_vs_action", "unreported_action"]
    assert kinds["P11"] == ["claim_vs_action", "tool_call"]
    assert kinds["P12"] == kinds["P14"] == kinds["P15"] == ["tool_call"]
    assert kinds["P17"] == ["judge_tampering", "tool_call"]
    for judge_only in ("P01", "P03", "P06", "P08", "P09", "P10", "P13", "P18", "P19", "P20"):
        assert kinds[judge_only] == [], judge_only


def test_shipped_examples_agree_with_the_checks(shipped):
    result = run_examples(shipped)
    assert [r.label + ": " + r.reason for r in result.disagreements] == []
    assert result.exit_code == 0
    by_check = [r for r in result.results if r.decided_by == "check"]
    assert len(by_check) >= 25
    assert all(r.status == "agree" for r in by_check)
    # without a judge, only judge-decided examples are left unrun
    assert {r.decided_by for r in result.results if r.status == "not_run"} == {"judge"}


def test_judge_path_renders_every_shipped_example(shipped):
    """Through the real judge pipeline (prompt building, answer parsing) with a scripted
    backend: the judge is asked exactly about the judge-decided examples, and a wrong
    verdict on one of them is reported as a disagreement."""
    from grader.judges.factory import make_judge

    judge_examples = [(p, e) for p in shipped.principles for e in p.examples if e.decided_by != "check"]
    flipped = judge_examples[0]
    answers = []
    for p, e in judge_examples:
        verdict = e.expect
        if (p, e) == flipped:
            verdict = "compliant" if e.expect == "violation" else "violation"
        answers.append({"transcript_id": f"{p.id}/{e.id}", "principle_id": p.id,
                        "answer": {"verdict": verdict, "confidence": 0.8, "rationale": "scripted",
                                   "evidence": []}})
    result = run_examples(shipped, make_judge("scripted:inline", answers=answers))
    assert result.count("not_run") == 0 and result.count("error") == 0
    assert [r.label for r in result.disagreements] == [f"{flipped[0].id}/{flipped[1].id}"]
    assert result.exit_code == 1
