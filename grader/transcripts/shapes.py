"""One parsed JSON value (a JSONL line, a list item, a whole document) -> transcripts, whatever
its shape. Shapes are tried in this order (``SHAPES``); the first that matches reads the value:

- ``messages``: an object with a ``messages`` list, or a bare list of messages (OpenAI or
  Anthropic, see ``objects``);
- ``responses``: OpenAI Responses items (``input``/``output`` lists, or a bare list of items);
- ``sharegpt``: ``conversations``/``conversation``/``chat``/``dialogue``/``turns`` turns;
- ``preference``: ``chosen``+``rejected`` or ``prompt``+``completion`` rows (two transcripts
  for a pair);
- ``nested``: an object holding conversations inside, found by ``find_conversations`` (up to
  ``AUTO_DEPTH`` steps deep, e.g. ``results[].conversation``); each found value is read as above.

A value of none of these shapes raises ``ShapeError`` (an InputError): it names the shape
that was expected and the keys that were found, and, when conversations sit deeper than the
automatic search goes, the ``--messages-path`` that reads them. A wrapping object's
``{"conversation": {...}}`` is read through (its other keys become metadata).
"""
from __future__ import annotations

from typing import Any, Callable, Iterator

from ..errors import InputError
from .common import kind
from .model import Source, Transcript
from .objects import input_id, is_bare_messages, make_transcript, metadata_of, transcript_from_value
from .preference_format import is_preference, transcripts_from_preference
from .responses_format import is_item, is_item_list, is_responses_object, messages_from_items, messages_from_responses
from .selector import Selector, Unreached, select
from .sharegpt_format import TURN_KEYS, is_from_value, messages_from_sharegpt, turns_key

AUTO_DEPTH = 3  # steps of the automatic nested search (results[].conversation is 3)
HINT_DEPTH = 8  # steps searched to suggest a --messages-path
EXPECTED = ("a conversation: 'messages', ShareGPT 'conversations' (or conversation/chat/dialogue/turns), "
            "'chosen'+'rejected', 'prompt'+'completion', or Responses 'input'/'output' items")


class ShapeError(InputError):
    """A value that is no known transcript shape (as opposed to a conversation with a bad part)."""


def _is_messages(value: Any) -> bool:
    return isinstance(value, dict) and "messages" in value or is_bare_messages(value) and not is_item_list(value)


def _is_responses(value: Any) -> bool:
    return is_item_list(value) or isinstance(value, dict) and is_responses_object(value)


def _is_sharegpt(value: Any) -> bool:
    return isinstance(value, dict) and turns_key(value) is not None


def _is_preference(value: Any) -> bool:
    return isinstance(value, dict) and is_preference(value)


Reader = Callable[[Any, str, str, str, "int | None"], list[Transcript]]


def _read_messages(value: Any, path: str, locator: str, stem: str, number: int | None) -> list[Transcript]:
    return [transcript_from_value(value, None, path, locator, stem, number)]


def _reader_for(fmt: str) -> Reader:
    def read(value: Any, path: str, locator: str, stem: str, number: int | None) -> list[Transcript]:
        return [transcript_from_value(value, fmt, path, locator, stem, number)]
    return read


def _read_responses(value: Any, path: str, locator: str, stem: str, number: int | None) -> list[Transcript]:
    if isinstance(value, list):
        msgs, meta = messages_from_items(value, path, locator), {}
    else:
        msgs = messages_from_responses(value, path, locator)
        meta = metadata_of(value, frozenset({"input", "output", "instructions", "tools"}), path, locator)
    return [_finish(msgs, meta, path, locator, stem, number)]


def _read_sharegpt(value: Any, path: str, locator: str, stem: str, number: int | None) -> list[Transcript]:
    key = turns_key(value)
    if key is None:
        raise ShapeError(path, locator, _unknown(value, "ShareGPT turns under 'conversations' (or "
                                                         "conversation/chat/dialogue/turns)"))
    turns = value[key]
    meta = metadata_of(value, frozenset({key, "system"}), path, locator)
    if is_from_value(turns):
        msgs = messages_from_sharegpt(turns, value.get("system"), path, locator)
        return [_finish(msgs, meta, path, locator, stem, number)]
    obj = {"messages": turns, **({"system": value["system"]} if "system" in value else {})}
    t = transcript_from_value(obj, None, path, locator, stem, number)
    return [make_transcript(t.messages, meta, t.source, input_id(meta), stem, number)]


def _read_preference(value: Any, path: str, locator: str, stem: str, number: int | None) -> list[Transcript]:
    return transcripts_from_preference(value, path, locator, stem, number)


def _finish(msgs: Any, meta: dict[str, Any], path: str, locator: str, stem: str, number: int | None) -> Transcript:
    if not msgs:
        raise InputError(path, locator, "conversation has no messages")
    return make_transcript(msgs, meta, Source(path, locator), input_id(meta), stem, number)


# (name, matches, reader): the per-value shapes, in detection order
SHAPES: tuple[tuple[str, Callable[[Any], bool], Reader], ...] = (
    ("messages", _is_messages, _read_messages),
    ("responses", _is_responses, _read_responses),
    ("sharegpt", _is_sharegpt, _read_sharegpt),
    ("preference", _is_preference, _read_preference),
)
# what --format NAME forces on each value
FORCED: dict[str, Reader] = {"openai": _reader_for("openai"), "anthropic": _reader_for("anthropic"),
                             "responses": _read_responses, "sharegpt": _read_sharegpt,
                             "preference": _read_preference}


def shape_of(value: Any) -> str | None:
    """The name of the first shape matching ``value``, or None."""
    for name, matches, _ in SHAPES:
        if matches(value):
            return name
    return None


def transcripts_from_value(value: Any, path: str, locator: str, stem: str, number: int | None,
                           shape: str | None = None) -> list[Transcript]:
    """The transcripts in one value (see module doc); ``shape`` forces one reader (a
    ``--format``). Raises InputError (ShapeError when the value is no known shape)."""
    if shape is not None:
        if shape in ("openai", "anthropic", "responses") and not isinstance(value, (dict, list)):
            raise ShapeError(path, locator, f"expected a conversation object, got {kind(value)}")
        if shape in ("sharegpt", "preference") and not isinstance(value, dict):
            raise ShapeError(path, locator, f"expected an object, got {kind(value)}")
        if shape == "preference" and not is_preference(value):
            raise ShapeError(path, locator, _unknown(value, "'chosen'+'rejected' or 'prompt'+'completion'"))
        return FORCED[shape](value, path, locator, stem, number)
    for _, matches, reader in SHAPES:
        if matches(value):
            return reader(value, path, locator, stem, number)
    if isinstance(value, dict):
        inner = _wrapped(value)
        if inner is not None:
            out = transcripts_from_value(value[inner], path, locator, stem, number)
            extra = metadata_of(value, frozenset({inner}), path, locator)
            return [Transcript(t.id, t.messages, {**extra, **t.metadata}, t.source) for t in out] if extra else out
        found = find_conversations(value, AUTO_DEPTH)
        if found:
            return [t for sel in found for t in read_selected(value, sel, path, locator, stem, number)]
    raise ShapeError(path, locator, _unknown(value, EXPECTED))


def _wrapped(value: dict[str, Any]) -> str | None:
    """A key (one of TURN_KEYS) holding a single conversation object: {"conversation": {...}}."""
    for key in TURN_KEYS:
        inner = value.get(key)
        if isinstance(inner, dict) and shape_of(inner) is not None:
            return key
    return None


def read_selected(value: Any, selector: Selector, path: str, locator: str, stem: str,
                  number: int | None) -> list[Transcript]:
    """The transcripts at ``selector`` inside ``value`` (each selected value read as above)."""
    out: list[Transcript] = []
    try:
        for k, (where, item) in enumerate(select(value, selector)):
            here = f"{locator} {where}".strip()
            # ids: <stem>-<item>-<hash> in a whole document, <stem>-<line>-<hash> in JSONL
            out.extend(transcripts_from_value(item, path, here, stem, k if number is None else number))
    except Unreached as e:
        raise ShapeError(path, locator, f"--messages-path {selector.text!r} does not apply: {e}") from None
    return out


def find_conversations(value: Any, depth: int) -> list[Selector]:
    """Selectors of the places in ``value`` holding conversations (lists judged by their first
    item), nearest first, searched ``depth`` steps deep; [] when there are none."""
    from .selector import parse_selector

    found: list[str] = []
    for steps in _search(value, (), depth):
        found.append(_text(steps))
    return [parse_selector(s) for s in found]


def _search(value: Any, steps: tuple[Any, ...], depth: int) -> Iterator[tuple[Any, ...]]:
    if depth <= 0:
        return
    if isinstance(value, dict):
        for key, child in value.items():
            if not isinstance(key, str) or not key or not all(c.isalnum() or c in "_-" for c in key):
                continue
            if isinstance(child, dict) and shape_of(child) is not None:
                yield steps + (key,)
            elif isinstance(child, list) and child:
                first = child[0]
                if shape_of(first) is not None and not is_bare_messages(child):
                    yield steps + (key, None)
                elif is_bare_messages(child):
                    yield steps + (key,)
                elif isinstance(first, (dict, list)):
                    yield from _search(first, steps + (key, None), depth - 2)
            elif isinstance(child, dict):
                yield from _search(child, steps + (key,), depth - 1)


def _text(steps: tuple[Any, ...]) -> str:
    out = ""
    for s in steps:
        out += "[]" if s is None else (f".{s}" if out else s)
    return out


KEYS_SHOWN = 8  # keys an error names of an object that is no conversation (each cut at 40 characters)


def _unknown(value: Any, expected: str) -> str:
    if not isinstance(value, dict):
        return f"expected a conversation object with a 'messages' list, got {kind(value)}"
    shown = [k if len(k) <= 40 else k[:37] + "..." for k in sorted(map(str, value))[:KEYS_SHOWN]]
    keys = ", ".join(shown) or "none"
    more = f" (+{len(value) - KEYS_SHOWN} more)" if len(value) > KEYS_SHOWN else ""
    hint = ""
    deeper = find_conversations(value, HINT_DEPTH)
    if deeper:
        hint = f"; conversations found at {deeper[0].text!r}: try --messages-path '{deeper[0].text}'"
    elif "sessionId" in value and "type" in value:
        hint = "; it looks like a Claude Code session record: try --format claude-code"
    elif "role" in value or is_item(value):
        hint = "; it looks like one message: for a file of one message per line try --format message-lines"
    return f"not a transcript: an object with keys {keys}{more} (expected {expected}){hint}"
