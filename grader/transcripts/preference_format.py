"""Preference and completion data: hh-rlhf, TRL's preference (DPO), unpaired preference (KTO)
and prompt-completion rows -> one transcript per side.

- ``{"chosen": X, "rejected": Y}`` (hh-rlhf, or TRL's implicit prompt) and
  ``{"prompt": P, "chosen": X, "rejected": Y}`` (TRL preference): two transcripts, prompt +
  chosen and prompt + rejected, with metadata ``variant`` (``chosen``/``rejected``) and a shared
  ``pair_id``; their ids are ``<pair id>/chosen`` and ``<pair id>/rejected``.
- ``{"prompt": P, "completion": X, "label": bool}`` (KTO) and ``{"prompt": P, "completion": X}``:
  one transcript, metadata ``variant: completion`` (and ``label`` kept).

Each of P, X, Y is a string or a list of messages (OpenAI or Anthropic). A string with
hh-rlhf turns (``\\n\\nHuman:`` / ``\\n\\nAssistant:``) is split into user and assistant turns;
a prompt string without them is one user message, a completion string without them one
assistant message (when the prompt's last turn is an empty ``Assistant:`` the completion fills
it). The pair id is the row's ``id``, else ``<file stem>-<line or item>-<8 hex>`` (hash of both
sides). Other top-level keys are kept as metadata.
"""
from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from ..errors import InputError
from .common import kind
from .model import Message, Source, Transcript
from .objects import detect_object_format, input_id, make_transcript, messages_of, metadata_of

SIDES = ("chosen", "rejected")
_KEYS = frozenset({"prompt", "chosen", "rejected", "completion"})
_HH_TURN = re.compile(r"(?:\A|\n\n)(Human|Assistant): ?")
_HH_ROLE = {"Human": "user", "Assistant": "assistant"}


def is_preference(obj: dict[str, Any]) -> bool:
    return ("chosen" in obj and "rejected" in obj) or ("prompt" in obj and "completion" in obj)


def transcripts_from_preference(obj: dict[str, Any], path: str, locator: str, stem: str,
                                number: int | None) -> list[Transcript]:
    meta = metadata_of(obj, _KEYS, path, locator)
    source = Source(path, locator)
    prompt = obj.get("prompt")
    if "chosen" in obj and "rejected" in obj:
        sides = [(side, _messages(prompt, obj[side], path, locator, side)) for side in SIDES]
        given = input_id(meta)
        pair = given or _pair_id(sides, stem, number)
        out = []
        for side, msgs in sides:
            m = dict(meta, variant=side, pair_id=pair)
            out.append(Transcript(f"{pair}/{side}", msgs, m, source))
        return out
    msgs = _messages(prompt, obj["completion"], path, locator, "completion")
    return [make_transcript(msgs, dict(meta, variant="completion"), source, input_id(meta), stem, number)]


def _pair_id(sides: list[tuple[str, tuple[Message, ...]]], stem: str, number: int | None) -> str:
    payload = json.dumps([[m.to_dict() for m in msgs] for _, msgs in sides], sort_keys=True, ensure_ascii=False)
    digest = hashlib.sha256(payload.encode("utf-8")).hexdigest()[:8]
    return f"{stem}-{number}-{digest}" if number is not None else f"{stem}-{digest}"


def _messages(prompt: Any, completion: Any, path: str, locator: str, side: str) -> tuple[Message, ...]:
    raw: list[Any] = []
    if prompt is not None:
        raw.extend(_as_raw(prompt, "user", path, locator, "'prompt'"))
    tail = _as_raw(completion, "assistant", path, locator, f"'{side}'")
    if raw and tail and isinstance(raw[-1], dict) and raw[-1].get("role") == "assistant" \
            and raw[-1].get("content") == "" and isinstance(completion, str):
        raw[-1] = tail[0]  # "...\n\nAssistant:" + " answer": the answer fills the open turn
        tail = tail[1:]
    raw.extend(tail)
    if not raw:
        raise InputError(path, locator, f"'{side}' has no messages")
    obj = {"messages": raw}
    msgs = messages_of(obj, detect_object_format(obj), path, locator)
    if not msgs:
        raise InputError(path, locator, f"'{side}' has no messages")
    return msgs


def _as_raw(value: Any, plain_role: str, path: str, locator: str, what: str) -> list[Any]:
    if isinstance(value, list):
        return list(value)
    if isinstance(value, dict) and "role" in value:
        return [value]
    if not isinstance(value, str):
        raise InputError(path, locator, f"{what} must be a string or a list of messages, got {kind(value)}")
    turns = split_hh(value)
    if turns is None:
        return [{"role": plain_role, "content": value.strip()}] if value.strip() or plain_role == "assistant" else []
    return [{"role": role, "content": text} for role, text in turns]


def split_hh(text: str) -> list[tuple[str, str]] | None:
    """hh-rlhf turns (``\\n\\nHuman: ...\\n\\nAssistant: ...``) as (role, text), or None when the
    text has no such turn. Text before the first turn is kept as a user turn."""
    parts = _HH_TURN.split(text)
    if len(parts) < 3:
        return None
    turns: list[tuple[str, str]] = []
    if parts[0].strip():
        turns.append(("user", parts[0].strip()))
    for speaker, body in zip(parts[1::2], parts[2::2]):
        turns.append((_HH_ROLE[speaker], body.strip()))
    return turns
