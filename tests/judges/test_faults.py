"""Bounded time under faults: the run's retry accounting and budget against the fault mix
of bench/judge_faults.py (429 with Retry-After, 500, 503, malformed and off-contract
answers), with waits recorded instead of slept. Counts, never wall-clock times."""
from __future__ import annotations

import asyncio
import json
import re
from collections import Counter

import pytest
from click.testing import CliRunner

from grader.cli import cli as main
from grader.judges import RetryPolicy, make_judge
from grader.testing.fake_server import FakeServer, Reply, error_body
from grader.testing.faults import FAULTS, FaultMix
from tests.judges.conftest import make_principle, make_transcript
from tests.judges.test_factory_and_cli import _inputs

NEVER = 10 ** 12  # no request is marked malformed or off-contract


def policy(waits: list[float], **kw) -> RetryPolicy:
    async def sleep(s: float) -> None:
        waits.append(s)

    return RetryPolicy(**{"max_attempts": 5, "initial_wait": 0.01, "max_wait": 1.0, "jitter": 0.0,
                          "sleep": sleep, **kw})


def grade(srv: FakeServer, retry: RetryPolicy, concurrency: int, cases=("a", "b")) -> tuple[Counter, dict, list]:
    judge = make_judge("openai:faults", base_url=srv.url, concurrency=concurrency, cache=False, retry=retry)
    ps = [make_principle("P1"), make_principle("P2"), make_principle("P3")]

    async def go():
        try:
            return await asyncio.gather(*(judge.grade(make_transcript(c), ps) for c in cases))
        finally:
            await judge.aclose()

    outs = [o for res in asyncio.run(go()) for o in res.values()]
    return Counter(o.outcome for o in outs), judge.usage(), [o.error for o in outs if o.error]


def test_every_retry_and_wait_is_counted(monkeypatch):
    waits: list[float] = []
    with FakeServer(FaultMix(NEVER, NEVER), "/v1") as srv:
        outcomes, usage, errors = grade(srv, policy(waits), concurrency=8)
    # 6 requests, each: 429 (Retry-After 1) -> 500 (0.01 * 2) -> 503 (0.01 * 4) -> answer
    assert outcomes == {"compliant": 6} and errors == []
    assert (usage["requests"], usage["retries"], usage["retries_refused"]) == (24, 18, 0)
    assert sorted(waits) == [0.02] * 6 + [0.04] * 6 + [1.0] * 6
    assert usage["retry_wait_s"] == pytest.approx(6 * 1.06)


def test_malformed_answers_are_resent_and_off_contract_ones_reasked_through_the_faults():
    waits: list[float] = []
    # every request marked: its first answer is malformed (re-sent: same body, no new faults)
    with FakeServer(FaultMix(malformed_every=1, off_contract_every=NEVER), "/v1") as srv:
        outcomes, usage, _ = grade(srv, policy(waits), concurrency=8)
    assert outcomes == {"compliant": 6}
    assert (usage["requests"], usage["retries"], usage["reasks"]) == (6 * 5, 18, 6)
    waits.clear()
    # every first answer off the contract: the re-ask is a new request and meets the faults again
    with FakeServer(FaultMix(malformed_every=NEVER, off_contract_every=1), "/v1") as srv:
        outcomes, usage, _ = grade(srv, policy(waits), concurrency=8)
    assert outcomes == {"compliant": 6}
    assert (usage["requests"], usage["retries"], usage["reasks"]) == (6 * 8, 36, 6)
    assert usage["retry_wait_s"] == pytest.approx(12 * 1.06)


def test_a_spent_run_budget_fails_the_rest_at_once():
    waits: list[float] = []
    # one fault per request (429, Retry-After 1); budget 1 s per unit of concurrency x 2 = 2 s:
    # two requests may wait, the other four fail at their first 429
    with FakeServer(FaultMix(NEVER, NEVER, faults=FAULTS[:1]), "/v1") as srv:
        outcomes, usage, errors = grade(srv, policy(waits, run_budget=1.0), concurrency=2)
    assert outcomes == {"compliant": 2, "error": 4}
    assert (usage["retries"], usage["retries_refused"], usage["retry_wait_s"]) == (2, 4, 2.0)
    assert waits == [1.0, 1.0] and len(srv.requests) == 2 * 2 + 4
    assert len(errors) == 4 and all(re.fullmatch(r"openai: HTTP 429 rate limited: rate limited \(gave up after "
                                                 r"1 attempt\(s\) in \d+\.\ds; the run's retry budget is spent\)", e)
                                    for e in errors), errors


def test_the_summary_line_shows_retries_and_waits(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    rubric, data = _inputs(tmp_path)
    no_wait = (Reply(429, error_body(429, "rate limited"), {"retry-after": "0"}),)
    with FakeServer(FaultMix(NEVER, NEVER, faults=no_wait), "/v1") as srv:
        res = CliRunner().invoke(main, ["grade", str(data), "-r", str(rubric), "--judge", "openai:faults",
                                        "--base-url", srv.url, "-o", str(tmp_path / "run")])
    assert res.exit_code == 0, res.output
    assert "judge: 12 requests, 600 input tokens (0 cached), 120 output tokens, cost unknown (model not in the " \
           "price table); 6 retries (0.0 s waited)" in res.output
    usage = json.loads((tmp_path / "run" / "run.json").read_text())["usage"]
    assert (usage["retries"], usage["retry_wait_s"], usage["retries_refused"]) == (6, 0.0, 0)
