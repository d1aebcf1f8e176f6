"""``make_judge``: judge spec strings -> a configured judge.

Specs: ``openai:MODEL``, ``anthropic:MODEL``, ``scripted:PATH``. Keys come from
``OPENAI_API_KEY`` / ``ANTHROPIC_API_KEY`` only; an OpenAI-compatible server named by
``base_url`` (or ``$OPENAI_BASE_URL``) may run without a key (a placeholder is sent).
``$GRADER_JUDGE_TIMEOUT`` and ``$GRADER_JUDGE_MAX_ATTEMPTS`` set the defaults of
``timeout`` and ``max_attempts``.
"""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any, Iterable, Mapping
from urllib.parse import urlsplit

from ..errors import JudgeConfigError
from .cache import JudgeCache
from .retry import RetryPolicy
from .runner import MODES, ModelJudge
from .usage import PriceTable

KEY_ENV = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}
BASE_URL_ENV = {"openai": "OPENAI_BASE_URL", "anthropic": "ANTHROPIC_BASE_URL"}
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
    if not sep or kind not in ("openai", "anthropic", "scripted"):
        raise JudgeConfigError(f"unknown judge {spec!r}: expected openai:MODEL, anthropic:MODEL or scripted:PATH")
    if not rest.strip():
        what = "PATH" if kind == "scripted" else "MODEL"
        raise JudgeConfigError(f"judge {spec!r} names no {what.lower()}: expected {kind}:{what}")
    return kind, rest.strip()


def make_judge(spec: str, *, base_url: str | None = None, mode: str = "per-principle", concurrency: int = 8,
               samples: int = 1, temperature: float | None = None, cache: bool = True,
               cache_dir: str | Path | None = None, price_table: str | Path | Mapping[str, Any] | None = None,
               timeout: float | None = None, max_attempts: int | None = None, max_reasks: int = 2,
               retry: RetryPolicy | None = None, answers: Iterable[Any] | None = None) -> ModelJudge:
    """A judge for ``spec``. Raises :class:`JudgeConfigError` for an unknown spec, a missing
    API key (naming the variable), a bad base URL or bad options.

    ``answers`` (scripted only) replaces the file: an in-memory list of scripted answers.
    ``retry`` replaces the whole retry policy (tests use tiny waits); ``max_attempts``
    overrides just its attempt count."""
    kind, target = parse_spec(spec)
    if mode not in MODES:
        raise JudgeConfigError(f"judge mode must be one of {', '.join(MODES)}, not {mode!r}")
    if concurrency < 1 or samples < 1:
        raise JudgeConfigError("concurrency and samples must be at least 1")
    if temperature is None:
        temperature = 0.0 if samples == 1 else 1.0
    timeout = timeout or _env_number("GRADER_JUDGE_TIMEOUT", float) or DEFAULT_TIMEOUT
    policy = retry or RetryPolicy()
    attempts = max_attempts or _env_number("GRADER_JUDGE_MAX_ATTEMPTS", int)
    if attempts:
        policy = dataclasses.replace(policy, max_attempts=int(attempts))
    prices = PriceTable.load(price_table)
    backend: Any
    if kind == "scripted":
        from .scripted import ScriptedBackend, load_script

        if answers is not None:
            backend = ScriptedBackend(answers)
        else:
            entries, default = load_script(target)
            backend = ScriptedBackend(entries, default)
        cache = False
    else:
        url = base_url or os.environ.get(BASE_URL_ENV[kind]) or None
        if url:
            _check_url(url)
        key = os.environ.get(KEY_ENV[kind], "").strip()
        if not key:
            if kind == "openai" and url:
                key = PLACEHOLDER_KEY  # a local OpenAI-compatible server needs no key
            else:
                raise JudgeConfigError(f"--judge {spec} needs an API key: set {KEY_ENV[kind]}")
        if kind == "openai":
            from .openai_backend import OpenAIBackend

            backend = OpenAIBackend(target, key, base_url=url, timeout=timeout, temperature=temperature,
                                    pool=concurrency)
        else:
            from .anthropic_backend import AnthropicBackend

            backend = AnthropicBackend(target, key, base_url=url, timeout=timeout, temperature=temperature,
                                       pool=concurrency)
    store = JudgeCache.open_default(cache_dir) if cache else None
    return ModelJudge(backend, spec=f"{kind}:{target}", mode=mode, concurrency=concurrency, samples=samples,
                      cache=store, prices=prices, retry=policy, max_reasks=max_reasks)
