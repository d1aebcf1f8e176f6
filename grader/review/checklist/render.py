"""Renderings of a :class:`~grader.review.checklist.model.ChecklistResult`: Markdown, JSON and JUnit XML.

JUnit: one ``<testsuite>`` named after the checklist, one ``<testcase>`` per gate; a failed
gate has a ``<failure>`` element, an open one a ``<skipped>`` element (CI shows it as not
run; the command's exit status is still 1), an undetermined one a ``<failure>`` (type
``undetermined``) unless the checklist allows it, then a ``<skipped>``; every test case
carries its figure in ``<system-out>``.
"""
from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

from ...reporting.render_text import clean
from .model import ChecklistResult

MARK = {"passed": "PASS", "failed": "FAIL", "open": "OPEN", "undetermined": "UNDETERMINED"}


_TAG = re.compile(r"<(?=[A-Za-z/!?])")  # what could open an HTML tag ("<=" stays as it is)


def _md_cell(text: str) -> str:
    """A cell of our own wording that may quote run data (principle ids, run folder, sign-off
    ids): one line, no control characters, no table breaks, no HTML tags, no code spans."""
    return _TAG.sub(r"\\<", clean(text)).replace("|", "\\|").replace("`", "\\`")


def _code(text: str) -> str:
    """Text for inside a code span (where nothing renders): one clean line, no backtick."""
    return clean(text).replace("`", "'")


def to_markdown(result: ChecklistResult) -> str:
    verdict = "PASSED" if result.passed else "NOT PASSED"
    lines = [f"# {_md_cell(result.title)}", ""]
    run = f"run `{_code(result.run_id)}`" if result.run_id else "the given findings"
    if result.run_dir:
        run += f" ({_md_cell(result.run_dir)})"
    lines.append(f"Checklist `{_code(result.checklist_id)}` over {run}: **{verdict}** "
                 f"({result.counts_text()})")
    lines += ["", "| status | gate | figure | detail |", "|---|---|---|---|"]
    for i in result.items:
        mark = MARK[i.status] + (" (allowed)" if i.status == "undetermined" and i.undetermined_allowed else "")
        lines.append(f"| {mark} | {_md_cell(i.id)} | {_md_cell(i.figure)} | {_md_cell(i.detail or i.description)} |")
    if result.unused_signoffs:
        lines += ["", "Sign-off records that match no item of this checklist: " + ", ".join(_md_cell(x) for x in result.unused_signoffs)]
    return "\n".join(lines) + "\n"


def to_json(result: ChecklistResult) -> str:
    return json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n"


def _junit_kind(item) -> str | None:
    if item.status == "failed" or (item.status == "undetermined" and not item.undetermined_allowed):
        return "failure"
    return None if item.status == "passed" else "skipped"


def to_junit(result: ChecklistResult) -> str:
    kinds = [_junit_kind(i) for i in result.items]
    failures, skipped = str(kinds.count("failure")), str(kinds.count("skipped"))
    suites = ET.Element("testsuites", name=f"grader checklist {result.checklist_id}",
                        tests=str(len(result.items)), failures=failures, skipped=skipped, errors="0")
    suite = ET.SubElement(suites, "testsuite", name=result.checklist_id, tests=str(len(result.items)),
                          failures=failures, skipped=skipped, errors="0")
    props = ET.SubElement(suite, "properties")
    ET.SubElement(props, "property", name="run_id", value=result.run_id or "")
    ET.SubElement(props, "property", name="run_dir", value=result.run_dir or "")
    ET.SubElement(props, "property", name="checklist", value=result.checklist_path)
    for i, kind in zip(result.items, kinds):
        case = ET.SubElement(suite, "testcase", classname=f"checklist.{result.checklist_id}.{i.kind}", name=i.id)
        if kind == "failure":
            fail = ET.SubElement(case, "failure", message=i.figure,
                                 type="undetermined" if i.status == "undetermined" else i.kind)
            fail.text = i.detail or i.figure
        elif kind == "skipped":
            ET.SubElement(case, "skipped", message=f"{i.status}: {i.figure}")
        out = ET.SubElement(case, "system-out")
        out.text = "\n".join(x for x in (f"{i.status}: {i.figure}", i.detail, i.description) if x)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


RENDERERS = {"md": to_markdown, "json": to_json, "junit": to_junit}
