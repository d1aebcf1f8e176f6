"""Anthropic Messages (``system`` + ``messages``) -> ``Message`` tuples.

- ``system`` (a string or a list of text blocks) becomes a system message at index 0.
- ``content`` is a string or a list of blocks: ``text`` -> content; ``tool_use`` (and
  ``server_tool_use`` / ``mcp_tool_use``) -> a ``ToolCall`` with the ``input`` object as
  arguments; ``thinking`` -> ``reasoning``; ``redacted_thinking`` -> reasoning
  ``[redacted thinking]``; images and documents -> ``[image omitted]``-style placeholders.
- Every ``tool_result`` block becomes its own message with role ``tool``, ``tool_call_id`` =
  ``tool_use_id``, ``name`` = the name of that call, ``is_error`` from the block, and content
  from the block's string or nested text blocks. A message holding tool results yields those
  tool messages first, in order, then (if it has any other block) one message with the rest.
"""
from __future__ import annotations

from typing import Any

from ..errors import InputError
from .common import PLACEHOLDER, check_depth, kind
from .model import ROLES, Message, ToolCall

TOOL_USE_TYPES = ("tool_use", "server_tool_use", "mcp_tool_use")
# Block types that only Anthropic uses (content-sniffing in the loader).
ANTHROPIC_BLOCK_TYPES = frozenset(TOOL_USE_TYPES + ("tool_result", "thinking", "redacted_thinking"))
REDACTED = "[redacted thinking]"


_OPENAI_FIELDS = ("tool_calls", "tool_call_id", "function_call", "reasoning_content")


def messages_from_anthropic(system: Any, messages: Any, path: str, locator: str) -> tuple[Message, ...]:
    """Convert Anthropic ``system`` and ``messages``; raises ``InputError`` on a bad shape,
    naming the message index (and block) at fault. Indexes in errors are the input's."""
    out: list[Message] = []
    system_text = _system_text(system, path, locator)
    if system_text:
        out.append(Message(0, "system", system_text))
    if not isinstance(messages, list):
        raise InputError(path, locator, f"'messages' must be a list, got {kind(messages)}")
    call_names: dict[str, str] = {}
    for i, m in enumerate(messages):
        if not isinstance(m, dict):
            raise InputError(path, locator, f"message {i}: expected an object, got {kind(m)}")
        role = m.get("role")
        if role is None:
            raise InputError(path, locator, f"message {i}: no 'role'")
        openai_only = [k for k in _OPENAI_FIELDS if k in m]
        if openai_only:  # read as Anthropic these would be dropped without a trace
            raise InputError(path, locator, f"message {i}: OpenAI field '{openai_only[0]}' in an Anthropic Messages "
                                            "conversation (mixed formats; try --format openai)")
        if role not in ROLES:
            raise InputError(path, locator, f"message {i}: unknown role {role!r} (expected user or assistant)")
        content = m.get("content")
        if isinstance(content, str):
            out.append(Message(len(out), role, content))
        elif content is None:
            out.append(Message(len(out), role, ""))
        elif isinstance(content, list):
            _blocks(role, content, out, call_names, path, locator, f"message {i}")
        else:
            raise InputError(path, locator, f"message {i}: 'content' must be a string or a list of blocks, "
                                            f"got {kind(content)}")
    return tuple(out)


def _system_text(system: Any, path: str, locator: str) -> str:
    if system is None or isinstance(system, str):
        return system or ""
    if isinstance(system, list):
        texts = []
        for j, b in enumerate(system):
            if isinstance(b, str):
                texts.append(b)
            elif isinstance(b, dict) and b.get("type") == "text" and isinstance(b.get("text"), str):
                texts.append(b["text"])
            else:
                raise InputError(path, locator, f"'system' block {j}: expected a text block")
        return "\n".join(texts)
    raise InputError(path, locator, f"'system' must be a string or a list of text blocks, got {kind(system)}")


def _blocks(role: str, blocks: list[Any], out: list[Message], call_names: dict[str, str],
            path: str, locator: str, where: str) -> None:
    texts: list[str] = []
    thinking: list[str] = []
    calls: list[ToolCall] = []
    results = 0
    for j, b in enumerate(blocks):
        here = f"{where} block {j}"
        if isinstance(b, str):
            texts.append(b)
            continue
        if not isinstance(b, dict):
            raise InputError(path, locator, f"{here}: expected an object, got {kind(b)}")
        btype = b.get("type")
        if btype == "text":
            if not isinstance(b.get("text"), str):
                raise InputError(path, locator, f"{here}: 'text' must be a string, got {kind(b.get('text'))}")
            texts.append(b["text"])
        elif btype in TOOL_USE_TYPES:
            name = b.get("name")
            if not isinstance(name, str) or not name:
                raise InputError(path, locator, f"{here}: tool_use without a 'name'")
            args = b.get("input", {})
            check_depth(args, path, locator, f"{here}: 'input'")
            cid = None if b.get("id") is None else str(b.get("id"))
            calls.append(ToolCall(cid, name, {} if args is None else args))
            if cid:
                call_names[cid] = name
        elif btype == "tool_result":
            use_id = b.get("tool_use_id")
            use_id = None if use_id is None else str(use_id)
            text = _result_text(b.get("content"), path, locator, here)
            out.append(Message(len(out), "tool", text, tool_call_id=use_id,
                               name=call_names.get(use_id) if use_id else None,
                               is_error=bool(b.get("is_error", False))))
            results += 1
        elif btype == "thinking":
            value = b.get("thinking")
            if not isinstance(value, str):
                raise InputError(path, locator, f"{here}: 'thinking' must be a string, got {kind(value)}")
            thinking.append(value)
        elif btype == "redacted_thinking":
            thinking.append(REDACTED)
        elif isinstance(btype, str):
            texts.append(PLACEHOLDER.format(kind=btype))
        else:
            raise InputError(path, locator, f"{here}: no 'type'")
    if texts or calls or thinking or not results:
        out.append(Message(len(out), role, "\n".join(texts), tuple(calls),
                           reasoning="\n".join(thinking) if thinking else None))


def _result_text(content: Any, path: str, locator: str, where: str) -> str:
    if content is None or isinstance(content, str):
        return content or ""
    if isinstance(content, list):
        texts = []
        for k, b in enumerate(content):
            if isinstance(b, str):
                texts.append(b)
            elif isinstance(b, dict) and b.get("type") == "text" and isinstance(b.get("text"), str):
                texts.append(b["text"])
            elif isinstance(b, dict) and isinstance(b.get("type"), str):
                texts.append(PLACEHOLDER.format(kind=b["type"]))
            else:
                raise InputError(path, locator, f"{where} content block {k}: expected a block with a 'type'")
        return "\n".join(texts)
    raise InputError(path, locator, f"{where}: tool_result 'content' must be a string or a list of blocks, "
                                    f"got {kind(content)}")
