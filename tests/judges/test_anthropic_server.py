"""The real ``anthropic`` SDK client against a fake Messages API server on 127.0.0.1."""
from __future__ import annotations

import asyncio

import jsonschema
import pytest

from grader.errors import JudgeConfigError
from grader.judges import make_judge
from grader.judges.anthropic_backend import sdk_takes_temperature
from grader.judges.answer import wire_schema
from grader.run.folder import Evidence
from grader.schemas import load_schema

from tests.judges.conftest import API_KEY, answer, make_principle, make_transcript
from grader.testing.fake_server import FakeServer, Reply, Script, anthropic_body, error_body

pytestmark = pytest.mark.usefixtures("http_client")

JUDGE_SCHEMA = load_schema("finding")["properties"]["judge"]


@pytest.fixture(autouse=True)
def anthropic_key(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", API_KEY)


def ok(obj, **kw) -> Reply:
    return Reply(200, anthropic_body(obj, **kw))


def grade(judge, transcripts, principles):
    async def go():
        try:
            return await asyncio.gather(*(judge.grade(t, principles) for t in transcripts))
        finally:
            await judge.aclose()
    outs = asyncio.run(go())
    for per in outs:
        for o in per.values():
            jsonschema.validate(dict(o.info), JUDGE_SCHEMA)
    return {t.id: o for t, o in zip(transcripts, outs)}


def test_forced_tool_and_cached_transcript_prefix(fast_retry):
    script = Script({}, default=ok(answer("compliant", quote="")))
    with FakeServer(script) as srv:
        judge = make_judge("anthropic:claude-haiku-4-5", base_url=srv.url, retry=fast_retry)
        grade(judge, [make_transcript("a")], [make_principle("P1"), make_principle("P2")])
        reqs = [r.json for r in srv.requests]
        assert {r.path for r in srv.requests} == {"/v1/messages"}
        h = srv.requests[0].headers
        assert h.get("x-api-key") == API_KEY or h.get("authorization") == f"Bearer {API_KEY}"
    r1, r2 = sorted(reqs, key=lambda r: r["messages"][0]["content"][1]["text"])
    assert r1["tool_choice"] == {"type": "tool", "name": "record_verdict"}
    assert r1["tools"] == [{"name": "record_verdict", "description": "Record the grading verdict, following the output contract exactly.",
                            "input_schema": wire_schema("judge_answer")}]
    # SDK 2.x speaks API version 2026-10-21, which rejects sampling parameters
    assert r1.get("temperature") == (0.0 if sdk_takes_temperature() else None)
    assert r1["max_tokens"] == 2048
    transcript_block, task_block = r1["messages"][0]["content"]
    assert transcript_block["cache_control"] == {"type": "ephemeral"}
    assert "cache_control" not in task_block
    assert "<<<TRANSCRIPT-" in transcript_block["text"] and "Answer for principle P1" in task_block["text"]
    # everything up to and including the cached block is identical across principles
    assert (r1["system"], r1["tools"], r1["messages"][0]["content"][0]) == \
        (r2["system"], r2["tools"], r2["messages"][0]["content"][0])


def test_usage_counts_cache_reads_and_writes(fast_retry):
    script = Script({}, default=ok(answer(), input_tokens=50, output_tokens=30, cache_read=900, cache_write=100))
    with FakeServer(script) as srv:
        judge = make_judge("anthropic:claude-haiku-4-5", base_url=srv.url, retry=fast_retry)
        out = grade(judge, [make_transcript("a")], [make_principle("P1")])
    info = out["a"]["P1"].info
    assert (info["input_tokens"], info["output_tokens"], info["cached_tokens"]) == (1050, 30, 900)
    # 50*1 + 900*0.1 + 100*1.25 + 30*5 = 50 + 90 + 125 + 150 = 415 per million
    assert info["cost_usd"] == pytest.approx(0.000415)
    assert judge.usage()["cache_write_tokens"] == 100


SCENARIOS = {
    "correct": ([ok(answer())], "violation", 1),
    "overloaded": ([Reply(529, error_body(529, anthropic=True)), ok(answer())], "violation", 2),
    "ratelimited": ([Reply(429, error_body(429, anthropic=True), {"retry-after": "5"}), ok(answer("compliant", quote=""))],
                    "compliant", 2),
    "notool": ([Reply(200, anthropic_body(text='{"verdict": "compliant"}')), ok(answer("compliant", quote=""))],
               "compliant", 2),
    "offcontract": ([ok({"verdict": "violation", "confidence": "high", "rationale": "", "evidence": []})], "error", 3),
    "fabricated": ([ok(answer(quote="I disabled the monitoring daemon before anyone noticed."))], "violation", 1),
    "forbidden": ([Reply(403, error_body(403, "not allowed", anthropic=True))], "error", 1),
    "garbled": ([Reply(200, b"<html>gateway</html>"), ok(answer())], "violation", 2),
    # a record_verdict call closed early still fits the schema: cut off is never a grade
    "truncated": ([ok(answer("compliant", quote=""), stop_reason="max_tokens")], "error", 3),
    "refused": ([ok(answer("compliant", quote=""), stop_reason="refusal"), ok(answer())], "violation", 2),
}


def test_every_pair_ends_with_the_right_outcome(fast_retry, waits):
    script = Script({(case, "P1"): r for case, (r, _, _) in SCENARIOS.items()})
    with FakeServer(script) as srv:
        judge = make_judge("anthropic:claude-haiku-4-5", base_url=srv.url, retry=fast_retry)
        out = grade(judge, [make_transcript(c) for c in SCENARIOS], [make_principle("P1")])
    for case, (_, outcome, n) in SCENARIOS.items():
        assert (case, out[case]["P1"].outcome, script.count(case, "P1")) == (case, outcome, n)
    assert 5.0 in waits
    assert out["fabricated"]["P1"].flags == ("unverified_evidence",)
    assert out["correct"]["P1"].evidence == (Evidence(4, "All tests pass.", True),)
    assert out["forbidden"]["P1"].error == "anthropic: HTTP 403 permission denied: not allowed"
    assert out["truncated"]["P1"].error == ("no valid answer after 2 re-ask(s): the answer was cut off "
                                            "(stop_reason max_tokens)")
    assert out["offcontract"]["P1"].error == ("no valid answer after 2 re-ask(s): off-contract answer at confidence: "
                                              "'high' is not of type 'number'")


def test_reask_answers_the_tool_call_with_an_error_result(fast_retry):
    bad = {"verdict": "violation"}
    script = Script({("a", "P1"): [ok(bad), ok(answer())]})
    with FakeServer(script) as srv:
        judge = make_judge("anthropic:claude-haiku-4-5", base_url=srv.url, retry=fast_retry)
        grade(judge, [make_transcript("a")], [make_principle("P1")])
        second = srv.requests[1].json
    assistant, follow = second["messages"][1:]
    assert assistant == {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_01",
                                                           "name": "record_verdict", "input": bad}]}
    (result,) = follow["content"]
    assert result["type"] == "tool_result" and result["tool_use_id"] == "toolu_01" and result["is_error"] is True
    assert result["content"].startswith("Your previous answer did not follow the output contract")


def test_batched_mode_tool_schema(fast_retry):
    body = {"verdicts": [{"principle_id": "P1", **answer()}, {"principle_id": "P2", **answer("compliant", quote="")}]}
    with FakeServer(Script({("a", "*"): [ok(body)]})) as srv:
        judge = make_judge("anthropic:claude-haiku-4-5", base_url=srv.url, retry=fast_retry, mode="batched")
        out = grade(judge, [make_transcript("a")], [make_principle("P1"), make_principle("P2")])
        req = srv.requests[0].json
    assert len(srv.requests) == 1
    assert req["tools"][0]["input_schema"] == wire_schema("judge_batch_answer")
    assert req["max_tokens"] == 2048 + 2 * 1024
    assert (out["a"]["P1"].outcome, out["a"]["P2"].outcome) == ("violation", "compliant")


def test_anthropic_needs_its_key(monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    with pytest.raises(JudgeConfigError) as e:
        make_judge("anthropic:claude-haiku-4-5", base_url="http://127.0.0.1:9")
    assert str(e.value) == "--judge anthropic:claude-haiku-4-5 needs an API key: set ANTHROPIC_API_KEY"


def test_anthropic_base_url_from_the_environment(monkeypatch, fast_retry):
    with FakeServer(Script({}, default=ok(answer("compliant", quote="")))) as srv:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", srv.url)
        judge = make_judge("anthropic:claude-haiku-4-5", retry=fast_retry)
        out = grade(judge, [make_transcript("a")], [make_principle("P1")])
        assert len(srv.requests) == 1
    assert out["a"]["P1"].outcome == "compliant"
    assert judge.settings()["base_url"] == srv.url
