"""The Finding record and the run folder (results.jsonl, run.json, input_errors.jsonl).

results.jsonl is appended and flushed one finding at a time, so an interrupted run
loses at most the line being written; opening a folder for resume drops a torn last line.
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Iterable, Iterator, Mapping, Protocol

from ..errors import RunFolderError

OUTCOMES = ("violation", "compliant", "not_applicable", "ungraded", "error")
RESULTS = "results.jsonl"
MANIFEST = "run.json"
INPUT_ERRORS = "input_errors.jsonl"


@dataclass(frozen=True)
class Evidence:
    message_index: int
    quote: str
    verified: bool = True
    check_id: str | None = None
    tool_call: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"message_index": self.message_index, "quote": self.quote, "verified": self.verified}
        if self.check_id is not None:
            d["check_id"] = self.check_id
        if self.tool_call is not None:
            d["tool_call"] = self.tool_call
        return d


@dataclass(frozen=True)
class Finding:
    run_id: str
    transcript_id: str
    source: Mapping[str, str]
    principle_id: str
    rubric_id: str
    rubric_version: str
    severity: str
    outcome: str
    method: str | None
    check_ids: tuple[str, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    rationale: str = ""
    judge: Mapping[str, Any] | None = None
    error: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    flags: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        # written field by field: dataclasses.asdict deep-copies metadata and was the
        # main cost of a large run
        return {
            "run_id": self.run_id, "transcript_id": self.transcript_id, "source": dict(self.source),
            "principle_id": self.principle_id, "rubric_id": self.rubric_id,
            "rubric_version": self.rubric_version, "severity": self.severity, "outcome": self.outcome,
            "method": self.method, "check_ids": list(self.check_ids),
            "evidence": [e.to_dict() for e in self.evidence], "rationale": self.rationale,
            "judge": dict(self.judge) if self.judge is not None else None, "error": self.error,
            "metadata": dict(self.metadata), "flags": list(self.flags),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Finding":
        return cls(
            run_id=d["run_id"], transcript_id=d["transcript_id"], source=dict(d["source"]),
            principle_id=d["principle_id"], rubric_id=d["rubric_id"], rubric_version=d["rubric_version"],
            severity=d["severity"], outcome=d["outcome"], method=d["method"],
            check_ids=tuple(d.get("check_ids", ())),
            evidence=tuple(Evidence(**e) for e in d.get("evidence", ())),
            rationale=d.get("rationale", ""), judge=d.get("judge"), error=d.get("error"),
            metadata=dict(d.get("metadata", {})), flags=tuple(d.get("flags", ())))

    @property
    def pair(self) -> tuple[str, str]:
        return (self.transcript_id, self.principle_id)


# ASCII output: a judge's rationale may carry a lone surrogate escape, which written
# as UTF-8 would crash the run; escaped, it is still valid JSON. Metadata a library caller
# attached that JSON cannot hold (a date, a Path) is written as its str() rather than
# crashing the run half-way. Strict JSON: NaN and infinities (an Inspect score of NaN, say)
# are written as the strings "nan", "inf" and "-inf", never as bare NaN/Infinity tokens.
_ENCODER = json.JSONEncoder(ensure_ascii=True, default=str, allow_nan=False)


def finding_line(finding: Finding) -> str:
    """The results.jsonl line of a finding (with its newline); keys in schema order."""
    d = finding.to_dict()
    try:
        return _ENCODER.encode(d) + "\n"
    except ValueError:  # a non-finite float somewhere (rare: only then is the record walked)
        return _ENCODER.encode(_finite_floats(d)) + "\n"


def _finite_floats(value: Any, _path: frozenset[int] = frozenset()) -> Any:
    """``value`` with every non-finite float (values and keys, nested) replaced by its
    string ("nan", "inf", "-inf"). A container met again inside itself is left as it is
    (the encoder then reports the cycle)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if not isinstance(value, (dict, list, tuple)) or id(value) in _path:
        return value
    inner = _path | {id(value)}
    if isinstance(value, dict):
        return {(str(k) if isinstance(k, float) and not math.isfinite(k) else k): _finite_floats(v, inner)
                for k, v in value.items()}
    return [_finite_floats(v, inner) for v in value]


@dataclass(frozen=True)
class InputErrorRecord:
    """One line of input_errors.jsonl: an input that could not be read, or (``kind:
    skipped``) a file a folder walk passed over, listed so nothing is dropped silently."""

    path: str
    locator: str | None
    reason: str
    kind: str = "error"  # "error" or "skipped"

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"path": self.path, "locator": self.locator, "reason": self.reason}
        if self.kind != "error":
            d["kind"] = self.kind
        return d


def unreadable(records: Iterable[InputErrorRecord]) -> list[InputErrorRecord]:
    """The records that are input errors (not skipped files): what counts and sets exit status 3."""
    return [r for r in records if r.kind == "error"]


def _drop_torn_tail(path: Path) -> None:
    """Truncate ``path`` after its last newline (a kill mid-write leaves a partial line)."""
    if not path.exists():
        return
    size = path.stat().st_size
    if size == 0:
        return
    with path.open("rb+") as f:
        f.seek(-1, os.SEEK_END)
        if f.read(1) == b"\n":
            return
        pos = size
        chunk = 65536
        while pos > 0:
            start = max(0, pos - chunk)
            f.seek(start)
            data = f.read(pos - start)
            nl = data.rfind(b"\n")
            if nl != -1:
                f.truncate(start + nl + 1)
                return
            pos = start
        f.truncate(0)


def iter_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """Parsed lines of a JSONL file written by the grader (a torn last line is skipped)."""
    for _, d in _numbered_jsonl(path):
        yield d


def _numbered_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, object)``; a line that is not a JSON object is a RunFolderError naming it."""
    with path.open("r", encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.endswith("\n"):
                return
            line = line.strip()
            if not line:
                continue
            try:
                d = json.loads(line)
            except ValueError as e:
                raise RunFolderError(f"{path}: line {n}: not a JSON object ({type(e).__name__}: {e})") from None
            if not isinstance(d, dict):
                raise RunFolderError(f"{path}: line {n}: not a JSON object")
            yield n, d


class Sink(Protocol):
    """Where the engine puts findings and input errors: a RunFolder on disk or a MemorySink."""

    def append(self, finding: Finding) -> None: ...

    def append_input_error(self, rec: InputErrorRecord) -> None: ...

    def input_errors(self) -> list[InputErrorRecord]: ...


class MemorySink:
    """Findings and input errors kept in memory (library use without a run folder)."""

    def __init__(self) -> None:
        self.findings: list[Finding] = []
        self.errors: list[InputErrorRecord] = []

    def append(self, finding: Finding) -> None:
        self.findings.append(finding)

    def append_input_error(self, rec: InputErrorRecord) -> None:
        self.errors.append(rec)

    def input_errors(self) -> list[InputErrorRecord]:
        return list(self.errors)


class RunFolder:
    """A run folder on disk. Use :meth:`create` for a new run and :meth:`open` to resume or read."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._results: IO[str] | None = None
        self._errors: IO[str] | None = None

    # -- creation and opening ----------------------------------------------------------
    @classmethod
    def create(cls, path: str | Path) -> "RunFolder":
        p = Path(path)
        # run.json alone marks a run (one whose inputs all failed, or that was killed before
        # its first finding, has an empty results.jsonl): never overwrite it
        if (p / MANIFEST).exists() or any((p / name).exists() and (p / name).stat().st_size > 0
                                          for name in (RESULTS, INPUT_ERRORS)):
            raise RunFolderError(f"{p}: already holds a run; use --resume to continue it or choose another -o folder")
        p.mkdir(parents=True, exist_ok=True)
        for name in (RESULTS, INPUT_ERRORS):
            (p / name).write_text("", encoding="utf-8")
        return cls(p)

    @classmethod
    def open(cls, path: str | Path, *, for_append: bool = False) -> "RunFolder":
        p = Path(path)
        if not (p / MANIFEST).exists():
            raise RunFolderError(f"{p}: not a run folder (no {MANIFEST})")
        if for_append:
            _drop_torn_tail(p / RESULTS)
            _drop_torn_tail(p / INPUT_ERRORS)
        return cls(p)

    # -- manifest --------------------------------------------------------------------------
    def read_manifest(self) -> dict[str, Any]:
        try:
            return json.loads((self.path / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as e:
            raise RunFolderError(f"{self.path / MANIFEST}: unreadable run manifest: {e}") from None

    def write_manifest(self, manifest: Mapping[str, Any]) -> None:
        tmp = self.path / (MANIFEST + ".tmp")
        tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(tmp, self.path / MANIFEST)

    # -- findings --------------------------------------------------------------------------
    def findings(self) -> Iterator[Finding]:
        path = self.path / RESULTS
        if not path.exists():
            return
        for n, d in _numbered_jsonl(path):
            try:
                yield Finding.from_dict(d)
            except (ValueError, KeyError, TypeError) as e:
                raise RunFolderError(f"{path}: line {n}: not a finding ({type(e).__name__}: {e})") from None

    def rows(self) -> Iterator[dict[str, Any]]:
        """The raw lines of results.jsonl as dicts (cheaper than findings() for counting)."""
        path = self.path / RESULTS
        if path.exists():
            yield from iter_jsonl(path)

    def done_pairs(self) -> set[tuple[str, str]]:
        return {(d["transcript_id"], d["principle_id"]) for d in self.rows()}

    def append(self, finding: Finding) -> None:
        if self._results is None:
            self._results = (self.path / RESULTS).open("a", encoding="utf-8")
        self._results.write(finding_line(finding))
        self._results.flush()

    def append_text(self, text: str) -> None:
        """Append ready-made results lines (from check workers) and flush."""
        if self._results is None:
            self._results = (self.path / RESULTS).open("a", encoding="utf-8")
        self._results.write(text)
        self._results.flush()

    def append_input_error(self, rec: InputErrorRecord) -> None:
        if self._errors is None:
            self._errors = (self.path / INPUT_ERRORS).open("a", encoding="utf-8")
        self._errors.write(json.dumps(rec.to_dict(), ensure_ascii=False) + "\n")
        self._errors.flush()

    def input_errors(self) -> list[InputErrorRecord]:
        path = self.path / INPUT_ERRORS
        if not path.exists():
            return []
        return [InputErrorRecord(**d) for d in iter_jsonl(path)]

    def close(self) -> None:
        for f in (self._results, self._errors):
            if f is not None:
                f.close()
        self._results = self._errors = None

    def __enter__(self) -> "RunFolder":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
