"""Batch mode (``grader grade --batch``): the judge's requests go through a provider's
batch API instead of one call each.

How it works: the engine grades in *passes*. In a pass the judge is a :class:`ModelJudge`
over a :class:`ReplayBackend`, which answers a request from the run folder's batch results
(:mod:`.batch_store`) and otherwise notes it as pending and raises
:class:`~grader.judges.base.JudgePending`, so the engine writes nothing for that
transcript. After the pass the pending requests that no open batch holds are submitted
(split within the provider's limits) and recorded; then the open batches are polled, and
the results of the ended ones stored. The next pass (``--resume``) grades the transcripts
whose answers are in; an off-contract answer's re-ask is a new request, so it goes out in
a follow-up batch. Everything else — the contract check, re-asks, evidence verification,
the cache (a cached request is never submitted), samples and votes — is the interactive
judge's own code.

A failed, expired or cancelled request is submitted again, up to ``max_submits`` batches
in all; after that its pair is an ``error`` with the provider's reason. Costs are at the
provider's batch price (``prices.json``, ``batch``).
"""
from __future__ import annotations

import asyncio
import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from ..errors import JudgeConfigError, ProviderError
from ..run.manifest import now_iso
from ..rubric import Principle
from ..transcripts.model import Transcript
from . import backends
from .backends import backend_kind
from .base import JudgeOutcome, JudgePending
from .batch_client import BatchClient, BatchLimits, split
from .batch_store import BatchLog, ResultStore
from .cache import key_head, request_key
from .runner import ModelJudge
from .transport import Backend, Reply, RequestContext

MAX_SUBMITS = 3  # batches a request may be sent in (the first and 2 re-submissions)
POLL_SECONDS = 30.0


@dataclass(frozen=True)
class PendingRequest:
    custom_id: str
    body: Mapping[str, Any]
    ctx: RequestContext


class ReplayBackend:
    """A backend that sends nothing: it answers from the batch results, or notes the
    request as pending. Everything else is the wrapped backend's."""

    def __init__(self, inner: Backend, store: Any, max_submits: int):
        self.inner = inner
        self.name, self.model = inner.name, inner.model
        self.channel, self.cacheable = inner.channel, inner.cacheable
        self.store = store
        self.max_submits = max_submits
        self.pending: dict[str, PendingRequest] = {}
        self._head = key_head(inner.name, inner.model, inner.params())

    def params(self) -> dict[str, Any]:
        return self.inner.params()

    def request(self, prompt: Any, mode: str) -> dict[str, Any]:
        return self.inner.request(prompt, mode)

    def reask(self, body: Mapping[str, Any], reply: Reply, correction: str) -> dict[str, Any]:
        return self.inner.reask(body, reply, correction)

    def settings(self) -> dict[str, Any]:
        return self.inner.settings()

    def custom_id(self, body: Mapping[str, Any], sample: int) -> str:
        """The request's cache key: 64 hex digits, a valid custom_id for both providers."""
        return request_key(self._head, body, sample)

    async def send(self, body: Mapping[str, Any], ctx: RequestContext) -> Reply:
        cid = self.custom_id(body, ctx.sample)
        found = self.store.get(cid)
        if found is not None and "reply" in found:
            return dataclasses.replace(Reply.from_dict(found["reply"]), cacheable=bool(found.get("cacheable", True)))
        if found is not None and int(found.get("attempts", 0)) >= self.max_submits:
            raise ProviderError(f"{self.name} batch: {found.get('failed')} "
                                f"(no answer after {found.get('attempts')} batch submission(s))")
        self.pending.setdefault(cid, PendingRequest(cid, body, ctx))
        raise JudgePending()

    async def aclose(self) -> None:
        return None


class BatchJudge:
    """A :class:`~grader.judges.base.Judge` for batch mode over a configured
    :class:`ModelJudge` (its backend, cache, mode, samples, re-asks and prices)."""

    def __init__(self, judge: ModelJudge, client: BatchClient, run_dir: str | Path, *,
                 max_submits: int = MAX_SUBMITS, poll_seconds: float = POLL_SECONDS,
                 on_status: Callable[[str], None] | None = None):
        self.base = judge
        self.client = client
        self.provider = client.provider
        self.spec = judge.spec
        self.run_dir = Path(run_dir)
        self.max_submits = max(1, int(max_submits))
        self.poll_seconds = poll_seconds
        self.on_status = on_status
        kind = backend_kind(judge.backend.name)
        self.prices = judge.prices.for_batch(kind.prices if kind else None)
        self._store: ResultStore | None = None
        self._log: BatchLog | None = None
        self._replay: ReplayBackend | None = None
        self._totals: dict[str, Any] = {}
        self.new_pass()

    # -- run folder records (opened lazily: the engine creates the folder) ------------------
    @property
    def log(self) -> BatchLog:
        if self._log is None:
            self._log = BatchLog(self.run_dir)
        return self._log

    @property
    def store(self) -> ResultStore:
        if self._store is None:
            self._store = ResultStore(self.run_dir)
        return self._store

    # -- the Judge protocol ----------------------------------------------------------------
    def settings(self) -> dict[str, Any]:
        return {**self.base.settings(), "batch": {"provider": self.provider, "max_submits": self.max_submits,
                                                  "max_requests": self.client.limits.max_requests,
                                                  "max_bytes": self.client.limits.max_bytes,
                                                  "price_share": self.prices.discount if self.prices.models else None}}

    def usage(self) -> dict[str, Any]:
        return dict(self._totals)

    def new_pass(self) -> None:
        """Start a pass: usage counts only what this pass wrote (the engine adds up passes)."""
        self._replay = ReplayBackend(self.base.backend, _LazyStore(self), self.max_submits)
        self._totals = {"requests": 0, "input_tokens": 0, "output_tokens": 0, "cached_tokens": 0,
                        "cache_write_tokens": 0, "cost_usd": 0.0, "cache_hits": 0, "retries": 0, "reasks": 0,
                        "unpriced_requests": 0}

    async def grade(self, transcript: Transcript, principles: Sequence[Principle]) -> Mapping[str, JudgeOutcome]:
        assert self._replay is not None
        b = self.base
        cache = _HeldWrites(b.cache) if b.cache is not None else None
        judge = ModelJudge(self._replay, spec=b.spec, mode=b.mode, concurrency=b.concurrency, samples=b.samples,
                           cache=cache, prices=self.prices, retry=b.retry, max_reasks=b.max_reasks)
        out = await judge.grade(transcript, principles)  # JudgePending passes through
        if cache is not None:
            cache.commit()
        for k, v in judge.usage().items():
            self._totals[k] = self._totals.get(k, 0) + v
        return out

    async def aclose(self) -> None:
        await self.client.aclose()
        await self.base.aclose()
        if self._store is not None:
            self._store.close()
            self._store = None

    # -- batches ---------------------------------------------------------------------------
    @property
    def pending(self) -> dict[str, PendingRequest]:
        return self._replay.pending if self._replay is not None else {}

    async def submit_pending(self) -> int:
        """Submit the pending requests no open batch holds; returns how many were submitted."""
        held = self.log.in_open_batch()
        todo = [p for cid, p in self.pending.items() if cid not in held]
        # serialised as they are grouped: one batch's lines (<= max_bytes) in memory at a time
        lines = ((p.custom_id, self.client.line(p.custom_id, p.body)) for p in todo)
        by_id = {p.custom_id: p for p in todo}
        sent = 0
        for group in split(lines, self.client.limits):
            body = [line for _, line in group]
            requests = {cid: {"transcript_id": by_id[cid].ctx.transcript_id,
                              "principle_ids": list(by_id[cid].ctx.principle_ids),
                              "sample": by_id[cid].ctx.sample, "reask": by_id[cid].ctx.reask}
                        for cid, _ in group}
            token = await self.client.prepare(body)
            if token is not None:
                self.log.append({"event": "submitting", "token": token, "provider": self.provider,
                                 "at": now_iso(), "requests": requests})
            batch_id = await self.client.create(body, token)
            self._submitted(batch_id, requests, token)
            sent += len(requests)
        return sent

    def _submitted(self, batch_id: str, requests: Mapping[str, Any], token: str | None) -> None:
        event = {"event": "submitted", "batch_id": batch_id, "provider": self.provider, "submitted_at": now_iso(),
                 "requests": dict(requests)}
        if token is not None:
            event["token"] = token
        self.log.append(event)

    async def recover(self) -> int:
        """Settle batches whose creation was begun but not recorded (the process died in
        between): one the provider made is adopted, else the attempt is marked abandoned and
        its requests go out again. Returns the batches adopted."""
        adopted = 0
        for token, intent in list(self.log.intents.items()):
            batch_id = await self.client.find(token)
            if batch_id is None:
                self.log.append({"event": "abandoned", "token": token})
            else:
                self._submitted(batch_id, intent["requests"], token)
                adopted += 1
        return adopted

    def summary(self) -> dict[str, Any]:
        """The run's batches so far (for run.json): from the log, so it spans every command."""
        log = self.log
        submitted = sum(len(b.requests) for b in log.batches.values())
        return {"provider": self.provider, "batches": len(log.batches), "open_batches": len(log.open_batches()),
                "requests_submitted": submitted, "requests_resubmitted": submitted - len(log.submissions),
                "price_share": self.prices.discount if self.prices.models else None}

    async def collect(self, wait: bool) -> int:
        """Poll the open batches and store the results of the ended ones; with ``wait``,
        poll every ``poll_seconds`` until at least one has ended. Returns batches collected."""
        while True:
            collected = 0
            states = []
            for rec in self.log.open_batches():
                status = await self.client.status(rec.batch_id)
                if status.state != rec.state or dict(status.counts) != rec.counts:
                    self.log.append({"event": "state", "batch_id": rec.batch_id, "state": status.state,
                                     "at": now_iso(), "counts": dict(status.counts)})
                states.append(status)
                if status.ended:
                    await self._collect_one(rec.batch_id, status.state)
                    collected += 1
            self._report(states)
            if collected or not wait or not self.log.open_batches():
                return collected
            await asyncio.sleep(self.poll_seconds)

    async def _collect_one(self, batch_id: str, state: str) -> None:
        rec = self.log.batches[batch_id]
        results = {r.custom_id: r for r in await self.client.results(batch_id) if r.custom_id in rec.requests}
        ok = failed = 0
        for cid in rec.requests:
            r = results.get(cid)
            if r is not None and r.reply is not None and r.reply.cacheable:
                self.store.put_reply(cid, r.reply.to_dict(), True)
                ok += 1
                continue
            if r is not None and r.reply is not None:  # garbled (no answer in it): sent again, as interactively
                reason = f"unusable reply: {r.reply.problem or 'nothing answered'}"
            else:
                reason = r.failure if r is not None and r.failure else f"no result in the batch (it ended {state})"
            self.store.put_failure(cid, reason, self.log.submissions.get(cid, 1))
            failed += 1
        self.log.append({"event": "collected", "batch_id": batch_id, "at": now_iso(), "succeeded": ok,
                         "failed": failed})

    async def cancel_open(self) -> int:
        """Ask the provider to cancel every open batch (their results are still collected)."""
        n = 0
        for rec in self.log.open_batches():
            await self.client.cancel(rec.batch_id)
            n += 1
        return n

    def _report(self, states: Sequence[Any]) -> None:
        if self.on_status is None:
            return
        batches = list(self.log.batches.values())
        ended = sum(1 for b in batches if b.collected)
        total = sum(len(b.requests) for b in batches)
        done = sum(len(b.requests) for b in batches if b.collected)
        running = sum(_done_count(s.counts) for s in states if not s.ended)
        self.on_status(f"batches: {ended} of {len(batches)} ended; requests: {done + running} of {total} done "
                       f"({time.strftime('%H:%M:%S')})")


class _HeldWrites:
    """The judge cache with its writes held back until the transcript is graded: a
    transcript still waiting for some answers is graded again in a later pass, and must
    find its other answers in the batch results (where they count as paid by this run),
    not in the cache (where they would count as free)."""

    def __init__(self, cache: Any):
        self.cache = cache
        self.path = cache.path
        self.held: list[tuple[str, str, str, Mapping[str, Any]]] = []

    def get(self, key: str) -> dict[str, Any] | None:
        return self.cache.get(key)

    def get_many(self, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        return self.cache.get_many(keys)

    def put(self, key: str, backend: str, model: str, value: Mapping[str, Any]) -> None:
        self.held.append((key, backend, model, value))

    def commit(self) -> None:
        for item in self.held:
            self.cache.put(*item)
        self.held = []

    def close(self) -> None:
        """The wrapped cache is the base judge's, closed with it."""


class _LazyStore:
    """Defers opening the results store until a request is looked up (after the engine
    created the run folder)."""

    def __init__(self, owner: BatchJudge):
        self.owner = owner

    def get(self, custom_id: str) -> dict[str, Any] | None:
        return self.owner.store.get(custom_id)


def _done_count(counts: Mapping[str, int]) -> int:
    if "total" in counts:  # OpenAI
        return int(counts.get("completed", 0)) + int(counts.get("failed", 0))
    return sum(int(v) for k, v in counts.items() if k != "processing")  # Anthropic


def make_batch_judge(judge: ModelJudge, run_dir: str | Path, *, limits: BatchLimits | None = None,
                     max_submits: int = MAX_SUBMITS, poll_seconds: float = POLL_SECONDS,
                     on_status: Callable[[str], None] | None = None) -> BatchJudge:
    """Batch mode over ``judge`` (from :func:`~grader.judges.factory.make_judge`). Raises
    :class:`JudgeConfigError` when its backend has no batch API."""
    kind = backend_kind(judge.backend.name)
    if kind is None or kind.batch is None:
        able = " or ".join(f"{k.name}:{k.target}" for k in backends.BACKENDS if k.batch)
        raise JudgeConfigError(f"--batch needs a judge with a batch API ({able}), not {judge.spec}")
    client = kind.load("batch")(judge.backend, judge.retry, limits)
    return BatchJudge(judge, client, run_dir, max_submits=max_submits, poll_seconds=poll_seconds,
                      on_status=on_status)
