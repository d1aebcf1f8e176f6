"""OpenAI Responses API items -> ``Message`` tuples.

A conversation is an object with ``input`` and/or ``output`` lists of items (a logged request
and its response, or a Response object with ``output``), ``instructions`` as a system message
first; ``input`` may also be a plain string (one user message). A bare list of items is read
the same way. Items:

- ``message`` (or a typeless ``{"role", "content"}``): role system/developer -> system, user,
  assistant; content a string or parts (``input_text``, ``output_text``, ``refusal`` -> text;
  images, audio, files -> ``[image omitted]``-style placeholders);
- ``reasoning``: its ``content`` texts (else its ``summary`` texts; ``[redacted thinking]`` when
  only ``encrypted_content``) become the ``reasoning`` of the next assistant message;
- ``function_call`` / ``custom_tool_call``: a ToolCall (``call_id``, ``name``, ``arguments``
  parsed from JSON, ``input`` kept raw) on the assistant message of that turn (a new one with
  empty content when the turn has none yet);
- ``function_call_output`` / ``custom_tool_call_output`` / ``*_call_output``: a ``tool``
  message answering ``call_id``, named after that call (output strings, or the text of output
  parts);
- other ``*_call`` items (``web_search_call``, ``local_shell_call``, ``mcp_call``,
  ``code_interpreter_call``, ``computer_call``, ...): a ToolCall named after the item type
  (``web_search``, ``mcp:<name>`` for MCP) with the item's own fields as arguments, and for
  items that carry their result (``output``, ``outputs``, ``error``) a ``tool`` message after it.
- ``item_reference`` and other item types without content are skipped.
"""
from __future__ import annotations

import json
from typing import Any

from ..errors import InputError
from .anthropic_format import REDACTED
from .common import PLACEHOLDER, check_depth, kind, parse_arguments
from .model import Message, ToolCall

ITEM_TYPES = frozenset({"message", "function_call", "function_call_output", "reasoning", "custom_tool_call",
                        "custom_tool_call_output", "web_search_call", "file_search_call", "computer_call",
                        "computer_call_output", "local_shell_call", "local_shell_call_output", "mcp_call",
                        "mcp_list_tools", "mcp_approval_request", "mcp_approval_response",
                        "code_interpreter_call", "image_generation_call", "item_reference"})
_ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant"}
_TEXT_PARTS = ("input_text", "output_text", "text", "summary_text", "reasoning_text")
_NON_TEXT = {"input_image": "image", "input_audio": "audio", "input_file": "file"}
_CALL_FIELDS_LEFT_OUT = frozenset({"type", "id", "call_id", "status", "output", "outputs", "error"})


def is_item(value: Any) -> bool:
    return isinstance(value, dict) and value.get("type") in ITEM_TYPES


def is_item_list(value: Any) -> bool:
    """A list holding Responses items (a non-message item, or only ``message`` items)."""
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value[:50]) \
        and any(is_item(v) for v in value[:50])


def is_responses_object(obj: dict[str, Any]) -> bool:
    """``input``/``output`` holding items, or ``input`` a string with an ``output`` list."""
    out, inp = obj.get("output"), obj.get("input")
    if is_item_list(out) or is_item_list(inp):
        return True
    return isinstance(inp, str) and isinstance(out, list)


def messages_from_responses(obj: dict[str, Any], path: str, locator: str) -> tuple[Message, ...]:
    items: list[Any] = []
    instructions = obj.get("instructions")
    if isinstance(instructions, str) and instructions:
        items.append({"type": "message", "role": "system", "content": instructions})
    inp = obj.get("input")
    if isinstance(inp, str):
        items.append({"type": "message", "role": "user", "content": inp})
    elif isinstance(inp, list):
        items.extend(inp)
    elif inp is not None:
        raise InputError(path, locator, f"'input' must be a string or a list of items, got {kind(inp)}")
    out = obj.get("output")
    if isinstance(out, list):
        items.extend(out)
    elif out is not None:
        raise InputError(path, locator, f"'output' must be a list of items, got {kind(out)}")
    return messages_from_items(items, path, locator)


def messages_from_items(items: list[Any], path: str, locator: str) -> tuple[Message, ...]:
    """Convert a list of Responses items; raises InputError naming the item at fault."""
    out: list[Message] = []
    names: dict[str, str] = {}
    reasoning: list[str] = []
    open_turn = False  # the last message is this turn's assistant message (calls attach to it)
    for i, item in enumerate(items):
        where = f"item {i}"
        if not isinstance(item, dict):
            raise InputError(path, locator, f"{where}: expected an object, got {kind(item)}")
        itype = item.get("type", "message" if "role" in item else None)
        if itype == "message":
            raw_role = item.get("role")
            role = _ROLES.get(raw_role) if isinstance(raw_role, str) else None
            if role is None:
                raise InputError(path, locator, f"{where}: unknown role {item.get('role')!r} "
                                                "(expected system, developer, user or assistant)")
            text = _content_text(item.get("content"), path, locator, where)
            if role == "assistant":
                out.append(Message(len(out), role, text, reasoning=_take(reasoning)))
                open_turn = True
            else:
                out.append(Message(len(out), role, text))
                open_turn = False
        elif itype == "reasoning":
            reasoning.append(_reasoning_text(item))
        elif itype in ("function_call", "custom_tool_call"):
            name = item.get("name")
            if not isinstance(name, str) or not name:
                raise InputError(path, locator, f"{where}: {itype} without a 'name'")
            raw = item.get("arguments") if itype == "function_call" else item.get("input")
            args = parse_arguments(raw) if itype == "function_call" else ("" if raw is None else raw)
            check_depth(args, path, locator, f"{where}: arguments")
            call = ToolCall(_ident(item), name, args)
            open_turn = _attach(out, call, reasoning, open_turn)
            if call.id:
                names[call.id] = name
        elif isinstance(itype, str) and itype.endswith("_call_output"):
            cid = None if item.get("call_id") is None else str(item.get("call_id"))
            text = _output_text(item.get("output"))
            out.append(Message(len(out), "tool", text, tool_call_id=cid, name=names.get(cid) if cid else None))
            open_turn = False
        elif isinstance(itype, str) and itype.endswith("_call"):
            name = _builtin_name(item, itype)
            args = {k: v for k, v in item.items() if k not in _CALL_FIELDS_LEFT_OUT}
            check_depth(args, path, locator, f"{where}: arguments")
            call = ToolCall(_ident(item), name, args)
            open_turn = _attach(out, call, reasoning, open_turn)
            if call.id:
                names[call.id] = name
            result = _builtin_result(item)
            if result is not None:
                out.append(Message(len(out), "tool", result[0], tool_call_id=call.id, name=name, is_error=result[1]))
                open_turn = False
        elif isinstance(itype, str):
            continue  # item_reference, mcp_list_tools, ...: no conversation content
        else:
            raise InputError(path, locator, f"{where}: no 'type'")
    if reasoning:  # reasoning with nothing after it (a cut-off turn)
        out.append(Message(len(out), "assistant", "", reasoning=_take(reasoning)))
    return tuple(out)


def _take(reasoning: list[str]) -> str | None:
    text = "\n".join(r for r in reasoning if r) or None
    reasoning.clear()
    return text


def _attach(out: list[Message], call: ToolCall, reasoning: list[str], open_turn: bool) -> bool:
    if open_turn and out and out[-1].role == "assistant" and not reasoning:
        last = out[-1]
        out[-1] = Message(last.index, "assistant", last.content, last.tool_calls + (call,), reasoning=last.reasoning)
    else:
        out.append(Message(len(out), "assistant", "", (call,), reasoning=_take(reasoning)))
    return True


def _ident(item: dict[str, Any]) -> str | None:
    cid = item.get("call_id", item.get("id"))
    return None if cid is None else str(cid)


def _builtin_name(item: dict[str, Any], itype: str) -> str:
    base = itype[: -len("_call")]
    if itype == "mcp_call" and isinstance(item.get("name"), str):
        return f"mcp:{item['name']}"
    return base


def _builtin_result(item: dict[str, Any]) -> tuple[str, bool] | None:
    if item.get("error"):
        return _output_text(item["error"]), True
    for key in ("output", "outputs"):
        if item.get(key) is not None:
            return _output_text(item[key]), False
    return None


def _content_text(content: Any, path: str, locator: str, where: str) -> str:
    if content is None or isinstance(content, str):
        return content or ""
    if not isinstance(content, list):
        raise InputError(path, locator, f"{where}: 'content' must be a string or a list of parts, got {kind(content)}")
    texts = []
    for j, part in enumerate(content):
        if isinstance(part, str):
            texts.append(part)
            continue
        if not isinstance(part, dict) or not isinstance(part.get("type"), str):
            raise InputError(path, locator, f"{where} part {j}: expected a part with a 'type'")
        ptype = part["type"]
        if ptype in _TEXT_PARTS and isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif ptype == "refusal" and isinstance(part.get("refusal"), str):
            texts.append(part["refusal"])
        else:
            texts.append(PLACEHOLDER.format(kind=_NON_TEXT.get(ptype, ptype)))
    return "\n".join(texts)


def _reasoning_text(item: dict[str, Any]) -> str:
    for key in ("content", "summary"):
        parts = item.get(key)
        if isinstance(parts, list):
            texts = [p["text"] for p in parts if isinstance(p, dict) and isinstance(p.get("text"), str)]
            if texts:
                return "\n".join(texts)
        elif isinstance(parts, str) and parts:
            return parts
    return REDACTED if item.get("encrypted_content") else ""


def _output_text(output: Any) -> str:
    if output is None or isinstance(output, str):
        return output or ""
    if isinstance(output, list):
        texts = []
        for part in output:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                texts.append(part["text"])
            elif isinstance(part, dict) and isinstance(part.get("logs"), str):
                texts.append(part["logs"])
            elif isinstance(part, dict) and isinstance(part.get("type"), str):
                texts.append(PLACEHOLDER.format(kind=_NON_TEXT.get(part["type"], part["type"])))
            else:
                texts.append(part if isinstance(part, str) else json.dumps(part, ensure_ascii=False))
        return "\n".join(texts)
    return json.dumps(output, ensure_ascii=False, sort_keys=True)
