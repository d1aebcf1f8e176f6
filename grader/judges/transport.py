"""What every backend shares: the reply type, the request context, the Backend protocol,
HTTP status classification and secret scrubbing (the SDKs' HTTP clients: :mod:`.http_client`)."""
from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass, field
from typing import Any, Mapping, Protocol, Sequence
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
