"""``grader compare``: violation rates of two runs side by side, with p-values."""
from __future__ import annotations

import click

from ..reporting.stats import TESTS
from .common import edge
from .report import write_output

FORMATS = ("table", "md", "json", "csv")


@click.command("compare", epilog="Examples:\n\n\b\n  grader compare runs/original runs/finetuned\n"
               "  grader compare runs/no-prompt runs/inoculated --by model --format json -o cmp.json")
@click.argument("run_a", type=click.Path(file_okay=False))
@click.argument("run_b", type=click.Path(file_okay=False))
@click.option("--by", "by", multiple=True, metavar="FIELD",
              help="Compare within groups of a metadata key, 'source' or a finding field (repeatable).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None, help="Write to FILE (default: stdout).")
@click.option("--test", type=click.Choice(TESTS), default="auto", show_default=True,
              help="Fisher's exact, two-proportion z, or auto (Fisher unless n is large).")
@click.option("--confidence", type=click.FloatRange(0.5, 0.999), default=0.95, show_default=True)
@edge
def compare(run_a: str, run_b: str, by: tuple[str, ...], fmt: str, output: str | None, test: str,
            confidence: float) -> None:
    """Compare violation rates of RUN_A and RUN_B per principle: both rates with Wilson
    intervals, the difference B - A with Newcombe's interval, a two-sided p-value and the
    Holm-adjusted p-value across principles (and groups).
    """
    from ..reporting.compare import compare_runs
    from ..reporting.render import render_comparison

    cmp = compare_runs(run_a, run_b, by, test, confidence)
    text = render_comparison(cmp, fmt)
    write_output(text, output)
