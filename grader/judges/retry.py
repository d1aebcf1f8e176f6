"""The judge's one retry layer (tenacity). The SDK clients run with ``max_retries=0``.

Retried: :class:`~grader.errors.TransientProviderError` (HTTP 408, 429, 5xx including
529, timeouts, connection errors), with exponential backoff and jitter, or exactly the
server's ``Retry-After`` (capped) when it sends one. Stops after ``max_attempts`` attempts,
when the next wait would pass ``max_total`` seconds since the request's first attempt, or
when the run's :class:`RetryBudget` (``run_budget`` seconds of waiting per unit of
concurrency, summed over all requests) is spent: then every later transient failure fails
at once, so a provider outage ends a run in bounded time instead of stretching every
request to its own limit. Anything else (400, 401, 403, 404, ...) is raised at once.
"""
from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt
from tenacity.stop import stop_base

from ..errors import JudgeError, TransientProviderError

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How transient failures are retried. Defaults suit real providers; tests shrink the waits."""

    max_attempts: int = 5  # attempts per request, the first included
    initial_wait: float = 0.5  # seconds before the first retry (doubles each time)
    max_wait: float = 30.0  # cap of one backoff wait
    jitter: float = 0.5  # up to this many seconds added at random to each backoff wait
    retry_after_cap: float = 30.0  # longest Retry-After honoured
    max_total: float = 120.0  # no retry whose wait would end later than this after the first attempt
    run_budget: float | None = 300.0  # seconds of retry waits per unit of concurrency in a run (None: no limit)
    sleep: Callable[[float], Awaitable[Any]] = field(default=asyncio.sleep, compare=False)

    def settings(self) -> dict[str, float | None]:
        return {"max_attempts": self.max_attempts, "initial_wait": self.initial_wait,
                "max_wait": self.max_wait, "retry_after_cap": self.retry_after_cap,
                "max_total": self.max_total, "run_retry_budget": self.run_budget}


class RetryBudget:
    """Seconds of retry waiting a whole run may spend, summed over its requests (waits run
    side by side, so ``seconds`` is ``run_budget`` times the concurrency: about
    ``run_budget`` seconds of wall time at full concurrency). Keeps the run's accounting:
    seconds waited and retries refused."""

    def __init__(self, seconds: float | None):
        self.seconds = seconds
        self.spent = 0.0
        self.retries = 0
        self.refused = 0

    def take(self, wait: float) -> bool:
        """Book a retry that waits ``wait`` seconds; False (and counted) when it would overspend."""
        if self.seconds is not None and self.spent + wait > self.seconds:
            self.refused += 1
            return False
        self.spent += wait
        self.retries += 1
        return True

    def totals(self) -> dict[str, float | int]:
        return {"retry_wait_s": round(self.spent, 3), "retries_refused": self.refused}


class _Wait:
    """Retry-After when the server sent one (capped), else exponential backoff
    (``initial_wait * 2**(n-1)``, capped at ``max_wait``) plus up to ``jitter`` seconds."""

    def __init__(self, policy: RetryPolicy):
        self.policy = policy

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        after = getattr(exc, "retry_after", None)
        if after is not None:
            return float(min(after, self.policy.retry_after_cap))
        p = self.policy
        backoff = min(p.max_wait, p.initial_wait * 2 ** (state.attempt_number - 1))
        return backoff + (random.uniform(0, p.jitter) if p.jitter > 0 else 0.0)


class _Budget(stop_base):
    """Stop when the next wait would end more than ``max_total`` seconds after the first
    attempt (time spent, or at least the waits taken so far)."""

    def __init__(self, max_total: float, started: float):
        self.max_total = max_total
        self.started = started

    def __call__(self, state: RetryCallState) -> bool:
        elapsed = max(time.monotonic() - self.started, state.idle_for)
        return elapsed + (state.upcoming_sleep or 0.0) > self.max_total


class _RunBudget(stop_base):
    """Stop when the run's retry budget cannot pay the next wait (asked last, so only
    retries that would otherwise happen are booked)."""

    def __init__(self, budget: RetryBudget):
        self.budget = budget
        self.spent_out = False

    def __call__(self, state: RetryCallState) -> bool:
        self.spent_out = not self.budget.take(state.upcoming_sleep or 0.0)
        return self.spent_out


async def with_retries(fn: Callable[[], Awaitable[T]], policy: RetryPolicy,
                       on_retry: Callable[[BaseException, float], None] | None = None,
                       budget: RetryBudget | None = None) -> T:
    """``await fn()``, retrying transient provider errors by ``policy``. After the last
    attempt the error is re-raised as :class:`JudgeError` saying how many attempts were made.

    The first attempt runs directly (most requests succeed, and tenacity's bookkeeping
    costs more CPU than the request itself on a fast local server); when it fails with a
    transient error, tenacity takes over from attempt 1 as if it had made it."""
    started = time.monotonic()
    try:
        return await fn()
    except TransientProviderError as e:
        first: TransientProviderError | None = e
    attempts = 1

    async def attempt() -> T:
        nonlocal attempts, first
        if first is not None:  # tenacity's attempt 1 is the one already made
            err, first = first, None
            raise err
        attempts += 1
        return await fn()

    def before_sleep(state: RetryCallState) -> None:
        if on_retry is not None and state.outcome is not None and state.next_action is not None:
            exc = state.outcome.exception()
            if exc is not None:
                on_retry(exc, state.next_action.sleep)

    run_budget = _RunBudget(budget) if budget is not None else None
    stop = stop_after_attempt(policy.max_attempts) | _Budget(policy.max_total, started)
    if run_budget is not None:
        stop = stop | run_budget
    retrying = AsyncRetrying(
        stop=stop,
        wait=_Wait(policy), retry=retry_if_exception_type(TransientProviderError),
        reraise=True, sleep=policy.sleep, before_sleep=before_sleep)
    try:
        return await retrying(attempt)
    except TransientProviderError as e:
        elapsed = time.monotonic() - started
        why = "; the run's retry budget is spent" if run_budget is not None and run_budget.spent_out else ""
        raise JudgeError(f"{e} (gave up after {attempts} attempt(s) in {elapsed:.1f}s{why})") from None
