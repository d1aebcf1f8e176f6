"""A Markdown reference of the rubric file format, generated from
``schemas/rubric.schema.json`` (the README's "Writing a rubric" section is this output,
and a test keeps the two identical)."""
from __future__ import annotations

from typing import Any, Iterator, Mapping

from . import load_schema


def _type(node: Mapping[str, Any], defs: Mapping[str, Any]) -> str:
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        target = defs[name]
        if target.get("type") == "object":
            return f"object ({name})"
        return _type(target, defs)
    if "enum" in node:
        return " \\| ".join(f"`{v}`" for v in node["enum"])
    t = node.get("type", "any")
    if t == "array":
        return f"list of {_type(node.get('items', {}), defs)}"
    if isinstance(t, list):
        return " or ".join(t)
    if t == "string" and "pattern" in node:
        return "identifier"
    return str(t)


def _rows(prefix: str, node: Mapping[str, Any], defs: Mapping[str, Any], seen: set[str]) -> Iterator[tuple[str, str, str, str]]:
    required = set(node.get("required", ()))
    for key, sub in node.get("properties", {}).items():
        path = f"{prefix}{key}"
        desc = sub.get("description", "")
        target = sub
        if "$ref" in sub:
            target = defs[sub["$ref"].rsplit("/", 1)[-1]]
            desc = desc or target.get("description", "")
        elif sub.get("type") == "array" and "$ref" in sub.get("items", {}):
            target = defs[sub["items"]["$ref"].rsplit("/", 1)[-1]]
        yield path, _type(sub, defs), "yes" if key in required else "", " ".join(desc.split())
        if target.get("type") == "object" and "properties" in target:
            name = id(target)
            key_id = str(name)
            if key_id in seen:
                continue
            suffix = "[]." if sub.get("type") == "array" else "."
            yield from _rows(path + suffix, target, defs, seen | {key_id})


def rubric_reference() -> str:
    """The rubric schema as a Markdown table: field, type, required, meaning."""
    schema = load_schema("rubric")
    defs = schema["$defs"]
    lines = ["| field | type | required | meaning |", "|---|---|---|---|"]
    for path, typ, req, desc in _rows("", schema, defs, set()):
        lines.append(f"| `{path}` | {typ} | {req} | {desc} |")
    lines.append("")
    lines.append("Unknown keys are errors at every level. Check `params` are validated against each "
                 "check kind's own schema (`grader rubric kinds` lists them).")
    return "\n".join(lines) + "\n"


def write_into(readme: str) -> None:
    """Replace the README's generated section (between the rubric-reference markers)."""
    from pathlib import Path

    path = Path(readme)
    text = path.read_text(encoding="utf-8")
    start_marker, end_marker = "<!-- rubric-reference:start -->\n", "<!-- rubric-reference:end -->"
    start = text.index(start_marker) + len(start_marker)
    end = text.index(end_marker)
    path.write_text(text[:start] + rubric_reference() + text[end:], encoding="utf-8")


if __name__ == "__main__":  # python -m grader.schemas.doc --write README.md
    import sys

    if sys.argv[1:2] == ["--write"] and len(sys.argv) == 3:
        write_into(sys.argv[2])
    else:
        sys.stdout.write(rubric_reference())
