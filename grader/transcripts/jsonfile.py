"""Reading a JSON or JSONL file of conversations (the ``json`` row and the shape rows).

- ``.jsonl`` (and a ``.json`` holding several JSON values in a row): each line is a value;
- ``.json``: one value (an Inspect log, by its ``version`` and ``eval`` keys, goes to the
  Inspect reader); a list that is not one conversation's messages or items is a list of
  values (``item N``);
- every value is read by ``shapes.transcripts_from_value`` (``shape`` forces one reader), or,
  with a ``selector`` (``--messages-path``), the values it selects inside each value.

One error for a file that is not a transcript file: while no value has been a transcript (or
a conversation with a bad part), errors for values of no known shape and lines that are not
JSON are held back; if the file ends that way they become ONE InputError for the file naming
how many values there were and what the first one looked like (a sidecar ``meta.json``, a
console log saved as ``.jsonl``). Once a value reads (or is a conversation with a bad part),
the held errors are given one per line as before and reading goes on line by line. At most
``HOLD`` errors are held: a file whose first ``HOLD`` values are all unreadable is given up
as one error.
"""
from __future__ import annotations

from typing import Any, Iterator

from ..errors import InputError
from .compression import compression_of, inner_suffix
from .inspect_format import iter_inspect
from .jsonio import CONCATENATED, iter_jsonl, read_document
from .model import Transcript
from .objects import is_bare_messages
from .responses_format import is_item_list
from .selector import Selector
from .shapes import ShapeError, read_selected, transcripts_from_value

HOLD = 1000


def read_conversations(path: str, stem: str, shape: str | None = None,
                       selector: Selector | None = None) -> Iterator[Transcript | InputError]:
    """Transcripts of a JSON/JSONL file (by its inner suffix), InputErrors in place of bad values."""
    if inner_suffix(path) == ".jsonl":
        yield from _one_error_if_none(_jsonl(path, stem, shape, selector), path, "lines")
    else:
        yield from _json(path, stem, shape, selector)


def _values(value: Any, path: str, locator: str, stem: str, number: int | None, shape: str | None,
            selector: Selector | None) -> Iterator[Transcript | InputError]:
    try:
        if selector is not None:
            yield from read_selected(value, selector, path, locator, stem, number)
        else:
            yield from transcripts_from_value(value, path, locator, stem, number, shape)
    except InputError as e:
        yield e


def _jsonl(path: str, stem: str, shape: str | None, selector: Selector | None) -> Iterator[Transcript | InputError]:
    for item in iter_jsonl(path):
        if isinstance(item, InputError):
            yield item
            continue
        n, value = item
        yield from _values(value, path, f"line {n}", stem, n, shape, selector)


def _json(path: str, stem: str, shape: str | None, selector: Selector | None) -> Iterator[Transcript | InputError]:
    try:
        value = read_document(path)
    except InputError as e:
        yield e
        return
    if value is CONCATENATED:
        yield from _one_error_if_none(_jsonl(path, stem, shape, selector), path, "lines")
    elif shape is None and selector is None and isinstance(value, dict) and "version" in value \
            and isinstance(value.get("eval"), dict) and compression_of(path) is None:
        del value  # an Inspect JSON log whose opening the detector did not recognise
        yield from iter_inspect(path, stem)
    elif selector is None and isinstance(value, list) and not is_bare_messages(value) and not is_item_list(value):
        if not value:
            yield InputError(path, "", "empty list: no conversations")
        items = (t for k, item in enumerate(value) for t in _values(item, path, f"item {k}", stem, k, shape, None))
        yield from _one_error_if_none(items, path, "items")
    else:
        yield from _values(value, path, "", stem, None, shape, selector)


def _unrecognised(e: InputError) -> bool:
    """A value of no known shape, or a line that is not JSON at all (per-line error)."""
    return isinstance(e, ShapeError) or (bool(e.locator) and e.reason.startswith(
        ("invalid JSON", "truncated JSON", "undecodable bytes", "JSON nested too deeply")))


def _one_error_if_none(items: Iterator[Transcript | InputError], path: str, what: str
                       ) -> Iterator[Transcript | InputError]:
    held: list[InputError] = []
    decided = False
    for item in items:
        if decided:
            yield item
        elif isinstance(item, InputError) and not item.locator:
            yield item  # about the whole file (empty, unreadable): not a value
        elif isinstance(item, InputError) and _unrecognised(item):
            held.append(item)
            if len(held) >= HOLD:
                yield _file_error(held, path, what, gave_up=True)
                return
        else:  # a transcript, or a conversation with a bad part: per-value errors from here on
            decided = True
            yield from held
            held = []
            yield item
    if held:
        yield _file_error(held, path, what, gave_up=False)


def _file_error(held: list[InputError], path: str, what: str, gave_up: bool) -> InputError:
    first = held[0]
    count = f"the first {len(held)} {what}" if gave_up else (f"its {len(held)} {what}" if len(held) > 1 else f"its one {what[:-1]}")
    return InputError(path, "", f"not a transcript file: none of {count} is a conversation; "
                                f"{first.locator}: {first.reason}")
