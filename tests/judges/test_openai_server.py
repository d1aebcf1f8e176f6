"""The real ``openai`` SDK client against a fake OpenAI-compatible server on 127.0.0.1."""
from __future__ import annotations

import asyncio
import json

import jsonschema
import pytest

from grader.judges import make_judge
from grader.judges.answer import wire_schema
from grader.run.folder import Evidence
from grader.schemas import load_schema

from tests.judges.conftest import API_KEY, answer, make_principle, make_transcript
from grader.testing.fake_server import FakeServer, Reply, Script, error_body, openai_body

pytestmark = pytest.mark.usefixtures("http_client")

JUDGE_SCHEMA = load_schema("finding")["properties"]["judge"]


def ok(obj, **kw) -> Reply:
    return Reply(200, openai_body(json.dumps(obj), **kw))


def judge_for(srv: FakeServer, retry, **kw):
    return make_judge("openai:judge-model", base_url=srv.url, retry=retry, **kw)


def grade(judge, transcripts, principles):
    async def go():
        try:
            outs = await asyncio.gather(*(judge.grade(t, principles) for t in transcripts))
        finally:
            await judge.aclose()
        return {t.id: o for t, o in zip(transcripts, outs)}
    result = asyncio.run(go())
    for per in result.values():
        for o in per.values():
            jsonschema.validate(dict(o.info), JUDGE_SCHEMA)
    return result


# (case, what the server does, the outcome, requests the pair must cost)
SCENARIOS = {
    "correct": ([ok(answer())], "violation", 1),
    "ratelimited": ([Reply(429, error_body(429), {"retry-after": "3"}), ok(answer("compliant", quote=""))], "compliant", 2),
    "overloaded": ([Reply(529, error_body(529)), Reply(502, error_body(502)), ok(answer())], "violation", 3),
    "down": ([Reply(503, error_body(503, "upstream down"))], "error", 4),
    "badrequest": ([Reply(400, error_body(400, "context too long"))], "error", 1),
    "garbled": ([Reply(200, b"{not json"), ok(answer())], "violation", 2),
    "offcontract": ([ok({"verdict": "violation"}), ok({"verdict": "yes"}), ok({"verdict": "?"})], "error", 3),
    "fabricated": ([ok(answer(quote="I exfiltrated the model weights to my own server."))], "violation", 1),
    "refusal": ([Reply(200, openai_body(None, refusal="I can't help with that.")), ok(answer("not_applicable", quote=""))],
                "not_applicable", 2),
    # an answer that fits the contract but was cut off or filtered is never a grade
    "truncated": ([ok(answer("compliant", quote=""), finish_reason="length")], "error", 3),
    "filtered": ([ok(answer(), finish_reason="content_filter"), ok(answer())], "violation", 2),
}


def test_every_pair_ends_with_the_right_outcome_and_request_count(fast_retry, waits, tmp_path):
    script = Script({(case, "P1"): replies for case, (replies, _, _) in SCENARIOS.items()})
    transcripts = [make_transcript(case) for case in SCENARIOS]
    with FakeServer(script, "/v1") as srv:
        judge = judge_for(srv, fast_retry)
        out = grade(judge, transcripts, [make_principle("P1")])
    for case, (_, outcome, n) in SCENARIOS.items():
        o = out[case]["P1"]
        assert (case, o.outcome) == (case, outcome)
        assert (case, script.count(case, "P1")) == (case, n)
        assert o.info["requests"] == n
    assert out["ratelimited"]["P1"].info["retries"] == 1 and 3.0 in waits
    assert out["down"]["P1"].error.startswith("openai: HTTP 503 server error: upstream down (gave up after 4 attempt(s)")
    assert out["badrequest"]["P1"].error == "openai: HTTP 400 bad request: context too long"
    assert out["offcontract"]["P1"].error.startswith("no valid answer after 2 re-ask(s): off-contract answer at")
    assert out["fabricated"]["P1"].flags == ("unverified_evidence",)
    assert out["correct"]["P1"].evidence == (Evidence(4, "All tests pass.", True),)
    assert out["truncated"]["P1"].error == ("no valid answer after 2 re-ask(s): the answer was cut off "
                                            "(finish_reason length)")
    assert out["garbled"]["P1"].info["reasks"] == 1 and out["garbled"]["P1"].info["retries"] == 0
    usage = judge.usage()
    assert usage["requests"] == sum(n for _, _, n in SCENARIOS.values()) == len(srv.requests)
    assert usage["retries"] == 1 + 2 + 3


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_client_errors_are_not_retried_and_never_show_the_key(status, fast_retry, waits, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    msg = f"Incorrect API key provided: {API_KEY}" if status == 401 else "nope"
    with FakeServer(lambda r: Reply(status, error_body(status, msg)), "/v1") as srv:
        out = grade(judge_for(srv, fast_retry), [make_transcript("x")], [make_principle("P1")])
        assert len(srv.requests) == 1 and waits == []
        assert srv.requests[0].headers["authorization"] == f"Bearer {API_KEY}"
        assert srv.requests[0].headers.get("x-stainless-retry-count", "0") == "0"
    o = out["x"]["P1"]
    assert o.outcome == "error" and o.error.startswith(f"openai: HTTP {status} ")
    assert "\n" not in o.error and API_KEY not in o.error


def test_a_server_error_echoing_the_key_is_scrubbed_after_the_retries(fast_retry, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)

    def echo(req):
        return Reply(503, error_body(503, f"upstream rejected {req.headers['authorization']}"))

    with FakeServer(echo, "/v1") as srv:
        out = grade(judge_for(srv, fast_retry), [make_transcript("x")], [make_principle("P1")])
        assert len(srv.requests) == 4
    o = out["x"]["P1"]
    assert o.outcome == "error" and API_KEY not in o.error
    assert o.error.startswith("openai: HTTP 503 server error: upstream rejected Bearer [redacted] (gave up after 4")


def test_timeouts_are_retried(fast_retry):
    script = Script({("slow", "P1"): [Reply(200, openai_body(json.dumps(answer())), delay=2.0), ok(answer())]})
    with FakeServer(script, "/v1") as srv:
        out = grade(judge_for(srv, fast_retry, timeout=0.3), [make_transcript("slow")], [make_principle("P1")])
    o = out["slow"]["P1"]
    assert o.outcome == "violation" and o.info["retries"] == 1 and script.count("slow", "P1") == 2


def test_persistent_timeouts_end_in_a_timeout_error(fast_retry):
    script = Script({("slow", "P1"): [Reply(200, openai_body(json.dumps(answer())), delay=1.0)]})
    with FakeServer(script, "/v1") as srv:
        out = grade(judge_for(srv, fast_retry, timeout=0.2), [make_transcript("slow")], [make_principle("P1")])
    o = out["slow"]["P1"]
    assert o.outcome == "error" and o.info["requests"] == 4
    assert o.error.startswith("openai: no response within 0.2s (timeout)")


def test_request_shape_and_reask_shape(fast_retry):
    script = Script({("a", "P1"): [ok({"verdict": "violation"}), ok(answer())]})
    with FakeServer(script, "/v1") as srv:
        grade(judge_for(srv, fast_retry), [make_transcript("a")], [make_principle("P1")])
        first, second = (r.json for r in srv.requests)
        assert srv.requests[0].path == "/v1/chat/completions"
    assert first["model"] == "judge-model" and first["temperature"] == 0.0
    assert first["response_format"] == {"type": "json_schema", "json_schema": {
        "name": "verdict", "strict": True, "schema": wire_schema("judge_answer")}}
    assert [m["role"] for m in first["messages"]] == ["system", "user"]
    user = first["messages"][1]["content"]
    assert user.index("### message 4 · assistant") < user.index("Answer for principle P1")
    assert second["messages"][:2] == first["messages"]
    assert second["messages"][2] == {"role": "assistant", "content": '{"verdict": "violation"}'}
    assert second["messages"][3]["role"] == "user"
    assert second["messages"][3]["content"].startswith("Your previous answer did not follow the output contract: "
                                                       "off-contract answer at (top level): 'confidence' is a required property")


def test_second_run_is_served_from_the_cache(fast_retry, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    script = Script({("a", "P1"): [ok({"verdict": "violation"}), ok(answer())],
                     ("a", "P2"): [Reply(500, error_body(500)), ok(answer("compliant", quote=""), cached_tokens=64)],
                     ("b", "*"): [ok(answer("not_applicable", quote=""))]})
    ts = [make_transcript("a"), make_transcript("b")]
    ps = [make_principle("P1"), make_principle("P2")]
    with FakeServer(script, "/v1") as srv:
        first = grade(judge_for(srv, fast_retry), ts, ps)
        sent = len(srv.requests)
        judge2 = judge_for(srv, fast_retry)
        second = grade(judge2, ts, ps)
        assert len(srv.requests) == sent == 2 + 2 + 2
    for t in ("a", "b"):
        for p in ("P1", "P2"):
            a, b = first[t][p], second[t][p]
            assert (a.outcome, a.evidence, a.rationale) == (b.outcome, b.evidence, b.rationale)
            assert b.info["cached"] is True and b.info["requests"] == 0 and b.info["input_tokens"] == 0
            assert a.info["cached"] is False
    assert judge2.usage()["requests"] == 0 and judge2.usage()["cache_hits"] == 4 + 1  # + the cached re-ask
    assert first["a"]["P2"].info["cached_tokens"] == 64
    db = (tmp_path / "cache" / "judge-cache.sqlite3")
    assert db.exists()
    for f in (tmp_path / "cache").iterdir():
        assert API_KEY.encode() not in f.read_bytes()


def test_no_cache_sends_again(fast_retry):
    script = Script({}, default=ok(answer("compliant", quote="")))
    with FakeServer(script, "/v1") as srv:
        for _ in range(2):
            grade(judge_for(srv, fast_retry, cache=False), [make_transcript("a")], [make_principle("P1")])
        assert len(srv.requests) == 2


def test_concurrency_bounds_requests_in_flight(fast_retry):
    script = Script({}, default=Reply(200, openai_body(json.dumps(answer("compliant", quote=""))), delay=0.05))
    ts = [make_transcript(f"c{i}") for i in range(6)]
    ps = [make_principle(f"P{i}") for i in range(4)]
    with FakeServer(script, "/v1") as srv:
        out = grade(judge_for(srv, fast_retry, concurrency=5, cache=False), ts, ps)
        assert len(srv.requests) == 24
        assert srv.max_in_flight == 5
    assert all(o.outcome == "compliant" for per in out.values() for o in per.values())


def test_samples_are_separate_cached_requests_at_temperature_one(fast_retry):
    votes = iter(["violation", "compliant", "violation"])
    script = lambda r: ok(answer(next(votes)))  # noqa: E731
    with FakeServer(script, "/v1") as srv:
        out = grade(judge_for(srv, fast_retry, samples=3), [make_transcript("a")], [make_principle("P1")])
        bodies = [r.json for r in srv.requests]
        again = grade(judge_for(srv, fast_retry, samples=3), [make_transcript("a")], [make_principle("P1")])
        assert len(srv.requests) == 3
    assert {b["temperature"] for b in bodies} == {1.0} and bodies[0] == bodies[1] == bodies[2]
    o = out["a"]["P1"]
    assert o.outcome == "violation" and sorted(o.info["votes"]) == ["compliant", "violation", "violation"]
    assert again["a"]["P1"].info["votes"] == o.info["votes"]


def test_batched_mode_one_request_per_transcript(fast_retry):
    body = {"verdicts": [{"principle_id": "P1", **answer()}, {"principle_id": "P2", **answer("compliant", quote="")}]}
    script = Script({("a", "*"): [ok(body, prompt_tokens=901, completion_tokens=80)]})
    with FakeServer(script, "/v1") as srv:
        judge = judge_for(srv, fast_retry, mode="batched")
        out = grade(judge, [make_transcript("a")], [make_principle("P1"), make_principle("P2")])
        req = srv.requests[0].json
    assert len(srv.requests) == 1
    assert req["response_format"]["json_schema"]["name"] == "verdicts"
    assert req["response_format"]["json_schema"]["schema"] == wire_schema("judge_batch_answer")
    assert out["a"]["P1"].outcome == "violation" and out["a"]["P2"].outcome == "compliant"
    assert out["a"]["P1"].info["input_tokens"] + out["a"]["P2"].info["input_tokens"] == 901
    assert judge.usage()["input_tokens"] == 901


def test_usage_and_cost_totals(fast_retry):
    script = Script({}, default=ok(answer("compliant", quote=""), prompt_tokens=1000, completion_tokens=100,
                                   cached_tokens=400))
    with FakeServer(script, "/v1") as srv:
        judge = make_judge("openai:gpt-4.1", base_url=srv.url, retry=fast_retry)
        out = grade(judge, [make_transcript("a")], [make_principle("P1"), make_principle("P2")])
    # per call: 600 * 2.0 + 400 * 0.5 + 100 * 8.0 = 2200 per million = $0.0022
    assert out["a"]["P1"].info["cost_usd"] == pytest.approx(0.0022)
    u = judge.usage()
    assert (u["requests"], u["input_tokens"], u["output_tokens"], u["cached_tokens"]) == (2, 2000, 200, 800)
    assert u["cost_usd"] == pytest.approx(0.0044) and u["unpriced_requests"] == 0


def test_unpriced_local_model_has_no_cost(fast_retry):
    with FakeServer(Script({}, default=ok(answer("compliant", quote=""))), "/v1") as srv:
        judge = make_judge("openai:llama3.1:8b", base_url=srv.url, retry=fast_retry)
        out = grade(judge, [make_transcript("a")], [make_principle("P1")])
    assert out["a"]["P1"].info["cost_usd"] is None
    assert judge.usage()["unpriced_requests"] == 1 and judge.usage()["cost_usd"] == 0.0


def test_connection_refused_is_retried_then_error(fast_retry, waits):
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    judge = make_judge("openai:m", base_url=f"http://127.0.0.1:{port}/v1", retry=fast_retry)
    out = grade(judge, [make_transcript("a")], [make_principle("P1")])
    o = out["a"]["P1"]
    assert o.outcome == "error" and o.error.startswith("openai: connection error: ")
    assert o.info["requests"] == 4 and len(waits) == 3


def test_dropped_connection_is_a_connection_error_and_retried(fast_retry):
    script = Script({("drop", "P1"): [Reply(drop=True), Reply(drop=True), ok(answer())]})
    with FakeServer(script, "/v1") as srv:
        out = grade(judge_for(srv, fast_retry), [make_transcript("drop")], [make_principle("P1")])
    o = out["drop"]["P1"]
    assert o.outcome == "violation" and o.info["retries"] == 2 and script.count("drop", "P1") == 3

    script = Script({("drop", "P1"): [Reply(drop=True)]})
    with FakeServer(script, "/v1") as srv:
        out = grade(judge_for(srv, fast_retry), [make_transcript("drop")], [make_principle("P1")])
    o = out["drop"]["P1"]
    assert o.outcome == "error" and o.error.startswith("openai: connection error: ")
    assert "timeout" not in o.error and o.info["requests"] == 4


def test_key_never_reaches_settings(monkeypatch, fast_retry):
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    judge = make_judge("openai:m", base_url="http://user:pw@127.0.0.1:1/v1", retry=fast_retry)
    text = json.dumps(judge.settings())
    assert API_KEY not in text and "pw" not in text
    assert judge.settings()["base_url"] == "http://127.0.0.1:1/v1"
    assert judge.settings()["concurrency"] == 8
