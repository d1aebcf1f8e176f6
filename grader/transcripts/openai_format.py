"""OpenAI chat messages -> ``Message`` tuples.

Accepted per message: ``role`` (system, developer -> system, user, assistant, tool, and the
legacy ``function`` role -> tool); ``content`` as a string, null, or a list of parts
(``{"type": "text", "text": ...}``, ``refusal`` parts as text, bare strings as text; image,
audio and file parts become ``[image omitted]``-style placeholders); ``tool_calls`` with
``function.arguments`` as a JSON string (parsed; kept raw when it is not valid JSON) or an
object; the legacy ``function_call``; ``tool_call_id`` and ``name``; ``refusal`` (used as the
content when content is empty); ``reasoning_content`` / ``reasoning`` -> ``Message.reasoning``.
A tool message without ``name`` gets the name of the call it answers. An Anthropic-only
content block (``tool_use``, ``tool_result``, ``thinking``, ``*_tool_result``, ...) is an
InputError naming it (mixed formats; read as OpenAI, a tool call would be lost).
"""
from __future__ import annotations

from typing import Any

from ..errors import InputError
from .anthropic_format import is_anthropic_block
from .common import PLACEHOLDER, check_depth, kind, parse_arguments, text_field
from .model import Message, ToolCall

_ROLE_MAP = {"system": "system", "developer": "system", "user": "user",
             "assistant": "assistant", "tool": "tool", "function": "tool"}
_NON_TEXT_PARTS = {"image_url": "image", "image": "image", "input_image": "image",
                   "input_audio": "audio", "audio": "audio", "file": "file", "input_file": "file"}


def messages_from_openai(messages: Any, path: str, locator: str) -> tuple[Message, ...]:
    """Convert an OpenAI ``messages`` list; raises ``InputError`` on a bad shape,
    naming the message index (and part or tool call) at fault."""
    if not isinstance(messages, list):
        raise InputError(path, locator, f"'messages' must be a list, got {kind(messages)}")
    out: list[Message] = []
    call_names: dict[str, str] = {}
    for i, m in enumerate(messages):
        if not isinstance(m, dict):
            raise InputError(path, locator, f"message {i}: expected an object, got {kind(m)}")
        raw_role = m.get("role")
        if raw_role is None:
            raise InputError(path, locator, f"message {i}: no 'role'")
        role = _ROLE_MAP.get(raw_role) if isinstance(raw_role, str) else None
        if role is None:
            raise InputError(path, locator, f"message {i}: unknown role {raw_role!r} "
                                            "(expected system, user, assistant or tool)")
        where = f"message {i}"
        content = m.get("content")
        if isinstance(content, str):
            text = content
        elif content is None:
            text = ""
        elif isinstance(content, list):
            text = _parts_text(content, path, locator, where)
        else:
            raise InputError(path, locator, f"{where}: 'content' must be a string, a list of parts "
                                            f"or null, got {kind(content)}")
        if not text:
            refusal = m.get("refusal")
            if isinstance(refusal, str):
                text = refusal
        name = text_field(m.get("name"), path, locator, f"{where}: 'name'")
        calls: tuple[ToolCall, ...] = ()
        if "tool_calls" in m or "function_call" in m:
            calls = _tool_calls(m, path, locator, where)
            for c in calls:
                if c.id:
                    call_names[c.id] = c.name
        call_id = m.get("tool_call_id")
        if call_id is not None and not isinstance(call_id, str):
            if isinstance(call_id, bool) or not isinstance(call_id, int):
                raise InputError(path, locator, f"{where}: 'tool_call_id' must be a string, got {kind(call_id)}")
            call_id = str(call_id)
        if role == "tool" and name is None and call_id is not None:
            name = call_names.get(call_id)
        reasoning = _reasoning(m, path, locator, where)
        out.append(Message(i, role, text, calls, call_id, reasoning, name))
    return tuple(out)


def _parts_text(parts: list[Any], path: str, locator: str, where: str) -> str:
    texts: list[str] = []
    for j, part in enumerate(parts):
        if isinstance(part, str):
            texts.append(part)
            continue
        if not isinstance(part, dict):
            raise InputError(path, locator, f"{where} part {j}: expected an object or a string, got {kind(part)}")
        ptype = part.get("type")
        if is_anthropic_block(ptype):  # read as OpenAI it would be a placeholder: a tool call lost
            raise InputError(path, locator, f"{where} part {j}: Anthropic content block {ptype!r} in an OpenAI "
                                            "message: try --format anthropic")
        if ptype in ("text", "input_text", "output_text") or (ptype is None and "text" in part):
            value = part.get("text")
            if not isinstance(value, str):
                raise InputError(path, locator, f"{where} part {j}: 'text' must be a string, got {kind(value)}")
            texts.append(value)
        elif ptype == "refusal" and isinstance(part.get("refusal"), str):
            texts.append(part["refusal"])
        elif isinstance(part.get("text"), str) and ptype not in _NON_TEXT_PARTS:
            texts.append(part["text"])  # e.g. reasoning_text parts
        elif isinstance(ptype, str):
            texts.append(PLACEHOLDER.format(kind=_NON_TEXT_PARTS.get(ptype, ptype)))
        else:
            raise InputError(path, locator, f"{where} part {j}: no 'type'")
    return "\n".join(texts)


def _tool_calls(m: dict[str, Any], path: str, locator: str, where: str) -> tuple[ToolCall, ...]:
    raw = m.get("tool_calls")
    calls: list[ToolCall] = []
    if raw is not None:
        if not isinstance(raw, list):
            raise InputError(path, locator, f"{where}: 'tool_calls' must be a list, got {kind(raw)}")
        for j, c in enumerate(raw):
            if not isinstance(c, dict):
                raise InputError(path, locator, f"{where} tool call {j}: expected an object, got {kind(c)}")
            fn = c.get("function", c)
            if not isinstance(fn, dict):
                raise InputError(path, locator, f"{where} tool call {j}: 'function' must be an object, got {kind(fn)}")
            name = fn.get("name")
            if not isinstance(name, str) or not name:
                raise InputError(path, locator, f"{where} tool call {j}: no function name")
            cid = c.get("id")
            args = parse_arguments(fn.get("arguments"))
            check_depth(args, path, locator, f"{where} tool call {j}: arguments")
            calls.append(ToolCall(None if cid is None else str(cid), name, args))
    legacy = m.get("function_call")
    if legacy is not None:
        if not isinstance(legacy, dict) or not isinstance(legacy.get("name"), str):
            raise InputError(path, locator, f"{where}: 'function_call' must be an object with a 'name'")
        args = parse_arguments(legacy.get("arguments"))
        check_depth(args, path, locator, f"{where}: function_call arguments")
        calls.append(ToolCall(None, legacy["name"], args))
    return tuple(calls)


def _reasoning(m: dict[str, Any], path: str, locator: str, where: str) -> str | None:
    for key in ("reasoning_content", "reasoning"):
        value = m.get(key)
        if value is None:
            continue
        if isinstance(value, str):
            return value or None
        if isinstance(value, list):
            return _parts_text(value, path, locator, f"{where} {key}") or None
        if isinstance(value, dict) and isinstance(value.get("text") or value.get("content"), str):
            return value.get("text") or value.get("content")
        raise InputError(path, locator, f"{where}: '{key}' must be a string, got {kind(value)}")
    return None
