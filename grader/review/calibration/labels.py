"""Human labels for ``grader calibrate``: CSV (or TSV), JSONL or a JSON array.

Every record has ``transcript_id``, ``principle_id`` and ``label``:

- ``principle_id`` is a principle id, or ``*`` for a transcript-level label ("does this
  transcript violate any principle?");
- ``label`` is ``violation`` or ``compliant`` (case and surrounding spaces ignored).

Other columns or keys (annotator, note, ...) are allowed and ignored. A record that repeats a
(transcript_id, principle_id) pair with the same label is counted as a duplicate and used
once; the same pair with a different label is an error. Every error is one line naming the
file and the line (``item N`` in a JSON array).
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping

from ...errors import LabelsError

REQUIRED = ("transcript_id", "principle_id", "label")
LABELS = ("violation", "compliant")
ANY_PRINCIPLE = "*"


@dataclass(frozen=True)
class Label:
    """One human judgement; ``where`` is ``line N`` (or ``item N``) in the labels file."""

    transcript_id: str
    principle_id: str
    label: str
    where: str

    @property
    def pair(self) -> tuple[str, str]:
        return (self.transcript_id, self.principle_id)


@dataclass(frozen=True)
class LabelSet:
    path: str
    labels: tuple[Label, ...]
    duplicates: int = 0


def _error(path: Path, where: str, reason: str) -> LabelsError:
    return LabelsError(f"{path}: {where}: {reason}" if where else f"{path}: {reason}")


def _value(path: Path, where: str, rec: Mapping[str, Any], key: str) -> str:
    v = rec.get(key)
    if isinstance(v, bool) or not isinstance(v, (str, int)):
        shown = "missing" if v is None else f"{type(v).__name__} {v!r}"
        raise _error(path, where, f"'{key}' must be a non-empty string ({shown})")
    text = str(v).strip()
    if not text:
        hint = " (use * for a transcript-level label)" if key == "principle_id" else ""
        raise _error(path, where, f"'{key}' is empty{hint}")
    return text


def _label(path: Path, where: str, rec: Mapping[str, Any]) -> Label:
    tid = _value(path, where, rec, "transcript_id")
    pid = _value(path, where, rec, "principle_id")
    raw = _value(path, where, rec, "label")
    label = raw.lower()
    if label not in LABELS:
        raise _error(path, where, f"label {raw!r} is not one of {', '.join(LABELS)}")
    return Label(tid, pid, label, where)


def _csv_records(path: Path, text: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as e:
        raise _error(path, "line 1", f"invalid CSV: {e}") from None
    names = [h.strip().lower() for h in header]
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise _error(path, "line 1", f"the header lacks column(s) {', '.join(missing)} "
                                     f"(has {', '.join(repr(h) for h in header) or 'nothing'})")
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            raise _error(path, f"line {reader.line_num}", f"invalid CSV: {e}") from None
        where = f"line {reader.line_num}"
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(names):
            raise _error(path, where, f"expected {len(names)} fields as in the header, found {len(row)}")
        yield where, dict(zip(names, row))


def _jsonl_records(path: Path, text: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as e:
            raise _error(path, f"line {n}", f"invalid JSON: {e.msg} (column {e.colno})") from None
        if not isinstance(rec, dict):
            raise _error(path, f"line {n}", f"expected a JSON object, found {type(rec).__name__}")
        yield f"line {n}", rec


def _json_records(path: Path, text: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise _error(path, f"line {e.lineno}", f"invalid JSON: {e.msg} (column {e.colno})") from None
    if isinstance(doc, dict):  # a JSONL file with a single record
        doc = [doc]
    if not isinstance(doc, list):
        raise _error(path, "", f"expected a JSON array of label objects, found {type(doc).__name__}")
    for i, rec in enumerate(doc):
        if not isinstance(rec, dict):
            raise _error(path, f"item {i}", f"expected a JSON object, found {type(rec).__name__}")
        yield f"item {i}", rec


def _records(path: Path, text: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    suffix = path.suffix.lower()
    first = text.lstrip()[:1]
    if suffix in (".csv", ".tsv"):
        return _csv_records(path, text)
    if suffix in (".jsonl", ".ndjson"):
        return _jsonl_records(path, text)
    if suffix == ".json" or first == "[":
        if first == "{" and len([ln for ln in text.splitlines() if ln.strip()]) > 1:
            return _jsonl_records(path, text)
        return _json_records(path, text)
    if first == "{":
        return _jsonl_records(path, text)
    return _csv_records(path, text)


def load_labels(path: str | Path) -> LabelSet:
    """Read and validate a labels file. Raises :class:`LabelsError` naming file and line."""
    p = Path(path)
    try:
        text = p.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise _error(p, "", "no such file") from None
    except UnicodeDecodeError as e:
        raise _error(p, "", f"not UTF-8 text ({e.reason} at byte {e.start})") from None
    except OSError as e:
        raise _error(p, "", f"cannot read: {e.strerror}") from None
    seen: dict[tuple[str, str], Label] = {}
    duplicates = 0
    for where, rec in _records(p, text):
        lab = _label(p, where, rec)
        prev = seen.get(lab.pair)
        if prev is not None:
            if prev.label != lab.label:
                raise _error(p, where, f"{lab.transcript_id} / {lab.principle_id} is labelled {lab.label} "
                                       f"here but {prev.label} at {prev.where}")
            duplicates += 1
            continue
        seen[lab.pair] = lab
    if not seen:
        raise _error(p, "", "no labels in the file (expected columns transcript_id, principle_id, label)")
    return LabelSet(str(p), tuple(seen.values()), duplicates)
