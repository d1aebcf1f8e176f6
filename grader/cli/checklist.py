"""``grader checklist``: evaluate a checklist's gates over a run; exit 0 only if all pass."""
from __future__ import annotations

from pathlib import Path

import click

from .common import edge

EPILOG = """\b
Examples:
  grader checklist runs/demo
  grader checklist runs/demo --checklist my-gates.yaml --calibration calibration.json --signoffs signoffs.yaml
  grader checklist runs/demo --format junit -o checklist.xml   # for CI

\b
Exit status: 0 every gate passed; 1 a gate failed, is still open, or is undetermined
(no evidence either way) and the checklist does not set allow_undetermined: true;
2 a file is invalid.
Sign-off file: {signoffs: [{id: GATE_ID, by: NAME, date: YYYY-MM-DD, note: TEXT, run_id: RUN}]}
(run_id optional: the sign-off then counts only for that run).
"""


@click.command("checklist", epilog=EPILOG)
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--checklist", "checklist_path", type=click.Path(dir_okay=False), default=None,
              help="Checklist file (YAML/JSON). Default: the shipped rubrics/checklists/pre-deployment.yaml.")
@click.option("--signoffs", type=click.Path(dir_okay=False), default=None,
              help="Sign-off records (YAML/JSON); a sign-off item without a record stays open.")
@click.option("--calibration", type=click.Path(dir_okay=False), default=None,
              help="Result of 'grader calibrate -o FILE' for min_agreement gates (overrides the checklist's paths).")
@click.option("--format", "fmt", type=click.Choice(["md", "json", "junit"]), default="md", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write the output to FILE (a one-line verdict still goes to stdout).")
@edge
def checklist(run_dir: str, checklist_path: str | None, signoffs: str | None, calibration: str | None,
              fmt: str, output: str | None) -> None:
    """Evaluate a checklist over RUN_DIR: each gate is passed, failed or open, with the figure behind it."""
    from ..review.checklist import evaluate
    from ..review.checklist.render import RENDERERS

    result = evaluate(run_dir, checklist_path, signoffs=signoffs, calibration=calibration)
    text = RENDERERS[fmt](result)
    verdict = (f"checklist {result.checklist_id}: {'PASSED' if result.passed else 'NOT PASSED'} "
               f"({result.counts_text()})")
    if output:
        Path(output).write_text(text, encoding="utf-8")
        click.echo(f"{verdict}; wrote {output}")
    else:
        click.echo(text, nl=False)
        if result.unused_signoffs and fmt != "md":
            click.echo(f"sign-off records matching no item: {', '.join(result.unused_signoffs)}", err=True)
    raise SystemExit(result.exit_code)
