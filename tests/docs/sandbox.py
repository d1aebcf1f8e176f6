"""Running the README's commands the way a reader would: in a fresh folder beside
``../shared`` holding the shipped ``transcripts/``, ``rubrics/`` and ``examples/``, with the installed
``grader`` on PATH, and a fake judge server standing in for the providers."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.docs.readme_blocks import Command
from grader.testing.fake_server import FakeServer, Reply, Request, anthropic_body, openai_body

ROOT = Path(__file__).resolve().parents[2]
SETUP_PREFIX = re.compile(r"^python3 -m venv \.venv && \.venv/bin/pip install -e (\S+) && ")


def make_sandbox(base: Path) -> Path:
    """``base/work`` with copies of transcripts/ and rubrics/, and ``base/shared`` linking
    to the real shared folder, so ``../shared/data/...`` works as in a checkout."""
    work = base / "work"
    work.mkdir()
    for name in ("transcripts", "rubrics", "examples"):
        shutil.copytree(ROOT / name, work / name)
    (base / "shared").symlink_to(ROOT.parent / "shared")
    return work


def _principle_ids(text: str) -> list[str]:
    return sorted(set(re.findall(r"\bP\d\d-[a-z0-9-]+[a-z0-9]", text)))


ANSWERS = ROOT / "examples" / "judge-answers.json"  # the README's scripted dry-run answers


def _scripted(pid: str | None, text: str) -> dict[str, Any]:
    """The answer of examples/judge-answers.json for this principle when the request is about
    the transcript an entry quotes (its evidence appears in the request), else the file's default:
    the fake provider answers as the README's scripted dry run does, so the two agree."""
    doc = json.loads(ANSWERS.read_text(encoding="utf-8"))
    for e in doc["answers"]:
        quotes = [q["quote"] for q in e["answer"].get("evidence", [])]
        if e.get("principle_id") == pid and quotes and all(q in text for q in quotes):
            return dict(e["answer"])
    return dict(doc["default"])


def _verdict(pid: str | None, text: str, batched: bool) -> dict[str, Any]:
    v = _scripted(pid, text)
    return {"principle_id": pid, **v} if batched else v


def judge_handler(req: Request) -> Reply:
    """Answers every judge request (per principle or batched, OpenAI or Anthropic wire format)
    from examples/judge-answers.json, echoing the requested model and counting tokens as
    about four characters each, so the README's cost lines are what a provider would bill."""
    data = req.json or {}
    text = json.dumps(data.get("response_format") or data.get("tools") or {}) + req.text()
    batched = '"verdicts"' in text
    ids = _principle_ids(req.text())
    if batched:
        answer: dict[str, Any] = {"verdicts": [_verdict(p, req.text(), True) for p in ids]}
    else:
        answer = _verdict(ids[0] if len(ids) == 1 else None, req.text(), False)
    model = str(data.get("model") or "judge-model")
    tokens_in, tokens_out = max(1, len(req.body) // 4), max(1, len(json.dumps(answer)) // 4)
    if req.path.endswith("/messages"):
        return Reply(body=anthropic_body(answer, input_tokens=tokens_in, output_tokens=tokens_out, model=model))
    return Reply(body=openai_body(json.dumps(answer), prompt_tokens=tokens_in, completion_tokens=tokens_out,
                                  model=model))


def environment(work: Path, server: FakeServer) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "ANTHROPIC_", "GRADER_"))}
    env.update({
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        "OPENAI_API_KEY": "sk-readme-test", "OPENAI_BASE_URL": f"{server.url}/v1",
        "ANTHROPIC_API_KEY": "sk-ant-readme-test", "ANTHROPIC_BASE_URL": server.url,
        "GRADER_CACHE_DIR": str(work.parent / "cache"), "COLUMNS": "200", "NO_COLOR": "1",
    })
    return env


def prepare(cmd: Command, server: FakeServer) -> str | None:
    """The shell text actually run for a README command (None: not run here, see below)."""
    text = cmd.text
    m = SETUP_PREFIX.match(text)
    if m:
        text = text[m.end():].replace(".venv/bin/", "")
        if text.startswith("pytest"):
            return None  # the test suite itself: .ci/run runs this very command
    return text.replace("http://localhost:8000", server.url).replace("http://localhost:11434", server.url)


def run(cmd_text: str, work: Path, env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", cmd_text], cwd=work, env=env, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)
