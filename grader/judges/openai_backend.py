"""OpenAI Chat Completions (and any OpenAI-compatible server: vLLM, Ollama, llama.cpp)
with a JSON-schema response format, through the official ``openai`` SDK (retries off)."""
from __future__ import annotations

import json
import os
from functools import lru_cache
from typing import Any, Mapping

import openai

from ..errors import JudgeConfigError
from .answer import BATCH_SCHEMA, SINGLE_SCHEMA, wire_schema
from .cache import frozen
from .prompt import CHANNEL_JSON, MODE_BATCHED, Prompt
from .sdk_backend import SdkBackend
from .transport import Reply, RequestContext
from .usage import Usage


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _usage(data: Mapping[str, Any]) -> Usage:
    u = _mapping(data.get("usage"))
    details = _mapping(u.get("prompt_tokens_details"))
    return Usage(int(u.get("prompt_tokens") or 0), int(u.get("completion_tokens") or 0),
                 int(details.get("cached_tokens") or 0))


def parse_completion(content: str | bytes) -> Reply:
    """A Chat Completions response body -> :class:`Reply` (never raises)."""
    try:
        data = json.loads(content)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        return Reply(problem=f"the response body is not valid JSON ({e})", cacheable=False)
    if not isinstance(data, dict):
        return Reply(problem="the response body is not a JSON object", cacheable=False)
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return Reply(problem="the response has no choices", cacheable=False)
    usage = _usage(data)
    msg = _mapping(choices[0].get("message"))
    content_text, refusal = msg.get("content"), msg.get("refusal")
    model = data.get("model") if isinstance(data.get("model"), str) else None
    finish = choices[0].get("finish_reason")
    if finish in ("length", "content_filter"):  # unfinished or withheld: never a grade
        return Reply(problem=f"the answer was cut off (finish_reason {finish})", usage=usage, model=model,
                     assistant={"role": "assistant", "content": content_text if isinstance(content_text, str) else ""})
    if isinstance(refusal, str) and refusal and not content_text:
        return Reply(problem=f"the judge refused to answer: {' '.join(refusal.split())[:200]}", usage=usage,
                     model=model, assistant={"role": "assistant", "content": refusal})
    if not isinstance(content_text, str):
        return Reply(problem="the answer had no text content", usage=usage, model=model,
                     assistant={"role": "assistant", "content": ""})
    return Reply(text=content_text, usage=usage, model=model,
                 assistant={"role": "assistant", "content": content_text})


#: ``json_schema`` (OpenAI, vLLM, Ollama, llama.cpp's llama-server) or ``json_object``: the
#: ``{"type": "json_object", "schema": ...}`` form that llama-cpp-python's server reads (it
#: refuses ``json_schema``); both constrain the answer to the same schema.
RESPONSE_FORMAT_ENV = "GRADER_RESPONSE_FORMAT"
RESPONSE_FORMATS = ("json_schema", "json_object")


@lru_cache(maxsize=None)
def response_format(mode: str, style: str = "json_schema") -> dict[str, Any]:
    """The JSON-schema response format for a mode (a shared constant: do not mutate)."""
    schema, name = (BATCH_SCHEMA, "verdicts") if mode == MODE_BATCHED else (SINGLE_SCHEMA, "verdict")
    if style == "json_object":
        return frozen({"type": "json_object", "schema": wire_schema(schema)})
    return frozen({"type": "json_schema", "json_schema": {"name": name, "strict": True, "schema": wire_schema(schema)}})


def response_format_style() -> str:
    """The response format chosen by ``$GRADER_RESPONSE_FORMAT`` (default ``json_schema``)."""
    style = os.environ.get(RESPONSE_FORMAT_ENV, "").strip() or "json_schema"
    if style not in RESPONSE_FORMATS:
        raise JudgeConfigError(f"{RESPONSE_FORMAT_ENV}={style!r}: expected one of {', '.join(RESPONSE_FORMATS)}")
    return style


class OpenAIBackend(SdkBackend):
    """``openai:MODEL``. ``base_url`` (or ``$OPENAI_BASE_URL``) points at a compatible server."""

    name = "openai"
    sdk = openai
    client_class = openai.AsyncOpenAI
    path = "/chat/completions"
    channel = CHANNEL_JSON

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.response_style = response_format_style()

    def settings(self) -> dict[str, Any]:
        out = super().settings()
        if self.response_style != "json_schema":  # (recorded when not the default)
            out["response_format"] = self.response_style
        return out

    def request(self, prompt: Prompt, mode: str) -> dict[str, Any]:
        return {
            "model": self.model,
            "temperature": self.temperature,
            "messages": [{"role": "system", "content": prompt.system},
                         {"role": "user", "content": prompt.transcript + "\n\n" + prompt.task}],
            "response_format": response_format(mode, self.response_style),
        }

    def reask(self, body: Mapping[str, Any], reply: Reply, correction: str) -> dict[str, Any]:
        assistant = reply.assistant if isinstance(reply.assistant, dict) else {"role": "assistant", "content": reply.text or ""}
        return {**body, "messages": [*body["messages"], assistant, {"role": "user", "content": correction}]}

    async def send(self, body: Mapping[str, Any], ctx: RequestContext) -> Reply:
        return parse_completion(await self.post(body))
