"""Parsing and validating the judge's answers against the contract, and majority votes.

Pure functions. An answer that does not fit ``schemas/judge_answer.schema.json`` (or the
batched ``judge_batch_answer.schema.json``) is never turned into a grade: the caller gets a
one-line *problem* instead, re-asks, and in the end records the pair as ``error``.
"""
from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Mapping, Sequence

from ..schemas import describe, error_path, load_schema, validator

SINGLE_SCHEMA = "judge_answer"
BATCH_SCHEMA = "judge_batch_answer"
_FENCE = re.compile(r"^```(?:json|JSON)?[ \t]*\n(.*?)\n?```$", re.S)


@dataclass(frozen=True)
class Answer:
    """One answer that fits the contract."""

    verdict: str
    confidence: float
    rationale: str
    evidence: tuple[tuple[int, str], ...]


@lru_cache(maxsize=None)
def wire_schema(name: str) -> dict[str, Any]:
    """The answer schema as sent to a provider (the file without ``$schema``/``$id``).
    Shared object: do not mutate."""
    return {k: v for k, v in load_schema(name).items() if not k.startswith("$")}


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


class _NotStrictJSON(ValueError):
    pass


def _no_constant(name: str) -> Any:
    raise _NotStrictJSON(f"{name} is not a JSON number")


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for k, _ in pairs:
            if k in seen:
                raise _NotStrictJSON(f"duplicate key {k!r}")
            seen.add(k)
    return out


def load_json_text(text: str) -> tuple[Any, str | None]:
    """``(object, None)`` for a JSON answer (optionally in one ```json fence), else
    ``(None, problem)``. Strict: NaN/Infinity and duplicate keys are problems (Python's
    json accepts both, and a repeated "verdict" would silently pick the last one)."""
    s = text.strip()
    if not s:
        return None, "the answer was empty"
    m = _FENCE.match(s)
    if m:
        s = m.group(1).strip()
    try:
        return json.loads(s, parse_constant=_no_constant, object_pairs_hook=_no_duplicate_keys), None
    except _NotStrictJSON as e:
        return None, f"the answer is not strict JSON ({e}): {_short(text, 80)!r}"
    except json.JSONDecodeError as e:
        return None, f"the answer is not valid JSON ({e.msg} at line {e.lineno} column {e.colno}): {_short(text, 80)!r}"
    except RecursionError:
        return None, "the answer is not valid JSON (nested too deeply)"


_SINGLE_KEYS = frozenset({"verdict", "confidence", "rationale", "evidence"})
_EVIDENCE_KEYS = frozenset({"message_index", "quote"})
_VERDICTS = frozenset({"violation", "compliant", "not_applicable"})


def plainly_valid(obj: Any) -> bool:
    """A quick check that accepts only answers ``judge_answer.schema.json`` accepts (exact
    keys, plain types, in range). It saves a jsonschema pass on the common case; anything
    it does not accept goes to jsonschema, which decides and explains (tests hold the two
    to agreement)."""
    if type(obj) is not dict or obj.keys() != _SINGLE_KEYS:
        return False
    c = obj["confidence"]
    if type(obj["verdict"]) is not str or obj["verdict"] not in _VERDICTS or type(c) not in (int, float) or not 0 <= c <= 1:
        return False
    if type(obj["rationale"]) is not str or type(obj["evidence"]) is not list:
        return False
    for e in obj["evidence"]:
        if type(e) is not dict or e.keys() != _EVIDENCE_KEYS:
            return False
        if type(e["message_index"]) is not int or e["message_index"] < 0 or type(e["quote"]) is not str:
            return False
    return True


def _first_problem(obj: Any, schema: str, prefix: str = "") -> str | None:
    if schema == SINGLE_SCHEMA and isinstance(obj, dict) and isinstance(obj.get("confidence"), float) \
            and not math.isfinite(obj["confidence"]):
        # jsonschema's range checks let NaN through; tool inputs are parsed by the SDK's json
        return f"at {prefix + '.' if prefix else ''}confidence: {obj['confidence']} is not a number in [0, 1]"
    if schema == SINGLE_SCHEMA and plainly_valid(obj):
        return None
    v = validator(schema)
    if v.is_valid(obj):
        return None
    errors = sorted(v.iter_errors(obj), key=lambda e: (len(list(e.absolute_path)), str(list(e.absolute_path))))
    err = errors[0]
    where = error_path(err, prefix) or "(top level)"
    return f"at {where}: {describe(err)}"


def _answer(obj: Mapping[str, Any]) -> Answer:
    return Answer(obj["verdict"], float(obj["confidence"]), obj["rationale"],
                  tuple((int(e["message_index"]), e["quote"]) for e in obj["evidence"]))


def parse_single(obj: Any) -> Answer | str:
    """An :class:`Answer`, or a one-line problem when ``obj`` is off-contract."""
    problem = _first_problem(obj, SINGLE_SCHEMA)
    if problem:
        return f"off-contract answer {problem}"
    return _answer(obj)


def index_problem(answer: Answer, n_messages: int) -> str | None:
    """A one-line problem when the answer cites a message the transcript does not have
    (the schema can only say ``message_index >= 0``; a small model writes 1234), else None."""
    for i, (index, _) in enumerate(answer.evidence):
        if index >= n_messages:
            return (f"off-contract answer at evidence[{i}].message_index: {index} is not a message of the "
                    f"transcript (0 to {n_messages - 1})")
    return None


def parse_batched(obj: Any, principle_ids: Sequence[str]) -> dict[str, Answer | str]:
    """One :class:`Answer` or problem per asked principle id. A missing, duplicated or
    invalid verdict object is a problem for that principle only; objects for ids that were
    not asked about are ignored."""
    if not isinstance(obj, dict) or not isinstance(obj.get("verdicts"), list):
        top = "off-contract answer: expected an object with a 'verdicts' list"
        problem = _first_problem(obj, BATCH_SCHEMA) if isinstance(obj, dict) else None
        return {pid: f"{top}{' (' + problem + ')' if problem else ''}" for pid in principle_ids}
    extra = sorted(set(obj) - {"verdicts"})
    by_id: dict[str, list[tuple[int, Any]]] = {}
    for i, item in enumerate(obj["verdicts"]):
        if isinstance(item, dict) and isinstance(item.get("principle_id"), str):
            by_id.setdefault(item["principle_id"], []).append((i, item))
    out: dict[str, Answer | str] = {}
    for pid in principle_ids:
        items = by_id.get(pid, [])
        if extra:
            out[pid] = f"off-contract answer: unexpected top-level key(s) {', '.join(map(repr, extra))}"
        elif not items:
            out[pid] = f"off-contract answer: no verdict object for principle {pid}"
        elif len(items) > 1:
            out[pid] = f"off-contract answer: {len(items)} verdict objects for principle {pid} (expected one)"
        else:
            i, item = items[0]
            rest = {k: v for k, v in item.items() if k != "principle_id"}
            problem = _first_problem(rest, SINGLE_SCHEMA, f"verdicts[{i}]")
            out[pid] = f"off-contract answer for {pid} {problem}" if problem else _answer(rest)
    return out


@dataclass(frozen=True)
class Vote:
    """The outcome of K samples: ``verdict`` is the strict-majority verdict or None."""

    verdict: str | None
    votes: tuple[str, ...]
    split: bool  # no strict majority and at least two different verdicts were given


def majority(votes: Sequence[str]) -> Vote:
    """Strict majority over all K votes (``error`` votes count in K but never win)."""
    if len(votes) == 1:
        return Vote(None if votes[0] == "error" else votes[0], tuple(votes), False)
    counts = Counter(v for v in votes if v != "error")
    verdicts = [v for v, n in counts.items() if n * 2 > len(votes)]
    if verdicts:
        return Vote(verdicts[0], tuple(votes), False)
    return Vote(None, tuple(votes), len(counts) >= 2)


def describe_votes(votes: Sequence[str]) -> str:
    """``"violation 2, compliant 1"`` (most common first, then by name)."""
    counts = Counter(votes)
    return ", ".join(f"{v} {n}" for v, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
