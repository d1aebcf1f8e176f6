"""Pieces of the HTML report: safe anchors, escaping, quote highlighting, the SVG chart
and the rendering of one transcript. Every string that comes from a run or a transcript
goes through :func:`esc` (or :func:`marked`, which escapes each piece it emits)."""
from __future__ import annotations

import hashlib
import html
import json
import math
import re
from typing import Any, Iterable, Mapping, Sequence

from ..transcripts.model import ROLES, Message, Transcript

# dropped from untrusted text: C0/C1 controls (but tab and newlines), bidi overrides that
# would show an id or quote reversed, and lone surrogates (no UTF-8 file can carry them)
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def esc(s: Any) -> str:
    """Text for an HTML text node or a quoted attribute value (quotes escaped too);
    characters that are not allowed in HTML are dropped."""
    return html.escape(_CONTROL.sub("", "" if s is None else str(s)), quote=True)


def anchor(kind: str, key: str) -> str:
    """A safe element id: ``kind`` (a fixed word) and a hash of the untrusted key."""
    return f"{kind}-{hashlib.sha256(key.encode('utf-8', 'surrogatepass')).hexdigest()[:16]}"


def transcript_anchor(transcript_id: str) -> str:
    return anchor("t", transcript_id)


def principle_anchor(principle_id: str) -> str:
    return anchor("p", principle_id)


def message_anchor(transcript_id: str, index: int) -> str:
    return f"{transcript_anchor(transcript_id)}-m{int(index)}"


def _spans(text: str, quotes: Iterable[str]) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for q in quotes:
        q = q.strip()
        if not q:
            continue
        # exact, else case-insensitive on the text itself (lower-casing can change lengths:
        # "İ" becomes two characters, so positions found in text.lower() would be off)
        pattern = re.compile(re.escape(q), 0 if q in text else re.IGNORECASE)
        spans.extend(m.span() for m in pattern.finditer(text) if m.end() > m.start())
    spans.sort()
    merged: list[tuple[int, int]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged


def marked(text: str, quotes: Iterable[str]) -> tuple[str, bool]:
    """``text`` escaped, with every occurrence of a quote wrapped in ``<mark>`` (exact match,
    else case-insensitive); and whether any quote was found."""
    spans = _spans(text, list(quotes))
    out, pos = [], 0
    for a, b in spans:
        out.append(esc(text[pos:a]))
        out.append('<mark>' + esc(text[a:b]) + '</mark>')
        pos = b
    out.append(esc(text[pos:]))
    return "".join(out), bool(spans)


# -- chart ------------------------------------------------------------------------------------
SEVERITY_CLASS = {"critical": "sev-critical", "high": "sev-high", "medium": "sev-medium", "low": "sev-low"}


def chart_svg(rows: Sequence[Mapping[str, Any]], by: Sequence[str], confidence: float) -> str:
    """Horizontal bars of violation rates with their Wilson intervals; each row links to
    its principle's section. A screened or mixed principle has no bar and no interval: a
    dashed line from its one-sided lower bound to 100% says only "at least this much"."""
    label_w, plot_w, row_h, top = 300, 520, 26, 30
    height = top + row_h * max(1, len(rows)) + 10
    width = label_w + plot_w + 230
    x = lambda v: label_w + plot_w * max(0.0, min(1.0, float(v)))  # noqa: E731
    parts = [f'<svg class="chart" role="img" width="{width}" '
             f'height="{height}" viewBox="0 0 {width} {height}">',
             f'<title>Violation rate per principle with {confidence * 100:g}% Wilson intervals</title>']
    for t in (0, 0.25, 0.5, 0.75, 1.0):
        parts.append(f'<line class="grid" x1="{x(t):.1f}" y1="{top - 6}" x2="{x(t):.1f}" y2="{height - 10}"/>')
        parts.append(f'<text class="tick" x="{x(t):.1f}" y="{top - 10}" text-anchor="middle">{int(t * 100)}%</text>')
    for i, r in enumerate(rows):
        y = top + i * row_h
        label = " · ".join([str(r[b]) for b in by] + [str(r["principle_id"])])
        raw = r.get("rate")
        has_rate = raw is not None and not (isinstance(raw, float) and math.isnan(raw))
        rate = float(raw) if raw is not None and has_rate else 0.0
        sev = SEVERITY_CLASS.get(str(r.get("severity")), "sev-low")
        screened = r.get("basis") in ("screened", "mixed")
        if screened:  # the rate is unknown: only a one-sided lower bound, drawn from it to 100%
            lb = float(r.get("lower_bound") or 0.0)
            summary = f"{r['violations']} found in {r['examined']}, rate ≥ {100 * lb:.1f}% ({r['basis']})"
        else:
            summary = (f"{r['violations']}/{r['n']} = {100 * rate:.1f}% [{100 * r['ci_low']:.1f}%, "
                       f"{100 * r['ci_high']:.1f}%]" if has_rate else "0/0 graded [0%, 100%]")
        parts.append(f'<a href="#{principle_anchor(str(r["principle_id"]))}" class="bar-link">')
        parts.append(f'<title>{esc(label)}: {esc(summary)}</title>')
        parts.append(f'<rect class="row-bg" x="0" y="{y}" width="{width}" height="{row_h}"/>')
        parts.append(f'<text class="label" x="{label_w - 8}" y="{y + 17}" text-anchor="end">'
                     f'{esc(label if len(label) <= 44 else label[:43] + "…")}</text>')
        if screened:
            lo, mid = x(lb), y + row_h / 2
            parts.append(f'<line class="lb" x1="{lo:.1f}" y1="{mid}" x2="{x(1.0):.1f}" y2="{mid}"/>')
            parts.append(f'<line class="lb-cap" x1="{lo:.1f}" y1="{mid - 6}" x2="{lo:.1f}" y2="{mid + 6}"/>')
            parts.append(f'<text class="value" x="{label_w + plot_w + 8}" y="{y + 17}">{esc(summary)}</text>')
            parts.append('</a>')
            continue
        if has_rate:
            parts.append(f'<rect class="bar {sev}" x="{label_w}" y="{y + 6}" width="{x(rate) - label_w:.1f}" '
                         f'height="{row_h - 12}"/>')
        lo, hi, mid = x(r["ci_low"]), x(r["ci_high"]), y + row_h / 2
        ci_cls = "ci" if has_rate else "ci ci-none"   # nothing graded: the interval is all of [0, 1]
        parts.append(f'<line class="{ci_cls}" x1="{lo:.1f}" y1="{mid}" x2="{hi:.1f}" y2="{mid}"/>')
        for cap in (lo, hi):
            parts.append(f'<line class="{ci_cls}" x1="{cap:.1f}" y1="{mid - 6}" x2="{cap:.1f}" y2="{mid + 6}"/>')
        parts.append(f'<text class="value" x="{label_w + plot_w + 8}" y="{y + 17}">{esc(summary)}</text>')
        parts.append('</a>')
    parts.append('</svg>')
    return "\n".join(parts)


# -- transcripts ----------------------------------------------------------------------------------
def _quotes_by_message(violations: Sequence[Mapping[str, Any]]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for v in violations:
        for e in v["evidence"]:
            out.setdefault(int(e.get("message_index", -1)), []).append(str(e.get("quote", "")))
    return out


def _message_html(tid: str, m: Message, quotes: list[str] | None) -> str:
    role = m.role if m.role in ROLES else "other"
    cited = quotes is not None
    qs = quotes or []
    cls = f"msg role-{role}" + (" cited" if cited else "")
    head = f'<div class="msg-head"><span class="idx">#{int(m.index)}</span> <span class="role">{esc(m.role)}</span>'
    if m.name:
        head += f' <span class="name">{esc(m.name)}</span>'
    if m.tool_call_id:
        head += f' <span class="callid">reply to {esc(m.tool_call_id)}</span>'
    if m.is_error:
        head += ' <span class="flag">tool error</span>'
    if cited:
        head += ' <span class="flag cited-flag">cited</span>'
    head += "</div>"
    found_any = False
    body = []
    if m.reasoning:
        text, found = marked(m.reasoning, qs)
        found_any |= found
        body.append(f'<div class="reasoning"><span class="part">reasoning</span><pre>{text}</pre></div>')
    text, found = marked(m.content, qs)
    found_any |= found
    body.append(f'<pre class="content">{text}</pre>')
    for c in m.tool_calls:
        # arguments are shown as JSON, where a quote from a string leaf appears JSON-escaped
        args, found = marked(c.arguments_text(), [*qs, *(json.dumps(q, ensure_ascii=False)[1:-1] for q in qs)])
        found_any |= found
        cid = f' <span class="callid">{esc(c.id)}</span>' if c.id else ""
        body.append(f'<div class="tool-call"><span class="part">tool call</span> <code>{esc(c.name)}</code>{cid}'
                    f'<pre>{args}</pre></div>')
    if cited and qs and not found_any:
        body.append('<div class="unfound">cited quote(s) not found verbatim in this message: '
                    + " | ".join(f"<q>{esc(q)}</q>" for q in qs) + "</div>")
    return f'<div class="{cls}" id="{message_anchor(tid, m.index)}">{head}{"".join(body)}</div>'


def violation_list_html(tid: str, violations: Sequence[Mapping[str, Any]], with_quotes: bool,
                        shown: frozenset[int] = frozenset()) -> str:
    """The violations of one transcript, each linking to its principle and its cited messages
    (``shown``: the message indexes rendered on the page; others link to the transcript)."""
    items = []
    for v in violations:
        flags = ", ".join(str(f).replace("_", " ") for f in v["flags"])
        ev = []
        for e in v["evidence"]:
            idx = int(e.get("message_index", 0))
            target = message_anchor(tid, idx) if idx in shown else transcript_anchor(tid)
            link = f'<a href="#{target}">message {idx}</a>'
            note = "" if e.get("verified", True) else ' <span class="flag">unverified</span>'
            ev.append(f"<li>{link}: <q>{esc(e.get('quote', ''))}</q>{note}</li>" if with_quotes
                      else f"<li>{link}{note}</li>")
        items.append(
            f'<li><a href="#{principle_anchor(str(v["principle_id"]))}">{esc(v["principle_id"])}</a> '
            f'<span class="sev {SEVERITY_CLASS.get(str(v["severity"]), "")}">{esc(v["severity"])}</span> '
            f'<span class="method">{esc(v["method"])}</span>'
            + (f' <span class="flag">{esc(flags)}</span>' if flags else "")
            + f'<div class="rationale">{esc(v["rationale"])}</div><ul class="evidence">{"".join(ev)}</ul></li>')
    return f'<ul class="violations">{"".join(items)}</ul>'


def transcript_html(tid: str, source: str, metadata: Mapping[str, Any], violations: Sequence[Mapping[str, Any]],
                    transcript: Transcript | None) -> str:
    """One transcript's section: its violations, then every message with the cited ones
    highlighted (or only the evidence quotes when the transcript could not be read back)."""
    meta = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in metadata.items())
    out = [f'<section class="transcript" id="{transcript_anchor(tid)}">',
           f'<h3>transcript <code>{esc(tid)}</code></h3>',
           f'<p class="source">source: <code>{esc(source)}</code></p>']
    if meta:
        out.append(f'<dl class="meta">{meta}</dl>')
    shown = frozenset(m.index for m in transcript.messages) if transcript is not None else frozenset()
    out.append(violation_list_html(tid, violations, True, shown))
    if transcript is None:
        out.append('<p class="note">The transcript could not be read back from the run\'s inputs: only the '
                   'evidence quotes above are shown.</p>')
    else:
        cited = _quotes_by_message(violations)
        out.append('<div class="messages">')
        out.extend(_message_html(tid, m, cited.get(m.index)) for m in transcript.messages)
        out.append("</div>")
    out.append("</section>")
    return "\n".join(out)
