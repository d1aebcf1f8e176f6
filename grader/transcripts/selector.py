"""``--messages-path``: where the conversations sit inside a JSON document.

Syntax (checked strictly; anything else is a UsageError): dot-separated keys, each
optionally followed by ``[]`` (every item of a list) or ``[N]`` (item N, 0-based); a leading
``[]`` / ``[N]`` applies to a top-level list. Keys are letters, digits, ``_`` and ``-``.

    results[].conversation      every item of "results", its "conversation"
    data.items[0].messages      one conversation
    [].dialog                   a top-level list of objects, each one's "dialog"

Each selected value is read as one conversation (any shape the loader knows: a message
list, a conversation object, ShareGPT turns, ...). A value the path does not reach (a key
missing, not a list) is an InputError naming how far the path got.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterator, Union

from ..errors import UsageError
from .common import kind

_KEY = r"[A-Za-z0-9_-]+"
_INDEX = r"\[\d*\]"
_SEGMENT = rf"{_KEY}(?:{_INDEX})*"
_SELECTOR = re.compile(rf"\A(?:(?:{_INDEX})+(?:\.{_SEGMENT})*|{_SEGMENT}(?:\.{_SEGMENT})*)\Z")
_TOKEN = re.compile(rf"({_KEY})|\[(\d*)\]|\.")

Step = Union[str, int, None]  # a key, a list index, or None for every item


@dataclass(frozen=True)
class Selector:
    text: str
    steps: tuple[Step, ...]


class Unreached(Exception):
    """The path stops somewhere in a value; ``str`` says where and why."""


def parse_selector(text: str) -> Selector:
    """Parse ``text``; raises UsageError on bad syntax (see module doc)."""
    if not isinstance(text, str) or not _SELECTOR.match(text):
        raise UsageError(f"bad --messages-path {text!r}: expected keys joined by '.', each optionally "
                         "followed by [] (every item) or [N] (item N), e.g. 'results[].conversation'")
    steps: list[Step] = []
    for m in _TOKEN.finditer(text):
        if m.group(1) is not None:
            steps.append(m.group(1))
        elif m.group(0).startswith("["):
            steps.append(int(m.group(2)) if m.group(2) else None)
    return Selector(text, tuple(steps))


def select(value: Any, selector: Selector) -> Iterator[tuple[str, Any]]:
    """``(where, value)`` for every value the path reaches (``where`` like
    ``results[3].conversation``); raises Unreached at the first place it cannot go on."""
    yield from _walk(value, selector.steps, "")


def _walk(value: Any, steps: tuple[Step, ...], where: str) -> Iterator[tuple[str, Any]]:
    if not steps:
        yield where, value
        return
    step, rest = steps[0], steps[1:]
    if isinstance(step, str):
        if not isinstance(value, dict):
            raise Unreached(f"{where or 'the top level'} is {kind(value)}, not an object with {step!r}")
        if step not in value:
            keys = ", ".join(sorted(map(str, value))[:8]) or "none"
            raise Unreached(f"no key {step!r} at {where or 'the top level'} (keys: {keys})")
        yield from _walk(value[step], rest, f"{where}.{step}" if where else step)
        return
    if not isinstance(value, list):
        raise Unreached(f"{where or 'the top level'} is {kind(value)}, not a list")
    if step is None:
        for i, item in enumerate(value):
            yield from _walk(item, rest, f"{where}[{i}]")
    elif step < len(value):
        yield from _walk(value[step], rest, f"{where}[{step}]")
    else:
        raise Unreached(f"{where or 'the top level'} has {len(value)} items, no item {step}")
