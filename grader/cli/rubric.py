"""``grader rubric``: validate, list, show and test rubric files."""
from __future__ import annotations

import json
import os
import textwrap
from dataclasses import asdict
from pathlib import Path
from typing import Any, Mapping

import click

from ..errors import RubricError, UsageError
from ..rubric import DEFAULT_RUBRIC, Principle, Rubric, load_rubric_path
from ..grading.examples import RubricTestResult, example_transcripts, run_examples
from .common import edge

WIDTH = 100


def _load(path: str | None) -> Rubric:
    return load_rubric_path(path if path else DEFAULT_RUBRIC)


def find_principle(rubric: Rubric, wanted: str) -> Principle:
    """The principle with id ``wanted``, or the only one whose id starts with ``wanted-``
    (``P12`` finds ``P12-...``), case-insensitively. Raises UsageError otherwise."""
    for p in rubric.principles:
        if p.id == wanted:
            return p
    low = wanted.lower()
    matches = [p for p in rubric.principles if p.id.lower() == low or p.id.lower().startswith(low + "-")]
    if len(matches) == 1:
        return matches[0]
    known = ", ".join(p.id for p in rubric.principles)
    what = "matches several principles" if matches else "is not a principle of"
    raise UsageError(f"{wanted!r} {what} rubric {rubric.id!r}; known: {known}")


GROUP_EPILOG = """\b
Examples:
  grader rubric test
  grader rubric show P16
  grader rubric list my_rubric.yaml

Every subcommand reads the shipped constitution (rubrics/constitution) unless given a
rubric file or folder."""


@click.group("rubric", epilog=GROUP_EPILOG)
def rubric() -> None:
    """Validate, list, show and test rubrics (default: the shipped constitution)."""


@rubric.command("validate", epilog="\b\nExamples:\n  grader rubric validate\n"
                "  grader rubric validate rubrics/constitution my_rubric.yaml")
@click.argument("paths", nargs=-1, type=click.Path())
def validate(paths: tuple[str, ...]) -> None:
    """Check rubric files or folders (default: the shipped constitution) against the
    schema, the check kinds' parameters and the shape of every example. Prints
    "ok: PATH: N principles" per valid rubric and one error line per invalid one (exit
    status 2)."""
    failed = 0
    for path in paths or (str(DEFAULT_RUBRIC),):
        try:
            r = load_rubric_path(path)
            example_transcripts(r)
        except RubricError as e:
            click.echo(f"error: {e}", err=True)
            failed += 1
            continue
        n = len(r.principles)
        click.echo(f"ok: {path}: {n} principle{'s' if n != 1 else ''}")
    if failed:
        raise SystemExit(2)


def _check_kinds(p: Principle) -> str:
    kinds: list[str] = []
    for c in p.checks:
        if c.kind not in kinds:
            kinds.append(c.kind)
    return ",".join(kinds) or "-"


def list_table(r: Rubric) -> str:
    """The rubric's principles as a fixed-width table."""
    rows = [(p.id, p.severity, _check_kinds(p), "yes" if p.judge else "no", str(len(p.examples)))
            for p in r.principles]
    head = ("id", "severity", "checks", "judge", "examples")
    widths = [max(len(x[i]) for x in rows + [head]) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(head, widths)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    return "\n".join(lines)


@rubric.command("list", epilog="\b\nExamples:\n  grader rubric list\n  grader rubric list my_rubric.yaml")
@click.argument("path", required=False, type=click.Path())
@edge
def list_(path: str | None) -> None:
    """List a rubric's principles: id, severity, check kinds, whether a judge block is
    present, and the number of examples. PATH defaults to the shipped constitution."""
    r = _load(path)
    click.echo(f"{r.id} {r.version}: {r.title} ({len(r.principles)} principles)")
    click.echo(list_table(r))


def _wrap(text: str, indent: str = "  ") -> str:
    return textwrap.fill(" ".join(text.split()), WIDTH, initial_indent=indent, subsequent_indent=indent,
                         break_long_words=False, break_on_hyphens=False)


def _bullets(items: Any, indent: str = "  ") -> list[str]:
    return [textwrap.fill(" ".join(str(i).split()), WIDTH, initial_indent=indent + "- ",
                          subsequent_indent=indent + "  ", break_long_words=False,
                          break_on_hyphens=False) for i in items]


def _source_line(s: Mapping[str, Any]) -> str:
    parts = [str(s.get("title", ""))]
    if s.get("section"):
        parts.append(str(s["section"]))
    text = " → ".join(parts) if len(parts) > 1 else parts[0]
    return f"{text} <{s['url']}>" if s.get("url") else text


def show_principle(p: Principle) -> str:
    """A readable rendering of one principle."""
    out = [f"{p.id}: {p.title}", f"severity: {p.severity}"]
    if p.tags:
        out.append("tags: " + ", ".join(p.tags))
    out += ["statement:", _wrap(p.statement)]
    if p.sources:
        out.append("sources:")
        out += _bullets([_source_line(s) for s in p.sources])
    if p.applies_when:
        out.append("applies when: " + json.dumps(dict(p.applies_when), sort_keys=True))
    out.append("checks:" if p.checks else "checks: none (judge only)")
    for c in p.checks:
        out.append(f"  - {c.id} ({c.kind}) {json.dumps(dict(c.params), sort_keys=True)}")
        if c.description:
            out.append(_wrap(c.description, "      "))
    if p.judge:
        j = p.judge
        out += ["judge:", "  question:", _wrap(j.question, "    ")]
        for label, items in (("counts", j.counts), ("does not count", j.does_not_count),
                             ("violating", j.violating), ("compliant", j.compliant)):
            if items:
                out.append(f"  {label}:")
                out += _bullets(items, "    ")
        for label, text in (("performative", j.performative), ("not applicable", j.not_applicable),
                            ("scale", j.scale)):
            if text:
                out += [f"  {label}:", _wrap(text, "    ")]
    else:
        out.append("judge: none")
    out.append(f"examples ({len(p.examples)}):")
    for e in p.examples:
        line = f"  - {e.id}: expect {e.expect}, decided by {e.decided_by or 'judge'}"
        out.append(line + (f": {e.description}" if e.description else ""))
    return "\n".join(out)


def show_rubric(r: Rubric) -> str:
    out = [f"{r.id} {r.version}: {r.title}"]
    if r.description:
        out.append(_wrap(r.description, ""))
    if r.sources:
        out.append("sources:")
        out += _bullets([_source_line(s) for s in r.sources])
    out += [f"principles ({len(r.principles)}):", list_table(r)]
    return "\n".join(out)


def principle_dict(p: Principle) -> dict[str, Any]:
    d = asdict(p)
    return json.loads(json.dumps(d, default=list))


def rubric_dict(r: Rubric) -> dict[str, Any]:
    return {"id": r.id, "version": r.version, "title": r.title, "description": r.description,
            "sources": [dict(s) for s in r.sources], "path": r.path, "sha256": r.sha256,
            "principles": [principle_dict(p) for p in r.principles]}


def _looks_like_path(arg: str) -> bool:
    return Path(arg).exists() or "/" in arg or os.sep in arg or arg.lower().endswith((".yaml", ".yml", ".json"))


@rubric.command("show", epilog="\b\nExamples:\n  grader rubric show P12\n"
                "  grader rubric show P11-accept-oversight-and-shutdown --json\n"
                "  grader rubric show my_rubric.yaml H01")
@click.argument("args", nargs=-1, metavar="[PATH] [PRINCIPLE_ID]")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@edge
def show(args: tuple[str, ...], as_json: bool) -> None:
    """Show a rubric, or one of its principles (by full id, or by its Pnn prefix). PATH
    defaults to the shipped constitution: "grader rubric show P16" shows its P16."""
    if len(args) > 2:
        raise UsageError(f"rubric show takes at most a rubric path and a principle id, got {len(args)} arguments")
    path: str | None = None
    principle_id: str | None = None
    if len(args) == 2:
        path, principle_id = args
    elif len(args) == 1:
        if _looks_like_path(args[0]):
            path = args[0]
        else:
            principle_id = args[0]
    r = _load(path)
    if principle_id is None:
        click.echo(json.dumps(rubric_dict(r), indent=2, ensure_ascii=False) if as_json else show_rubric(r))
        return
    p = find_principle(r, principle_id)
    click.echo(json.dumps(principle_dict(p), indent=2, ensure_ascii=False) if as_json else show_principle(p))


def test_report(result: RubricTestResult) -> str:
    """The text `grader rubric test` prints."""
    mode = f"judge {result.judge}" if result.judge else "checks only (no judge)"
    rows = result.by_principle()
    total = len(result.results)
    out = [f"rubric {result.rubric_id} {result.rubric_version}: {total} examples, {mode}"]
    head = ("principle", "examples", "agree", "disagree", "not run", "error")
    table: list[tuple[str, ...]] = [
        (s.principle_id, str(s.examples), str(s.agree), str(s.disagree), str(s.not_run), str(s.error))
        for s in rows]
    table.append(("total", str(total), *(str(result.count(k)) for k in ("agree", "disagree", "not_run", "error"))))
    widths = [max(len(x[i]) for x in table + [head]) for i in range(len(head))]

    def fmt(row: tuple[str, ...]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))

    out.append(fmt(head))
    out += [fmt(row) for row in table]
    for r in result.disagreements:
        out.append(f"DISAGREE {r.label} (decided by {r.decided_by}): {r.reason}")
    for r in result.errors:
        out.append(f"ERROR {r.label}: {r.reason}")
    skipped = result.count("not_run")
    if skipped:
        out.append(f"{skipped} example(s) not run (needs a judge): pass --judge openai:MODEL or anthropic:MODEL")
    if not result.disagreements:
        out.append("ok: no example disagrees with its expectation")
    return "\n".join(out)


@rubric.command("test", epilog="\b\nExamples:\n  grader rubric test\n"
                "  grader rubric test rubrics/constitution -p P12 --judge openai:gpt-4.1-mini")
@click.argument("path", required=False, type=click.Path())
@click.option("--judge", "judge_spec", default=None, help="Also run judge-decided examples with this judge (openai:MODEL, anthropic:MODEL, scripted:FILE).")
@click.option("--base-url", default=None, help="OpenAI-compatible server URL for the judge.")
@click.option("--no-cache", is_flag=True, help="Do not read or write the judge cache.")
@click.option("-p", "--principle", "principles", multiple=True, help="Only this principle (full id or Pnn prefix; repeatable).")
@edge
def test(path: str | None, judge_spec: str | None, base_url: str | None, no_cache: bool,
         principles: tuple[str, ...]) -> None:
    """Run the rubric's examples through its checks (and the judge, with --judge) and
    report agreement per principle. PATH defaults to the shipped constitution.

    Examples marked "decided_by: check" must be decided by the checks alone; the others
    need a judge and are reported as not run without one. Exit status: 0 every example run
    agrees, 1 some example disagrees, 2 invalid rubric or usage, 3 the judge failed on some
    example.
    """
    r = _load(path)
    ids = [find_principle(r, p).id for p in principles] or None
    judge: Any = None
    if judge_spec:
        from ..api import JudgeSettings, make_judge

        judge = make_judge(judge_spec, JudgeSettings(base_url=base_url, cache=not no_cache))
    try:
        result = run_examples(r, judge, ids)
    finally:
        if judge is not None:
            import asyncio

            asyncio.run(judge.aclose())
    click.echo(test_report(result))
    raise SystemExit(result.exit_code)



@rubric.command("kinds", epilog="Example: grader rubric kinds --json")
@click.option("--json", "as_json", is_flag=True, help="Print each kind's params JSON schema.")
@edge
def kinds_(as_json: bool) -> None:
    """List the check kinds (built-in and from entry points), their params, and what each
    kind's silence means (decides or screens) with the reason."""
    import json

    from ..checks.registry import kinds

    found = kinds()
    if as_json:
        click.echo(json.dumps({k: {"description": c.description, "basis": c.basis, "basis_reason": c.basis_reason,
                                   "params": c.params_schema}
                               for k, c in sorted(found.items())}, indent=2))
        return
    for name, cls in sorted(found.items()):
        props = cls.params_schema.get("properties", {})
        required = set(cls.params_schema.get("required", ()))
        params = ", ".join(p + ("*" if p in required else "") for p in props) or "(none)"
        click.echo(f"{name}: {cls.description}\n  params: {params}\n  {cls.basis}: {cls.basis_reason}")
    click.echo("(* required; grader rubric kinds --json prints the full schemas; decides: silence means compliant "
               "in its scope; screens: silence proves nothing, the pair stays ungraded (screened); a check's "
               "basis: in the rubric overrides its kind's)")
