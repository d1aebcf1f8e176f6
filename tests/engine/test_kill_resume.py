"""kill -9 in the middle of a run, then --resume: every pair exactly once."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from tests.engine.util import count_lines as _lines, write_jsonl


def test_kill_9_then_resume_grades_every_pair_once(tmp_path, rubric_dir):
    n = 20000
    src = write_jsonl(tmp_path / "big.jsonl", n)
    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "grader", "grade", str(src), "-r", str(rubric_dir), "-o", str(run), "--quiet"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    results = run / "results.jsonl"
    deadline = time.monotonic() + 120
    while _lines(results) < 3000 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert proc.poll() is None, "the run finished before it could be killed: make the input larger"
    os.killpg(proc.pid, signal.SIGKILL)  # the grader and its check workers
    proc.wait()
    partial = _lines(results)
    assert 0 < partial < 3 * n

    done = subprocess.run(cmd + ["--resume"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    rows = [json.loads(x) for x in results.read_text().splitlines()]
    pairs = Counter((r["transcript_id"], r["principle_id"]) for r in rows)
    assert len(pairs) == 3 * n
    assert set(pairs.values()) == {1}
    manifest = json.loads((run / "run.json").read_text())
    assert manifest["status"] == "complete" and len(manifest["resumed_at"]) == 1
    assert manifest["counts"]["pairs"] == 3 * n
    perm = Counter(r["outcome"] for r in rows if r["principle_id"] == "P-perm")
    assert perm == {"violation": n // 3, "compliant": n - n // 3}  # every third answer has chmod 777
    assert manifest["counts"]["by_principle"]["P-perm"] == {"violation": n // 3, "compliant": n - n // 3}
