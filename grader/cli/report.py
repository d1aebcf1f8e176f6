"""``grader report``: turn a run folder into tables, Markdown, CSV, JSON or a self-contained HTML page."""
from __future__ import annotations

import os
from pathlib import Path

import click

from ..errors import UsageError
from ..reporting.stats import TESTS
from .common import edge

FORMATS = ("table", "md", "csv", "json", "html")
CSV_TABLES = ("principles", "comparison", "violations")


def write_output(text: str, output: str | None) -> None:
    """Write to ``output`` (atomically) and say so on stderr, or print to stdout."""
    if output is None:
        click.echo(text, nl=False)
        return
    path = Path(output)
    if path.parent and not path.parent.exists():
        raise UsageError(f"-o {output}: folder {path.parent} does not exist")
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    click.echo(f"report written to {path}", err=True)


def parse_groups(value: str | None) -> tuple[str, str] | None:
    if value is None:
        return None
    parts = [p.strip() for p in value.split(",")]
    if len(parts) != 2 or not all(parts):
        raise UsageError(f"--compare {value!r}: expected two values separated by a comma, e.g. --compare base,finetuned")
    return parts[0], parts[1]


@click.command("report", epilog="Examples:\n\n\b\n  grader report runs/demo\n"
               "  grader report runs/demo --by model --format md -o report.md\n"
               "  grader report runs/demo --by condition --format json   # two conditions: adds p-values\n"
               "  grader report runs/demo --format html -o report.html")
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write to FILE (default: stdout; for html: RUN_DIR/report.html).")
@click.option("--by", "by", multiple=True, metavar="FIELD",
              help="Group by a metadata key (model, condition, ...), 'source' or a finding field (repeatable). "
                   "When the last one has two values, they are compared.")
@click.option("--compare", "compare_groups", default=None, metavar="A,B",
              help="Compare these two values of the last --by field (when it has more than two).")
@click.option("--test", type=click.Choice(TESTS), default="auto", show_default=True,
              help="Comparison test: Fisher's exact, two-proportion z, or auto (Fisher unless n is large).")
@click.option("--confidence", type=click.FloatRange(0.5, 0.999), default=0.95, show_default=True,
              help="Confidence level of the Wilson intervals.")
@click.option("--table", "csv_table", type=click.Choice(CSV_TABLES), default="principles", show_default=True,
              help="With --format csv: which table to write.")
@edge
def report(run_dir: str, fmt: str, output: str | None, by: tuple[str, ...], compare_groups: str | None,
           test: str, confidence: float, csv_table: str) -> None:
    """Summarise a run: per principle (and per --by group) the transcripts graded, violations,
    not applicable, ungraded, errors, unverified-evidence violations and the violation rate
    with its Wilson interval; then every violation with its evidence and rationale.

    n is the number of transcripts graded (violation + compliant). With zero violations the
    interval still has an upper bound: 0 of n is not 0% risk.
    """
    from ..reporting.build import build_report
    from ..reporting.render import render_report

    groups = parse_groups(compare_groups)
    rep = build_report(run_dir, by, confidence=confidence, method=test, with_transcripts=fmt == "html",
                       compare_groups=groups)
    text = render_report(rep, fmt, csv_table)
    if fmt == "html":
        if output is None:
            output = str(Path(run_dir) / "report.html")
        if rep.transcripts_note:
            click.echo(f"note: {rep.transcripts_note}", err=True)
    write_output(text, output)
