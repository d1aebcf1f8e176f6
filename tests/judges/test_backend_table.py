"""The table of judge backends: a new backend is one class and one row, and the spec
parser, the key check, the error messages and --batch all follow the table."""
from __future__ import annotations

import asyncio
from typing import Any, Mapping

import pytest

from grader.errors import JudgeConfigError
from grader.judges import backends, make_judge
from grader.judges.batching import make_batch_judge
from grader.judges.prompt import CHANNEL_JSON
from grader.judges.transport import Reply, RequestContext
from tests.judges.conftest import make_principle, make_transcript


class EchoBackend:
    """A backend that always answers compliant (what a new provider module would hold)."""

    name, channel, cacheable = "echo", CHANNEL_JSON, False

    def __init__(self, model: str, key: str):
        self.model, self.key = model, key

    @classmethod
    def from_spec(cls, target: str, *, api_key: str, **_: Any) -> "EchoBackend":
        return cls(target, api_key)

    def params(self) -> dict[str, Any]:
        return {}

    def request(self, prompt: Any, mode: str) -> dict[str, Any]:
        return {"model": self.model, "task": prompt.task}

    def reask(self, body: Mapping[str, Any], reply: Reply, correction: str) -> dict[str, Any]:
        return dict(body)

    async def send(self, body: Mapping[str, Any], ctx: RequestContext) -> Reply:
        return Reply(text='{"verdict": "compliant", "confidence": 0.8, "rationale": "echo", "evidence": []}')

    def settings(self) -> dict[str, Any]:
        return {"backend": "echo", "model": self.model}

    async def aclose(self) -> None:
        return None


@pytest.fixture
def echo_row(monkeypatch):
    row = backends.BackendKind("echo", f"{__name__}:EchoBackend", key_env="ECHO_API_KEY",
                               base_url_env="ECHO_BASE_URL", prices="echo")
    monkeypatch.setattr(backends, "BACKENDS", (*backends.BACKENDS, row))
    monkeypatch.delenv("ECHO_API_KEY", raising=False)
    return row


def test_one_row_adds_a_backend(echo_row, monkeypatch):
    with pytest.raises(JudgeConfigError, match=r"^--judge echo:m1 needs an API key: set ECHO_API_KEY$"):
        make_judge("echo:m1")
    with pytest.raises(JudgeConfigError, match=r"expected openai:MODEL, anthropic:MODEL, scripted:PATH or echo:MODEL$"):
        make_judge("nobody:m1")
    monkeypatch.setenv("ECHO_API_KEY", "k-123456")
    judge = make_judge("echo:m1")
    assert isinstance(judge.backend, EchoBackend) and judge.backend.key == "k-123456"
    out = asyncio.run(judge.grade(make_transcript("x"), [make_principle("P1")]))
    assert out["P1"].outcome == "compliant" and judge.spec == "echo:m1"
    with pytest.raises(JudgeConfigError, match=r"^--batch needs a judge with a batch API"):
        make_batch_judge(judge, "unused")


def test_every_shipped_row_loads_and_names_its_variables():
    rows = {k.name: k for k in backends.BACKENDS}
    assert (rows["openai"].key_env, rows["openai"].base_url_env) == ("OPENAI_API_KEY", "OPENAI_BASE_URL")
    assert (rows["anthropic"].key_env, rows["anthropic"].base_url_env) == ("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL")
    assert rows["scripted"].key_env is None and rows["scripted"].batch is None
    for row in backends.BACKENDS:
        assert row.load().name == row.name and hasattr(row.load(), "from_spec")
        if row.batch:
            assert row.load("batch").provider == row.prices
