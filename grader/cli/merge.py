"""``grader merge``: join the shards of one job (``grader grade --shard I/N``) into one run folder."""
from __future__ import annotations

import click

from .common import edge


@click.command("merge", epilog="Example:\n\n\b\n  grader grade data.jsonl --shard 1/3 -o runs/job/shard-1   # then 2/3 and 3/3\n"
               "  grader merge runs/job/shard-* -o runs/job/all && grader report runs/job/all")
@click.argument("runs", nargs=-1, required=True, type=click.Path(file_okay=False))
@click.option("-o", "--output", "out", required=True, type=click.Path(file_okay=False),
              help="The merged run folder (must not hold a run).")
@edge
def merge(runs: tuple[str, ...], out: str) -> None:
    """Merge the run folders of a sharded job into one run folder.

    The RUNS must be every shard 1..N of one job, each once and finished, graded from the
    same input files with the same rubrics, options and judge settings; otherwise nothing
    is written and a one-line error names the folder and the difference. Counts, tokens
    and cost in run.json are the shards' sums.
    """
    from ..grading.merge import merge_runs

    s = merge_runs(list(runs), out)
    c = s.counts
    outcomes = ", ".join(f"{k} {v}" for k, v in sorted(c.get("outcomes", {}).items()))
    click.echo(f"merged {s.shards} shards: {c.get('transcripts', 0)} transcripts, {c.get('pairs', 0)} pairs "
               f"({outcomes or 'none'}), {c.get('input_errors', 0)} input error(s)")
    if s.usage.get("requests"):
        click.echo(f"judge: {s.usage.get('requests', 0)} requests, {s.usage.get('input_tokens', 0)} input tokens, "
                   f"{s.usage.get('output_tokens', 0)} output tokens, ~${(s.usage.get('cost_usd') or 0):.4f}")
    click.echo(f"run folder: {s.run_dir}")
