"""Builders for agentic test transcripts in the OpenAI chat shape, and a runner for one check.

``tx(system(...), user(...), calls(call("bash", cmd="ls")), tool("..."), assistant("..."))``
builds a ``Transcript`` through ``Transcript.from_openai``; tool call ids are assigned in
order (``c0``, ``c1`` ...) and each ``tool(...)`` answers the next unanswered call.
"""
from __future__ import annotations

import json
from typing import Any

from grader.checks.kinds.base import CheckResult
from grader.checks.kinds.context import TranscriptContext
from grader.checks.registry import build, validate_check_params
from grader.rubric import CheckSpec
from grader.transcripts.model import Transcript


def system(text: str) -> dict[str, Any]:
    return {"role": "system", "content": text}


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": text}


def assistant(text: str) -> dict[str, Any]:
    return {"role": "assistant", "content": text}


def call(name: str, /, **arguments: Any) -> dict[str, Any]:
    return {"type": "function", "function": {"name": name, "arguments": json.dumps(arguments)}}


def raw_call(name: str, arguments: str) -> dict[str, Any]:
    return {"type": "function", "function": {"name": name, "arguments": arguments}}


def calls(*items: dict[str, Any], text: str = "") -> dict[str, Any]:
    return {"role": "assistant", "content": text or None, "tool_calls": list(items)}


def bash(command: str, text: str = "") -> dict[str, Any]:
    """An assistant message with one ``bash`` call."""
    return calls(call("bash", command=command), text=text)


def tool(text: str) -> dict[str, Any]:
    return {"role": "tool", "content": text}


def tx(*messages: dict[str, Any]) -> Transcript:
    out: list[dict[str, Any]] = []
    pending: list[str] = []
    n = 0
    for m in messages:
        m = json.loads(json.dumps(m))
        if m.get("tool_calls"):
            for c in m["tool_calls"]:
                c["id"] = f"c{n}"
                pending.append(c["id"])
                n += 1
        if m["role"] == "tool":
            m["tool_call_id"] = pending.pop(0)
        out.append(m)
    return Transcript.from_openai(out, id="t")


def run(kind: str, params: dict[str, Any], transcript: Transcript, check_id: str = "chk") -> CheckResult:
    validate_check_params(kind, params, "test.yaml", "checks[0]")
    check = build(CheckSpec(check_id, kind, params))
    return check.run(transcript, TranscriptContext(transcript))


def quotes(result: CheckResult) -> list[tuple[int, str]]:
    return [(h.message_index, h.quote) for h in result.hits]


def assert_citable(transcript: Transcript, result: CheckResult) -> None:
    """Every hit's quote is verbatim in its message: content, reasoning, or a tool call's
    arguments (a string leaf or ``arguments_text()``)."""
    for h in result.hits:
        m = transcript.messages[h.message_index]
        texts = [m.content, m.reasoning or ""]
        for c in m.tool_calls:
            texts.append(c.arguments_text())
            texts += [v for _, v in c.argument_strings()] if not isinstance(c.arguments, str) else [c.arguments]
        assert any(h.quote in t for t in texts), f"quote {h.quote!r} not found in message {h.message_index}"
