"""Anthropic Messages API with a forced ``record_verdict`` tool, through the official
``anthropic`` SDK (retries off). The transcript block carries ``cache_control`` so calls
about several principles of one transcript share a cached prefix."""
from __future__ import annotations

import inspect
import json
from functools import lru_cache
from typing import Any, Mapping

import anthropic

from .answer import BATCH_SCHEMA, SINGLE_SCHEMA, wire_schema
from .cache import frozen
from .prompt import CHANNEL_TOOL, MODE_BATCHED, TOOL_NAME, Prompt
from .sdk_backend import SdkBackend
from .transport import Reply, RequestContext
from .usage import Usage

TOOL_DESCRIPTION = "Record the grading verdict, following the output contract exactly."
MAX_TOKENS_SINGLE = 2048
MAX_TOKENS_PER_PRINCIPLE = 1024
MAX_TOKENS_CAP = 16000


def sdk_takes_temperature() -> bool:
    """Whether the installed SDK's Messages API version has ``temperature``. API version
    2026-10-21 (SDK 2.x) removed the sampling parameters and answers 400 to them."""
    try:
        from anthropic.resources.messages import AsyncMessages
        return "temperature" in inspect.signature(AsyncMessages.create).parameters
    except (ImportError, AttributeError, TypeError, ValueError):
        return True


def _usage(data: Mapping[str, Any]) -> Usage:
    u: Mapping[str, Any] = data["usage"] if isinstance(data.get("usage"), Mapping) else {}
    read = int(u.get("cache_read_input_tokens") or 0)
    write = int(u.get("cache_creation_input_tokens") or 0)
    return Usage(int(u.get("input_tokens") or 0) + read + write, int(u.get("output_tokens") or 0), read, write)


def parse_message(content: str | bytes) -> Reply:
    """A Messages API response body -> :class:`Reply` (never raises)."""
    try:
        data = json.loads(content)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        return Reply(problem=f"the response body is not valid JSON ({e})", cacheable=False)
    if not isinstance(data, dict) or not isinstance(data.get("content"), list):
        return Reply(problem="the response has no content list", cacheable=False)
    usage = _usage(data)
    model = data.get("model") if isinstance(data.get("model"), str) else None
    blocks = [b for b in data["content"] if isinstance(b, dict) and b.get("type") in ("text", "tool_use")]
    call = next((b for b in blocks if b.get("type") == "tool_use" and b.get("name") == TOOL_NAME), None)
    text = "".join(b.get("text") or "" for b in blocks if b.get("type") == "text")
    said = [call] if call is not None else [{"type": "text", "text": text or "(no answer)"}]
    stop = data.get("stop_reason")
    if stop in CUT_OFF:  # a tool call closed early can still fit the schema: never a grade
        return Reply(problem=f"the answer was cut off (stop_reason {stop})", usage=usage, model=model, assistant=said)
    if stop == "refusal":
        return Reply(problem="the judge refused to answer (stop_reason refusal)", usage=usage, model=model,
                     assistant=said)
    if call is not None:
        return Reply(data=call.get("input"), usage=usage, model=model, assistant=said)
    return Reply(problem=f"the answer did not call the {TOOL_NAME} tool", usage=usage, model=model, assistant=said)


#: stop reasons of an unfinished answer
CUT_OFF = frozenset({"max_tokens", "model_context_window_exceeded", "pause_turn"})


TOOL_CHOICE = frozen({"type": "tool", "name": TOOL_NAME})


@lru_cache(maxsize=None)
def tools(mode: str) -> list[dict[str, Any]]:
    """The ``record_verdict`` tool for a mode (a shared constant: do not mutate)."""
    schema = wire_schema(BATCH_SCHEMA if mode == MODE_BATCHED else SINGLE_SCHEMA)
    return frozen([{"name": TOOL_NAME, "description": TOOL_DESCRIPTION, "input_schema": schema}])


class AnthropicBackend(SdkBackend):
    """``anthropic:MODEL``. ``base_url`` (or ``$ANTHROPIC_BASE_URL``) points elsewhere."""

    name = "anthropic"
    sdk = anthropic
    client_class = anthropic.AsyncAnthropic
    path = "/v1/messages"
    channel = CHANNEL_TOOL

    def __init__(self, model: str, api_key: str, *, base_url: str | None = None, timeout: float = 120.0,
                 temperature: float = 0.0, pool: int = 8):
        super().__init__(model, api_key, base_url=base_url, timeout=timeout,
                         temperature=temperature if sdk_takes_temperature() else None, pool=pool)

    def request(self, prompt: Prompt, mode: str) -> dict[str, Any]:
        batched = mode == MODE_BATCHED
        max_tokens = (min(MAX_TOKENS_CAP, MAX_TOKENS_SINGLE + MAX_TOKENS_PER_PRINCIPLE * len(prompt.principle_ids))
                      if batched else MAX_TOKENS_SINGLE)
        body: dict[str, Any] = {"model": self.model, "max_tokens": max_tokens}
        if self.temperature is not None:
            body["temperature"] = self.temperature
        return {
            **body,
            "system": prompt.system,
            "tools": tools(mode),
            "tool_choice": TOOL_CHOICE,
            "messages": [{"role": "user", "content": [
                {"type": "text", "text": prompt.transcript, "cache_control": {"type": "ephemeral"}},
                {"type": "text", "text": prompt.task},
            ]}],
        }

    def reask(self, body: Mapping[str, Any], reply: Reply, correction: str) -> dict[str, Any]:
        blocks = reply.assistant if isinstance(reply.assistant, list) and reply.assistant else \
            [{"type": "text", "text": "(no answer)"}]
        tool = next((b for b in blocks if b.get("type") == "tool_use"), None)
        if tool is not None:
            follow: Any = [{"type": "tool_result", "tool_use_id": tool.get("id"), "is_error": True,
                            "content": correction}]
        else:
            follow = correction
        return {**body, "messages": [*body["messages"], {"role": "assistant", "content": blocks},
                                     {"role": "user", "content": follow}]}

    async def send(self, body: Mapping[str, Any], ctx: RequestContext) -> Reply:
        return parse_message(await self.post(body))
