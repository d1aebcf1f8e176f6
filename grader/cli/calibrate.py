"""``grader calibrate``: agreement between a run and human labels."""
from __future__ import annotations

import json
import math
from pathlib import Path

import click

from ..reporting.render_text import clean, md
from ..review.calibration import METRICS, CalibrationResult
from .common import edge

EPILOG = """\b
Examples:
  grader calibrate runs/demo --labels transcripts/labels.csv
  grader calibrate runs/demo --labels labels.jsonl --bootstrap 2000 --seed 1 -o calibration.json
  grader checklist runs/demo --calibration calibration.json

\b
Labels: CSV or JSONL with transcript_id, principle_id (* = any principle) and label
(violation or compliant). Positive = violation; the human label is the reference.
Intervals: Wilson for precision, recall, accuracy and F1 (via the Jaccard index), widened
by the bootstrap over transcripts where that is wider; kappa: the bootstrap's, and "not
estimable" with fewer than 10 labels or human labels of one class only.
"""
HEAD = {"precision": "precision", "recall": "recall", "f1": "F1", "accuracy": "accuracy", "kappa": "kappa"}


def _num(x: float | None) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3f}"


def _with_ci(d: dict, m: str) -> str:
    lo, hi = d[f"{m}_ci"]
    if d[m] is None:
        return "not estimable" if f"{m}_note" in d else "-"
    if lo is None:
        return _num(d[m])
    return f"{_num(d[m])} [{_num(lo)}, {_num(hi)}]"


def _rows(result: CalibrationResult) -> list[tuple[str, dict]]:
    rows = [(k, a.to_dict()) for k, a in result.per_principle.items()]
    return rows + [("overall", result.overall.to_dict())]


def _screened(d: dict) -> str:
    """Labelled pairs only screening checks examined, and (in brackets) those labelled violation."""
    return f"{d['screened']} ({d['screened_violations']})"


def _counts_line(result: CalibrationResult) -> str:
    c = result.counts
    return (f"{c['labels']} labels: {c['compared']} compared, {c['labelled_not_applicable']} on not_applicable pairs "
            f"(counted as {'compliant' if result.not_applicable == 'compliant' else 'excluded'}), "
            f"{c['labelled_ungraded']} ungraded ({c['labelled_screened']} screened, "
            f"{c['labelled_screened_violations']} of them labelled violation: missed by the screening checks), "
            f"{c['labelled_error']} error, "
            f"{c['labels_without_findings']} without a finding, {c['duplicate_labels']} duplicate(s); "
            f"{c['findings_without_labels']} of {c['findings']} findings and "
            f"{c['transcripts_without_labels']} of {c['transcripts']} transcripts unlabelled")


def _notes(result: CalibrationResult) -> list[str]:
    """One line per reason kappa was not estimable, with how many rows it hit."""
    rows: dict[str, list[str]] = {}
    for key, d in _rows(result):
        if "kappa_note" in d:
            rows.setdefault(d["kappa_note"], []).append(key)
    return [f"kappa {note} ({len(keys)} row{'' if len(keys) == 1 else 's'}: {', '.join(keys[:3])}"
            f"{', ...' if len(keys) > 3 else ''})" for note, keys in rows.items()]


def _intervals_line(result: CalibrationResult, pct: str) -> str:
    boot = (f"widened by a percentile bootstrap over transcripts where wider ({result.bootstrap} resamples, "
            f"seed {result.seed}); kappa: that bootstrap" if result.bootstrap else
            "no bootstrap (--bootstrap 0): kappa has no interval")
    return f"{pct} Wilson for precision, recall, accuracy and F1 (via the Jaccard index), {boot}"


def to_markdown(result: CalibrationResult) -> str:
    pct = f"{result.confidence * 100:g}%"
    lines = [f"# Calibration against {md(result.labels_path)}", "",
             f"Run: {md(result.run_dir or 'findings')}; {_counts_line(result)}.",
             f"Intervals: {_intervals_line(result, pct)}.",
             "", "| principle | n | TP | FP | FN | TN | " + " | ".join(HEAD[m] for m in METRICS)
             + " | n/a | ungraded | screened (violation) | error | missing |",
             "|---|" + "---:|" * (5 + len(METRICS) + 5)]
    for key, d in _rows(result):
        c = d["confusion"]
        name = f"**{key}**" if key == "overall" else ("`*` (any principle)" if key == "*" else md(key))
        lines.append(f"| {name} | {d['n']} | {c['tp']} | {c['fp']} | {c['fn']} | {c['tn']} | "
                     + " | ".join(_with_ci(d, m) for m in METRICS)
                     + f" | {d['not_applicable']} | {d['ungraded']} | {_screened(d)} | {d['errors']} | {d['missing']} |")
    lines += [""] + [md(n) for n in _notes(result)] if _notes(result) else []
    if result.unmatched:
        lines += ["", "Labels without a finding (first ones): " + "; ".join(md(u) for u in result.unmatched)]
    return "\n".join(lines) + "\n"


def to_table(result: CalibrationResult) -> str:
    header = ["principle", "n", "TP", "FP", "FN", "TN"] + [HEAD[m] for m in METRICS] + ["n/a", "ungraded",
                                                                                     "screened (violation)",
                                                                                     "error", "missing"]
    body = []
    for key, d in _rows(result):
        c = d["confusion"]
        body.append([clean(key), str(d["n"]), str(c["tp"]), str(c["fp"]), str(c["fn"]), str(c["tn"])]
                    + [_with_ci(d, m) for m in METRICS]
                    + [str(d["not_applicable"]), str(d["ungraded"]), _screened(d), str(d["errors"]),
                       str(d["missing"])])
    widths = [max(len(r[i]) for r in [header] + body) for i in range(len(header))]
    fmt = lambda r: "  ".join(v.ljust(w) if i == 0 else v.rjust(w) for i, (v, w) in enumerate(zip(r, widths)))  # noqa: E731
    out = [fmt(header), "  ".join("-" * w for w in widths)] + [fmt(r) for r in body]
    out.append("")
    out.append(_counts_line(result))
    out.append(f"intervals: {_intervals_line(result, f'{result.confidence * 100:g}%')}")
    out += [clean(n) for n in _notes(result)]
    if result.unmatched:
        out.append("labels without a finding (first ones): " + "; ".join(clean(u) for u in result.unmatched))
    return "\n".join(out) + "\n"


def to_json(result: CalibrationResult) -> str:
    return json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n"


RENDERERS = {"table": to_table, "md": to_markdown, "json": to_json}


@click.command("calibrate", epilog=EPILOG)
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--labels", "labels_path", required=True, type=click.Path(dir_okay=False),
              help="Human labels: CSV (or .tsv) or JSONL with transcript_id, principle_id, label.")
@click.option("--bootstrap", type=click.IntRange(0, 100000), default=1000, show_default=True,
              help="Bootstrap resamples over transcripts (0: none, else at least 200); kappa's interval comes from it.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the bootstrap.")
@click.option("--confidence", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.95,
              show_default=True, help="Interval confidence.")
@click.option("--not-applicable", "na_policy", type=click.Choice(["compliant", "exclude"]), default="compliant",
              show_default=True, help="A labelled pair the grader found not_applicable counts as a compliant "
                                      "prediction, or is left out (counted either way).")
@click.option("--format", "fmt", type=click.Choice(["table", "md", "json"]), default="table", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Also write the JSON result to FILE (for the checklist's min_agreement gates).")
@edge
def calibrate(run_dir: str, labels_path: str, bootstrap: int, seed: int, confidence: float, na_policy: str,
              fmt: str, output: str | None) -> None:
    """Agreement of the grader's findings in RUN_DIR with human labels: per principle and
    overall confusion counts, precision, recall, F1, accuracy and Cohen's kappa, with
    bootstrap intervals. Unlabelled, ungraded and unmatched pairs are counted, not dropped."""
    from ..review.calibration import calibrate as run_calibration

    result = run_calibration(run_dir, labels_path, bootstrap=bootstrap, seed=seed, confidence=confidence,
                             not_applicable=na_policy)
    click.echo(RENDERERS[fmt](result), nl=False)
    if output:
        Path(output).write_text(to_json(result), encoding="utf-8")
        click.echo(f"wrote {output}", err=True)
