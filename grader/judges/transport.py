"""What every backend shares: the reply type, the request context, the Backend protocol,
HTTP status classification and secret scrubbing."""
from __future__ import annotations

import asyncio
import email.utils
import importlib.util
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any, AsyncGenerator, Callable, Generic, Mapping, Protocol, Sequence, TypeVar
from urllib.parse import urlsplit, urlunsplit

from ..errors import GraderError, ProviderError, TransientProviderError
from .prompt import Prompt
from .usage import Usage

#: Retried: request timeout (408), rate limit (429) and every 5xx (529 = overloaded).
RETRY_STATUSES = frozenset({408, 429})
REASONS = {400: "bad request", 401: "authentication failed (check the API key)",
           403: "permission denied", 404: "not found (check the model name and base URL)",
           413: "request too large", 422: "unprocessable request", 429: "rate limited",
           529: "overloaded"}


@dataclass(frozen=True)
class Reply:
    """What one successful HTTP exchange gave back.

    ``text`` (JSON channel) or ``data`` (tool channel) carries the answer; ``problem`` says
    why no answer could be read. ``assistant`` is the answer as an assistant turn in the
    backend's own format, for a re-ask. ``cacheable`` is False for a garbled response body
    (nothing was answered, so the same request is sent again)."""

    text: str | None = None
    data: Any = None
    problem: str | None = None
    usage: Usage = field(default_factory=Usage)
    model: str | None = None
    assistant: Any = None
    cacheable: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "data": self.data, "problem": self.problem, "usage": self.usage.to_dict(),
                "model": self.model, "assistant": self.assistant}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Reply":
        return cls(d.get("text"), d.get("data"), d.get("problem"), Usage.from_dict(d.get("usage")),
                   d.get("model"), d.get("assistant"))


@dataclass(frozen=True)
class RequestContext:
    """Which pair(s) a request is about (the scripted backend answers by it)."""

    transcript_id: str
    principle_ids: tuple[str, ...]
    sample: int
    reask: int = 0


class Backend(Protocol):
    """A model provider. ``request`` and ``reask`` build the exact JSON body (also the cache
    key's payload); ``send`` makes one HTTP attempt and raises :class:`TransientProviderError`
    (retried by the caller) or :class:`ProviderError` (not retried)."""

    name: str
    model: str
    channel: str
    cacheable: bool

    def params(self) -> dict[str, Any]: ...

    def request(self, prompt: Prompt, mode: str) -> dict[str, Any]: ...

    def reask(self, body: Mapping[str, Any], reply: Reply, correction: str) -> dict[str, Any]: ...

    async def send(self, body: Mapping[str, Any], ctx: RequestContext) -> Reply: ...

    def settings(self) -> dict[str, Any]: ...

    async def aclose(self) -> None: ...


def parse_retry_after(headers: Mapping[str, str] | None, now: float | None = None) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``retry-after`` (seconds or an HTTP date)."""
    if not headers:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def error_message(body: Any, fallback: str) -> str:
    """The provider's own error message from an error body, else ``fallback``."""
    if isinstance(body, Mapping):
        err = body.get("error", body)
        if isinstance(err, Mapping) and isinstance(err.get("message"), str):
            return err["message"]
        if isinstance(err, str):
            return err
    return fallback


def status_error(backend: str, status: int, message: str, headers: Mapping[str, str] | None) -> GraderError:
    """The typed error for an HTTP error status (retryable or not)."""
    msg = " ".join(message.split())[:300]
    reason = REASONS.get(status, "server error" if status >= 500 else "client error")
    text = f"{backend}: HTTP {status} {reason}: {msg}" if msg else f"{backend}: HTTP {status} {reason}"
    if status in RETRY_STATUSES or status >= 500:
        return TransientProviderError(text, parse_retry_after(headers), status)
    return ProviderError(text)


class Scrubber:
    """Removes secrets (API keys) from any text before it is stored or shown."""

    def __init__(self, secrets: Sequence[str | None] = ()):
        self.secrets = [s for s in secrets if s and len(s) >= 4]

    def __call__(self, text: str) -> str:
        for s in self.secrets:
            text = text.replace(s, "[redacted]")
        return text


def public_url(url: str | None) -> str | None:
    """``url`` without credentials or query string, fit for run.json."""
    if not url:
        return url
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


C = TypeVar("C")
_RETIRED: list[Any] = []  # clients of loops that ended without closing them (kept, not half-closed)


async def _close_at_shutdown(client: Any) -> AsyncGenerator[None, None]:
    """Suspended for the client's life; ``asyncio.run`` closes live async generators when
    its loop shuts down, which closes the client inside the loop that owns its sockets."""
    try:
        yield
    finally:
        await client.close()


class LoopClient(Generic[C]):
    """One SDK client per event loop: made on first use in a loop and closed in that loop,
    by :meth:`aclose` or when the loop shuts down (the engine and the CLI each run their
    own ``asyncio.run``)."""

    def __init__(self, factory: Callable[[], C]):
        self.factory = factory
        self._client: C | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._guard: AsyncGenerator[None, None] | None = None

    async def get(self) -> C:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            self._retire()
            client = self.factory()
            guard = _close_at_shutdown(client)
            await guard.asend(None)
            self._client, self._loop, self._guard = client, loop, guard
        return self._client

    def _retire(self) -> None:
        client, self._client, self._loop, self._guard = self._client, None, None, None
        if client is not None and not getattr(client, "is_closed", lambda: True)():
            _RETIRED.append(client)

    async def aclose(self) -> None:
        if self._guard is not None and self._loop is asyncio.get_running_loop():
            guard = self._guard
            self._client = self._loop = self._guard = None
            await guard.aclose()
        else:
            self._retire()


def pooled_http_client(sdk: Any, size: int) -> Any:
    """The SDK's own async HTTP client with a pool of ``size`` connections (the judge's
    concurrency), or None to let the SDK build its default.

    Where the SDK offers it (``DefaultAioHttpClient``, the ``openai[aiohttp]`` /
    ``anthropic[aiohttp]`` extra: aiohttp under the SDK's httpx interface, documented
    "for improved concurrency performance") and aiohttp is installed, that one: it costs
    about a third less CPU per request, so more requests stay in flight on one core.
    Otherwise the SDK's default httpx client. A pool no larger than the number of requests
    in flight reuses connections instead of opening new ones while others are being
    returned. Errors, timeouts and headers are the SDK's own either way."""
    for name in (AIOHTTP_CLIENT, HTTPX_CLIENT):
        cls = getattr(sdk, name, None)
        if cls is None or (name == AIOHTTP_CLIENT and not _wants_aiohttp()):
            continue
        limits = _limits_class(cls)
        if limits is None:
            continue
        try:
            return cls(limits=limits(max_connections=size, max_keepalive_connections=size))
        except RuntimeError:  # the SDK's placeholder when its aiohttp extra is incomplete
            continue
    return None


AIOHTTP_CLIENT, HTTPX_CLIENT = "DefaultAioHttpClient", "DefaultAsyncHttpxClient"
#: ``GRADER_HTTP_CLIENT=httpx`` keeps the SDK's default httpx transport even where aiohttp is installed
HTTP_CLIENT_ENV = "GRADER_HTTP_CLIENT"


def _wants_aiohttp() -> bool:
    if os.environ.get(HTTP_CLIENT_ENV, "").strip().lower() == "httpx":
        return False
    return importlib.util.find_spec("aiohttp") is not None


def _limits_class(cls: type) -> Any:
    """``Limits`` of the httpx flavour ``cls`` is built on (httpx, or httpx2 in newer SDKs)."""
    base = next((c for c in cls.__mro__[1:] if c.__name__ == "AsyncClient"), None)
    module = sys.modules.get(base.__module__.split(".")[0]) if base is not None else None
    return getattr(module, "Limits", None)
