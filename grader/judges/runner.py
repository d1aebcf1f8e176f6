"""The judge the engine talks to: modes, samples and majority, re-asks, cache, retries,
concurrency, evidence verification and usage accounting, over any :class:`Backend`.

Outcome rules (one per (transcript, principle) pair, never raised):

- an answer that fits the contract gives a verdict; its quotes are verified, and a
  violation none of whose quotes verifies is flagged ``unverified_evidence``;
- an off-contract or unreadable answer is re-asked (``max_reasks`` times, a correction
  message appended); after that the pair is ``error`` with the reason;
- a provider failure is retried by :mod:`.retry`; after that, or for a non-retryable
  status (400, 401, 403, 404), the pair is ``error`` with the provider's message;
- with K samples a strict majority of the K votes decides; otherwise the pair is ``error``
  (flagged ``split_vote`` when the samples disagreed) and every vote is kept.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from ..errors import GraderError
from ..rubric import Principle
from ..transcripts.model import Transcript
from .answer import Answer, describe_votes, index_problem, load_json_text, majority, parse_batched, parse_single
from .base import JudgeOutcome
from .cache import AnswerCache, key_head, request_key
from .evidence import verify
from .prompt import (CHANNEL_JSON, MODE_BATCHED, MODE_PER_PRINCIPLE, PROMPT_VERSION, RenderedTranscript,
                     build_prompt, render_transcript, reask_text, task_text)
from .retry import RetryBudget, RetryPolicy, with_retries
from .transport import Backend, Reply, RequestContext
from .usage import PriceTable, Usage

MODES = (MODE_PER_PRINCIPLE, MODE_BATCHED)


@dataclass
class _Calls:
    """What the requests of one sample (one principle, or a batch) cost."""

    usage: Usage = field(default_factory=Usage)
    cost: float | None = 0.0
    requests: int = 0
    retries: int = 0
    reasks: int = 0
    from_cache: bool = True


@dataclass(frozen=True)
class _Sample:
    """One sample's result for one principle, with its share of the calls' cost (a batched
    call is split evenly over its principles; token remainders go to the first ones)."""

    answer: Answer | None
    error: str | None
    usage: Usage
    cost: float | None
    requests: int
    retries: int
    reasks: int
    cached: bool


def _split(calls: _Calls, n: int, i: int) -> tuple[Usage, float | None]:
    def part(total: int) -> int:
        return total // n + (1 if i < total % n else 0)

    u = calls.usage
    usage = Usage(part(u.input_tokens), part(u.output_tokens), part(u.cached_tokens), part(u.cache_write_tokens))
    return usage, None if calls.cost is None else calls.cost / n


class ModelJudge:
    """A :class:`~grader.judges.base.Judge` over a backend (OpenAI, Anthropic, scripted)."""

    def __init__(self, backend: Backend, *, spec: str | None = None, mode: str = MODE_PER_PRINCIPLE,
                 concurrency: int = 8, samples: int = 1, cache: AnswerCache | None = None,
                 prices: PriceTable | None = None, retry: RetryPolicy | None = None, max_reasks: int = 2):
        if mode not in MODES:
            raise ValueError(f"judge mode must be one of {', '.join(MODES)}, not {mode!r}")
        self.backend = backend
        self.spec = spec or f"{backend.name}:{backend.model}"
        self.mode = mode
        self.concurrency = max(1, int(concurrency))
        self.samples = max(1, int(samples))
        self.cache = cache if backend.cacheable else None
        self.prices = prices or PriceTable.load()
        self.retry = retry or RetryPolicy()
        self.max_reasks = max(0, int(max_reasks))
        run_budget = self.retry.run_budget
        self.budget = RetryBudget(None if run_budget is None else run_budget * self.concurrency)
        self._totals = {"requests": 0, "input_tokens": 0, "output_tokens": 0, "cached_tokens": 0,
                        "cache_write_tokens": 0, "cost_usd": 0.0, "cache_hits": 0, "retries": 0,
                        "reasks": 0, "unpriced_requests": 0}
        self._sem: asyncio.Semaphore | None = None
        self._sem_loop: asyncio.AbstractEventLoop | None = None
        self._inflight: dict[str, asyncio.Future[Reply]] = {}
        self._tasks: dict[tuple[int, ...], tuple[tuple[Principle, ...], str]] = {}
        self._key_head: bytes | None = None

    # -- the Judge protocol ----------------------------------------------------------------
    def settings(self) -> dict[str, Any]:
        return {"spec": self.spec, **self.backend.settings(), "mode": self.mode,
                "concurrency": self.concurrency, "samples": self.samples, "max_reasks": self.max_reasks,
                **self.retry.settings(), "cache": self.cache is not None,
                "cache_path": str(self.cache.path) if self.cache is not None else None,
                "prompt_version": PROMPT_VERSION}

    def usage(self) -> dict[str, Any]:
        return {**self._totals, **self.budget.totals()}

    async def aclose(self) -> None:
        await self.backend.aclose()
        if self.cache is not None:
            self.cache.close()
            self.cache = None

    async def grade(self, transcript: Transcript, principles: Sequence[Principle]) -> dict[str, JudgeOutcome]:
        if not principles:
            return {}
        rendered = render_transcript(transcript)
        groups = [list(principles)] if self.mode == MODE_BATCHED else [[p] for p in principles]
        jobs = []
        for g in groups:
            prompt = build_prompt(rendered, g, self.mode, self.backend.channel, self._task(g))
            body = self.backend.request(prompt, self.mode)
            jobs += [(g, s, body, self._key(body, s)) for s in range(self.samples)]
        hits = self.cache.get_many([j[3] for j in jobs if j[3]]) if self.cache is not None else {}
        results: list[dict[str, _Sample]] = [{} for _ in jobs]
        waiting = []
        for i, (g, s, body, key) in enumerate(jobs):
            cached = hits.get(key) if key else None
            if cached is None:
                waiting.append((i, self._sample(transcript, g, s, body, key)))
                continue
            # served from the cache: finished here unless the answer needs a re-ask
            self._totals["cache_hits"] += 1
            reply = Reply.from_dict(cached)
            parsed = self._parse(reply, [p.id for p in g], len(transcript.messages))
            if all(isinstance(a, Answer) for a in parsed.values()):
                results[i] = self._samples(g, {k: a for k, a in parsed.items() if isinstance(a, Answer)}, {}, _Calls())
            else:
                waiting.append((i, self._sample(transcript, g, s, body, key, first=reply)))
        if waiting:
            # every request runs to its end even when one raises: a batch-mode judge learns
            # all the requests a transcript still waits for in one pass
            done = await asyncio.gather(*(c for _, c in waiting), return_exceptions=True)
            failed = next((r for r in done if isinstance(r, BaseException)), None)
            if failed is not None:
                raise failed
            for (i, _), res in zip(waiting, done):
                assert not isinstance(res, BaseException)
                results[i] = res
        by_pid: dict[str, list[_Sample]] = {p.id: [] for p in principles}
        for res in results:
            for pid, sample in res.items():
                by_pid[pid].append(sample)
        return {p.id: self._outcome(transcript, rendered, by_pid[p.id]) for p in principles}

    def _key(self, body: Mapping[str, Any], sample: int) -> str | None:
        if self.cache is None:
            return None
        if self._key_head is None:
            self._key_head = key_head(self.backend.name, self.backend.model, self.backend.params())
        return request_key(self._key_head, body, sample)

    # -- one sample: ask, re-ask -----------------------------------------------------------
    def _parse(self, reply: Reply, pending: Sequence[str], n_messages: int) -> dict[str, Answer | str]:
        parsed = self._parse_contract(reply, pending)
        for pid, a in parsed.items():
            problem = index_problem(a, n_messages) if isinstance(a, Answer) else None
            if problem:
                parsed[pid] = problem
        return parsed

    def _parse_contract(self, reply: Reply, pending: Sequence[str]) -> dict[str, Answer | str]:
        if reply.problem:
            return {pid: reply.problem for pid in pending}
        if self.backend.channel == CHANNEL_JSON:
            obj, problem = load_json_text(reply.text or "")
            if problem:
                return {pid: problem for pid in pending}
        else:
            obj = reply.data
        if self.mode == MODE_BATCHED:
            return dict(parse_batched(obj, pending))
        return {pending[0]: parse_single(obj)}

    async def _sample(self, transcript: Transcript, principles: Sequence[Principle], sample: int,
                      body: Mapping[str, Any], key: str | None, first: Reply | None = None) -> dict[str, _Sample]:
        """Ask (``first`` is an answer already read from the cache), re-ask while the answer
        is off-contract, up to ``max_reasks`` times."""
        pending = [p.id for p in principles]
        got: dict[str, Answer] = {}
        errors: dict[str, str] = {}
        calls = _Calls()
        for round_ in range(self.max_reasks + 1):
            ctx = RequestContext(transcript.id, tuple(pending), sample, round_)
            if round_ == 0 and first is not None:
                reply = first
            else:
                try:
                    reply = await self._ask(body, ctx, calls, key if round_ == 0 else None)
                except GraderError as e:
                    errors.update({pid: str(e) for pid in pending})
                    break
            parsed = self._parse(reply, pending, len(transcript.messages))
            got.update({pid: a for pid, a in parsed.items() if isinstance(a, Answer)})
            problems = {pid: a for pid, a in parsed.items() if isinstance(a, str) and pid in pending}
            pending = [pid for pid in pending if pid not in got]
            if not pending:
                break
            if round_ == self.max_reasks:
                errors.update({pid: f"no valid answer after {self.max_reasks} re-ask(s): {problems[pid]}"
                               for pid in pending})
                break
            calls.reasks += 1
            self._totals["reasks"] += 1
            if reply.cacheable:
                distinct = list(dict.fromkeys(problems[pid] for pid in pending))
                body = self.backend.reask(body, reply, reask_text(distinct, pending, self.mode))
            # else: the response was garbled and nothing was answered: send the same request again
        return self._samples(principles, got, errors, calls)

    def _samples(self, principles: Sequence[Principle], got: Mapping[str, Answer], errors: Mapping[str, str],
                 calls: _Calls) -> dict[str, _Sample]:
        out = {}
        for i, p in enumerate(principles):
            usage, cost = _split(calls, len(principles), i)
            out[p.id] = _Sample(got.get(p.id), errors.get(p.id), usage, cost, calls.requests, calls.retries,
                                calls.reasks, calls.from_cache)
        return out

    def _task(self, principles: Sequence[Principle]) -> str:
        """task_text, computed once per principle group (held by identity)."""
        key = tuple(id(p) for p in principles)
        hit = self._tasks.get(key)
        if hit is None or any(a is not b for a, b in zip(hit[0], principles)):
            hit = (tuple(principles), task_text(principles, self.mode))
            self._tasks[key] = hit
        return hit[1]

    # -- one request: cache, in-flight sharing, retries, the semaphore ---------------------
    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._sem is None or self._sem_loop is not loop:
            self._sem, self._sem_loop = asyncio.Semaphore(self.concurrency), loop
            self._inflight = {}
        return self._sem

    async def _ask(self, body: Mapping[str, Any], ctx: RequestContext, calls: _Calls, key: str | None = None) -> Reply:
        if self.cache is None:
            calls.from_cache = False
            return await self._send(body, ctx, calls)
        key = key or self._key(body, ctx.sample)
        assert key is not None
        hit = self.cache.get(key)
        if hit is not None:
            self._totals["cache_hits"] += 1
            return Reply.from_dict(hit)
        calls.from_cache = False
        self._semaphore()
        shared = self._inflight.get(key)
        if shared is not None:  # the same request is already on its way (a duplicate transcript)
            try:
                return await asyncio.shield(shared)
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if not shared.cancelled() or (task is not None and task.cancelling()):
                    raise  # this pair itself was cancelled
                # the pair that sent it was cancelled, not this one: send it ourselves
        fut: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self._inflight[key] = fut
        try:
            reply = await self._send(body, ctx, calls)
        except asyncio.CancelledError:
            fut.cancel()
            raise
        except BaseException as e:
            fut.set_exception(e)
            fut.exception()  # retrieved: no "never retrieved" warning when nobody shared it
            raise
        finally:
            self._inflight.pop(key, None)
        fut.set_result(reply)
        if reply.cacheable:
            self.cache.put(key, self.backend.name, self.backend.model, reply.to_dict())
        return reply

    async def _send(self, body: Mapping[str, Any], ctx: RequestContext, calls: _Calls) -> Reply:
        sem = self._semaphore()

        async def attempt() -> Reply:
            async with sem:
                calls.requests += 1
                self._totals["requests"] += 1
                return await self.backend.send(body, ctx)

        def on_retry(exc: BaseException, wait: float) -> None:
            calls.retries += 1
            self._totals["retries"] += 1

        reply = await with_retries(attempt, self.retry, on_retry, self.budget)
        self._account(reply.model or self.backend.model, reply.usage, calls)
        return reply

    def _account(self, model: str, usage: Usage, calls: _Calls) -> None:
        calls.usage = calls.usage + usage
        for k, v in usage.to_dict().items():
            self._totals[k] += v
        cost = self.prices.cost(self.backend.model, usage)
        if cost is None:
            cost = self.prices.cost(model, usage)
        if cost is None:
            self._totals["unpriced_requests"] += 1
            calls.cost = None
        else:
            self._totals["cost_usd"] += cost
            calls.cost = None if calls.cost is None else calls.cost + cost

    # -- K samples -> one outcome ----------------------------------------------------------
    def _info(self, samples: Sequence[_Sample], votes: Sequence[str]) -> dict[str, Any]:
        tokens = {"input_tokens": 0, "output_tokens": 0, "cached_tokens": 0}
        cost: float | None = 0.0
        requests = retries = reasks = 0
        for s in samples:
            for k in tokens:
                tokens[k] += getattr(s.usage, k)
            cost = None if cost is None or s.cost is None else cost + s.cost
            requests += s.requests
            retries += s.retries
            reasks += s.reasks
        return {"model": self.backend.model, "samples": len(samples), "votes": list(votes), **tokens,
                "cost_usd": None if cost is None else round(cost, 8),
                "cached": all(s.cached for s in samples), "mode": self.mode,
                "requests": requests, "retries": retries, "reasks": reasks}

    def _outcome(self, transcript: Transcript, rendered: RenderedTranscript,
                 samples: Sequence[_Sample]) -> JudgeOutcome:
        votes = [s.answer.verdict if s.answer is not None else "error" for s in samples]
        vote = majority(votes)
        info = self._info(samples, votes)
        if vote.verdict is None:
            info.update(verdict=None, confidence=None)
            if vote.split:
                return JudgeOutcome("error", info=info, flags=("split_vote",),
                                    error=f"split vote over {len(votes)} samples ({describe_votes(votes)}): "
                                          "no strict majority")
            failed = [s.error for s in samples if s.error]
            reason = failed[0] if failed else "no answer"
            if len(samples) > 1:
                reason = f"{len(failed)} of {len(samples)} samples failed ({describe_votes(votes)}): {reason}"
            return JudgeOutcome("error", info=info, error=reason)
        winners = [s.answer for s in samples if s.answer is not None and s.answer.verdict == vote.verdict]
        first = winners[0]
        evidence = verify(transcript, first.evidence, rendered.messages)
        confidence = round(sum(a.confidence for a in winners) / len(winners), 6)
        info.update(verdict=vote.verdict, confidence=confidence)
        flags: tuple[str, ...] = ()
        if vote.verdict == "violation" and not any(e.verified for e in evidence):
            flags = ("unverified_evidence",)
        return JudgeOutcome(vote.verdict, first.rationale, evidence, confidence, info, flags)

