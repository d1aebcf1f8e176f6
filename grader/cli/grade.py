"""``grader grade``: grade transcripts into a run folder and print a summary."""
from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any, Mapping

import click
from rich.console import Console
from rich.table import Table

from ..api import JudgeSettings, RunSettings, RunSummary, grade_into, make_judge
from ..errors import JudgeConfigError, RunInterrupted, UsageError
from ..grading.outcomes import NO_JUDGE_HINT
from ..run.folder import OUTCOMES
from ..grading.problems import ReasonTally
from ..run.manifest import new_run_id
from ..rubric import SEVERITIES, load_rubrics
from ..grading.runstop import run_stoppable
from ..grading.settings import parse_tags
from ..grading.shards import parse_shard
from ..transcripts.load import check_messages_path
from ..transcripts.table import format_names
from .common import edge, plural, stderr_is_tty

FORMATS = format_names()


def _progress(quiet: bool, judge: Any = None):  # type: ignore[no-untyped-def]
    if quiet or not stderr_is_tty():
        return None, None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    prog = Progress(SpinnerColumn(), TextColumn("grading"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("transcripts"), TimeElapsedColumn(), TextColumn("{task.fields[retries]}"),
                    console=Console(stderr=True), transient=True)
    task = prog.add_task("grade", total=None, retries="")

    def update(n: int) -> None:
        prog.update(task, completed=n, retries=_retries(judge.usage()).lstrip("; ") if judge is not None else "")

    return prog, update


def _retries(u: Any) -> str:
    """``; 12 retries (34.5 s waited)`` when the judge retried (a fault-free run says nothing)."""
    if not u.get("retries") and not u.get("retries_refused"):
        return ""
    refused = f", {u['retries_refused']} refused: the run's retry budget is spent" if u.get("retries_refused") else ""
    return f"; {u['retries']} retries ({float(u.get('retry_wait_s') or 0):.1f} s waited{refused})"


SHOWN_KINDS = 3  # reasons shown per summary line group


def _reasons(tally: ReasonTally, noun: str) -> None:
    """The first few failure reasons, grouped by kind, largest first."""
    for g in tally.top(SHOWN_KINDS):
        first = f" (first: {g.where})" if g.where else ""
        click.echo(f"  {plural(g.count, noun)}: {g.reason}{first}")
    if tally.kinds > SHOWN_KINDS:
        click.echo(f"  ... and {plural(tally.kinds - SHOWN_KINDS, 'other kind')}")


def _make_judge(spec: str, from_env: bool, settings: JudgeSettings) -> Any:
    """make_judge; an error caused by $GRADER_JUDGE names the variable, not --judge."""
    try:
        return make_judge(spec, settings)
    except JudgeConfigError as e:
        msg = str(e)
        if not from_env or "$GRADER_JUDGE_" in msg:
            raise
        if f"--judge {spec}" in msg:
            msg = msg.replace(f"--judge {spec}", f"GRADER_JUDGE={spec}")
        else:
            msg = f"GRADER_JUDGE={spec}: {msg}"
        raise JudgeConfigError(msg) from None


def summary_table(summary: RunSummary, severities: dict[str, str]) -> Table:
    table = Table(title=f"run {summary.run_id}: {plural(summary.transcripts, 'transcript')}", show_lines=False)
    for col in ("principle", "severity", "violation", "compliant", "n/a", "ungraded", "screened", "error"):
        table.add_column(col, justify="left" if col in ("principle", "severity") else "right", no_wrap=True)
    order = {s: i for i, s in enumerate(SEVERITIES)}
    for pid, c in sorted(summary.by_principle.items(), key=lambda kv: (order.get(severities.get(kv[0], "low"), 9), kv[0])):
        table.add_row(pid, severities.get(pid, "?"), str(c.get("violation", 0)), str(c.get("compliant", 0)),
                      str(c.get("not_applicable", 0)), str(c.get("ungraded", 0)), str(c.get("screened", 0)),
                      str(c.get("error", 0)))
    return table


def ungraded_line(by_principle: Mapping[str, Mapping[str, int]]) -> str | None:
    """``12 principles entirely ungraded (every pair) and 6 partly ungraded (some pairs)``:
    the two counts kept apart, since the table's ungraded column mixes them."""
    full = part = 0
    for c in by_principle.values():
        if c.get("ungraded"):
            if c["ungraded"] == sum(c.get(o, 0) for o in OUTCOMES):  # (the counts also hold flags)
                full += 1
            else:
                part += 1
    if not full + part:
        return None
    word = lambda k: "principle" if k == 1 else "principles"  # noqa: E731
    pieces = ([f"{full} {word(full)} entirely ungraded (every pair)"] if full else []) + \
        ([f"{part} {'' if full else word(part) + ' '}partly ungraded (some pairs)"] if part else [])
    return " and ".join(pieces)


@click.command("grade", epilog="\b\nExamples:\n  grader grade transcripts/ -o runs/demo\n"
               "  grader grade data.jsonl --judge openai:gpt-4.1-mini --concurrency 16 --tag condition=baseline\n"
               "  grader grade runs.jsonl -o runs/big --resume\n"
               "  grader grade data.jsonl -o runs/job/shard-2 --shard 2/8   (then: grader merge runs/job/shard-* -o runs/job/all)")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("-r", "--rubric", "rubrics", multiple=True, type=click.Path(), help="Rubric file or folder (repeatable). Default: the shipped constitution.")
@click.option("--judge", "judge_spec", default=None, help="openai:MODEL, anthropic:MODEL or scripted:FILE. Default: $GRADER_JUDGE, else no judge (offline).")
@click.option("--base-url", default=None, help="OpenAI-compatible server URL (vLLM, Ollama, llama.cpp).")
@click.option("-o", "--output", "run_dir", type=click.Path(file_okay=False), default=None, help="Run folder (default: runs/<run id>).")
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
@click.option("--messages-path", default=None, metavar="PATH",
              help="Where the conversations sit inside each JSON value, e.g. 'results[].conversation'.")
@click.option("--workers", type=click.IntRange(1, 64), default=None, help="Processes for the checks (default: up to 2).")
@click.option("--shard", default=None, metavar="I/N", help="Grade only shard I of N (a stable split by transcript id); join the shards with grader merge.")
@click.option("--fail-on", type=click.Choice(SEVERITIES), default=None, help="Exit 1 if a violation of this severity or worse is found.")
@click.option("--batch", is_flag=True, help="Send the judge's requests through the provider's batch API (half price, results within 24 h).")
@click.option("--no-wait", is_flag=True, help="With --batch: submit and exit; the same command with --resume collects later.")
@click.option("--batch-poll", type=click.FloatRange(0), default=30.0, show_default=True, help="With --batch: seconds between polls.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary table.")
@edge
def grade(paths: tuple[str, ...], rubrics: tuple[str, ...], judge_spec: str | None, base_url: str | None,
          run_dir: str | None, judge_mode: str, concurrency: int, samples: int, temperature: float | None,
          no_cache: bool, resume: bool, limit: int | None, sample: int | None, seed: int,
          tags: tuple[str, ...], fmt: str | None, messages_path: str | None, workers: int | None,
          shard: str | None, fail_on: str | None, batch: bool, no_wait: bool, batch_poll: float,
          quiet: bool) -> None:
    """Grade transcripts (files or folders) against a rubric into a run folder.

    Every (transcript, principle) pair gets one outcome: violation, compliant,
    not_applicable, ungraded or error. Findings are appended to RUN_DIR/results.jsonl
    as they are produced.
    """
    if resume and not run_dir:
        raise UsageError("--resume needs -o RUN_DIR (the run to continue)")
    if no_wait and not batch:
        raise UsageError("--no-wait needs --batch")
    if resume and not batch and run_dir:
        from ..judges.batch_store import BatchLog

        still_open = len(BatchLog(run_dir).open_batches())
        if still_open:
            raise UsageError(f"{run_dir}: {still_open} batch(es) of this run are still open: resume it with --batch")
    check_messages_path(messages_path, fmt)
    loaded = load_rubrics(list(rubrics))
    options = RunSettings(format=fmt, messages_path=messages_path, limit=limit, sample=sample, seed=seed, tags=parse_tags(tags),
                           workers=workers, resume=resume, shard=parse_shard(shard))
    from_env = not judge_spec and bool(os.environ.get("GRADER_JUDGE"))
    judge_spec = judge_spec or os.environ.get("GRADER_JUDGE") or None
    judge: Any = None
    if judge_spec:
        judge = _make_judge(judge_spec, from_env, JudgeSettings(base_url=base_url, mode=judge_mode,
                                                                concurrency=concurrency, samples=samples,
                                                                temperature=temperature, cache=not no_cache))
    elif batch:
        raise UsageError("--batch needs --judge openai:MODEL or anthropic:MODEL")
    run_id = None
    if run_dir is None:  # the folder is named by the run id
        run_id = new_run_id()
        run_dir = str(Path("runs") / run_id)
    if batch:
        from ..judges.batching import make_batch_judge

        judge = make_batch_judge(judge, run_dir, poll_seconds=batch_poll,
                                 on_status=None if quiet else lambda line: click.echo(line, err=True))
    prog, callback = _progress(quiet, judge)
    try:
        with prog if prog is not None else contextlib.nullcontext():
            # SIGINT/SIGTERM stop the run cleanly and raise RunInterrupted (grader.grading.runstop)
            summary = run_stoppable(grade_into(list(paths), loaded, judge, options, run_dir, progress=callback,
                                               run_id=run_id, wait=not no_wait))
    except RunInterrupted as e:  # findings so far are flushed and run.json says "interrupted"
        click.echo(f"{e}: run stopped; the findings so far are in {run_dir}; continue with "
                   f"the same command and --resume -o {run_dir}", err=True)
        raise SystemExit(e.exit_code) from None
    finally:
        if judge is not None:
            import asyncio

            asyncio.run(judge.aclose())
    severities = {p.id: p.severity for r in loaded for p in r.principles}
    if not quiet:
        longest = max((len(pid) for pid in summary.by_principle), default=10)
        console = Console(width=max(longest + 82, Console().width))
        console.print(summary_table(summary, severities))
        if judge is None and (line := ungraded_line(summary.by_principle)):
            click.echo(f"{line}: {NO_JUDGE_HINT}")
        if summary.usage.get("requests"):
            u = summary.usage
            cost = ("cost unknown (model not in the price table)" if u.get("unpriced_requests")
                    else f"~${(u.get('cost_usd') or 0):.4f}" + (" at batch prices" if batch else ""))
            requests = plural(u.get("requests", 0), ("batched " if batch else "") + "request")
            click.echo(f"judge: {requests}, "
                       f"{u.get('input_tokens', 0)} input tokens ({u.get('cached_tokens', 0)} cached), "
                       f"{u.get('output_tokens', 0)} output tokens, {cost}{_retries(u)}")
        screened = [pid for pid, c in summary.by_principle.items() if c.get("screened")]
        if screened:
            click.echo(f"{len(screened)} principle(s) screened: their checks can find violations but their silence "
                       "proves nothing, so those pairs are ungraded, not compliant (grader report gives "
                       "'k found in N' with a lower bound)")
        if summary.flags.get("unverified_evidence"):
            click.echo(f"{plural(summary.flags['unverified_evidence'], 'violation')} with unverified evidence "
                       "(flagged for review)")
    click.echo(f"run folder: {summary.run_dir}")
    if summary.pending:
        click.echo(f"{summary.pending} transcript(s) wait for batch answers; collect them with the same command "
                   f"and --resume -o {summary.run_dir}")
    if summary.input_errors:
        click.echo(f"skipped {plural(summary.input_errors, 'input')} that could not be read "
                   f"(all in {Path(summary.run_dir) / 'input_errors.jsonl'}):")
        _reasons(summary.input_error_reasons, "input")
    if summary.skipped:
        what = "a file that is not a transcript" if summary.skipped == 1 else \
            f"{summary.skipped} files that are not transcripts"
        click.echo(f"passed over {what} (unknown extension, Markdown notes): listed as kind 'skipped' in "
                   f"{Path(summary.run_dir) / 'input_errors.jsonl'}")
    if summary.errors:
        click.echo(f"{plural(summary.errors, 'pair')} ended in error "
                   f"(outcome 'error' in {Path(summary.run_dir) / 'results.jsonl'}):")
        _reasons(summary.error_reasons, "pair")
    if fail_on is not None:
        worst = SEVERITIES[: SEVERITIES.index(fail_on) + 1]
        bad = [pid for pid, c in summary.by_principle.items() if c.get("violation") and severities.get(pid) in worst]
        if bad:
            click.echo(f"--fail-on {fail_on}: violations of {', '.join(sorted(bad))}")
            raise SystemExit(1)
    raise SystemExit(summary.exit_code)
