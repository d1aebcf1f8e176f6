"""What the provider batch clients share: the result and status types, splitting requests
into batches within the provider's limits, and retried management calls."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Iterable, Iterator, Mapping, Protocol, Sequence, TypeVar

from .retry import RetryPolicy, with_retries
from .transport import Reply

T = TypeVar("T")


@dataclass(frozen=True)
class BatchLimits:
    """Most requests and bytes (of the submitted JSONL or JSON) in one batch."""

    max_requests: int
    max_bytes: int


@dataclass(frozen=True)
class BatchStatus:
    """A poll's view of a batch. ``ended``: its results can be collected."""

    state: str
    ended: bool
    counts: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class BatchResult:
    """One request's result: a reply, or why there is none (an error, expired, cancelled)."""

    custom_id: str
    reply: Reply | None = None
    failure: str | None = None


class BatchClient(Protocol):
    provider: str
    limits: BatchLimits

    def line(self, custom_id: str, body: Mapping[str, Any]) -> bytes: ...

    async def prepare(self, lines: Sequence[bytes]) -> str | None:
        """Anything to do before the batch is created; returns a token by which :meth:`find`
        can tell later whether the batch was made (None: the provider offers no such way)."""
        ...

    async def create(self, lines: Sequence[bytes], token: str | None) -> str: ...

    async def find(self, token: str) -> str | None:
        """The id of the batch made from ``token``, if there is one."""
        ...

    async def status(self, batch_id: str) -> BatchStatus: ...

    async def results(self, batch_id: str) -> list[BatchResult]: ...

    async def cancel(self, batch_id: str) -> None: ...

    async def aclose(self) -> None: ...


def split(lines: Iterable[tuple[str, bytes]], limits: BatchLimits) -> Iterator[list[tuple[str, bytes]]]:
    """Consecutive groups of ``(custom_id, line)`` within ``limits`` (a line counts its newline)."""
    group: list[tuple[str, bytes]] = []
    size = 0
    for cid, line in lines:
        n = len(line) + 1
        if group and (len(group) >= limits.max_requests or size + n > limits.max_bytes):
            yield group
            group, size = [], 0
        group.append((cid, line))
        size += n
    if group:
        yield group


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


async def managed(fn: Callable[[], Awaitable[T]], policy: RetryPolicy) -> T:
    """A management call (upload, create, retrieve, download) with the judge's retry layer."""
    return await with_retries(fn, policy)


def failure_text(error: Any, fallback: str) -> str:
    """A one-line reason from a provider's error object."""
    if isinstance(error, Mapping):
        inner = error.get("error") if isinstance(error.get("error"), Mapping) else error
        msg = inner.get("message") if isinstance(inner, Mapping) else None
        code = inner.get("code") or inner.get("type") if isinstance(inner, Mapping) else None
        if isinstance(msg, str) and msg:
            return " ".join(f"{code}: {msg}".split())[:300] if code else " ".join(msg.split())[:300]
    return fallback
