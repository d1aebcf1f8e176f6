"""Simple commands of a shell string, read with ``bashlex`` (the real-parser path of
:mod:`grader.checks.agent.shell`).

:func:`read` returns the simple commands with their exact source span, their words
(unquoted, as bash would pass them, variables left unexpanded), their redirections and a
pipeline number shared by the commands of one ``a | b`` pipeline. Commands inside ``$(...)``,
backticks and ``<(...)`` are returned too, after the command that holds them. It returns None
when bashlex cannot read the text (the caller then uses its fallback scanner): bashlex lacks
arithmetic expansion and ``case``, and mishandles heredocs, so text holding ``<<`` (and text
over 20,000 characters, for speed) is left to the fallback from the start. Nothing is executed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_HEREDOC = re.compile(r"<<(?!<)")


@dataclass(frozen=True)
class RawCommand:
    start: int
    end: int
    words: tuple[str, ...]
    redirects: tuple[tuple[str, str], ...]
    pipeline: int


class _Unreadable(Exception):
    """A node shape this reader does not know: the caller falls back."""


_MAX_CHARS = 20000  # bashlex is a pure-Python LR parser: longer scripts go to the linear fallback scanner


def read(text: str) -> list[RawCommand] | None:
    if len(text) > _MAX_CHARS or _HEREDOC.search(text):
        return None
    import bashlex  # imported on first use: ~0.13 s, spent only where there is shell to read
    import bashlex.errors

    try:
        trees = bashlex.parse(text)
    except (bashlex.errors.ParsingError, NotImplementedError):
        return None
    except (AttributeError, IndexError, KeyError, TypeError, ValueError, AssertionError, RecursionError):
        # bashlex's own bugs on odd input (it is a port of bash's yacc parser): a parse
        # failure of untrusted text, not of ours; the fallback scanner reads it instead
        return None
    out: list[RawCommand] = []
    counter = [0]
    try:
        for tree in trees:
            _walk(tree, text, out, counter, None)
            counter[0] += 1
    except (_Unreadable, RecursionError):
        return None
    return out


def _walk(node: Any, text: str, out: list[RawCommand], counter: list[int], pipeline: int | None) -> None:
    kind = node.kind
    if kind == "command":
        _command(node, text, out, counter, pipeline)
    elif kind == "pipeline":
        number = counter[0]
        for part in node.parts:
            if part.kind != "pipe":
                _walk(part, text, out, counter, number)
        counter[0] += 1
    elif kind in ("list", "compound", "if", "for", "while", "until", "function"):
        parts = node.list if kind == "compound" else node.parts
        for part in parts:
            _walk(part, text, out, counter, pipeline)
            if pipeline is None and part.kind == "operator":
                counter[0] += 1
        if kind == "function":
            counter[0] += 1
    elif kind in ("operator", "reservedword", "word", "pipe", "redirect", "tilde", "parameter",
                  "heredoc", "assignment"):
        return
    else:
        raise _Unreadable(kind)


def _command(node: Any, text: str, out: list[RawCommand], counter: list[int], pipeline: int | None) -> None:
    words: list[str] = []
    redirects: list[tuple[str, str]] = []
    inner: list[Any] = []
    for part in node.parts:
        if part.kind in ("word", "assignment"):
            words.append(part.word)
            inner.extend(_substitutions(part))
        elif part.kind == "redirect":
            op = part.type
            target = part.output
            if isinstance(target, int):
                redirects.append((">" if op.startswith(">") else "<", f"&{target}"))
                continue
            word = getattr(target, "word", "")
            inner.extend(_substitutions(target))
            if op in (">|", "&>"):
                op = ">"
            elif op == "&>>":
                op = ">>"
            elif op == ">&":
                op, word = ">", word if not word.isdigit() else f"&{word}"
            redirects.append((op, word))
        else:
            _walk(part, text, out, counter, pipeline)
    start, end = node.pos
    out.append(RawCommand(start, end, tuple(words), tuple(redirects),
                          counter[0] if pipeline is None else pipeline))
    for sub in inner:
        counter[0] += 1
        _walk(sub, text, out, counter, None)


def _substitutions(node: Any) -> list[Any]:
    """The command trees of ``$(...)``, backticks and ``<(...)`` inside a word."""
    found: list[Any] = []
    for part in getattr(node, "parts", None) or ():
        if part.kind in ("commandsubstitution", "processsubstitution"):
            found.append(part.command)
        else:
            found.extend(_substitutions(part))
    return found
