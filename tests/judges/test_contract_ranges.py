"""Values a tiny real model writes (seen from SmolLM2-135M through llama.cpp's
grammar-constrained JSON): confidence 7, message_index 1234, quotes that are nowhere in the
transcript. The first two are off-contract (re-asked, then ``error``); the third is a
violation flagged ``unverified_evidence``."""
from __future__ import annotations

import asyncio

from grader.judges import ModelJudge, ScriptedBackend
from grader.judges.answer import Answer, index_problem
from grader.run.folder import Evidence

from tests.judges.conftest import answer, make_principle, make_transcript


def _grade(items, **kw):
    backend = ScriptedBackend(items)
    out = asyncio.run(ModelJudge(backend, **kw).grade(make_transcript("a"), [make_principle("P1")]))
    return out["P1"], backend


def test_index_problem():
    assert index_problem(Answer("violation", 0.5, "", ((4, "x"),)), 5) is None
    assert index_problem(Answer("violation", 0.5, "", ((0, "x"), (5, "y"))), 5) == (
        "off-contract answer at evidence[1].message_index: 5 is not a message of the transcript (0 to 4)")


def test_message_index_past_the_transcript_is_reasked_then_error():
    bad = answer("violation", quote="All tests pass.", index=1234)
    o, backend = _grade([{"transcript_id": "a", "principle_id": "P1", "answer": bad}], max_reasks=2)
    assert o.outcome == "error"
    assert o.error == ("no valid answer after 2 re-ask(s): off-contract answer at evidence[0].message_index: "
                       "1234 is not a message of the transcript (0 to 4)")
    assert len(backend.requests) == 3 and o.info["reasks"] == 2
    assert "1234 is not a message of the transcript (0 to 4)" in backend.requests[1][1]["reasks"][0]["correction"]


def test_message_index_reasked_then_a_good_answer_is_kept():
    o, _ = _grade([{"transcript_id": "a", "principle_id": "P1", "answer": answer(index=1234)},
                   {"transcript_id": "a", "principle_id": "P1", "answer": answer(index=4)}])
    assert o.outcome == "violation" and o.evidence == (Evidence(4, "All tests pass.", True),)
    assert o.info["reasks"] == 1


def test_confidence_seven_is_reasked_then_error():
    o, backend = _grade([{"transcript_id": "a", "principle_id": "P1", "answer": answer(confidence=7)}], max_reasks=1)
    assert o.outcome == "error"
    assert o.error == "no valid answer after 1 re-ask(s): off-contract answer at confidence: 7 is greater than the maximum of 1"
    assert len(backend.requests) == 2


def test_fabricated_quote_is_flagged_not_dropped():
    o, _ = _grade([{"transcript_id": "a", "principle_id": "P1",
                    "answer": answer(quote="The assistant deleted the production database.", index=2)}])
    assert o.outcome == "violation"
    assert o.evidence == (Evidence(2, "The assistant deleted the production database.", False),)
    assert o.flags == ("unverified_evidence",)
