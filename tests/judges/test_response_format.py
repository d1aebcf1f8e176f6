"""``GRADER_RESPONSE_FORMAT``: the JSON-schema response format as OpenAI specifies it
(default), or the ``json_object`` + ``schema`` form llama-cpp-python's server reads (it
answers ``json_schema`` with HTTP 500, "Input should be 'text' or 'json_object'")."""
from __future__ import annotations

import pytest

from grader.errors import JudgeConfigError
from grader.judges.answer import wire_schema
from grader.judges.factory import make_judge
from grader.judges.prompt import build_prompt, render_transcript

from tests.judges.conftest import make_principle, make_transcript


def _body(judge):
    p = make_principle("P1")
    prompt = build_prompt(render_transcript(make_transcript("a")), [p], "per-principle", judge.backend.channel)
    return judge.backend.request(prompt, "per-principle")


def test_default_is_json_schema(monkeypatch):
    judge = make_judge("openai:m", base_url="http://127.0.0.1:9/v1", cache=False)
    assert _body(judge)["response_format"] == {"type": "json_schema", "json_schema": {
        "name": "verdict", "strict": True, "schema": wire_schema("judge_answer")}}
    assert "response_format" not in judge.settings()


def test_json_object_form_for_llama_cpp_python(monkeypatch):
    monkeypatch.setenv("GRADER_RESPONSE_FORMAT", "json_object")
    judge = make_judge("openai:m", base_url="http://127.0.0.1:9/v1", cache=False)
    assert _body(judge)["response_format"] == {"type": "json_object", "schema": wire_schema("judge_answer")}
    assert judge.settings()["response_format"] == "json_object"


def test_unknown_form_is_a_config_error(monkeypatch):
    monkeypatch.setenv("GRADER_RESPONSE_FORMAT", "grammar")
    with pytest.raises(JudgeConfigError) as e:
        make_judge("openai:m", base_url="http://127.0.0.1:9/v1", cache=False)
    assert str(e.value) == "GRADER_RESPONSE_FORMAT='grammar': expected one of json_schema, json_object"
