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
- A server-side tool result (``mcp_tool_result``, ``web_search_tool_result``,
  ``code_execution_tool_result``, any ``*_tool_result`` block) is a ``tool`` message answering
  its ``tool_use_id`` too, placed where it is: the blocks before it (its call included) form
  one message, the result follows, the blocks after it form another. Its content is the
  readable text of the result (text blocks, search result titles and URLs, stdout/stderr and
  return code, a fetched text document, ``error: <code>``); ``is_error`` from the block or an
  ``*_error`` result.
- OpenAI-only fields (``tool_calls``, ``tool_call_id``, ...) are an InputError (mixed formats).
"""
from __future__ import annotations

from typing import Any

from ..errors import InputError
from .common import PLACEHOLDER, check_depth, kind
from .model import ROLES, Message, ToolCall

TOOL_USE_TYPES = ("tool_use", "server_tool_use", "mcp_tool_use")
# Block types that only Anthropic uses (content-sniffing in the loader); so is any other
# ``*_tool_result`` block (see is_anthropic_block).
ANTHROPIC_BLOCK_TYPES = frozenset(TOOL_USE_TYPES + ("tool_result", "thinking", "redacted_thinking"))
REDACTED = "[redacted thinking]"


def is_anthropic_block(btype: Any) -> bool:
    """True for a content block type only Anthropic Messages use: tool use, tool results
    (``tool_result`` and server-side ``web_search_tool_result``, ``mcp_tool_result``, ...),
    thinking."""
    return isinstance(btype, str) and (btype in ANTHROPIC_BLOCK_TYPES or _is_server_result(btype))


def _is_server_result(btype: Any) -> bool:
    """A server-side tool result block: ``mcp_tool_result``, ``web_search_tool_result``,
    ``code_execution_tool_result``, ... (any ``*_tool_result`` but ``tool_result``)."""
    return isinstance(btype, str) and btype.endswith("_tool_result")


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
        elif _is_server_result(btype):
            # A server-side tool's result sits in the assistant message right after its call:
            # what came before (the call included) is one message, the result a tool message
            # after it, and the rest of the blocks another message.
            if texts or calls or thinking:
                out.append(Message(len(out), role, "\n".join(texts), tuple(calls),
                                   reasoning="\n".join(thinking) if thinking else None))
                texts, calls, thinking = [], [], []
            use_id = b.get("tool_use_id")
            use_id = None if use_id is None else str(use_id)
            content = b.get("content")
            check_depth(content, path, locator, f"{here}: 'content'")
            text, failed = _server_result(content)
            out.append(Message(len(out), "tool", text, tool_call_id=use_id,
                               name=call_names.get(use_id) if use_id else None,
                               is_error=bool(b.get("is_error", False)) or failed))
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


# Readable fields of server-side tool result content, in the order written out.
_RESULT_FIELDS = ("title", "url", "text", "stdout", "stderr", "return_code", "error_code", "source", "content")
_LABELS = {"stderr": "stderr: ", "return_code": "return code: ", "error_code": "error: "}


def _server_result(content: Any) -> tuple[str, bool]:
    """The text of a server-side tool result's ``content`` (a string, text blocks, search
    results, a code execution result, a fetched document, an error object, ...) and whether
    it is an error (an ``*_error`` block, e.g. ``web_search_tool_result_error``). A block
    with none of the readable fields becomes a ``[<type> omitted]`` placeholder."""
    lines: list[str] = []
    failed = False
    stack: list[Any] = [content]
    while stack:
        item = stack.pop()
        if item is None or item == "":
            continue
        if isinstance(item, list):
            stack.extend(reversed(item))
            continue
        if not isinstance(item, dict):
            lines.append(item if isinstance(item, str) else str(item))
            continue
        btype = item.get("type")
        if isinstance(btype, str) and btype.endswith("_error"):
            failed = True
        before = len(lines)
        nested: list[Any] = []
        for key in _RESULT_FIELDS:
            value = item.get(key)
            if value is None or value == "":
                continue
            if key == "source":  # a fetched document: its text is kept (binary data is not text)
                if isinstance(value, dict) and value.get("type") == "text" and isinstance(value.get("data"), str):
                    lines.append(value["data"])
            elif isinstance(value, (list, dict)):
                nested.append(value)
            else:
                lines.append(_LABELS.get(key, "") + str(value))
        if len(lines) == before and not nested and isinstance(btype, str):
            lines.append(PLACEHOLDER.format(kind=btype))
        stack.extend(reversed(nested))
    return "\n".join(lines), failed
