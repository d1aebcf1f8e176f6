"""Token usage and estimated cost of judge calls.

Prices come from ``prices.json`` beside this module (USD per million tokens), overridden
model by model by the JSON file named in ``GRADER_PRICES`` or by a ``price_table`` given to
:func:`grader.judges.factory.make_judge`. Unknown models are not priced (cost ``None``).
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

from ..errors import JudgeConfigError
from ..schemas import describe, error_path, validator

PRICES_ENV = "GRADER_PRICES"


@dataclass(frozen=True)
class Usage:
    """Tokens of one call. ``input_tokens`` counts every prompt token, cached ones included."""

    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0  # prompt tokens read from the provider's prompt cache
    cache_write_tokens: int = 0  # prompt tokens written to it (Anthropic)

    def __add__(self, other: "Usage") -> "Usage":
        return Usage(self.input_tokens + other.input_tokens, self.output_tokens + other.output_tokens,
                     self.cached_tokens + other.cached_tokens, self.cache_write_tokens + other.cache_write_tokens)

    def to_dict(self) -> dict[str, int]:
        return {"input_tokens": self.input_tokens, "output_tokens": self.output_tokens,
                "cached_tokens": self.cached_tokens, "cache_write_tokens": self.cache_write_tokens}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> "Usage":
        if not d:
            return cls()
        return cls(int(d.get("input_tokens") or 0), int(d.get("output_tokens") or 0),
                   int(d.get("cached_tokens") or 0), int(d.get("cache_write_tokens") or 0))


def _validated(doc: Any, where: str) -> dict[str, Any]:
    v = validator("judge_prices")
    errors = sorted(v.iter_errors(doc), key=lambda e: len(list(e.absolute_path)))
    if errors:
        raise JudgeConfigError(f"{where}: at {error_path(errors[0]) or '(top level)'}: {describe(errors[0])}")
    return dict(doc)


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise JudgeConfigError(f"{path}: cannot read the price table: {e.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise JudgeConfigError(f"{path}: the price table is not valid JSON: {e}") from None


class PriceTable:
    """Model name -> prices; :meth:`cost` turns a :class:`Usage` into dollars."""

    def __init__(self, models: Mapping[str, Mapping[str, float]], batch: Mapping[str, Mapping[str, Any]] | None = None,
                 discount: float = 1.0):
        self.models = dict(models)
        self.batch = dict(batch or {})
        self.discount = discount  # share of the list price paid (batch prices: < 1)
        self._found: dict[str, Mapping[str, float] | None] = {}

    @classmethod
    def default(cls) -> "PriceTable":
        text = resources.files(__package__).joinpath("prices.json").read_text("utf-8")
        doc = _validated(json.loads(text), "grader/judges/prices.json")
        return cls(doc["models"], doc.get("batch"))

    @classmethod
    def load(cls, override: str | Path | Mapping[str, Any] | None = None) -> "PriceTable":
        """The shipped table, overridden by ``$GRADER_PRICES`` and then by ``override``
        (a path or an already-parsed table); models and batch entries override one by one."""
        table = cls.default()
        models, batch = table.models, table.batch
        docs = []
        env = os.environ.get(PRICES_ENV)
        if env:
            docs.append(_validated(_read(Path(env)), env))
        if isinstance(override, (str, Path)):
            docs.append(_validated(_read(Path(override)), str(override)))
        elif override is not None:
            docs.append(_validated(override, "price_table"))
        for doc in docs:
            models.update(doc["models"])
            batch.update(doc.get("batch") or {})
        return cls(models, batch)

    def batch_discount(self, provider: str | None) -> float | None:
        """The share of the list price a batched request of ``provider`` costs (None: unknown)."""
        entry = self.batch.get(provider or "")
        return float(entry["discount"]) if entry else None

    def for_batch(self, provider: str | None) -> "PriceTable":
        """The same models at ``provider``'s batch prices. A provider without a batch entry
        is not priced (costs None): a guessed discount would be a wrong figure."""
        discount = self.batch_discount(provider)
        if discount is None:
            return PriceTable({}, self.batch)
        return PriceTable(self.models, self.batch, discount)

    def lookup(self, model: str) -> Mapping[str, float] | None:
        """Prices of ``model``: exact name, else the longest listed prefix ending at a
        separator (``gpt-4.1-mini-2025-04-14`` -> ``gpt-4.1-mini``); a ``vendor/`` prefix is ignored."""
        if model not in self._found:
            self._found[model] = self._lookup(model)
        return self._found[model]

    def _lookup(self, model: str) -> Mapping[str, float] | None:
        for name in (model, model.rsplit("/", 1)[-1]):
            if name in self.models:
                return self.models[name]
            best = max((k for k in self.models if name.startswith(k) and name[len(k)] in "-_:@."),
                       key=len, default=None)
            if best is not None:
                return self.models[best]
        return None

    def cost(self, model: str, usage: Usage) -> float | None:
        p = self.lookup(model)
        if p is None:
            return None
        fresh = max(0, usage.input_tokens - usage.cached_tokens - usage.cache_write_tokens)
        dollars = (fresh * p["input"] + usage.cached_tokens * p.get("cached_input", p["input"])
                   + usage.cache_write_tokens * p.get("cache_write", p["input"])
                   + usage.output_tokens * p["output"])
        return dollars * self.discount / 1_000_000
