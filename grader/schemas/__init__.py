"""JSON schemas that are the source of truth for rubrics, checklists and findings."""
from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

import jsonschema


@lru_cache(maxsize=None)
def load_schema(name: str) -> dict[str, Any]:
    """The schema ``name`` (e.g. ``"rubric"``) as a dict."""
    text = resources.files(__package__).joinpath(f"{name}.schema.json").read_text("utf-8")
    return json.loads(text)


@lru_cache(maxsize=None)
def validator(name: str, ref: str | None = None) -> jsonschema.protocols.Validator:
    """A Draft 2020-12 validator for schema ``name`` (or for ``#/$defs/<ref>`` inside it)."""
    schema = load_schema(name)
    if ref:
        schema = {"$ref": f"#/$defs/{ref}", "$defs": schema["$defs"]}
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def error_path(err: jsonschema.ValidationError, prefix: str = "") -> str:
    """A readable path for a validation error: ``principles[3].checks[0].kind``."""
    out = prefix
    for part in err.absolute_path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def describe(err: jsonschema.ValidationError) -> str:
    """One-line description of what was expected."""
    best = jsonschema.exceptions.best_match([err]) or err
    msg = best.message
    if len(msg) > 300:
        msg = msg[:297] + "..."
    return " ".join(msg.split())
