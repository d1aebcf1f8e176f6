"""Terminal table (rich) and Markdown renderings of a :class:`Report` or a :class:`Comparison`.

Everything that comes from a transcript (ids, quotes, rationales, metadata values) is
untrusted: control characters are removed before it reaches a terminal, and Markdown
special characters are escaped so a quote cannot inject links, HTML or table cells.
"""
from __future__ import annotations

import io
import math
import re
from typing import Any, Iterable, Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from .compare import Comparison
from .build import Report

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&])")
WIDTH = 160


class Untrusted(str):
    """A table cell that carries text from a run (ids, metadata values): escaped in Markdown."""


def clean(s: Any) -> str:
    """One line of text with control and bidi-override characters removed."""
    return _CONTROL.sub("", " ".join(str(s).split()))


def md(s: Any) -> str:
    """Untrusted text as inert Markdown (one line, special characters backslash-escaped)."""
    return _MD_SPECIAL.sub(r"\\\1", clean(s))


def pct(x: Any) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{100 * float(x):.1f}%"


def ci(low: Any, high: Any) -> str:
    return f"[{pct(low)}, {pct(high)}]"


P_FLOOR = 1e-300  # p-values below this are printed as "< 1e-300"


def pval(p: Any) -> str:
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "-"
    p = float(p)
    if p < P_FLOOR:  # 0.0 is an underflow (Fisher's exact on a large clear difference), not p = 0
        return f"< {P_FLOOR:.0e}"
    return f"{p:.4f}" if p >= 0.0001 else f"{p:.1e}"


def signed_pct(x: Any) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{100 * float(x):+.1f}%"


def short(s: str, limit: int) -> str:
    return s if len(s) <= limit else s[: limit - 1] + "…"


# -- rows shared by both formats ----------------------------------------------------------------
PRINCIPLE_HEAD = ["principle", "severity", "basis", "n", "violations", "rate", "95% CI", "n/a", "ungraded",
                  "screened", "errors", "unverified"]


def known_rate(row: dict[str, Any]) -> bool:
    """Whether the row's rate can be known: not when screening checks left pairs unjudged."""
    return row.get("basis") not in ("screened", "mixed")


def rate_cells(row: dict[str, Any]) -> tuple[str, str]:
    """(rate, interval) cells: the rate and its two-sided interval for a decided principle;
    "k found in N" and a one-sided lower bound for a screened or mixed one."""
    if known_rate(row):
        return pct(row["rate"]), ci(row["ci_low"], row["ci_high"])
    return f"{row['violations']} found in {row['examined']}", bounds_cell(row)


def bounds_cell(row: dict[str, Any], s: str = "") -> str:
    """"≥ lower" for a screened principle; "≥ lower, ≤ upper" for a mixed one, where the upper
    bound counts every screened pair as a violation (for a screened one it is 100%)."""
    low = f"≥ {pct(row[f'lower_bound{s}'])}"
    return low if row[f"basis{s}"] == "screened" else f"{low}, ≤ {pct(row[f'upper_bound{s}'])}"


def principle_rows(r: Report) -> tuple[list[str], list[list[str]]]:
    head: list[str] = [Untrusted(b) for b in r.by] + PRINCIPLE_HEAD
    if r.confidence != 0.95:
        head[head.index("95% CI")] = f"{r.confidence * 100:g}% CI"
    rows = []
    for row in r.principles.to_dict(orient="records"):
        rate, interval = rate_cells(row)
        rows.append([Untrusted(row[b]) for b in r.by] + [
            Untrusted(row["principle_id"]), str(row["severity"]), str(row["basis"] or "-"), str(row["n"]),
            str(row["violations"]), rate, interval, str(row["not_applicable"]),
            str(row["ungraded"]), str(row["screened"]), str(row["errors"]), str(row["unverified"])])
    return head, rows


NOT_COMPARED = "not compared: rate unknown (screened)"
COMPARE_NOTE = ("p: two-sided (Fisher's exact, or two-proportion z for large n); p (Holm): adjusted across rows")
COMPARE_SCREENED_NOTE = ("screened principles are not compared: their rates are unknown ('k found in N', ≥ lower "
                         "bound), and a difference in what screening checks catch is not a difference in rates.\n"
                         "mixed principles are compared over bounds: screened pairs set to compliant on one side and to "
                         "violations on the other; p from the least favourable setting (1 if the direction flips).")


def diff_cell(row: dict[str, Any]) -> str:
    """B - A with its interval; for a mixed principle only the bounds; or why there is none."""
    if not row["compared"]:
        return NOT_COMPARED
    if row["bounded"] and not _nan(row["diff_ci_low"]):
        return f"{ci(row['diff_ci_low'], row['diff_ci_high'])} (bounds)"
    if _nan(row["diff"]):
        return "-"
    return f"{signed_pct(row['diff'])} {ci(row['diff_ci_low'], row['diff_ci_high'])}"


def side_cell(row: dict[str, Any], s: str) -> str:
    """One side of a comparison row: rate (k/n) [interval], or "k found in N ≥ bound"."""
    if row[f"basis_{s}"] in ("screened", "mixed"):
        return f"{row[f'violations_{s}']} found in {row[f'examined_{s}']} {bounds_cell(row, '_' + s)}"
    return (f"{pct(row[f'rate_{s}'])} ({row[f'violations_{s}']}/{row[f'n_{s}']}) "
            f"{ci(row[f'ci_low_{s}'], row[f'ci_high_{s}'])}")


def compare_notes(c: Comparison) -> list[str]:
    t = c.table
    needed = (~t["compared"].astype(bool)).any() or t["bounded"].astype(bool).any()
    return [COMPARE_NOTE] + (COMPARE_SCREENED_NOTE.split("\n") if needed else [])


def comparison_rows(c: Comparison) -> tuple[list[str], list[list[str]]]:
    """The rows shown: a row with no graded pair on either side (every pair ungraded, error or
    not applicable in both) says nothing and is left out; :func:`hidden_line` says which."""
    head = [Untrusted(b) for b in c.by] + ["principle", "severity", Untrusted(f"A: {c.label_a}"), Untrusted(f"B: {c.label_b}"), "B - A", "p",
                         "p (Holm)", "test"]
    rows = []
    for row in c.table.to_dict(orient="records"):
        if not _shown(row):
            continue
        side = [side_cell(row, s) if row[f"n_{s}"] or row.get(f"examined_{s}") else "none graded" for s in ("a", "b")]
        diff = diff_cell(row)
        rows.append([Untrusted(row[b]) for b in c.by] + [Untrusted(row["principle_id"]), str(row["severity"])] + side
                    + [diff, pval(row["p_value"]), pval(row["p_value_adjusted"]), str(row["test"] or "-")])
    return head, rows


def hidden_line(c: Comparison, shown: int = 5) -> str | None:
    """``not shown: 10 principles with no graded pair in either run (...)``, or None."""
    gone = c.table[[not _shown(r) for r in c.table.to_dict(orient="records")]]
    if gone.empty:
        return None
    names = [" / ".join([*(str(r[b]) for b in c.by), str(r["principle_id"])]) for r in gone.to_dict(orient="records")]
    what = "rows" if c.by else "principles"
    if len(names) == 1:
        what = what[:-1]
    listed = ", ".join(names[:shown]) + (", ..." if len(names) > shown else "")
    return (f"not shown: {len(names)} {what} with no graded pair in either run (every pair ungraded, error or "
            f"not applicable; no rate to compare): {listed}; --format json or csv lists every row")


def _shown(row: dict[str, Any]) -> bool:
    """A comparison row says something: some pair graded, or examined by screening checks, on a side."""
    return bool(row["n_a"] or row["n_b"] or row.get("examined_a") or row.get("examined_b"))


def _nan(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def header_lines(r: Report) -> list[str]:
    df = r.findings
    m = r.manifest
    lines = [f"run {r.run_id or '?'}: {df['transcript_id'].nunique()} transcripts, {len(df)} findings, "
             f"{df['principle_id'].nunique()} principles"
             + (f" (grader {m.get('grader_version')})" if m.get("grader_version") else "")]
    if r.input_errors:
        lines.append(f"{len(r.input_errors)} input(s) could not be read (see input_errors.jsonl)")
    if m.get("status") and m.get("status") != "complete":
        lines.append(f"run status: {m.get('status')} (the run did not finish; counts are partial)")
    return lines


DEFINITION = ("rate = violations / n, where n = transcripts graded (violation + compliant; not_applicable, "
              "ungraded and errors are not in n); {conf} Wilson interval.")
SCREENED_NOTE = ("screened = ungraded pairs that only screening checks examined, none firing (their silence proves "
                 "nothing).\nBasis screened or mixed: no rate can be known; 'k found in N' = violations found in the N "
                 "transcripts examined; ≥ = one-sided {conf} Clopper-Pearson lower bound;\n≤ (mixed) = one-sided "
                 "{conf} upper bound counting every screened pair as a violation.")


def definitions(r: Report) -> list[str]:
    """The footnotes under the table: the rate's definition, and the screened one when a row needs it."""
    conf = f"{r.confidence * 100:g}%"
    out = [DEFINITION.format(conf=conf)]
    if not r.principles.empty and (~r.principles.apply(lambda row: known_rate(row.to_dict()), axis=1)).any():
        out += SCREENED_NOTE.format(conf=conf).split("\n")
    return out


def evidence_lines(row: dict[str, Any], limit: int | None = None) -> Iterable[tuple[int, str, bool]]:
    for e in row["evidence"]:
        q = clean(e.get("quote", ""))
        yield int(e.get("message_index", 0)), short(q, limit) if limit else q, bool(e.get("verified", True))


def _flags(row: dict[str, Any]) -> str:
    return ", ".join(f.replace("_", " ") for f in row["flags"])


# -- Markdown -------------------------------------------------------------------------------------
def _cell(c: str) -> str:
    return md(c) if isinstance(c, Untrusted) or c in ("",) else clean(c).replace("|", "\\|")


def _md_table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    out = ["| " + " | ".join(_cell(h) for h in head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    out += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return out


def comparison_md(c: Comparison, title: str | None = None) -> list[str]:
    head, rows = comparison_rows(c)
    out = [f"## {md(title or f'Comparison: A = {c.label_a}, B = {c.label_b}')}", ""]
    out += _md_table(head, rows)
    out += ["", "Two-sided p-values (Fisher's exact test, or the pooled two-proportion z-test for large n), "
            "Holm-adjusted across every row; B - A with Newcombe's interval.", ""]
    if len(compare_notes(c)) > 1:
        out += [COMPARE_SCREENED_NOTE.replace("\n", " "), ""]
    hidden = hidden_line(c)
    if hidden:
        out += [md(hidden[0].upper() + hidden[1:] + "."), ""]
    return out


def render_md(r: Report) -> str:
    out = [f"# Report: run {md(r.run_id or r.run_dir)}", ""] + [md(x) for x in header_lines(r)] + [""]
    out += ["## Violation rates per principle", ""]
    head, rows = principle_rows(r)
    out += _md_table(head, rows)
    out += [""] + [x + "\n" for x in definitions(r)]
    if r.comparison is not None:
        out += comparison_md(r.comparison)
    elif r.comparison_note:
        out += [md(r.comparison_note), ""]
    out += ["## Violations by transcript", ""]
    if r.violations.empty:
        out += ["No violations.", ""]
    for tid, group in r.violations.groupby("transcript_id", sort=False):
        first = group.iloc[0]
        where = f"{first['source_path']}:{first['source_locator']}" if first["source_locator"] else first["source_path"]
        out += [f"### {md(tid)}", "", f"source: {md(where)}", ""]
        for row in group.to_dict(orient="records"):
            flags = _flags(row)
            out.append(f"- **{md(row['principle_id'])}** ({md(row['severity'])}, {md(row['method'])})"
                       + (f" \\[{md(flags)}\\]" if flags else "") + f": {md(row['rationale'])}")
            for idx, quote, verified in evidence_lines(row):
                out.append(f"  - message {idx}: “{md(quote)}”" + ("" if verified else " (unverified)"))
        out.append("")
    return "\n".join(out).rstrip() + "\n"


# -- terminal table ---------------------------------------------------------------------------------
def _rich_table(title: str, head: Sequence[str], rows: Sequence[Sequence[str]], left: int) -> Table:
    t = Table(title=Text(clean(title)), show_lines=False)
    for i, h in enumerate(head):
        t.add_column(Text(clean(h)), justify="left" if i < left else "right", overflow="fold",
                     no_wrap=i < left)
    for row in rows:
        t.add_row(*[Text(clean(c)) for c in row])
    return t


def _needed_width(head: Sequence[str], rows: Sequence[Sequence[str]]) -> int:
    """Width that fits every cell on one line (tables never wrap ids)."""
    cols = [max([len(clean(h))] + [len(clean(r[i])) for r in rows]) for i, h in enumerate(head)]
    return sum(cols) + 3 * len(cols) + 1


def _console(buf: io.StringIO, width: int = WIDTH) -> Console:
    return Console(file=buf, width=max(WIDTH, width), no_color=True, highlight=False, emoji=False, markup=False,
                   force_terminal=False, soft_wrap=False)


def comparison_table(c: Comparison) -> str:
    buf = io.StringIO()
    head, rows = comparison_rows(c)
    con = _console(buf, _needed_width(head, rows))
    con.print(_rich_table(f"A = {c.label_a}, B = {c.label_b}", head, rows, len(c.by) + 2))
    for line in compare_notes(c):
        con.print(Text(line))
    hidden = hidden_line(c)
    if hidden:
        con.print(Text(clean(hidden)))
    return buf.getvalue()


def render_table(r: Report, quote_limit: int = 200) -> str:
    buf = io.StringIO()
    head, rows = principle_rows(r)
    con = _console(buf, _needed_width(head, rows))
    for line in header_lines(r):
        con.print(Text(clean(line)))
    con.print(_rich_table("violation rates per principle", head, rows, len(r.by) + 2))
    for line in definitions(r):
        con.print(Text(line))
    if r.comparison is not None:
        con.print(Text(""))
        buf.write(comparison_table(r.comparison))
    elif r.comparison_note:
        con.print(Text(r.comparison_note))
    con.print(Text(""))
    n = len(r.violations)
    con.print(Text(f"violations ({n}):" if n else "no violations"))
    for tid, group in r.violations.groupby("transcript_id", sort=False):
        first = group.iloc[0]
        where = f"{first['source_path']}:{first['source_locator']}" if first["source_locator"] else first["source_path"]
        con.print(Text(f"{clean(tid)}  ({clean(where)})"))
        for row in group.to_dict(orient="records"):
            flags = _flags(row)
            con.print(Text(f"  {clean(row['principle_id'])} [{clean(row['severity'])}, {clean(row['method'])}]"
                           + (f" ({flags})" if flags else "") + f": {short(clean(row['rationale']), 300)}"))
            for idx, quote, verified in evidence_lines(row, quote_limit):
                con.print(Text(f"    message {idx}: \"{quote}\"" + ("" if verified else " (unverified)")))
    return buf.getvalue()


def render_comparison_md(c: Comparison) -> str:
    return "\n".join(comparison_md(c)).rstrip() + "\n"
