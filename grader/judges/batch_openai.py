"""The OpenAI Batch API through the official SDK: the requests as a JSONL file
(``files.create(purpose="batch")``), ``batches.create`` on ``/v1/chat/completions`` with a
24 h window, ``batches.retrieve`` to poll, and the output and error files downloaded.
The lines carry the same bodies as interactive calls (see :mod:`.openai_backend`)."""
from __future__ import annotations

import json
from typing import Any, Mapping, Sequence

from .batch_client import BatchLimits, BatchResult, BatchStatus, dumps, failure_text, managed
from .openai_backend import OpenAIBackend, parse_completion
from .retry import RetryPolicy

ENDPOINT = "/v1/chat/completions"
#: the Batch API's limits: 50,000 requests and 200 MB per input file
LIMITS = BatchLimits(50_000, 200 * 1024 * 1024)
ENDED = frozenset({"completed", "failed", "expired", "cancelled"})
FIND_LIMIT = 1000  # recent batches searched for one whose creation was not recorded


class OpenAIBatches:
    provider = "openai"

    def __init__(self, backend: OpenAIBackend, retry: RetryPolicy, limits: BatchLimits | None = None):
        self.backend = backend
        self.retry = retry
        self.limits = limits or LIMITS

    def line(self, custom_id: str, body: Mapping[str, Any]) -> bytes:
        return dumps({"custom_id": custom_id, "method": "POST", "url": ENDPOINT, "body": dict(body)})

    async def prepare(self, lines: Sequence[bytes]) -> str | None:
        """Upload the JSONL file; its id names the batch made from it (see :meth:`find`)."""
        data = b"\n".join(lines) + b"\n"
        uploaded = await managed(lambda: self.backend.call(lambda c: c.files.create(
            file=("grader-batch.jsonl", data, "application/jsonl"), purpose="batch")), self.retry)
        return str(uploaded.id)

    async def create(self, lines: Sequence[bytes], token: str | None) -> str:
        assert token is not None
        # not retried: a create whose answer was lost may have made the batch, and a second
        # one would be paid twice; the next command finds it by its input file instead
        batch = await self.backend.call(lambda c: c.batches.create(input_file_id=token, endpoint=ENDPOINT,
                                                                   completion_window="24h"))
        return str(batch.id)

    async def find(self, token: str) -> str | None:
        """The batch whose input file is ``token``, among the most recent ``FIND_LIMIT``."""
        async def scan() -> str | None:
            page = await self.backend.call(lambda c: c.batches.list(limit=100))
            seen = 0
            async for b in page:
                if b.input_file_id == token:
                    return str(b.id)
                seen += 1
                if seen >= FIND_LIMIT:
                    break
            return None

        return await managed(scan, self.retry)

    async def _retrieve(self, batch_id: str) -> Any:
        return await managed(lambda: self.backend.call(lambda c: c.batches.retrieve(batch_id)), self.retry)

    async def status(self, batch_id: str) -> BatchStatus:
        b = await self._retrieve(batch_id)
        rc = b.request_counts
        counts = {"total": rc.total, "completed": rc.completed, "failed": rc.failed} if rc is not None else {}
        return BatchStatus(str(b.status), b.status in ENDED, counts)

    async def _download(self, file_id: str) -> str:
        content = await managed(lambda: self.backend.call(lambda c: c.files.content(file_id)), self.retry)
        return str(content.text)

    async def results(self, batch_id: str) -> list[BatchResult]:
        b = await self._retrieve(batch_id)
        out: list[BatchResult] = []
        for file_id in (b.output_file_id, b.error_file_id):
            if file_id:
                out += [_result(line) for line in (await self._download(file_id)).splitlines() if line.strip()]
        return out

    async def cancel(self, batch_id: str) -> None:
        await managed(lambda: self.backend.call(lambda c: c.batches.cancel(batch_id)), self.retry)

    async def aclose(self) -> None:
        await self.backend.aclose()


def _result(line: str) -> BatchResult:
    """One line of an output or error file."""
    try:
        row = json.loads(line)
    except json.JSONDecodeError as e:
        return BatchResult("", failure=f"unreadable result line ({e})")
    cid = str(row.get("custom_id") or "")
    response = row.get("response") if isinstance(row.get("response"), Mapping) else None
    if row.get("error"):
        return BatchResult(cid, failure=failure_text(row["error"], "the request failed"))
    if response is None:
        return BatchResult(cid, failure="the result has no response")
    status, body = response.get("status_code"), response.get("body")
    if status != 200:
        return BatchResult(cid, failure=f"HTTP {status}: {failure_text(body, 'the request failed')}")
    return BatchResult(cid, reply=parse_completion(dumps(body)))
