"""ShareGPT and friends: a conversation under ``conversations`` (or ``conversation``, ``chat``,
``dialogue``, ``turns``).

Turns are ``{"from": ..., "value": ...}`` (ShareGPT) or ``{"role": ..., "content": ...}``
(read as OpenAI/Anthropic messages). ``from`` values: ``human``/``user`` -> user;
``gpt``/``assistant``/``model``/``bot``/``chatgpt``/``bing``/``bard`` -> assistant;
``system`` -> system; ``function_call`` -> an assistant message whose tool call is the
value parsed as ``{"name": ..., "arguments": ...}`` (a value that is not such JSON is kept
raw as the arguments of a call named ``function_call``); ``observation``/``tool``/``function``
-> a ``tool`` message (named after the call it answers). A top-level ``system`` string (as in
LLaMA-Factory's ShareGPT) is a system message first. A turn with a ``name`` keeps it.
Metadata: every other top-level key (``id``, labels, scores, ``tools``, ...).
"""
from __future__ import annotations

from typing import Any

from ..errors import InputError
from .common import check_depth, kind, parse_arguments, text_field
from .model import Message, ToolCall

TURN_KEYS = ("conversations", "conversation", "chat", "dialogue", "turns")
FROM_ROLES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant",
              "model": "assistant", "bot": "assistant", "chatgpt": "assistant", "bing": "assistant",
              "bard": "assistant", "system": "system", "function_call": "assistant",
              "observation": "tool", "tool": "tool", "function": "tool"}


def turns_key(obj: dict[str, Any]) -> str | None:
    """The first of TURN_KEYS holding a non-empty list of turn objects (``from`` or ``role``)."""
    for key in TURN_KEYS:
        turns = obj.get(key)
        if isinstance(turns, list) and turns and isinstance(turns[0], dict) \
                and ("from" in turns[0] or "role" in turns[0]):
            return key
    return None


def is_from_value(turns: list[Any]) -> bool:
    return bool(turns) and isinstance(turns[0], dict) and "from" in turns[0]


def messages_from_sharegpt(turns: list[Any], system: Any, path: str, locator: str) -> tuple[Message, ...]:
    """Convert ``from``/``value`` turns; raises InputError naming the turn at fault."""
    out: list[Message] = []
    sys_text = text_field(system, path, locator, "'system'")
    if sys_text:
        out.append(Message(0, "system", sys_text))
    last_call: str | None = None
    for i, turn in enumerate(turns):
        where = f"turn {i}"
        if not isinstance(turn, dict):
            raise InputError(path, locator, f"{where}: expected an object, got {kind(turn)}")
        speaker = turn.get("from")
        role = FROM_ROLES.get(speaker.lower()) if isinstance(speaker, str) else None
        if role is None:
            raise InputError(path, locator, f"{where}: unknown 'from' {speaker!r} (expected human, gpt, system, "
                                            "function_call or observation)")
        value = turn.get("value")
        if "value" not in turn:  # its text under another key would be graded as an empty turn
            other = sorted(k for k in turn if k not in ("from", "name", "weight"))
            raise InputError(path, locator, f"{where}: no 'value' (keys: {', '.join(other) or 'none'})")
        if value is not None and not isinstance(value, str):
            check_depth(value, path, locator, f"{where}: 'value'")
        name = text_field(turn.get("name"), path, locator, f"{where}: 'name'")
        if str(speaker).lower() == "function_call":
            call = _call(value)
            last_call = call.name
            out.append(Message(len(out), "assistant", "", (call,)))
        elif role == "tool":
            text = value if isinstance(value, str) else ("" if value is None else _json(value))
            out.append(Message(len(out), "tool", text, name=name or last_call))
        else:
            if value is not None and not isinstance(value, str):
                raise InputError(path, locator, f"{where}: 'value' must be a string, got {kind(value)}")
            out.append(Message(len(out), role, value or "", name=name))
    return tuple(out)


def _call(value: Any) -> ToolCall:
    parsed = parse_arguments(value)
    if isinstance(parsed, dict) and isinstance(parsed.get("name"), str) and parsed["name"]:
        args = parse_arguments(parsed.get("arguments", parsed.get("parameters")))
        return ToolCall(None, parsed["name"], args)
    return ToolCall(None, "function_call", value if isinstance(value, str) else parsed)


def _json(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False, sort_keys=True)
