"""Input JSON that Python accepts but JSON does not (NaN/Infinity) or that no UTF-8 file can
carry back out (lone surrogate escapes) is read, kept, and made safe to write again."""
from __future__ import annotations

import json
from pathlib import Path

from grader.grading.engine import Engine
from grader.rubric import load_rubrics
from grader.transcripts.load import load_transcripts

ROW = ('{"id": "x\\ud800y", "metadata": {"score": Infinity}, "messages": [{"role": "user", "content": "hi \\ud800"}, '
       '{"role": "assistant", "content": "ok", "tool_calls": [{"id": "c", "type": "function", "function": '
       '{"name": "bash", "arguments": "{\\"cmd\\": \\"rm \\\\ud800\\", \\"n\\": NaN}"}}]}]}\n')


def test_constants_become_strings_and_lone_surrogates_become_replacement_chars(tmp_path: Path) -> None:
    src = tmp_path / "a.jsonl"
    src.write_text(ROW, encoding="utf-8")
    (t,) = list(load_transcripts([str(src)]))
    assert t.id == "x\ufffdy"
    assert t.metadata["score"] == "Infinity"
    assert t.messages[0].content == "hi \ufffd"
    assert t.messages[1].tool_calls[0].arguments == {"cmd": "rm \ufffd", "n": "NaN"}


def test_such_a_transcript_grades_into_strict_json_results(tmp_path: Path) -> None:
    src = tmp_path / "a.jsonl"
    src.write_text(ROW, encoding="utf-8")
    summary = Engine(load_rubrics(None)).run([src], tmp_path / "run")
    assert summary.exit_code == 0 and summary.transcripts == 1
    for line in (tmp_path / "run" / "results.jsonl").read_text(encoding="utf-8").splitlines():
        json.loads(line, parse_constant=lambda name: (_ for _ in ()).throw(ValueError(name)))
