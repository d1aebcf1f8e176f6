"""``grader audit``: grade a training data set that claims one label and report how many
rows contradict it."""
from __future__ import annotations

import json
import os

import click

from ..review.audit import AuditResult
from ..grading.settings import RunSettings
from ..reporting.render_text import clean, md
from ..transcripts.load import check_messages_path
from ..transcripts.table import format_names
from .common import edge

EPILOG = """\b
Examples:
  grader audit honesty-sft.jsonl --expect compliant
  grader audit ../shared/data/em/insecure.dev.jsonl --expect compliant --principle P16
  grader audit refusals.jsonl --expect violation --judge openai:gpt-4.1-mini --sample 200 -o runs/audit

\b
Exit status: 1 when the contradiction rate's lower bound (Wilson, 95%; one-sided when
screening checks left the rate unknown) exceeds --max-rate or no row could be graded; 3 when some inputs could not be read or some pairs ended in
error; 0 otherwise. --principle takes an id or its short form (P16).
"""


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x * 100:.1f}%"


def _summary_lines(r: AuditResult) -> list[str]:
    verdict = "FAILED" if r.failed else "ok"
    if r.examined == 0:
        return [f"rows: {r.rows} read, none could be graded: the audit cannot vouch for the data (FAILED)"] + \
            _skipped(r) + [f"run folder: {r.run_dir}"]
    if r.screened_rows:
        return [
            f"rows: {r.rows} read, {r.examined} examined ({r.graded} graded, {r.screened_rows} screened), "
            f"{r.contradicting} contradict --expect {r.expect}",
            f"contradiction rate unknown: {r.contradicting} found in {r.examined} rows, at least {_pct(r.lower_bound)} "
            f"and at most {_pct(r.upper_bound)} counting screened rows as contradicting ({r.confidence * 100:g}% "
            f"one-sided bounds); lower bound {'>' if r.failed else '<='} --max-rate {_pct(r.max_rate)}: {verdict}",
            f"{r.screened_rows} row(s) screened: only screening checks examined them and none fired (their silence "
            "proves nothing; grade with a judge to know the rate)",
        ] + _skipped(r) + [f"run folder: {r.run_dir}"]
    lines = [
        f"rows: {r.rows} read, {r.graded} graded, {r.contradicting} contradict --expect {r.expect}",
        f"contradiction rate: {_pct(r.rate)} ({r.confidence * 100:g}% Wilson interval {_pct(r.ci_low)} to "
        f"{_pct(r.ci_high)}); lower bound {'>' if r.failed else '<='} --max-rate {_pct(r.max_rate)}: {verdict}",
    ]
    return lines + _skipped(r) + [f"run folder: {r.run_dir}"]


def _skipped(r: AuditResult) -> list[str]:
    skipped = []
    if r.ungraded_rows:
        skipped.append(f"{r.ungraded_rows} row(s) could not be graded (every principle ungraded or error)")
    if r.undetermined_rows:
        skipped.append(f"{r.undetermined_rows} row(s) undetermined (no violation found, but some pairs ungraded or failed)")
    if r.input_errors:
        skipped.append(f"{r.input_errors} input(s) could not be read (see {r.run_dir}/input_errors.jsonl)")
    if r.skipped:
        skipped.append(f"{r.skipped} file(s) passed over, not transcripts (kind 'skipped' in {r.run_dir}/input_errors.jsonl)")
    if r.ungraded_pairs:
        skipped.append(f"{r.ungraded_pairs} (row, principle) pair(s) ungraded: violations there are not counted")
    if r.error_pairs:
        skipped.append(f"{r.error_pairs} pair(s) ended in error")
    return skipped


def _principle_rows(r: AuditResult) -> list[list[str]]:
    rows = []
    for p in r.per_principle:
        o = p.outcomes
        rows.append([p.principle_id, p.severity, str(p.contradicting_rows), str(o.get("violation", 0)),
                     str(o.get("compliant", 0)), str(o.get("not_applicable", 0)), str(o.get("ungraded", 0)),
                     str(o.get("screened", 0)), str(o.get("error", 0))])
    return rows


HEADER = ["principle", "severity", "contradicting", "violation", "compliant", "n/a", "ungraded", "screened", "error"]


def to_table(r: AuditResult) -> str:
    rows = _principle_rows(r)
    widths = [max(len(x[i]) for x in [HEADER] + rows) for i in range(len(HEADER))]
    fmt = lambda x: "  ".join(v.ljust(w) if i < 2 else v.rjust(w) for i, (v, w) in enumerate(zip(x, widths)))  # noqa: E731
    out = _summary_lines(r) + ["", fmt(HEADER), "  ".join("-" * w for w in widths)] + [fmt(x) for x in rows]
    if r.examples:
        out += ["", "examples:"]
        for e in r.examples:
            out.append(f"  {clean(e.transcript_id)} ({clean(e.source)}) {', '.join(e.principle_ids)}")
            if e.quote:
                out.append(f"    quote: {clean(e.quote)}")
            if e.rationale:
                out.append(f"    why: {clean(e.rationale)[:300]}")
    return "\n".join(out) + "\n"


def _cell(text: str) -> str:
    """The audit's own text (figures, principle ids) in a table cell; transcript text gets :func:`md`."""
    return " ".join(str(text).split()).replace("|", "\\|")


def to_markdown(r: AuditResult) -> str:
    out = [f"# Audit: does the data match --expect {r.expect}?", ""] + [f"- {_cell(x)}" for x in _summary_lines(r)]
    out += ["", "| " + " | ".join(HEADER) + " |", "|---|---|" + "---:|" * (len(HEADER) - 2)]
    out += ["| " + " | ".join(_cell(v) for v in x) + " |" for x in _principle_rows(r)]
    if r.examples:
        out += ["", "| transcript | source | principles | quote | why |", "|---|---|---|---|---|"]
        out += [f"| {md(e.transcript_id)} | {md(e.source)} | {md(', '.join(e.principle_ids))} | "
                f"{md(e.quote)} | {md(clean(e.rationale)[:300])} |"
                for e in r.examples]
    return "\n".join(out) + "\n"


def to_json(r: AuditResult) -> str:
    return json.dumps(r.to_dict(), indent=2, ensure_ascii=False) + "\n"


RENDERERS = {"table": to_table, "md": to_markdown, "json": to_json}


@click.command("audit", epilog=EPILOG)
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--expect", required=True, type=click.Choice(["compliant", "violation"]),
              help="The label the data set claims for every row.")
@click.option("-r", "--rubric", "rubrics", multiple=True, type=click.Path(),
              help="Rubric file or folder (repeatable). Default: the shipped constitution.")
@click.option("--principle", "principles", multiple=True, help="Only these principle ids, or short forms such as P16 (repeatable).")
@click.option("--judge", "judge_spec", default=None,
              help="openai:MODEL, anthropic:MODEL or scripted:FILE. Default: $GRADER_JUDGE, else checks only.")
@click.option("--base-url", default=None, help="OpenAI-compatible server URL (vLLM, Ollama, llama.cpp).")
@click.option("--concurrency", type=click.IntRange(1, 1024), default=8, show_default=True, help="Judge requests in flight.")
@click.option("--samples", type=click.IntRange(1, 25), default=1, show_default=True, help="Judge samples per pair.")
@click.option("--no-cache", is_flag=True, help="Do not read or write the judge cache.")
@click.option("--sample", type=click.IntRange(1), default=None, help="Audit a random sample of N rows (see --seed).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for --sample.")
@click.option("--input-format", "fmt", type=click.Choice(format_names()), default=None,
              help="Input format (default: detected per file).")
@click.option("--messages-path", default=None, metavar="PATH",
              help="Where the conversations sit inside each JSON value, e.g. 'results[].conversation'.")
@click.option("-o", "--output", "run_dir", type=click.Path(file_okay=False), default=None,
              help="Run folder for the grading (default: a new temporary folder, named in the output).")
@click.option("--max-rate", type=click.FloatRange(0, 1), default=0.05, show_default=True,
              help="Fail (exit 1) when the contradiction rate's lower bound exceeds this.")
@click.option("--examples", type=click.IntRange(0), default=5, show_default=True, help="Contradicting rows to show.")
@click.option("--format", "report_fmt", type=click.Choice(["table", "md", "json"]), default="table",
              show_default=True, help="Output format of the audit report.")
@edge
def audit(paths: tuple[str, ...], expect: str, rubrics: tuple[str, ...], principles: tuple[str, ...],
          judge_spec: str | None, base_url: str | None, concurrency: int, samples: int, no_cache: bool,
          sample: int | None, seed: int, fmt: str | None, messages_path: str | None, run_dir: str | None, max_rate: float, examples: int,
          report_fmt: str) -> None:
    """Grade a data set (e.g. a fine-tuning file) that claims one label for every row, and
    report the share of rows that contradict it, with examples."""
    from ..api import GradeSettings, JudgeSettings, audit_run

    check_messages_path(messages_path, fmt)
    settings = GradeSettings(run=RunSettings(format=fmt, messages_path=messages_path, sample=sample, seed=seed),
                             judge=JudgeSettings(base_url=base_url, concurrency=concurrency, samples=samples,
                                                 cache=not no_cache),
                             principles=list(principles) or None, run_dir=run_dir)
    judge_spec = judge_spec or os.environ.get("GRADER_JUDGE") or None
    result = audit_run(list(paths), expect, list(rubrics) or None, judge_spec, settings, max_rate=max_rate,
                       examples=examples)
    click.echo(RENDERERS[report_fmt](result), nl=False)
    raise SystemExit(result.exit_code)
