"""Anthropic Message Batches through the official SDK: ``messages.batches.create`` with
the same request bodies as interactive calls (see :mod:`.anthropic_backend`),
``retrieve`` to poll and ``results`` to stream the outcomes."""
from __future__ import annotations

import json
from typing import Any, Mapping, Sequence

from .anthropic_backend import AnthropicBackend, parse_message
from .batch_client import BatchLimits, BatchResult, BatchStatus, dumps, failure_text, managed
from .retry import RetryPolicy

#: Message Batches' limits: 100,000 requests or 256 MB per batch
LIMITS = BatchLimits(100_000, 256 * 1024 * 1024)


class AnthropicBatches:
    provider = "anthropic"

    def __init__(self, backend: AnthropicBackend, retry: RetryPolicy, limits: BatchLimits | None = None):
        self.backend = backend
        self.retry = retry
        self.limits = limits or LIMITS

    def line(self, custom_id: str, body: Mapping[str, Any]) -> bytes:
        return dumps({"custom_id": custom_id, "params": dict(body)})

    async def prepare(self, lines: Sequence[bytes]) -> str | None:
        return None  # a Message Batch carries nothing of ours to find it by

    async def create(self, lines: Sequence[bytes], token: str | None) -> str:
        requests = [json.loads(line) for line in lines]
        # not retried: a create whose answer was lost may have made the batch (see batch_openai)
        batch = await self.backend.call(lambda c: c.messages.batches.create(requests=requests))
        return str(batch.id)

    async def find(self, token: str) -> str | None:
        return None

    async def status(self, batch_id: str) -> BatchStatus:
        b = await managed(lambda: self.backend.call(lambda c: c.messages.batches.retrieve(batch_id)), self.retry)
        rc = b.request_counts
        counts = {k: int(getattr(rc, k, 0) or 0) for k in ("processing", "succeeded", "errored", "canceled", "expired")}
        return BatchStatus(str(b.processing_status), b.processing_status == "ended", counts)

    async def results(self, batch_id: str) -> list[BatchResult]:
        async def fetch() -> list[BatchResult]:
            stream = await self.backend.call(lambda c: c.messages.batches.results(batch_id))
            return [_result(r) async for r in stream]

        return await managed(fetch, self.retry)

    async def cancel(self, batch_id: str) -> None:
        await managed(lambda: self.backend.call(lambda c: c.messages.batches.cancel(batch_id)), self.retry)

    async def aclose(self) -> None:
        await self.backend.aclose()


def _result(row: Any) -> BatchResult:
    cid = str(row.custom_id)
    result = row.result
    kind = getattr(result, "type", None)
    if kind == "succeeded":
        message = result.message.model_dump(mode="json", exclude_unset=True)
        return BatchResult(cid, reply=parse_message(dumps(message)))
    if kind == "errored":
        return BatchResult(cid, failure=failure_text(result.error.model_dump(mode="json"), "the request errored"))
    if kind == "canceled":
        return BatchResult(cid, failure="the request was cancelled before it ran")
    if kind == "expired":
        return BatchResult(cid, failure="the batch expired before this request ran")
    return BatchResult(cid, failure=f"unknown result type {kind!r}")
