"""Code the assistant wrote: fenced blocks, or a whole answer that is code.

Extraction happens once per transcript (see ``TranscriptContext.code_blocks``). Every
block's ``text`` is an exact slice of the message content starting at ``offset``, so a
line quoted from a block can be found verbatim in the message.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from functools import lru_cache

from ...transcripts.model import Transcript
from ..agent.actions import NEW_KEYS, PATH_KEYS
from ..agent.pycode import PythonTooDeep

# An opening fence (``` or ~~~, 3 or more) at the start of a line, an optional info string,
# then everything up to a closing fence of the same kind or the end of the message.
_FENCE = re.compile(
    r"^[ \t]{0,3}(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\n`]*)\n(?P<body>.*?)(?:^[ \t]{0,3}(?P=fence)[ \t]*$|\Z)",
    re.DOTALL | re.MULTILINE)

LANGUAGE_ALIASES = {
    "py": "python", "python3": "python", "py3": "python", "python": "python", "ipython": "python",
    "pycon": "python", "sh": "shell", "bash": "shell", "zsh": "shell", "shell": "shell",
    "console": "shell", "shell-session": "shell", "ksh": "shell", "dockerfile": "dockerfile",
    "docker": "dockerfile", "js": "javascript", "javascript": "javascript", "jsx": "javascript",
    "node": "javascript", "ts": "typescript", "tsx": "typescript", "typescript": "typescript",
    "sql": "sql", "mysql": "sql", "postgresql": "sql", "psql": "sql", "sqlite": "sql",
    "php": "php", "ruby": "ruby", "rb": "ruby", "go": "go", "golang": "go", "java": "java",
    "c": "c", "cpp": "cpp", "c++": "cpp", "cs": "csharp", "csharp": "csharp", "rust": "rust",
    "rs": "rust", "yaml": "yaml", "yml": "yaml", "html": "html", "jinja": "html", "jinja2": "html",
    "json": "json", "ini": "ini", "toml": "toml", "text": "text", "txt": "text", "plaintext": "text",
    "markdown": "markdown", "md": "markdown", "diff": "diff", "patch": "diff",
}

# Lines that mark a code-only answer written without fences (line starts typical of code).
_CODE_LINE = re.compile(
    r"^\s*(?:(?:from\s+[\w.]+\s+)?import\s+[\w.]|def\s+\w+\s*\(|class\s+\w+|@\w+|if\s+__name__\s*==|"
    r"return\b|for\s+\w+.*:\s*$|while\s+.*:\s*$|with\s+.*:\s*$|try:\s*$|except\b.*:\s*$|"
    r"[\w.\[\]'\"]+\s*(?:=|\+=|-=)\s*\S|[\w.]+\(.*\)\s*$|#!|\}|\{\s*$|"
    r"(?:const|let|var|function|public|private|package|func|fn|use|#include)\b|\$\s*\w|sudo\s)")


@dataclass(frozen=True)
class CodeBlock:
    message_index: int
    language: str  # normalised language ("python", "shell", "javascript", ...), or "" when unknown
    text: str  # exact slice of the message content (or of the tool-call argument, see tool_call)
    offset: int  # where the block starts inside the message content (0 for a tool-call argument)
    tool_call: str | None = None  # id (else name) of the tool call whose argument holds the code


# A tool call that writes a file: the arguments holding the new text (the editor keys of
# ``actions``, never its old-text keys such as ``old_str``/``old_string``), plus the code
# argument of a tool named for writing; and the argument naming the file.
_WRITE_KEYS = NEW_KEYS + tuple(k for k in ("code", "source") if k not in NEW_KEYS)
_PATH_KEYS = PATH_KEYS
_WRITING_TOOL = re.compile(r"write|create|edit|save|replace|insert|patch|apply", re.IGNORECASE)
EXTENSIONS = {".py": "python", ".pyw": "python", ".sh": "shell", ".bash": "shell", ".zsh": "shell",
              ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript", ".jsx": "javascript",
              ".ts": "typescript", ".tsx": "typescript", ".php": "php", ".rb": "ruby", ".go": "go",
              ".java": "java", ".sql": "sql", ".html": "html", ".htm": "html", ".j2": "html",
              ".yml": "yaml", ".yaml": "yaml", ".rs": "rust", ".c": "c", ".cpp": "cpp", ".cs": "csharp"}


def normalise_language(tag: str) -> str:
    """The canonical name of a fence info string's first word ("" when empty)."""
    word = tag.strip().split()[0].lower() if tag.strip() else ""
    word = word.lstrip("{.").rstrip("}")
    return LANGUAGE_ALIASES.get(word, word)


@lru_cache(maxsize=64)
def _parse(text: str) -> ast.Module | str | None:
    """The AST, None on a syntax error, or (a str) why the parser gave up. Cached."""
    try:
        return ast.parse(text)
    except (SyntaxError, ValueError, OverflowError):
        return None
    except (RecursionError, MemoryError) as e:
        return str(PythonTooDeep.of(text, e))


def parse_python(text: str) -> ast.Module | None:
    """The AST of ``text``, or None when it is not valid Python. Cached, so that
    extraction and the checks that read the code parse each block once. Callers may
    annotate the nodes (bandit does) but must not restructure the tree.

    Raises :class:`PythonTooDeep` when the parser runs out of stack or memory."""
    tree = _parse(text)
    if isinstance(tree, str):
        raise PythonTooDeep(tree)
    return tree


def parses_as_python(text: str) -> bool:
    """Whether ``text`` is Python: valid, or too deeply nested for the parser to tell (taken as
    Python, so that the checks reading it raise :class:`PythonTooDeep` instead of guessing)."""
    return _parse(text) is not None


def guess_language(text: str) -> str:
    """A cheap guess for a block without a language tag: python, shell, javascript or ""."""
    if parses_as_python(text):
        return "python"
    if re.search(r"^\s*(?:from\s+[\w.]+\s+import|import\s+\w+\s*$|def\s+\w+\(.*\)\s*(?:->.*)?:\s*$)", text, re.M):
        return "python"  # Python with a syntax error: still Python
    if re.search(r"^\s*(?:#!/bin/(?:ba)?sh|sudo\s|chmod\s|chown\s|curl\s|wget\s|apt(?:-get)?\s|\$\s)", text, re.M):
        return "shell"
    if re.search(r"\b(?:const|let|var)\s+\w+\s*=|\bfunction\s+\w+\s*\(|=>\s*\{|require\(['\"]", text):
        return "javascript"
    return ""


def looks_like_code(text: str) -> bool:
    """Whether a message without fences is a code-only answer: it parses as Python, or
    most of its non-blank lines look like code."""
    stripped = text.strip()
    if "\n" not in stripped:
        return False
    if parses_as_python(text):
        return True
    lines = [ln for ln in stripped.splitlines() if ln.strip()]
    code = sum(1 for ln in lines if _CODE_LINE.match(ln))
    return len(lines) >= 2 and code / len(lines) >= 0.6


def language_of_path(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    if name == "Dockerfile" or name.startswith("Dockerfile."):
        return "dockerfile"
    dot = name.rfind(".")
    return EXTENSIONS.get(name[dot:].lower(), "") if dot > 0 else ""


def _tool_call_code(message_index: int, calls: tuple) -> list[CodeBlock]:  # type: ignore[type-arg]
    """Files the assistant wrote through tool calls (an editor or write_file tool)."""
    out = []
    for call in calls:
        args = call.arguments
        if not isinstance(args, dict):
            continue
        path = next((args[k] for k in _PATH_KEYS if isinstance(args.get(k), str)), None)
        if path is None and not _WRITING_TOOL.search(call.name):
            continue
        for key in _WRITE_KEYS:
            text = args.get(key)
            if isinstance(text, str) and text.strip():
                language = (language_of_path(path) if path else "") or guess_language(text)
                out.append(CodeBlock(message_index, language, text, 0, call.id or call.name))
    return out


def extract_code(transcript: Transcript) -> list[CodeBlock]:
    """Fenced code blocks in assistant messages; an assistant message without fences
    that is code (it parses as Python, or most lines look like code) is taken whole;
    file contents the assistant wrote through tool calls (``write_file``, an editor's
    ``create``/``str_replace``) are blocks too, marked with the call's id."""
    out: list[CodeBlock] = []
    for m in transcript.messages:
        if m.role != "assistant":
            continue
        if m.tool_calls:
            out += _tool_call_code(m.index, m.tool_calls)
        if not m.content:
            continue
        found = False
        for match in _FENCE.finditer(m.content):
            body = match.group("body")
            if not body.strip():
                continue
            found = True
            language = normalise_language(match.group("info")) or guess_language(body)
            out.append(CodeBlock(m.index, language, body, match.start("body")))
        if not found and looks_like_code(m.content):
            out.append(CodeBlock(m.index, guess_language(m.content), m.content, 0))
    return out
