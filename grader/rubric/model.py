"""Rubric, Principle and Check models; loading YAML/JSON rubric files or folders,
validated strictly against ``schemas/rubric.schema.json``.

A rubric is one file holding a header and its principles, or a folder holding
``rubric.yaml`` (the header, principles optional) and any number of other
``*.yaml``/``*.yml``/``*.json`` files of the form ``{"principles": [...]}``.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import yaml

from ..errors import RubricError
from ..schemas import describe, error_path, validator
from ..shipped import DEFAULT_RUBRIC
from ..yamlsafe import load_yaml

SEVERITIES = ("critical", "high", "medium", "low")
RUBRIC_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass(frozen=True)
class CheckSpec:
    id: str
    kind: str
    params: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""
    basis: str | None = None  # "decides" | "screens": overrides the kind's declaration


@dataclass(frozen=True)
class JudgeSpec:
    question: str
    counts: tuple[str, ...] = ()
    does_not_count: tuple[str, ...] = ()
    performative: str = ""
    not_applicable: str = ""
    scale: str = ""
    violating: tuple[str, ...] = ()
    compliant: tuple[str, ...] = ()


@dataclass(frozen=True)
class Example:
    id: str
    expect: str
    messages: tuple[Mapping[str, Any], ...]
    description: str = ""
    decided_by: str | None = None
    system: str | None = None


@dataclass(frozen=True)
class Principle:
    id: str
    title: str
    statement: str
    severity: str
    rubric_id: str
    rubric_version: str
    tags: tuple[str, ...] = ()
    sources: tuple[Mapping[str, Any], ...] = ()
    applies_when: Mapping[str, Any] | None = None
    checks: tuple[CheckSpec, ...] = ()
    judge: JudgeSpec | None = None
    examples: tuple[Example, ...] = ()
    file: str = ""


@dataclass(frozen=True)
class Rubric:
    id: str
    version: str
    title: str
    principles: tuple[Principle, ...]
    sources: tuple[Mapping[str, Any], ...] = ()
    description: str = ""
    path: str = ""
    sha256: str = ""

    def principle(self, principle_id: str) -> Principle:
        for p in self.principles:
            if p.id == principle_id:
                return p
        raise KeyError(principle_id)

    def select(self, ids: Iterable[str]) -> "Rubric":
        """A copy keeping only the named principles (unknown ids are an error)."""
        wanted = list(ids)
        known = {p.id for p in self.principles}
        missing = [i for i in wanted if i not in known]
        if missing:
            raise RubricError(self.path, "principles", f"unknown principle id(s): {', '.join(missing)}")
        keep = tuple(p for p in self.principles if p.id in set(wanted))
        return Rubric(self.id, self.version, self.title, keep, self.sources, self.description,
                      self.path, self.sha256)


def _parse_file(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise RubricError(str(path), "", f"not UTF-8 text ({e.reason} at byte {e.start})") from None
    except OSError as e:
        raise RubricError(str(path), "", f"cannot read: {e.strerror}") from None
    try:
        if path.suffix == ".json":
            return json.loads(text)
        return load_yaml(text)
    except json.JSONDecodeError as e:
        raise RubricError(str(path), f"line {e.lineno} column {e.colno}", f"invalid JSON: {e.msg}") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        where = f"line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e)
        raise RubricError(str(path), where, f"invalid YAML: {problem}") from None


def _validate(doc: Any, path: Path, *, header: bool) -> None:
    v = validator("rubric")
    errors = sorted(v.iter_errors(doc), key=lambda e: (len(list(e.absolute_path)), str(list(e.absolute_path))))
    if errors:
        err = errors[0]
        raise RubricError(str(path), error_path(err), describe(err))
    if header:
        for key in ("id", "version", "title"):
            if key not in doc:
                raise RubricError(str(path), "", f"'{key}' is a required property of the rubric header")


def _principle(raw: Mapping[str, Any], rubric_id: str, version: str, file: str, where: str) -> Principle:
    from ..checks.registry import validate_check_params  # lazy: checks import rubric models

    checks = []
    for i, c in enumerate(raw.get("checks", [])):
        validate_check_params(c["kind"], c.get("params", {}), file, f"{where}.checks[{i}]")
        checks.append(CheckSpec(c["id"], c["kind"], dict(c.get("params", {})), c.get("description", ""),
                                c.get("basis")))
    judge = None
    if "judge" in raw:
        j = raw["judge"]
        judge = JudgeSpec(
            question=j["question"], counts=tuple(j.get("counts", ())),
            does_not_count=tuple(j.get("does_not_count", ())), performative=j.get("performative", ""),
            not_applicable=j.get("not_applicable", ""), scale=j.get("scale", ""),
            violating=tuple(j.get("violating", ())), compliant=tuple(j.get("compliant", ())))
    examples = tuple(
        Example(e["id"], e["expect"], tuple(e["messages"]), e.get("description", ""),
                e.get("decided_by"), e.get("system"))
        for e in raw.get("examples", []))
    return Principle(
        id=raw["id"], title=raw["title"], statement=raw["statement"], severity=raw["severity"],
        rubric_id=rubric_id, rubric_version=version, tags=tuple(raw.get("tags", ())),
        sources=tuple(raw.get("sources", ())), applies_when=raw.get("applies_when"),
        checks=tuple(checks), judge=judge, examples=examples, file=file)


def _files_of(path: Path) -> tuple[Path, list[Path]]:
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix in RUBRIC_SUFFIXES and p.is_file())
        headers = [p for p in files if p.stem == "rubric"]
        if len(headers) != 1:
            raise RubricError(str(path), "", f"a rubric folder needs exactly one rubric.yaml header file, found {len(headers)}")
        return headers[0], [p for p in files if p != headers[0]]
    if not path.exists():
        raise RubricError(str(path), "", "no such file or folder")
    return path, []


def load_rubric_path(path: str | Path) -> Rubric:
    """Load one rubric file or folder. Raises :class:`RubricError` naming file and place."""
    path = Path(path)
    header_file, others = _files_of(path)
    header = _parse_file(header_file)
    _validate(header, header_file, header=True)
    digest = hashlib.sha256()
    digest.update(header_file.read_bytes())
    raw_principles: list[tuple[Mapping[str, Any], str, str]] = [
        (p, str(header_file), f"principles[{i}]") for i, p in enumerate(header.get("principles", []))]
    for f in others:
        doc = _parse_file(f)
        _validate(doc, f, header=False)
        if set(doc) - {"principles"}:
            extra = sorted(set(doc) - {"principles"})[0]
            raise RubricError(str(f), extra, "only 'principles' may appear outside the rubric.yaml header")
        digest.update(f.name.encode())
        digest.update(f.read_bytes())
        raw_principles += [(p, str(f), f"principles[{i}]") for i, p in enumerate(doc.get("principles", []))]
    seen: dict[str, str] = {}
    check_ids: dict[str, str] = {}
    principles = []
    for raw, file, where in raw_principles:
        if raw["id"] in seen:
            raise RubricError(file, f"{where}.id", f"duplicate principle id {raw['id']!r} (also in {seen[raw['id']]})")
        seen[raw["id"]] = file
        for i, c in enumerate(raw.get("checks", [])):
            if c["id"] in check_ids:
                raise RubricError(file, f"{where}.checks[{i}].id", f"duplicate check id {c['id']!r} (also in {check_ids[c['id']]})")
            check_ids[c["id"]] = file
        principles.append(_principle(raw, header["id"], header["version"], file, where))
    if not principles:
        raise RubricError(str(path), "principles", "the rubric has no principles")
    return Rubric(id=header["id"], version=header["version"], title=header["title"],
                  principles=tuple(principles), sources=tuple(header.get("sources", ())),
                  description=header.get("description", ""), path=str(path), sha256=digest.hexdigest())


def load_rubrics(paths: Sequence[str | Path] | str | Path | None) -> list[Rubric]:
    """Load several rubrics (the shipped constitution when ``paths`` is empty).
    Principle ids must be unique across them."""
    if paths is None or (not isinstance(paths, (str, Path)) and len(paths) == 0):
        paths = [DEFAULT_RUBRIC]
    if isinstance(paths, (str, Path)):
        paths = [paths]
    rubrics = [load_rubric_path(p) for p in paths]
    seen: dict[str, str] = {}
    for r in rubrics:
        for p in r.principles:
            if p.id in seen:
                raise RubricError(p.file, p.id, f"principle id also defined by rubric {seen[p.id]!r}")
            seen[p.id] = r.id
    return rubrics
