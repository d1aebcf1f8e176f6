"""TEMPORARY minimal loader (OpenAI JSONL only) -- replaced by the full loader set."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator, Sequence

from ..errors import InputError
from .model import Message, Source, Transcript


def iter_inputs(paths: Sequence[str], format: str | None = None) -> Iterator[Transcript | InputError]:
    for p in paths:
        with open(p, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                try:
                    d = json.loads(line)
                except json.JSONDecodeError as e:
                    yield InputError(p, f"line {n}", f"invalid JSON: {e.msg}")
                    continue
                msgs = tuple(Message(i, m["role"], m.get("content") or "") for i, m in enumerate(d["messages"]))
                t = Transcript("x", msgs, {}, Source(p, f"line {n}"))
                yield Transcript(f"{Path(p).stem}-{n}-{t.content_hash()[:8]}", msgs, {}, Source(p, f"line {n}"))
