"""OpenAI Chat Completions (and any OpenAI-compatible server: vLLM, Ollama, llama.cpp)
with a JSON-schema response format, through the official ``openai`` SDK (retries off)."""
from __future__ import annotations

import json
from functools import lru_cache
from typing import Any, Mapping

import openai

from ..errors import TransientProviderError
from .answer import BATCH_SCHEMA, SINGLE_SCHEMA, wire_schema
from .cache import frozen
from .prompt import CHANNEL_JSON, MODE_BATCHED, Prompt
from .transport import LoopClient, pooled_http_client, Reply, RequestContext, Scrubber, error_message, public_url, status_error
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
    if isinstance(refusal, str) and refusal and not content_text:
        return Reply(problem=f"the judge refused to answer: {' '.join(refusal.split())[:200]}", usage=usage,
                     model=model, assistant={"role": "assistant", "content": refusal})
    if not isinstance(content_text, str):
        return Reply(problem="the answer had no text content", usage=usage, model=model,
                     assistant={"role": "assistant", "content": ""})
    return Reply(text=content_text, usage=usage, model=model,
                 assistant={"role": "assistant", "content": content_text})


@lru_cache(maxsize=None)
def response_format(mode: str) -> dict[str, Any]:
    """The JSON-schema response format for a mode (a shared constant: do not mutate)."""
    schema, name = (BATCH_SCHEMA, "verdicts") if mode == MODE_BATCHED else (SINGLE_SCHEMA, "verdict")
    return frozen({"type": "json_schema", "json_schema": {"name": name, "strict": True, "schema": wire_schema(schema)}})


class OpenAIBackend:
    """``openai:MODEL``. ``base_url`` (or ``$OPENAI_BASE_URL``) points at a compatible server."""

    name = "openai"
    channel = CHANNEL_JSON
    cacheable = True

    def __init__(self, model: str, api_key: str, *, base_url: str | None = None, timeout: float = 120.0,
                 temperature: float = 0.0, pool: int = 8):
        self.model = model
        self._api_key = api_key
        self.base_url = base_url
        self.timeout = timeout
        self.pool = pool
        self.temperature = temperature
        self.scrub = Scrubber([api_key])
        self.clients: LoopClient[openai.AsyncOpenAI] = LoopClient(self._make_client)

    def _make_client(self) -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(api_key=self._api_key, base_url=self.base_url, max_retries=0, timeout=self.timeout,
                                   http_client=pooled_http_client(openai, self.pool))

    def params(self) -> dict[str, Any]:
        return {"temperature": self.temperature}

    def settings(self) -> dict[str, Any]:
        return {"backend": self.name, "model": self.model, "base_url": public_url(self.base_url),
                "timeout": self.timeout, "temperature": self.temperature}

    def request(self, prompt: Prompt, mode: str) -> dict[str, Any]:
        return {
            "model": self.model,
            "temperature": self.temperature,
            "messages": [{"role": "system", "content": prompt.system},
                         {"role": "user", "content": prompt.transcript + "\n\n" + prompt.task}],
            "response_format": response_format(mode),
        }

    def reask(self, body: Mapping[str, Any], reply: Reply, correction: str) -> dict[str, Any]:
        assistant = reply.assistant if isinstance(reply.assistant, dict) else {"role": "assistant", "content": reply.text or ""}
        return {**body, "messages": [*body["messages"], assistant, {"role": "user", "content": correction}]}

    async def send(self, body: Mapping[str, Any], ctx: RequestContext) -> Reply:
        try:
            # client.post: the SDK's documented way to send an exact JSON body (no per-request
            # re-typing of the body); errors, headers, timeouts are the SDK's own
            text = await (await self.clients.get()).post("/chat/completions", cast_to=str, body=dict(body))
        except openai.APITimeoutError:
            raise TransientProviderError(f"openai: no response within {self.timeout:g}s (timeout)") from None
        except openai.APIConnectionError as e:
            raise TransientProviderError(self.scrub(f"openai: connection error: {e}")) from None
        except openai.APIStatusError as e:
            raise status_error("openai", e.status_code, self.scrub(error_message(e.body, e.message)),
                               e.response.headers) from None
        return parse_completion(text)

    async def aclose(self) -> None:
        await self.clients.aclose()
