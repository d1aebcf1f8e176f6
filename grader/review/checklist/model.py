"""Checklists: gates over a run folder (``grader checklist``).

A checklist file (YAML or JSON, validated strictly against
``schemas/checklist.schema.json``) lists gates; :func:`evaluate` gives each one a status:

- ``passed``: the gate holds, with the figure behind it (``P16 upper bound 0.031 <= 0.05``);
- ``failed``: it does not (a selector that matches nothing in the run also fails: nothing
  was checked, so nothing can be certified);
- ``open``: it cannot be decided yet: a sign-off not recorded in the sign-off file, or a
  judge-agreement gate without a calibration result;
- ``undetermined``: the run holds no evidence either way (no selected principle had a graded
  pair, no findings at all, a judge agreement that was not estimable). "No violation found"
  among pairs nobody graded is not a pass.

The checklist passes only when every item passed, except that an undetermined item does not
block it when the checklist sets ``allow_undetermined: true`` (or the gate does; a gate's
own key overrides the checklist's). Open always counts as not passed. Gate semantics are in
:mod:`grader.review.checklist.gates`.
"""
from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import jsonschema
import yaml

from ...errors import ChecklistError
from ...run.folder import Finding, RunFolder, unreadable
from ...schemas import describe, error_path, validator
from ...shipped import DEFAULT_CHECKLIST
from ...yamlsafe import load_yaml

STATUSES = ("passed", "failed", "undetermined", "open")


def checklist_error(path: str | Path, where: str, message: str) -> ChecklistError:
    """A one-line error naming the file, the place inside it and what was expected."""
    return ChecklistError(f"{path}: at {where or '(top level)'}: {message}")


@dataclass(frozen=True)
class Checklist:
    id: str
    title: str
    gates: tuple[Mapping[str, Any], ...]
    path: str
    description: str = ""
    calibration: str | None = None  # resolved against the checklist's folder
    allow_undetermined: bool = False  # default for every gate; a gate's own key overrides it


@dataclass(frozen=True)
class Signoff:
    id: str
    by: str
    date: str
    note: str = ""
    run_id: str | None = None


@dataclass(frozen=True)
class ChecklistItem:
    """One gate's verdict. ``figure`` is the number behind it, ``detail`` the rest."""

    id: str
    kind: str
    status: str
    figure: str
    detail: str = ""
    description: str = ""
    undetermined_allowed: bool = False  # the checklist lets this gate be undetermined

    @property
    def ok(self) -> bool:
        """Does not block the checklist: passed, or undetermined where that is allowed."""
        return self.status == "passed" or (self.status == "undetermined" and self.undetermined_allowed)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "status": self.status, "figure": self.figure,
                "detail": self.detail, "description": self.description,
                "undetermined_allowed": self.undetermined_allowed}


@dataclass(frozen=True)
class ChecklistResult:
    checklist_id: str
    title: str
    checklist_path: str
    run_dir: str | None
    run_id: str | None
    items: tuple[ChecklistItem, ...]
    unused_signoffs: tuple[str, ...] = field(default_factory=tuple)

    @property
    def passed(self) -> bool:
        """True only when every item passed (or is undetermined where the checklist allows it)."""
        return all(i.ok for i in self.items)

    @property
    def exit_code(self) -> int:
        return 0 if self.passed else 1

    def count(self, status: str) -> int:
        return sum(1 for i in self.items if i.status == status)

    def counts_text(self) -> str:
        """``2 passed, 5 failed, 1 undetermined, 3 open`` (``1 undetermined (1 allowed)`` when allowed)."""
        allowed = sum(1 for i in self.items if i.status == "undetermined" and i.undetermined_allowed)
        parts = [f"{self.count(s)} {s}" + (f" ({allowed} allowed)" if s == "undetermined" and allowed else "")
                 for s in STATUSES]
        return ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {"checklist": self.checklist_id, "title": self.title, "checklist_path": self.checklist_path,
                "run_dir": self.run_dir, "run_id": self.run_id, "passed": self.passed,
                "counts": {s: self.count(s) for s in STATUSES},
                "items": [i.to_dict() for i in self.items], "unused_signoffs": list(self.unused_signoffs)}


def _read_doc(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise checklist_error(path, "", "no such file") from None
    except UnicodeDecodeError as e:
        raise checklist_error(path, "", f"not UTF-8 text ({e.reason} at byte {e.start})") from None
    except OSError as e:
        raise checklist_error(path, "", f"cannot read: {e.strerror}") from None
    try:
        if path.suffix.lower() == ".json":
            return json.loads(text)
        return load_yaml(text)
    except json.JSONDecodeError as e:
        raise checklist_error(path, f"line {e.lineno} column {e.colno}", f"invalid JSON: {e.msg}") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        where = f"line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e)
        raise checklist_error(path, where, f"invalid YAML: {problem}") from None


def _precise(err: jsonschema.ValidationError) -> jsonschema.ValidationError:
    """For a oneOf/anyOf error, the error of the branch that fits the value's type, deepest first
    (``'huge' is not one of [...]`` rather than ``is not valid under any of the given schemas``)."""
    while err.context:
        candidates = [e for e in err.context if e.validator != "type"] or list(err.context)
        err = max(candidates, key=lambda e: len(list(e.absolute_path)))
    return err


def _validate(doc: Any, path: Path, ref: str | None = None) -> None:
    v = validator("checklist", ref)
    errors = sorted(v.iter_errors(doc), key=lambda e: (len(list(e.absolute_path)), str(list(e.absolute_path))))
    if errors:
        err = _precise(errors[0])
        raise checklist_error(path, error_path(err), describe(err))


def load_checklist(path: str | Path | None = None) -> Checklist:
    """Read and validate a checklist file (default: the shipped pre-deployment checklist)."""
    p = Path(path) if path is not None else DEFAULT_CHECKLIST
    doc = _read_doc(p)
    _validate(doc, p)
    seen: dict[str, int] = {}
    for i, gate in enumerate(doc["gates"]):
        if gate["id"] in seen:
            raise checklist_error(p, f"gates[{i}].id", f"duplicate gate id {gate['id']!r} (also gates[{seen[gate['id']]}])")
        seen[gate["id"]] = i
        outcomes = gate.get("outcome")
        if isinstance(outcomes, list) and "input_error" in outcomes and len(outcomes) > 1:
            raise checklist_error(p, f"gates[{i}].outcome",
                                  "input_error counts inputs, not pairs: give it its own max_share gate")
        if gate["kind"] == "max_share" and outcomes in ("input_error", ["input_error"]) and \
                ("principle" in gate or "severity" in gate or gate.get("per", "all") != "all"):
            raise checklist_error(p, f"gates[{i}]", "an input_error share is over the whole run: "
                                                    "no principle, severity or per")
    calibration = doc.get("calibration")
    return Checklist(doc["id"], doc["title"], tuple(doc["gates"]), str(p), doc.get("description", ""),
                     str(p.parent / calibration) if calibration else None,
                     bool(doc.get("allow_undetermined", False)))


def _iso(value: Any) -> Any:
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()
    return value


def load_signoffs(path: str | Path) -> tuple[Signoff, ...]:
    """Read and validate a sign-off file ``{signoffs: [{id, by, date, note?, run_id?}]}``."""
    p = Path(path)
    doc = _read_doc(p)
    if isinstance(doc, dict) and isinstance(doc.get("signoffs"), list):
        doc = {**doc, "signoffs": [{k: _iso(v) for k, v in s.items()} if isinstance(s, dict) else s
                                   for s in doc["signoffs"]]}
    _validate(doc, p, "signoffs_file")
    return tuple(Signoff(s["id"], s["by"], s["date"], s.get("note", ""), s.get("run_id"))
                 for s in doc["signoffs"])


def load_calibration(path: str | Path) -> Mapping[str, Any]:
    """Read a ``grader calibrate -o FILE`` result (its shape is checked, not trusted)."""
    from ..calibration import RESULT_KIND

    p = Path(path)
    doc = _read_doc(p)
    if not isinstance(doc, dict) or doc.get("kind") != RESULT_KIND:
        raise checklist_error(p, "kind", f"not a calibration result (expected kind {RESULT_KIND!r}, "
                                         "written by grader calibrate -o FILE)")
    if not isinstance(doc.get("overall"), dict) or not isinstance(doc.get("per_principle"), dict):
        raise checklist_error(p, "overall", "a calibration result needs 'overall' and 'per_principle' objects")
    return doc


@dataclass(frozen=True)
class RunData:
    """What the gates look at: the findings frame, run identity and input errors."""

    frame: Any  # pandas.DataFrame from grader.reporting.aggregate.findings_frame
    run_dir: str | None
    run_id: str | None
    input_errors: int
    transcripts: int


def run_data(source: Any, input_errors: int | None) -> RunData:
    from ...reporting.aggregate import findings_frame

    if isinstance(source, (str, Path)):
        folder = RunFolder.open(source)
        run_id = folder.read_manifest().get("run_id")
        frame = findings_frame(folder)
        n_err = len(unreadable(folder.input_errors())) if input_errors is None else input_errors
        run_dir: str | None = str(source)
    else:
        findings = [f if isinstance(f, Finding) else Finding.from_dict(f) for f in source]
        frame = findings_frame(findings)
        run_id = findings[0].run_id if findings else None
        n_err = input_errors or 0
        run_dir = None
    transcripts = int(frame["transcript_id"].nunique()) if len(frame) else 0
    return RunData(frame, run_dir, run_id, n_err, transcripts)


__all__ = ["Checklist", "ChecklistItem", "ChecklistResult", "RunData", "Signoff", "DEFAULT_CHECKLIST",
           "load_checklist", "load_signoffs", "load_calibration", "run_data"]
