from __future__ import annotations

import asyncio
import json

import pytest

from grader.errors import JudgeConfigError, JudgeError, ProviderError, TransientProviderError
from grader.judges.cache import JudgeCache, cache_dir, cache_key
from grader.judges.retry import RetryPolicy, with_retries
from grader.judges.transport import parse_retry_after, public_url, status_error
from grader.judges.usage import PriceTable, Usage


# -- prices ---------------------------------------------------------------------------------
def test_price_lookup_uses_the_longest_prefix():
    table = PriceTable.load()
    assert table.lookup("gpt-4.1-mini-2025-04-14") == table.models["gpt-4.1-mini"]
    assert table.lookup("gpt-4.1") == table.models["gpt-4.1"]
    assert table.lookup("openai/gpt-4o-mini") == table.models["gpt-4o-mini"]
    assert table.lookup("llama3.1:8b") is None


def test_cost_arithmetic_openai_and_anthropic():
    table = PriceTable({"m": {"input": 2.0, "cached_input": 0.5, "output": 8.0},
                        "c": {"input": 3.0, "cached_input": 0.3, "cache_write": 3.75, "output": 15.0}})
    # (1000 - 400) * 2 + 400 * 0.5 + 100 * 8 = 1200 + 200 + 800 = 2200 per million
    assert table.cost("m", Usage(1000, 100, 400)) == pytest.approx(0.0022)
    # fresh 1000 - 200 - 300 = 500: 500*3 + 200*0.3 + 300*3.75 + 50*15 = 1500 + 60 + 1125 + 750 = 3435
    assert table.cost("c", Usage(1000, 50, 200, 300)) == pytest.approx(0.003435)
    assert table.cost("unknown", Usage(10, 10)) is None


def test_price_override_file(tmp_path, monkeypatch):
    path = tmp_path / "prices.json"
    path.write_text(json.dumps({"models": {"my-local": {"input": 1.0, "output": 1.0}}}))
    monkeypatch.setenv("GRADER_PRICES", str(path))
    table = PriceTable.load()
    assert table.cost("my-local", Usage(500_000, 500_000)) == pytest.approx(1.0)
    assert "gpt-4.1" in table.models
    path.write_text(json.dumps({"models": {"x": {"input": -1, "output": 1}}}))
    with pytest.raises(JudgeConfigError, match=r"prices.json: at models.x.input: -1 is less than the minimum of 0"):
        PriceTable.load()


# -- cache ----------------------------------------------------------------------------------
def test_cache_key_depends_on_every_part():
    base = ("openai", "m", {"temperature": 0.0}, {"messages": ["x"]}, 0)
    keys = {cache_key(*base),
            cache_key("anthropic", *base[1:]),
            cache_key("openai", "m2", *base[2:]),
            cache_key("openai", "m", {"temperature": 1.0}, *base[3:]),
            cache_key("openai", "m", {"temperature": 0.0}, {"messages": ["y"]}, 0),
            cache_key(*base[:4], 1)}
    assert len(keys) == 6
    assert cache_key(*base) == cache_key("openai", "m", {"temperature": 0.0}, {"messages": ["x"]}, 0)


def test_cache_roundtrip_and_location(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADER_CACHE_DIR", str(tmp_path / "c"))
    assert cache_dir() == tmp_path / "c"
    c = JudgeCache.open_default()
    assert c.path == tmp_path / "c" / "judge-cache.sqlite3"
    assert c.get("k") is None
    c.put("k", "openai", "m", {"text": "hi"})
    assert c.get("k") == {"text": "hi"}
    assert len(c) == 1
    c.close()
    again = JudgeCache.open_default()
    assert again.get("k") == {"text": "hi"}
    again.close()


def test_unwritable_cache_is_a_config_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(JudgeConfigError, match="cannot open the judge cache"):
        JudgeCache(blocker / "sub" / "db.sqlite3")


# -- HTTP status classification and Retry-After --------------------------------------------
@pytest.mark.parametrize("status, transient", [(400, False), (401, False), (403, False), (404, False),
                                               (409, False), (422, False), (408, True), (429, True), (500, True),
                                               (503, True), (529, True)])
def test_status_classification(status, transient):
    err = status_error("openai", status, "boom", {})
    assert isinstance(err, TransientProviderError if transient else ProviderError)
    assert not (isinstance(err, TransientProviderError) and not transient)


def test_retry_after_forms():
    assert parse_retry_after({"retry-after": "7"}) == 7.0
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert parse_retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:10 GMT"}, now=1445412480.0) == 10.0
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None


def test_public_url_drops_credentials():
    assert public_url("http://user:pw@127.0.0.1:8000/v1?key=x") == "http://127.0.0.1:8000/v1"


# -- the retry loop -------------------------------------------------------------------------
def _flaky(errors: list[BaseException]):
    calls = {"n": 0}

    async def fn() -> str:
        calls["n"] += 1
        if errors:
            raise errors.pop(0)
        return "ok"

    return fn, calls


def test_backoff_doubles_and_retry_after_is_honoured(fast_retry, waits):
    fn, calls = _flaky([TransientProviderError("500"), TransientProviderError("500"),
                        TransientProviderError("429", retry_after=7.0)])
    seen: list[float] = []
    assert asyncio.run(with_retries(fn, fast_retry, lambda e, w: seen.append(w))) == "ok"
    assert calls["n"] == 4
    assert waits == [0.01, 0.02, 7.0] == seen


def test_retry_after_is_capped(waits):
    async def sleep(s: float) -> None:
        waits.append(s)
    policy = RetryPolicy(max_attempts=2, retry_after_cap=5.0, sleep=sleep)
    fn, _ = _flaky([TransientProviderError("429", retry_after=120.0)])
    asyncio.run(with_retries(fn, policy))
    assert waits == [5.0]


def test_gives_up_after_max_attempts(fast_retry, waits):
    fn, calls = _flaky([TransientProviderError("openai: HTTP 503 server error")] * 10)
    with pytest.raises(JudgeError, match=r"^openai: HTTP 503 server error \(gave up after 4 attempt\(s\) in"):
        asyncio.run(with_retries(fn, fast_retry))
    assert calls["n"] == 4 and len(waits) == 3


def test_gives_up_when_the_next_wait_passes_the_total_budget(waits):
    async def sleep(s: float) -> None:
        waits.append(s)
    policy = RetryPolicy(max_attempts=10, max_total=10.0, retry_after_cap=60.0, sleep=sleep)
    fn, calls = _flaky([TransientProviderError("429", retry_after=4.0)] * 10)
    with pytest.raises(JudgeError):
        asyncio.run(with_retries(fn, policy))
    # waits 4 (t=4) then 4 (t=8); a third 4 s wait would end past 10 s
    assert waits == [4.0, 4.0] and calls["n"] == 3


def test_non_transient_errors_are_not_retried(fast_retry, waits):
    fn, calls = _flaky([ProviderError("openai: HTTP 401 authentication failed")])
    with pytest.raises(ProviderError, match="401"):
        asyncio.run(with_retries(fn, fast_retry))
    assert calls["n"] == 1 and waits == []


def test_frozen_parts_hash_like_their_copies():
    import copy

    from grader.judges.cache import frozen
    part = frozen({"type": "json_schema", "schema": {"a": [1, 2.5, None, True, "x"]}})
    body = {"messages": [{"role": "user", "content": "hé"}], "response_format": part}
    twin = copy.deepcopy(body)
    assert twin["response_format"] is not part
    assert cache_key("openai", "m", {}, body, 0) == cache_key("openai", "m", {}, twin, 0)
    # the type tags keep look-alike values apart
    assert cache_key("openai", "m", {}, {"a": "1"}, 0) != cache_key("openai", "m", {}, {"a": 1}, 0)
    assert cache_key("openai", "m", {}, {"a": ["bc"]}, 0) != cache_key("openai", "m", {}, {"a": ["b", "c"]}, 0)
    assert cache_key("openai", "m", {}, {"a": True}, 0) != cache_key("openai", "m", {}, {"a": 1}, 0)


def test_two_servers_serving_the_same_model_name_never_share_cache_entries():
    """A re-run against another vLLM/Ollama server must not replay the first server's verdicts."""
    from grader.judges.cache import key_head
    from grader.judges.openai_backend import OpenAIBackend

    a = OpenAIBackend("llama3", "k", base_url="http://server-a:8000/v1")
    b = OpenAIBackend("llama3", "k", base_url="http://server-b:11434/v1")
    same_a = OpenAIBackend("llama3", "other-key", base_url="http://server-a:8000/v1")
    head = lambda be: key_head(be.name, be.model, be.params())  # noqa: E731
    assert head(a) != head(b)
    assert head(a) == head(same_a)  # the key is not part of the cache key
    assert "k" not in json.dumps(a.params())


def test_a_cache_that_fails_is_a_miss_and_a_skipped_write_not_a_lost_judgment(tmp_path):
    import sqlite3

    store = JudgeCache(tmp_path / "c.sqlite3")
    store.put("k", "openai", "m", {"text": "answer"})
    assert store.get("k") == {"text": "answer"}

    class Locked:
        def execute(self, *a, **k):
            raise sqlite3.OperationalError("database is locked")

    store._db = Locked()
    assert store.get("k") is None and store.get_many(["k"]) == {}
    store.put("k2", "openai", "m", {"text": "x"})
    assert store.failures == 3
