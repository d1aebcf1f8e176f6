"""``make_judge``: judge spec strings -> a configured judge.

Specs are ``NAME:TARGET`` for a row of :data:`~grader.judges.backends.BACKENDS`
(``openai:MODEL``, ``anthropic:MODEL``, ``scripted:PATH``). Keys come from the row's key
variable only (``OPENAI_API_KEY`` / ``ANTHROPIC_API_KEY``); an OpenAI-compatible server
named by ``base_url`` (or ``$OPENAI_BASE_URL``) may run without a key (a placeholder is sent).
``$GRADER_JUDGE_TIMEOUT`` and ``$GRADER_JUDGE_MAX_ATTEMPTS`` set the defaults of
``timeout`` and ``max_attempts``; ``$GRADER_JUDGE_RETRY_BUDGET`` the run's retry budget
(seconds of retry waiting per unit of concurrency, see :class:`~grader.judges.retry.RetryBudget`).
"""
from __future__ import annotations

import dataclasses
import os
from typing import Any
from urllib.parse import urlsplit

from ..errors import JudgeConfigError
from .backends import BackendKind, backend_kind, describe_specs
from .cache import JudgeCache
from .retry import RetryPolicy
from .runner import MODES, ModelJudge
from .settings import JudgeSettings
from .usage import PriceTable

PLACEHOLDER_KEY = "no-key-needed"
DEFAULT_TIMEOUT = 120.0


def _check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise JudgeConfigError(f"bad base URL {url!r}: expected http(s)://HOST[:PORT][/PATH]")
    try:
        parts.port
    except ValueError:
        raise JudgeConfigError(f"bad base URL {url!r}: the port is not a number") from None
    return url


def _env_number(name: str, kind: type) -> Any:
    value = os.environ.get(name)
    if value in (None, ""):
        return None
    try:
        number = kind(value)
    except ValueError:
        raise JudgeConfigError(f"${name}={value!r}: expected a {'whole ' if kind is int else ''}number") from None
    if number <= 0:
        raise JudgeConfigError(f"${name}={value!r}: must be greater than 0")
    return number


def parse_spec(spec: str) -> tuple[str, str]:
    """``"openai:gpt-4.1-mini"`` -> ``("openai", "gpt-4.1-mini")``."""
    kind, sep, rest = (spec or "").partition(":")
    kind = kind.strip().lower()
    row = backend_kind(kind)
    if not sep or row is None:
        raise JudgeConfigError(f"unknown judge {spec!r}: expected {describe_specs()}")
    if not rest.strip():
        raise JudgeConfigError(f"judge {spec!r} names no {row.target.lower()}: expected {kind}:{row.target}")
    return kind, rest.strip()


def api_key(row: BackendKind, spec: str, url: str | None) -> str:
    """The key from the row's variable; a placeholder for a keyless local server."""
    if row.key_env is None:
        return ""
    key = os.environ.get(row.key_env, "").strip()
    if not key:
        if row.keyless_with_url and url:
            return PLACEHOLDER_KEY  # a local OpenAI-compatible server needs no key
        raise JudgeConfigError(f"--judge {spec} needs an API key: set {row.key_env}")
    return key


def base_url_of(row: BackendKind, base_url: str | None) -> str | None:
    url = base_url or (os.environ.get(row.base_url_env) if row.base_url_env else None) or None
    return _check_url(url) if url else None


def make_judge(spec: str, settings: JudgeSettings | None = None, **options: Any) -> ModelJudge:
    """A judge for ``spec`` configured by ``settings`` (keyword ``options`` build the
    :class:`~grader.judges.settings.JudgeSettings`, or replace some of its fields). Raises
    :class:`JudgeConfigError` for an unknown spec, a missing API key (naming the variable),
    a bad base URL or bad options."""
    s = settings or JudgeSettings()
    if options:
        s = dataclasses.replace(s, **options)
    kind, target = parse_spec(spec)
    if s.mode not in MODES:
        raise JudgeConfigError(f"judge mode must be one of {', '.join(MODES)}, not {s.mode!r}")
    if s.concurrency < 1 or s.samples < 1:
        raise JudgeConfigError("concurrency and samples must be at least 1")
    temperature = s.temperature
    if temperature is None:
        temperature = 0.0 if s.samples == 1 else 1.0
    timeout = s.timeout or _env_number("GRADER_JUDGE_TIMEOUT", float) or DEFAULT_TIMEOUT
    policy = s.retry or RetryPolicy()
    attempts = s.max_attempts or _env_number("GRADER_JUDGE_MAX_ATTEMPTS", int)
    if attempts:
        policy = dataclasses.replace(policy, max_attempts=int(attempts))
    budget = _env_number("GRADER_JUDGE_RETRY_BUDGET", float)
    if budget and s.retry is None:
        policy = dataclasses.replace(policy, run_budget=float(budget))
    prices = PriceTable.load(s.price_table)
    row = backend_kind(kind)
    assert row is not None
    url = base_url_of(row, s.base_url) if row.key_env is not None else None
    backend: Any = row.load().from_spec(target, api_key=api_key(row, spec, url), base_url=url, timeout=timeout,
                                        temperature=temperature, pool=s.concurrency, answers=s.answers)
    cache = s.cache and bool(backend.cacheable)
    store = JudgeCache.open_default(s.cache_dir) if cache else None
    return ModelJudge(backend, spec=f"{kind}:{target}", mode=s.mode, concurrency=s.concurrency, samples=s.samples,
                      cache=store, prices=prices, retry=policy, max_reasks=s.max_reasks)
