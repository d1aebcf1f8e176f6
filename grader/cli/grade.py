"""``grader grade``: grade transcripts into a run folder and print a summary."""
from __future__ import annotations

import datetime as _dt
import os
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from ..engine import Engine, GradeOptions, RunSummary, parse_tags
from ..errors import UsageError
from ..outcomes import NO_JUDGE_HINT
from ..rubric import SEVERITIES, load_rubrics
from ..shards import parse_shard
from .common import edge, stderr_is_tty

FORMATS = ("openai", "anthropic", "inspect", "text")


def _progress(quiet: bool):  # type: ignore[no-untyped-def]
    if quiet or not stderr_is_tty():
        return None, None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    prog = Progress(SpinnerColumn(), TextColumn("grading"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("transcripts"), TimeElapsedColumn(), console=Console(stderr=True), transient=True)
    task = prog.add_task("grade", total=None)
    return prog, lambda n: prog.update(task, completed=n)


def summary_table(summary: RunSummary, severities: dict[str, str]) -> Table:
    table = Table(title=f"run {summary.run_id}: {summary.transcripts} transcripts", show_lines=False)
    for col in ("principle", "severity", "violation", "compliant", "n/a", "ungraded", "error"):
        table.add_column(col, justify="left" if col in ("principle", "severity") else "right", no_wrap=True)
    order = {s: i for i, s in enumerate(SEVERITIES)}
    for pid, c in sorted(summary.by_principle.items(), key=lambda kv: (order.get(severities.get(kv[0], "low"), 9), kv[0])):
        table.add_row(pid, severities.get(pid, "?"), str(c.get("violation", 0)), str(c.get("compliant", 0)),
                      str(c.get("not_applicable", 0)), str(c.get("ungraded", 0)), str(c.get("error", 0)))
    return table


@click.command("grade", epilog="Examples:\n\n  grader grade transcripts/ -o runs/demo\n\n"
               "  grader grade data.jsonl --judge openai:gpt-4.1-mini --concurrency 16 --tag condition=baseline\n\n"
               "  grader grade runs.jsonl -o runs/big --resume\n\n"
               "  grader grade data.jsonl -o runs/job/shard-2 --shard 2/8   (then: grader merge runs/job/shard-* -o runs/job/all)")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("-r", "--rubric", "rubrics", multiple=True, type=click.Path(), help="Rubric file or folder (repeatable). Default: the shipped constitution.")
@click.option("--judge", "judge_spec", default=None, help="openai:MODEL, anthropic:MODEL or scripted:FILE. Default: $GRADER_JUDGE, else no judge (offline).")
@click.option("--base-url", default=None, help="OpenAI-compatible server URL (vLLM, Ollama, llama.cpp).")
@click.option("-o", "--output", "run_dir", type=click.Path(file_okay=False), default=None, help="Run folder (default: runs/<timestamp>).")
@click.option("--judge-mode", type=click.Choice(["per-principle", "batched"]), default="per-principle", show_default=True)
@click.option("--concurrency", type=click.IntRange(1, 1024), default=8, show_default=True, help="Judge requests in flight.")
@click.option("--samples", type=click.IntRange(1, 25), default=1, show_default=True, help="Judge samples per pair (strict majority).")
@click.option("--temperature", type=click.FloatRange(0, 2), default=None, help="Judge temperature (default 0, or 1 with --samples > 1).")
@click.option("--no-cache", is_flag=True, help="Do not read or write the judge cache.")
@click.option("--resume", is_flag=True, help="Continue an interrupted run in -o RUN_DIR; finished pairs are skipped.")
@click.option("--limit", type=click.IntRange(0), default=None, help="Grade only the first N transcripts.")
@click.option("--sample", type=click.IntRange(1), default=None, help="Grade a random sample of N transcripts (see --seed).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for --sample.")
@click.option("--tag", "tags", multiple=True, help="key=value added to every transcript's metadata (repeatable).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None, help="Input format (default: detected per file).")
@click.option("--workers", type=click.IntRange(1, 64), default=None, help="Processes for the checks (default: up to 2).")
@click.option("--shard", default=None, metavar="I/N", help="Grade only shard I of N (a stable split by transcript id); join the shards with `grader merge`.")
@click.option("--fail-on", type=click.Choice(SEVERITIES), default=None, help="Exit 1 if a violation of this severity or worse is found.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary table.")
@edge
def grade(paths: tuple[str, ...], rubrics: tuple[str, ...], judge_spec: str | None, base_url: str | None,
          run_dir: str | None, judge_mode: str, concurrency: int, samples: int, temperature: float | None,
          no_cache: bool, resume: bool, limit: int | None, sample: int | None, seed: int,
          tags: tuple[str, ...], fmt: str | None, workers: int | None, shard: str | None, fail_on: str | None,
          quiet: bool) -> None:
    """Grade transcripts (files or folders) against a rubric into a run folder.

    Every (transcript, principle) pair gets one outcome: violation, compliant,
    not_applicable, ungraded or error. Findings are appended to RUN_DIR/results.jsonl
    as they are produced.
    """
    if resume and not run_dir:
        raise UsageError("--resume needs -o RUN_DIR (the run to continue)")
    loaded = load_rubrics(list(rubrics))
    options = GradeOptions(format=fmt, limit=limit, sample=sample, seed=seed, tags=parse_tags(tags),
                           workers=workers, resume=resume, shard=parse_shard(shard))
    judge_spec = judge_spec or os.environ.get("GRADER_JUDGE") or None
    judge: Any = None
    if judge_spec:
        from ..judges.factory import make_judge

        judge = make_judge(judge_spec, base_url=base_url, mode=judge_mode, concurrency=concurrency,
                           samples=samples, temperature=temperature, cache=not no_cache)
    if run_dir is None:
        run_dir = str(Path("runs") / _dt.datetime.now().strftime("run-%Y%m%d-%H%M%S"))
    prog, callback = _progress(quiet)
    engine = Engine(loaded, judge, options, progress=callback)
    try:
        if prog is not None:
            with prog:
                summary = engine.run(list(paths), run_dir)
        else:
            summary = engine.run(list(paths), run_dir)
    finally:
        if judge is not None:
            import asyncio

            asyncio.run(judge.aclose())
    severities = {p.id: p.severity for r in loaded for p in r.principles}
    if not quiet:
        longest = max((len(pid) for pid in summary.by_principle), default=10)
        console = Console(width=max(longest + 70, Console().width))
        console.print(summary_table(summary, severities))
        ungraded_hint = [pid for pid, c in summary.by_principle.items() if c.get("ungraded")]
        if ungraded_hint and judge is None:
            click.echo(f"{len(ungraded_hint)} principle(s) ungraded: {NO_JUDGE_HINT}")
        if summary.usage.get("requests"):
            u = summary.usage
            cost = ("cost unknown (model not in the price table)" if u.get("unpriced_requests")
                    else f"~${(u.get('cost_usd') or 0):.4f}")
            click.echo(f"judge: {u.get('requests', 0)} requests, {u.get('input_tokens', 0)} input tokens "
                       f"({u.get('cached_tokens', 0)} cached), {u.get('output_tokens', 0)} output tokens, {cost}")
        if summary.flags.get("unverified_evidence"):
            click.echo(f"{summary.flags['unverified_evidence']} violation(s) with unverified evidence (flagged for review)")
    click.echo(f"run folder: {summary.run_dir}")
    if summary.input_errors:
        click.echo(f"skipped {summary.input_errors} input(s) that could not be read: see "
                   f"{Path(summary.run_dir) / 'input_errors.jsonl'}")
    if summary.errors:
        click.echo(f"{summary.errors} pair(s) ended in error: see outcome 'error' in {Path(summary.run_dir) / 'results.jsonl'}")
    if fail_on is not None:
        worst = SEVERITIES[: SEVERITIES.index(fail_on) + 1]
        bad = [pid for pid, c in summary.by_principle.items() if c.get("violation") and severities.get(pid) in worst]
        if bad:
            click.echo(f"--fail-on {fail_on}: violations of {', '.join(sorted(bad))}")
            raise SystemExit(1)
    raise SystemExit(summary.exit_code)
