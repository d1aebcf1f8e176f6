"""The built-in rows of the format table and the lookups everything else uses.

``all_formats()`` is the table in detection order: the built-in formats that recognise their
own files (Inspect logs, Claude Code sessions, one message per line), then plug-ins
(``plugins.plugin_formats``), then the per-value JSON shapes (read by name only: without
``--format`` the ``json`` row detects them value by value), the generic ``json`` row and
``text``. Without a format, a file is read by the first row whose ``extensions`` hold its
(inner) suffix and whose ``detect`` claims it; ``--format NAME`` reads every file with that row.

Adding a format: write a reader module (``read(path, stem)`` yielding Transcripts and
InputErrors, and optionally ``detect(head, path)``) and add one ``Format`` row here.
"""
from __future__ import annotations

import re
from functools import partial

from ..errors import UsageError
from . import claude_code_format, message_lines
from .compression import compression_of
from .formats import Format
from .inspect_format import iter_inspect
from .jsonfile import read_conversations
from .plugins import plugin_formats
from .tabular import HF_DATASET_FORMAT, PARQUET_FORMAT
from .text_format import read_text_file

JSON = frozenset({".json", ".jsonl"})
# The opening of a JSON log written by Inspect: {"version": 2, "status": ...
_INSPECT_JSON_HEAD = re.compile(rb'\A(?:\xef\xbb\xbf)?\s*\{\s*"version"\s*:\s*\d+\s*,\s*"status"\s*:')


def _detect_inspect(head: bytes, path: str) -> bool:
    if compression_of(path):
        return False  # inspect_ai reads logs by path, uncompressed
    return path.lower().endswith(".eval") or bool(_INSPECT_JSON_HEAD.match(head))


def _read_text(path: str, stem: str):  # type: ignore[no-untyped-def]
    from ..errors import InputError

    try:
        t = read_text_file(path, stem)
    except InputError as e:
        yield e
        return
    if t is not None:
        yield t


def _always(head: bytes, path: str) -> bool:
    return True


SPECIFIC: tuple[Format, ...] = (
    Format("inspect", "Inspect AI eval logs (.eval, or a .json log starting with \"version\" and \"status\")",
           frozenset({".eval", ".json"}), iter_inspect, _detect_inspect),
    Format("claude-code", "Claude Code session files: records with 'type', 'message', 'uuid'/'parentUuid' and "
                          "'sessionId'; one transcript per session, sub-agents apart",
           frozenset({".jsonl"}), claude_code_format.read, claude_code_format.detect),
    Format("message-lines", "JSONL with one message per line (the first line an object with a 'role' or a "
                            "Responses item 'type'); one transcript per file",
           frozenset({".jsonl"}), message_lines.read, message_lines.detect),
    PARQUET_FORMAT,
    HF_DATASET_FORMAT,  # a folder (save_to_disk), read as one input by the walk
)
GENERIC: tuple[Format, ...] = (
    Format("openai", "OpenAI chat: 'messages' with role/content/tool_calls (detected per value: no Anthropic-only "
                     "block and no 'system' key)", JSON, partial(read_conversations, shape="openai")),
    Format("anthropic", "Anthropic Messages: 'system' + 'messages' with content blocks (detected per value: a "
                        "'system' key or a tool_use/tool_result/thinking block)",
           JSON, partial(read_conversations, shape="anthropic")),
    Format("responses", "OpenAI Responses API items: 'input'/'output' lists of message, function_call, "
                        "function_call_output, reasoning items, or a bare list of items (detected per value)",
           JSON, partial(read_conversations, shape="responses")),
    Format("sharegpt", "ShareGPT and friends: 'conversations' (or conversation, chat, dialogue, turns) of "
                       "from/value or role/content turns (detected per value)",
           JSON, partial(read_conversations, shape="sharegpt")),
    Format("preference", "preference data: hh-rlhf 'chosen'/'rejected' texts, DPO 'prompt'+'chosen'/'rejected', "
                         "KTO 'prompt'+'completion'+'label'; one transcript per side (detected per value)",
           JSON, partial(read_conversations, shape="preference")),
    Format("json", "any of the JSON shapes above, detected value by value, and documents holding them inside "
                   "(e.g. 'results[].conversation'; other places: --messages-path); every .json/.jsonl file "
                   "no row above claims", JSON, read_conversations, _always),
    Format("text", "plain text with User:/Assistant: turns, --- USER --- header lines or ### User headings (.txt; .md files with turn markers)",
           frozenset({".txt", ".md"}), _read_text, _always),
)
# formats whose reader takes a --messages-path (a selector inside each JSON value)
SELECTABLE = frozenset({"openai", "anthropic", "responses", "sharegpt", "preference", "json"})


def all_formats() -> tuple[Format, ...]:
    """Every format row, in detection order (built-in and plug-in)."""
    return SPECIFIC + tuple(plugin_formats()) + GENERIC


def format_names() -> tuple[str, ...]:
    """The names ``--format`` takes."""
    return tuple(f.name for f in all_formats())


def get_format(name: str) -> Format:
    """The row named ``name``; UsageError for an unknown name."""
    for f in all_formats():
        if f.name == name:
            return f
    raise UsageError(f"unknown transcript format {name!r} (expected one of: {', '.join(format_names())})")


def detecting_extensions() -> frozenset[str]:
    """The suffixes a folder walk reads without a format."""
    return frozenset(e for f in all_formats() if f.detect is not None for e in f.extensions)


def readme_lines() -> list[str]:
    """One Markdown list line per built-in format, as README "What it reads" shows them
    (tests check the README against this)."""
    return [f"- `{f.name}` ({', '.join(sorted(f.extensions)) or 'a folder'}): {f.description}" for f in SPECIFIC + GENERIC]


def builtin_names() -> frozenset[str]:
    """The names of the built-in rows (a plug-in may not take one)."""
    return frozenset(f.name for f in SPECIFIC + GENERIC)
