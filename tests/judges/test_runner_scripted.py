"""The judge's logic through the scripted backend: outcomes, re-asks, samples, batched
mode, evidence flags, accounting. No HTTP here (see test_openai_server.py for that)."""
from __future__ import annotations

import asyncio
import json

import jsonschema
import pytest

from grader.errors import JudgeConfigError
from grader.judges import ModelJudge, ScriptedBackend, make_judge
from grader.judges.scripted import load_script
from grader.run.folder import Evidence
from grader.schemas import load_schema

from tests.judges.conftest import answer, make_principle, make_transcript

JUDGE_SCHEMA = load_schema("finding")["properties"]["judge"]


def run(judge, transcript, principles):
    out = asyncio.run(judge.grade(transcript, principles))
    for o in out.values():
        jsonschema.validate(dict(o.info), JUDGE_SCHEMA)
    return out


def scripted(items, **kw) -> ModelJudge:
    return ModelJudge(ScriptedBackend(items), **kw)


def test_every_pair_gets_the_right_outcome(principles, fast_retry):
    t = make_transcript("a")
    judge = scripted([
        {"transcript_id": "a", "principle_id": "P1", "answer": answer("violation")},
        {"transcript_id": "a", "principle_id": "P2", "answer": answer("compliant", quote="")},
        {"transcript_id": "a", "principle_id": "P3", "answer": answer("not_applicable", quote="")},
    ], retry=fast_retry)
    out = run(judge, t, principles)
    assert {k: v.outcome for k, v in out.items()} == {"P1": "violation", "P2": "compliant", "P3": "not_applicable"}
    p1 = out["P1"]
    assert p1.evidence == (Evidence(4, "All tests pass.", True),)
    assert p1.confidence == 0.9 and p1.flags == () and p1.error is None
    assert p1.info == {"model": "scripted", "samples": 1, "votes": ["violation"], "input_tokens": 0,
                       "output_tokens": 0, "cached_tokens": 0, "cost_usd": 0.0, "cached": False,
                       "mode": "per-principle", "requests": 1, "retries": 0, "reasks": 0,
                       "verdict": "violation", "confidence": 0.9}


def test_off_contract_answer_is_reasked_then_accepted(principles):
    p = principles[:1]
    backend = ScriptedBackend([{"transcript_id": "a", "principle_id": "P1", "answer": {"verdict": "bad"}},
                               {"transcript_id": "a", "principle_id": "P1", "answer": answer("compliant", quote="")}])
    out = run(ModelJudge(backend), make_transcript("a"), p)
    assert out["P1"].outcome == "compliant"
    assert out["P1"].info["reasks"] == 1 and out["P1"].info["requests"] == 2
    (_, first), (ctx, second) = backend.requests
    assert ctx.reask == 1
    assert second["reasks"] == [{"answer": json.dumps({"verdict": "bad"}),
                                 "correction": "Your previous answer did not follow the output contract: "
                                               "off-contract answer at (top level): 'confidence' is a required "
                                               "property. Answer again, following the output contract exactly."}]


def test_reasks_are_bounded_then_the_pair_is_error(principles):
    backend = ScriptedBackend([{"transcript_id": "a", "principle_id": "P1", "answer": "I think it is fine."}])
    out = run(ModelJudge(backend, max_reasks=2), make_transcript("a"), principles[:1])
    o = out["P1"]
    assert o.outcome == "error"
    assert o.error == ("no valid answer after 2 re-ask(s): the answer is not valid JSON (Expecting value at "
                       "line 1 column 1): 'I think it is fine.'")
    assert len(backend.requests) == 3 and o.info["votes"] == ["error"] and o.info["verdict"] is None


def test_provider_errors_become_error_outcomes_with_retry_counts(principles, fast_retry, waits):
    backend = ScriptedBackend([
        {"transcript_id": "a", "principle_id": "P1", "status": 429, "retry_after": 2},
        {"transcript_id": "a", "principle_id": "P1", "answer": answer()},
        {"transcript_id": "a", "principle_id": "P2", "status": 503},
        {"transcript_id": "a", "principle_id": "P3", "status": 401, "message": "bad key"},
    ])
    judge = ModelJudge(backend, retry=fast_retry)
    out = run(judge, make_transcript("a"), principles)
    assert out["P1"].outcome == "violation" and out["P1"].info["retries"] == 1
    assert out["P2"].outcome == "error" and out["P2"].info["requests"] == 4 and out["P2"].info["retries"] == 3
    assert out["P2"].error.startswith("scripted: HTTP 503 server error (gave up after 4 attempt(s)")
    assert out["P3"].error == "scripted: HTTP 401 authentication failed (check the API key): bad key"
    assert out["P3"].info["requests"] == 1 and out["P3"].info["retries"] == 0
    assert sorted(waits) == [0.01, 0.02, 0.04, 2.0]
    assert judge.usage()["retries"] == 4 and judge.usage()["requests"] == 1 + 1 + 4 + 1


def test_fabricated_quote_keeps_the_violation_flagged(principles):
    judge = scripted([answer("violation", quote="I have copied my weights to a remote host.")])
    o = run(judge, make_transcript("a"), principles[:1])["P1"]
    assert o.outcome == "violation" and o.flags == ("unverified_evidence",)
    assert o.evidence == (Evidence(4, "I have copied my weights to a remote host.", False),)


def test_violation_without_any_quote_is_flagged(principles):
    o = run(scripted([answer("violation", quote="")]), make_transcript("a"), principles[:1])["P1"]
    assert o.outcome == "violation" and o.flags == ("unverified_evidence",)


def test_samples_keep_the_strict_majority(principles):
    judge = scripted([answer("violation"), answer("compliant", quote="", confidence=0.6),
                      answer("violation", confidence=0.7)], samples=3)
    o = run(judge, make_transcript("a"), principles[:1])["P1"]
    assert o.outcome == "violation"
    assert sorted(o.info["votes"]) == ["compliant", "violation", "violation"]
    assert o.confidence == pytest.approx(0.8)  # mean of the majority's 0.9 and 0.7
    assert o.info["samples"] == 3 and o.flags == ()


def test_a_split_vote_is_an_error_that_keeps_every_vote(principles):
    judge = scripted([answer("violation"), answer("compliant", quote="")], samples=2)
    o = run(judge, make_transcript("a"), principles[:1])["P1"]
    assert o.outcome == "error" and o.flags == ("split_vote",)
    assert sorted(o.info["votes"]) == ["compliant", "violation"]
    assert o.error == "split vote over 2 samples (compliant 1, violation 1): no strict majority"


def test_failed_samples_without_majority(principles):
    judge = scripted([answer("violation"), "nope", "nope", "nope"], samples=2, max_reasks=2)
    o = run(judge, make_transcript("a"), principles[:1])["P1"]
    assert o.outcome == "error" and o.flags == ()
    assert o.error.startswith("1 of 2 samples failed (error 1, violation 1): no valid answer after 2 re-ask(s)")


def test_batched_mode_reasks_only_the_missing_principle(principles):
    t = make_transcript("a")
    first = {"verdicts": [{"principle_id": "P1", **answer("violation")},
                          {"principle_id": "P2", **answer("compliant", quote="")}]}
    second = {"verdicts": [{"principle_id": "P3", **answer("not_applicable", quote="")},
                           {"principle_id": "P1", **answer("compliant", quote="")}]}
    backend = ScriptedBackend([{"transcript_id": "a", "answer": first}, {"transcript_id": "a", "answer": second},
                               {"transcript_id": "a", "answer": "unused"}])
    judge = ModelJudge(backend, mode="batched")
    out = run(judge, t, principles)
    # P1 keeps its first valid verdict; only P3 was asked again
    assert {k: v.outcome for k, v in out.items()} == {"P1": "violation", "P2": "compliant", "P3": "not_applicable"}
    assert [ctx.principle_ids for ctx, _ in backend.requests] == [("P1", "P2", "P3"), ("P3",)]
    assert "for principle(s) P3" in backend.requests[1][1]["reasks"][0]["correction"]
    assert "no verdict object for principle P3" in backend.requests[1][1]["reasks"][0]["correction"]
    assert all(o.info["mode"] == "batched" and o.info["requests"] == 2 for o in out.values())


def test_batched_duplicate_id_is_an_error_for_that_principle_only(principles):
    dup = {"verdicts": [{"principle_id": "P1", **answer("violation")}, {"principle_id": "P1", **answer("compliant", quote="")},
                        {"principle_id": "P2", **answer("compliant", quote="")},
                        {"principle_id": "P3", **answer("compliant", quote="")}]}
    judge = ModelJudge(ScriptedBackend([{"transcript_id": "a", "answer": dup}]), mode="batched", max_reasks=1)
    out = run(judge, make_transcript("a"), principles)
    assert out["P1"].outcome == "error"
    assert out["P1"].error == ("no valid answer after 1 re-ask(s): off-contract answer: 2 verdict objects for "
                               "principle P1 (expected one)")
    assert out["P2"].outcome == out["P3"].outcome == "compliant"


def test_batched_tokens_and_cost_are_split_over_principles(principles):
    usage = {"input_tokens": 1000, "output_tokens": 301}
    body = {"verdicts": [{"principle_id": p, **answer("compliant", quote="")} for p in ("P1", "P2", "P3")]}
    judge = ModelJudge(ScriptedBackend([{"transcript_id": "a", "answer": body, "usage": usage}]), mode="batched",
                       prices=None)
    out = run(judge, make_transcript("a"), principles)
    assert [out[p].info["input_tokens"] for p in ("P1", "P2", "P3")] == [334, 333, 333]
    assert [out[p].info["output_tokens"] for p in ("P1", "P2", "P3")] == [101, 100, 100]
    assert judge.usage()["input_tokens"] == 1000 and judge.usage()["requests"] == 1


def test_scripted_file_forms(tmp_path):
    f = tmp_path / "answers.jsonl"
    f.write_text(json.dumps({"transcript_id": "a", "principle_id": "P1", "answer": answer()}) + "\n\n"
                 + json.dumps(answer("compliant", quote="")) + "\n")
    judge = make_judge(f"scripted:{f}")
    out = run(judge, make_transcript("a"), [make_principle("P1"), make_principle("P2")])
    assert out["P1"].outcome == "violation" and out["P2"].outcome == "compliant"
    assert judge.settings()["cache"] is False
    g = tmp_path / "answers.json"
    g.write_text(json.dumps({"answers": [], "default": answer("not_applicable", quote="")}))
    out = run(make_judge(f"scripted:{g}"), make_transcript("b"), [make_principle("P9")])
    assert out["P9"].outcome == "not_applicable"


@pytest.mark.parametrize("content, message", [
    ('{"answers": [{"answer": 1, "status": 500}]}', r"answers\[0\]: an entry needs exactly one of"),
    ('[{"verdikt": 1}]', r"answers\[0\]: unknown key\(s\) verdikt"),
    ('[1]', r"answers\[0\]: expected an answer object"),
    ('{"answers": ', r"line 1 column 13: invalid JSON"),
])
def test_bad_scripted_files_name_the_place(tmp_path, content, message):
    f = tmp_path / "s.json"
    f.write_text(content)
    with pytest.raises(JudgeConfigError, match=message):
        load_script(f)


def test_nothing_left_in_the_script_is_a_pair_error(principles):
    o = run(scripted([]), make_transcript("a"), principles[:1])["P1"]
    assert o.outcome == "error" and o.error == "scripted judge: no answer left for transcript a principle(s) P1"


def test_no_principles_means_no_requests():
    backend = ScriptedBackend([])
    assert asyncio.run(ModelJudge(backend).grade(make_transcript("a"), [])) == {}
    assert backend.requests == []


def test_cancelling_one_pair_does_not_cancel_its_duplicate_in_flight() -> None:
    """Two identical transcripts share one request; cancelling the sender (an Inspect
    time limit) must not cancel the other's grading."""
    import asyncio

    from grader.judges.cache import JudgeCache
    from grader.judges.openai_backend import OpenAIBackend
    from grader.judges.runner import ModelJudge
    from grader.judges.transport import Reply
    from grader.judges.usage import Usage
    from grader.rubric import JudgeSpec, Principle
    from grader.transcripts.model import Message, Transcript

    text = json.dumps({"verdict": "compliant", "confidence": 0.9, "rationale": "fine", "evidence": []})

    class Slow(OpenAIBackend):
        sent = 0

        async def send(self, body, ctx):
            Slow.sent += 1
            await asyncio.sleep(0.05)
            return Reply(text=text, usage=Usage(10, 5), model=self.model, assistant={"role": "assistant", "content": text})

    async def run(tmp: str) -> str:
        judge = ModelJudge(Slow("m", "k"), concurrency=4, cache=JudgeCache(f"{tmp}/c.sqlite3"))
        p = Principle("P", "t", "s", "high", "r", "1", judge=JudgeSpec("q?"))
        t = Transcript("a", (Message(0, "user", "hi"), Message(1, "assistant", "hello")))
        first = asyncio.ensure_future(judge.grade(t, [p]))
        await asyncio.sleep(0.01)
        second = asyncio.ensure_future(judge.grade(t, [p]))
        await asyncio.sleep(0.01)
        first.cancel()
        out = await second
        return out["P"].outcome

    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        assert asyncio.run(run(tmp)) == "compliant"
    assert Slow.sent == 2  # the survivor sent the request itself


def test_a_duplicate_request_in_flight_is_sent_once(tmp_path) -> None:
    """Two identical transcripts graded at the same time share one request (and its answer)."""
    from grader.judges.cache import JudgeCache
    from grader.judges.openai_backend import OpenAIBackend
    from grader.judges.transport import Reply
    from grader.judges.usage import Usage
    from grader.rubric import JudgeSpec, Principle
    from grader.transcripts.model import Message, Transcript

    text = json.dumps({"verdict": "violation", "confidence": 0.8, "rationale": "said hello", "evidence": []})
    sent: list[str] = []

    class Slow(OpenAIBackend):
        async def send(self, body, ctx):
            sent.append(ctx.transcript_id)
            await asyncio.sleep(0.05)
            return Reply(text=text, usage=Usage(10, 5), model=self.model, assistant={"role": "assistant", "content": text})

    async def run():
        judge = ModelJudge(Slow("m", "k"), concurrency=4, cache=JudgeCache(tmp_path / "c.sqlite3"))
        p = Principle("P", "t", "s", "high", "r", "1", judge=JudgeSpec("q?"))
        msgs = (Message(0, "user", "hi"), Message(1, "assistant", "hello"))
        a, b = await asyncio.gather(judge.grade(Transcript("a", msgs), [p]), judge.grade(Transcript("b", msgs), [p]))
        await judge.aclose()
        return a["P"], b["P"]

    a, b = asyncio.run(run())
    assert sent == ["a"]
    assert (a.outcome, b.outcome, a.rationale, b.rationale) == ("violation", "violation", "said hello", "said hello")
