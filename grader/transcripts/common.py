"""Small helpers shared by the format readers (no I/O here)."""
from __future__ import annotations

from typing import Any

from ..errors import InputError
from .jsonio import loads

# Deepest nesting kept in tool-call arguments and metadata. JSON nested deeper than
# this is legal but would make later recursive walks (hashing, argument leaves,
# writing findings) fragile, so it is refused here with a clear reason.
MAX_DEPTH = 100

# Text used in ``content`` for a part that carries no text (image, audio, ...).
PLACEHOLDER = "[{kind} omitted]"


def kind(value: Any) -> str:
    """The JSON name of a value's type, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """True when ``value`` nests lists/objects more than ``limit`` levels (iterative)."""
    if not isinstance(value, (dict, list)):
        return False
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        for child in children:
            if isinstance(child, (dict, list)):
                stack.append((child, depth + 1))
    return False


def parse_arguments(raw: Any) -> Any:
    """Tool-call arguments: a JSON string is parsed; invalid (or absurdly nested) JSON
    is kept as the raw string; ``None`` becomes ``{}``; anything else is kept as is."""
    if raw is None:
        return {}
    if isinstance(raw, str):
        if not raw.strip():
            return {}
        try:
            parsed = loads(raw)
        except (ValueError, RecursionError):
            return raw
        return raw if too_deep(parsed) else parsed
    return raw


def check_depth(value: Any, path: str, locator: str, what: str) -> None:
    if too_deep(value):
        raise InputError(path, locator, f"{what} nested more than {MAX_DEPTH} levels deep")


def text_field(value: Any, path: str, locator: str, what: str) -> str | None:
    """A field that must be a string (or null/absent)."""
    if value is None or isinstance(value, str):
        return value
    raise InputError(path, locator, f"{what} must be a string, got {kind(value)}")
