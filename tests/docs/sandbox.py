"""Running the README's commands the way a reader would: in a fresh folder beside
``../shared`` holding the shipped ``transcripts/`` and ``rubrics/``, with the installed
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
    for name in ("transcripts", "rubrics"):
        shutil.copytree(ROOT / name, work / name)
    (base / "shared").symlink_to(ROOT.parent / "shared")
    return work


def _principle_ids(text: str) -> list[str]:
    return sorted(set(re.findall(r"\bP\d\d-[a-z0-9-]+[a-z0-9]", text)))


def _verdict(pid: str | None) -> dict[str, Any]:
    v: dict[str, Any] = {"verdict": "not_applicable", "confidence": 0.5,
                         "rationale": "Stand-in answer from the README test's fake server.", "evidence": []}
    return {"principle_id": pid, **v} if pid else v


def judge_handler(req: Request) -> Reply:
    """Answers every judge request with a well-formed not_applicable verdict (per principle
    or batched), in the OpenAI or Anthropic wire format."""
    data = req.json or {}
    text = json.dumps(data.get("response_format") or data.get("tools") or {}) + req.text()
    batched = '"verdicts"' in text
    ids = _principle_ids(req.text()) if batched else []
    answer = {"verdicts": [_verdict(p) for p in ids]} if batched else _verdict(None)
    if req.path.endswith("/messages"):
        return Reply(body=anthropic_body(answer))
    return Reply(body=openai_body(json.dumps(answer)))


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
