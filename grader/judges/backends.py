"""The table of judge backends: one row per spec prefix (``openai:``, ``anthropic:``, ...).

A row names the module and class of the backend (imported only when used), the
environment variables of its API key and base URL, the key of its entry in the batch
section of ``prices.json``, and the module and class of its batch client (``--batch``), if
the provider has a batch API. Adding a backend is one new module and one row here.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from ..errors import JudgeConfigError


@dataclass(frozen=True)
class BackendKind:
    """One judge backend. ``target`` is what follows the colon in a spec: a model, or for
    ``scripted`` a file. ``key_env`` None: no key (and no network). ``keyless_with_url``:
    a server named by a base URL may run without a key (a local OpenAI-compatible one)."""

    name: str
    backend: str  # "module:Class" of the backend
    target: str = "MODEL"
    key_env: str | None = None
    base_url_env: str | None = None
    keyless_with_url: bool = False
    prices: str | None = None  # key of the provider in prices.json's "batch" section
    batch: str | None = None  # "module:Class" of the batch client, if the provider has a batch API

    def load(self, which: str = "backend") -> Any:
        """The class named by ``backend`` or ``batch``, imported now."""
        ref = getattr(self, which)
        if ref is None:
            raise JudgeConfigError(f"the {self.name} judge has no {which} class")
        module, _, attr = ref.partition(":")
        return getattr(importlib.import_module(module), attr)


BACKENDS: tuple[BackendKind, ...] = (
    BackendKind("openai", "grader.judges.openai_backend:OpenAIBackend", key_env="OPENAI_API_KEY",
                base_url_env="OPENAI_BASE_URL", keyless_with_url=True, prices="openai",
                batch="grader.judges.batch_openai:OpenAIBatches"),
    BackendKind("anthropic", "grader.judges.anthropic_backend:AnthropicBackend", key_env="ANTHROPIC_API_KEY",
                base_url_env="ANTHROPIC_BASE_URL", prices="anthropic",
                batch="grader.judges.batch_anthropic:AnthropicBatches"),
    BackendKind("scripted", "grader.judges.scripted:ScriptedBackend", target="PATH", prices="scripted"),
)


def backend_kind(name: str) -> BackendKind | None:
    return next((k for k in BACKENDS if k.name == name), None)


def describe_specs() -> str:
    """``openai:MODEL, anthropic:MODEL or scripted:PATH`` (from the table)."""
    specs = [f"{k.name}:{k.target}" for k in BACKENDS]
    return ", ".join(specs[:-1]) + " or " + specs[-1] if len(specs) > 1 else specs[0]
