"""``grader transcripts show``: how the grader reads a file (messages, roles, tool calls, ids)."""
from __future__ import annotations

import json
from typing import Any

import click

from ..errors import InputError, SkippedInput
from ..transcripts.load import iter_inputs
from ..transcripts.table import format_names
from ..transcripts.model import Message, Transcript
from .common import edge

INDENT = "    "


@click.group("transcripts", epilog="Example: grader transcripts show data.jsonl --limit 3")
def transcripts() -> None:
    """Inspect transcript files as the grader reads them."""


@transcripts.command("show", epilog="\b\nExamples:\n  grader transcripts show chat.jsonl\n"
                     "  grader transcripts show logs/ --format inspect --json > read.json")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(format_names()), default=None,
              help="Input format (default: detected per file).")
@click.option("--messages-path", default=None, metavar="PATH",
              help="Where the conversations sit inside each JSON value, e.g. 'results[].conversation'.")
@click.option("--json", "as_json", is_flag=True, help="One JSON document: transcripts and input errors.")
@click.option("--limit", type=click.IntRange(0), default=None, help="Show only the first N transcripts.")
@click.pass_context
@edge
def show(ctx: click.Context, paths: tuple[str, ...], fmt: str | None, messages_path: str | None, as_json: bool,
         limit: int | None) -> None:
    """Show how PATHS (files or folders) are read: each transcript's id, source,
    metadata and messages with their 0-based indexes (the indexes findings cite),
    and every input that could not be read (files a folder walk passes over are listed as
    skipped). Exit status 3 if any input failed.
    """
    shown: list[Transcript] = []
    errors: list[InputError] = []
    skipped: list[SkippedInput] = []
    for item in iter_inputs(list(paths), fmt, messages_path):
        if isinstance(item, SkippedInput):
            skipped.append(item)
            if not as_json:
                click.echo(f"- {item}")
            continue
        if isinstance(item, InputError):
            errors.append(item)
            if not as_json:
                click.echo(f"! input error: {item}")
            continue
        if limit is not None and len(shown) >= limit:
            break
        shown.append(item)
        if not as_json:
            click.echo(render_transcript(item))
    if as_json:
        doc = {"transcripts": [t.to_dict() for t in shown],
               "input_errors": [{"path": e.path, "locator": e.locator, "reason": e.reason} for e in errors]}
        if skipped:
            doc["skipped"] = [{"path": e.path, "reason": e.reason} for e in skipped]
        click.echo(json.dumps(doc, ensure_ascii=False, indent=2))
    else:
        tail = f", {len(skipped)} skipped" if skipped else ""
        click.echo(f"{_plural(len(shown), 'transcript')}, {_plural(len(errors), 'input error')}{tail}")
    if errors:
        ctx.exit(3)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def render_transcript(t: Transcript) -> str:
    """A plain-text view of one transcript (stable, for people and tests)."""
    lines = [f"== {t.id}  ({t.source})  {_plural(len(t.messages), 'message')}"]
    if t.metadata:
        lines.append(f"{INDENT}metadata: {json.dumps(dict(t.metadata), ensure_ascii=False, sort_keys=True)}")
    for m in t.messages:
        lines.extend(_render_message(m))
    return "\n".join(lines) + "\n"


def _render_message(m: Message) -> list[str]:
    head = f"[{m.index}] {m.role}"
    if m.name:
        head += f" {m.name}"
    if m.tool_call_id:
        head += f" (call {m.tool_call_id})"
    if m.is_error:
        head += " ERROR"
    out = _block(head + ":", m.content)
    if m.reasoning:
        out.extend(_block(f"{INDENT}reasoning:", m.reasoning, INDENT))
    for c in m.tool_calls:
        ident = f" (id {c.id})" if c.id else ""
        out.append(f"{INDENT}-> {c.name}{ident} {_args(c.arguments)}")
    return out


def _block(head: str, text: str, indent: str = "") -> list[str]:
    if not text:
        return [head]
    first, *rest = text.split("\n")
    return [f"{head} {first}"] + [f"{indent}{INDENT}{line}" if line else "" for line in rest]


def _args(arguments: Any) -> str:
    if isinstance(arguments, str):
        return "(raw) " + json.dumps(arguments, ensure_ascii=False)
    return json.dumps(arguments, ensure_ascii=False, sort_keys=True)
