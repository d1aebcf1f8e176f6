"""Hand-made run folders for the report tests: results.jsonl and run.json written directly."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable


def finding(transcript_id: str, principle_id: str, outcome: str, *, severity: str = "high",
            metadata: dict[str, Any] | None = None, flags: Iterable[str] = (),
            evidence: Iterable[dict[str, Any]] = (), rationale: str = "", run_id: str = "run-a",
            path: str = "data.jsonl", locator: str | None = None) -> dict[str, Any]:
    """One finding dict that satisfies finding.schema.json."""
    method = None if outcome == "ungraded" else ("judge" if outcome != "error" else "check")
    return {
        "run_id": run_id, "transcript_id": transcript_id,
        "source": {"path": path, "locator": locator if locator is not None else f"line {transcript_id}"},
        "principle_id": principle_id, "rubric_id": "constitution", "rubric_version": "1",
        "severity": severity, "outcome": outcome, "method": method, "check_ids": [],
        "evidence": list(evidence), "rationale": rationale, "judge": None,
        "error": "boom" if outcome == "error" else None, "metadata": dict(metadata or {}),
        "flags": list(flags),
    }


def write_run(folder: Path, findings: list[dict[str, Any]], *, run_id: str = "run-a",
              inputs: list[str] | None = None, fmt: str | None = None,
              input_errors: list[dict[str, Any]] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "results.jsonl").write_text("".join(json.dumps(f) + "\n" for f in findings), encoding="utf-8")
    (folder / "input_errors.jsonl").write_text("".join(json.dumps(e) + "\n" for e in (input_errors or [])),
                                               encoding="utf-8")
    manifest = {"run_id": run_id, "grader_version": "0.1.0", "started_at": "2025-01-01T00:00:00Z",
                "ended_at": "2025-01-01T00:01:00Z", "status": "complete", "inputs": inputs or [],
                "options": {"format": fmt, "limit": None, "sample": None, "seed": 0, "tags": {}},
                "rubrics": [{"id": "constitution", "version": "1", "sha256": "0" * 64, "path": "x",
                             "principles": []}], "judge": None}
    (folder / "run.json").write_text(json.dumps(manifest), encoding="utf-8")
    return folder


def small_findings() -> list[dict[str, Any]]:
    """Two principles over six transcripts, models m1 (t1-t3) and m2 (t4-t6).

    honesty (high):       t1 V(unverified), t2 V, t3 C, t4 C, t5 N/A, t6 ungraded
    oversight (critical): t1 C, t2 C, t3 C, t4 C, t5 error, t6 C
    """
    def meta(t: str) -> dict[str, Any]:
        return {"model": "m1" if t in ("t1", "t2", "t3") else "m2", "condition": "base"}

    ev = [{"message_index": 1, "quote": "I ran the tests", "verified": False}]
    out = [
        finding("t1", "honesty", "violation", metadata=meta("t1"), flags=["unverified_evidence"], evidence=ev,
                rationale="claims tests ran"),
        finding("t2", "honesty", "violation", metadata=meta("t2"),
                evidence=[{"message_index": 2, "quote": "all good", "verified": True}], rationale="false claim"),
        finding("t3", "honesty", "compliant", metadata=meta("t3")),
        finding("t4", "honesty", "compliant", metadata=meta("t4")),
        finding("t5", "honesty", "not_applicable", metadata=meta("t5")),
        finding("t6", "honesty", "ungraded", metadata=meta("t6")),
    ]
    for t in ("t1", "t2", "t3", "t4", "t6"):
        out.append(finding(t, "oversight", "compliant", severity="critical", metadata=meta(t)))
    out.append(finding("t5", "oversight", "error", severity="critical", metadata=meta("t5")))
    return out


# -- a hostile run: transcript text, quotes, ids and metadata carrying script payloads ----------------
PWN = "document.body.setAttribute('data-pwned','{}');document.title='PWNED {}'"
PAYLOADS = [
    "<script>" + PWN.format("script", "script") + "</script>",
    "<img src=x onerror=\"" + PWN.format("img", "img") + "\">",
    "<svg onload=\"" + PWN.format("svg", "svg") + "\"><circle r=1></circle></svg>",
    "<a href=\"javascript:" + PWN.format("js", "js") + "\">click me</a>",
    "</script><script>" + PWN.format("json", "json") + "</script>",
    "\"><script>" + PWN.format("attr", "attr") + "</script>",
    "'><img src=x onerror='" + PWN.format("sq", "sq").replace("'", "&#39;") + "'>",
    "line\u2028sep\u2029para</script ><script>" + PWN.format("ls", "ls") + "</script>",
    "<iframe srcdoc=\"<script>parent." + PWN.format("iframe", "iframe") + "</script>\"></iframe>",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:" + PWN.format("meta", "meta") + "\">",
    "<style>body{display:none}</style><base href=\"https://evil.example/\">",
    "<!-- --><script>" + PWN.format("comment", "comment") + "</script>",
]
MARK_QUOTE = "</mark><img src=x onerror=\"" + PWN.format("mark", "mark") + "\">"


def hostile_run(tmp_path: Path) -> tuple[Path, list[str]]:
    """A run whose inputs and findings carry every payload; returns (run folder, transcript ids read back).

    Transcript ids and sources come from the real loader, so the report can read them back."""
    import json as _json

    from grader.transcripts.load import iter_inputs
    from grader.transcripts.model import Transcript

    tool_args = _json.dumps({"cmd": PAYLOADS[1], "path": PAYLOADS[4]})
    convs = []
    for i, p in enumerate(PAYLOADS):
        convs.append({"messages": [
            {"role": "system", "content": "system " + PAYLOADS[(i + 1) % len(PAYLOADS)]},
            {"role": "user", "content": "please " + p},
            {"role": "assistant", "content": "sure: " + p + " " + MARK_QUOTE,
             "tool_calls": [{"id": f"call_{i}", "type": "function",
                             "function": {"name": "bash", "arguments": tool_args}}]},
            {"role": "tool", "tool_call_id": f"call_{i}", "content": "result " + p},
        ], "metadata": {"model": PAYLOADS[i % 3], "condition": "base" if i % 2 else "hostile " + PAYLOADS[5]}})
    inp = tmp_path / "hostile.jsonl"
    inp.write_text("".join(_json.dumps(c) + "\n" for c in convs), encoding="utf-8")
    transcripts = [t for t in iter_inputs([str(inp)], None) if isinstance(t, Transcript)]
    assert len(transcripts) == len(PAYLOADS)
    findings = []
    for t, p in zip(transcripts, PAYLOADS):
        ev = [{"message_index": 2, "quote": p, "verified": True},
              {"message_index": 2, "quote": MARK_QUOTE, "verified": False},
              {"message_index": 1, "quote": "not in the message " + p, "verified": False}]
        findings.append(finding(t.id, "honesty", "violation", metadata=dict(t.metadata), evidence=ev,
                                rationale="rationale " + p, flags=["unverified_evidence"], path=t.source.path,
                                locator=t.source.locator))
        findings.append(finding(t.id, PAYLOADS[0], "violation", severity="critical", metadata=dict(t.metadata),
                                evidence=[{"message_index": 3, "quote": "result", "verified": True}],
                                rationale=PAYLOADS[2], path=t.source.path, locator=t.source.locator))
        findings.append(finding(t.id, "oversight", "error", metadata=dict(t.metadata), path=t.source.path,
                                locator=t.source.locator) | {"error": "check failed: " + p})
    # a transcript that is not in the inputs: rendered from its evidence quotes only
    findings.append(finding(PAYLOADS[3] + PAYLOADS[0], "honesty", "violation", path=PAYLOADS[1],
                            locator=PAYLOADS[5], metadata={"model": PAYLOADS[2]},
                            evidence=[{"message_index": 0, "quote": PAYLOADS[4], "verified": True}],
                            rationale=PAYLOADS[7]))
    run = write_run(tmp_path / "run", findings, inputs=[str(inp)], run_id="run <script>" + PWN.format("rid", "rid"))
    return run, [t.id for t in transcripts]
