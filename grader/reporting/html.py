"""The self-contained HTML report: one file, no network fetches.

- a Content-Security-Policy meta (``default-src 'none'``; the one inline script and the
  one inline style allowed by their sha256 hashes), so that even an escaping bug could
  not run a script injected by a transcript;
- an inline SVG chart of violation rates and their Wilson intervals, each bar linking to
  its principle's section;
- filterable tables (text, severity, outcome) built from escaped text nodes; the inline
  script filters with ``textContent`` and attributes only, never with HTML from the data;
- per principle, the list of its violations, each linking to the transcript rendered with
  every message and the cited ones highlighted (quotes marked);
- the report's JSON (see :mod:`.render_data`) in a ``<script type="application/json">`` blob,
  with ``< > &`` and U+2028/U+2029 written as ``\\uXXXX`` so it cannot close its element.
"""
from __future__ import annotations

import base64
import hashlib
import json
from functools import lru_cache
from importlib import resources
from typing import Any

from .aggregate import records
from .build import Report
from .html_parts import (SEVERITY_CLASS, chart_svg, esc, principle_anchor, transcript_anchor,
                         transcript_html)
from .render_data import report_json
from .render_text import (COMPARE_SCREENED_NOTE, ci, compare_notes, definitions, diff_cell, header_lines,
                          known_rate, pct, pval, rate_cells, side_cell)


@lru_cache(maxsize=None)
def asset(name: str) -> str:
    return resources.files("grader.reporting").joinpath("templates", name).read_text(encoding="utf-8")


def csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def content_security_policy(script: str, style: str) -> str:
    return (f"default-src 'none'; script-src {csp_hash(script)}; style-src {csp_hash(style)}; "
            "img-src 'none'; base-uri 'none'; form-action 'none'")


def json_blob(data: Any) -> str:
    """JSON that is safe inside ``<script type="application/json">``."""
    text = json.dumps(data, ensure_ascii=True, allow_nan=False, sort_keys=False)
    return (text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _num(x: Any) -> str:
    return f'<td class="num">{esc(x)}</td>'


def _principle_table(r: Report) -> str:
    head = [esc(b) for b in r.by] + ["principle", "severity"]
    nums = ["n", "violations", "rate", f"{r.confidence * 100:g}% CI", "n/a", "ungraded", "screened", "errors",
            "unverified"]
    head.append("basis")
    out = ['<table class="filterable" id="principles-table"><thead><tr>'
           + "".join(f"<th>{h}</th>" for h in head) + "".join(f'<th class="num">{h}</th>' for h in nums)
           + "</tr></thead><tbody>"]
    for row in records(r.principles):
        sev = str(row["severity"])
        cells = [f'<td class="wrap">{esc(row[b])}</td>' for b in r.by]
        cells.append(f'<td class="wrap"><a href="#{principle_anchor(str(row["principle_id"]))}">{esc(row["principle_id"])}</a></td>')
        cells.append(f'<td><span class="sev {SEVERITY_CLASS.get(sev, "")}">{esc(sev)}</span></td>')
        rate, interval = rate_cells(row)
        cells.append(f"<td>{esc(row['basis'] or '-')}</td>")
        cells += [_num(row["n"]), _num(row["violations"]), _num(rate), _num(interval),
                  _num(row["not_applicable"]), _num(row["ungraded"]), _num(row["screened"]),
                  _num(row["errors"]), _num(row["unverified"])]
        out.append(f'<tr data-severity="{esc(sev)}">{"".join(cells)}</tr>')
    out.append("</tbody></table>")
    return "".join(out)


def _comparison_html(r: Report) -> str:
    c = r.comparison
    if c is None:
        return f'<p class="note">{esc(r.comparison_note)}</p>' if r.comparison_note else ""
    head = [esc(b) for b in c.by] + ["principle", "severity", f"A: {esc(c.label_a)}", f"B: {esc(c.label_b)}",
                                     "B − A", "p", "p (Holm)", "test"]
    out = [f"<h2>Comparison</h2><p>A = <code>{esc(c.label_a)}</code>, B = <code>{esc(c.label_b)}</code>. "
           "Two-sided p-values (Fisher's exact test, or the pooled two-proportion z-test for large n), "
           "Holm-adjusted across every row; B − A with Newcombe's interval."
           + (f" {esc(COMPARE_SCREENED_NOTE.replace(chr(10), ' '))}" if len(compare_notes(c)) > 1 else "") + "</p>",
           "<table><thead><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr></thead><tbody>"]
    for row in records(c.table):
        cells = [f'<td class="wrap">{esc(row[b])}</td>' for b in c.by]
        cells.append(f'<td class="wrap"><a href="#{principle_anchor(str(row["principle_id"]))}">{esc(row["principle_id"])}</a></td>')
        cells.append(f"<td>{esc(row['severity'])}</td>")
        for s in ("a", "b"):
            cells.append(_num(side_cell(row, s)))
        diff = diff_cell(row)
        cells += [_num(diff), _num(pval(row["p_value"])), _num(pval(row["p_value_adjusted"])),
                  f"<td>{esc(row['test'] or '-')}</td>"]
        out.append(f"<tr>{''.join(cells)}</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _findings_table(r: Report) -> str:
    df = r.findings
    rows = records(df[df["outcome"].isin(["violation", "error"])])
    out = ['<div class="filters"><label>filter <input id="filter-text" type="search" '
           'placeholder="text in any column"></label>',
           '<label>severity <select id="filter-severity"><option value="">any</option>'
           + "".join(f'<option value="{s}">{s}</option>' for s in SEVERITY_CLASS) + "</select></label>",
           '<label>outcome <select id="filter-outcome"><option value="">any</option>'
           '<option value="violation">violation</option><option value="error">error</option></select></label>',
           '<span><span id="filter-count">0</span> finding(s) shown</span></div>',
           '<table class="filterable" id="findings-table"><thead><tr><th>transcript</th><th>principle</th>'
           '<th>severity</th><th>outcome</th><th>flags</th><th>evidence / error</th></tr></thead><tbody>']
    for row in rows:
        tid, pid, sev = str(row["transcript_id"]), str(row["principle_id"]), str(row["severity"])
        if row["outcome"] == "violation":
            t_cell = f'<a href="#{transcript_anchor(tid)}">{esc(tid)}</a>'
            quotes = [str(e.get("quote", "")) for e in row["evidence"]]
            detail = esc(" | ".join(q if len(q) <= 160 else q[:159] + "…" for q in quotes) or row["rationale"])
        else:
            t_cell = esc(tid)
            detail = esc(row["error"])
        flags = ", ".join(str(f).replace("_", " ") for f in row["flags"])
        out.append(f'<tr data-severity="{esc(sev)}" data-outcome="{esc(row["outcome"])}"><td class="wrap">{t_cell}</td>'
                   f'<td class="wrap"><a href="#{principle_anchor(pid)}">{esc(pid)}</a></td>'
                   f'<td><span class="sev {SEVERITY_CLASS.get(sev, "")}">{esc(sev)}</span></td>'
                   f'<td>{esc(row["outcome"])}</td><td>{esc(flags)}</td><td class="wrap">{detail}</td></tr>')
    out.append("</tbody></table>")
    return "".join(out)


def _principle_sections(r: Report) -> str:
    out = []
    vio = records(r.violations)
    table = records(r.principles)
    for pid in dict.fromkeys(str(row["principle_id"]) for row in table):
        rows = [row for row in table if row["principle_id"] == pid]
        sev = str(rows[0]["severity"])
        mine = [v for v in vio if v["principle_id"] == pid]
        stats = "; ".join(
            (" · ".join(f"{b}={row[b]}" for b in r.by) + ": " if r.by else "")
            + (f"{row['violations']} of {row['n']} graded, {pct(row['rate'])} {ci(row['ci_low'], row['ci_high'])}"
               if known_rate(row) else
               f"{row['basis']}: {row['violations']} violation(s) found in {row['examined']} transcripts "
               f"({row['screened']} screened, rate unknown), rate ≥ {pct(row['lower_bound'])}")
            for row in rows)
        out.append(f'<section class="principle" id="{principle_anchor(pid)}"><h3>{esc(pid)} '
                   f'<span class="sev {SEVERITY_CLASS.get(sev, "")}">{esc(sev)}</span></h3><p>{esc(stats)}</p>')
        if not mine:
            out.append("<p>No violations.</p>")
        else:
            items = []
            for v in mine:
                tid = str(v["transcript_id"])
                groups = " · ".join(f"{b}={v[b]}" for b in r.by)
                ev = "; ".join(f"message {int(e.get('message_index', 0))}: “{e.get('quote', '')}”"
                               for e in v["evidence"])
                items.append(f'<li><a href="#{transcript_anchor(tid)}">{esc(tid)}</a>'
                             + (f' <span class="method">{esc(groups)}</span>' if groups else "")
                             + (' <span class="flag">unverified evidence</span>' if v["unverified"] else "")
                             + f'<div class="rationale">{esc(v["rationale"])}</div>'
                             + (f'<div class="evidence">{esc(ev)}</div>' if ev else "") + "</li>")
            out.append(f'<ul class="violations">{"".join(items)}</ul>')
        out.append("</section>")
    return "\n".join(out)


def _transcript_sections(r: Report) -> str:
    out = []
    for tid, group in r.violations.groupby("transcript_id", sort=False):
        rows = records(group)
        first = rows[0]
        where = f"{first['source_path']}:{first['source_locator']}" if first["source_locator"] else first["source_path"]
        meta = {k[len("meta."):]: v for k, v in first.items() if k.startswith("meta.") and v is not None}
        out.append(transcript_html(str(tid), str(where), meta, rows, r.transcripts.get(str(tid))))
    return "\n".join(out)


def render_html(r: Report) -> str:
    """The report as one self-contained HTML document."""
    script, style = asset("report.js"), asset("report.css")
    title = f"grader report: run {r.run_id or r.run_dir}"
    notes = [n for n in (r.transcripts_note,) if n]
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{content_security_policy(script, style)}">',
        '<meta name="referrer" content="no-referrer">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)}</title>", f"<style>{style}</style></head><body>",
        f"<h1>{esc(title)}</h1>",
        "".join(f"<p>{esc(line)}</p>" for line in header_lines(r)),
        "".join(f'<p class="note">{esc(n)}</p>' for n in notes),
        '<p class="toc"><a href="#rates">rates</a><a href="#findings">findings</a>'
        '<a href="#by-principle">violations by principle</a><a href="#transcripts">transcripts</a></p>',
        '<h2 id="rates">Violation rate per principle</h2>',
        chart_svg(records(r.principles), r.by, r.confidence),
        f"<p>{esc(' '.join(definitions(r)))} Click a bar or a principle to see its violations.</p>",
        _principle_table(r), _comparison_html(r),
        '<h2 id="findings">Findings (violations and errors)</h2>', _findings_table(r),
        '<h2 id="by-principle">Violations by principle</h2>', _principle_sections(r),
        f'<h2 id="transcripts">Transcripts with violations ({r.violations["transcript_id"].nunique()})</h2>',
        _transcript_sections(r),
        f'<script type="application/json" id="report-data">{json_blob(report_json(r))}</script>',
        f"<script>{script}</script>", "</body></html>",
    ]
    return "\n".join(p for p in parts if p) + "\n"
