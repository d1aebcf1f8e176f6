"""A killed or interrupted run leaves no processes behind (issue 15).

Each test starts a real run large enough to use the check-worker pool, in its own session
(so its process group id is the grader's pid), records the processes of that group from
/proc before the signal, and afterwards looks those pids up again: never by name.
A zombie (state Z) has exited and holds nothing but its pid entry until whoever adopted
it reaps it, so it counts as gone.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.engine.util import count_lines as _lines, write_jsonl

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")

N = 20000
WAIT = 60.0  # bound on every wait (a loaded CI machine is slow; a leak is forever)


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, ppid, pgid) of a live or zombie process, None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = text[text.rindex(")") + 2:].split()
    return fields[0], int(fields[1]), int(fields[2])


def _group(pgid: int) -> dict[int, tuple[str, int, int]]:
    out = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            st = _stat(int(entry))
            if st is not None and st[2] == pgid:
                out[int(entry)] = st
    return out


def _running(pids) -> list[int]:
    return [p for p in pids if (st := _stat(p)) is not None and st[0] != "Z"]


def _start(tmp_path: Path, rubric_dir: Path) -> tuple[subprocess.Popen, list[str], Path, list[int]]:
    src = write_jsonl(tmp_path / "big.jsonl", N)
    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "grader", "grade", str(src), "-r", str(rubric_dir), "-o", str(run),
           "--quiet", "--workers", "2"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    deadline = time.monotonic() + WAIT
    workers: list[int] = []
    # past the in-process start (256 transcripts), with both workers alive
    while proc.poll() is None and time.monotonic() < deadline:
        workers = [pid for pid, (_, ppid, _) in _group(proc.pid).items() if ppid == proc.pid]
        if len(workers) >= 2 and _lines(run / "results.jsonl") >= 3 * 1000:
            break
        time.sleep(0.01)
    assert proc.poll() is None, "the run finished before it could be stopped: make the input larger"
    assert len(workers) == 2, f"expected 2 check workers, found {workers}"
    return proc, cmd, run, workers


def _wait_gone(pids: list[int]) -> list[int]:
    deadline = time.monotonic() + WAIT
    while _running(pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    return _running(pids)


def _resume_completes(cmd: list[str], run: Path) -> None:
    done = subprocess.run(cmd + ["--resume"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    rows = [json.loads(x) for x in (run / "results.jsonl").read_text().splitlines()]
    pairs = Counter((r["transcript_id"], r["principle_id"]) for r in rows)
    assert len(pairs) == 3 * N and set(pairs.values()) == {1}
    manifest = json.loads((run / "run.json").read_text())
    assert manifest["status"] == "complete" and len(manifest["resumed_at"]) == 1
    assert manifest["counts"]["pairs"] == 3 * N
    assert manifest["counts"]["by_principle"]["P-perm"] == {"violation": N // 3, "compliant": N - N // 3}


def test_sigkill_of_the_grader_takes_its_workers_with_it(tmp_path, rubric_dir):
    proc, _, run, workers = _start(tmp_path, rubric_dir)
    members = list(_group(proc.pid))
    os.kill(proc.pid, signal.SIGKILL)  # the grader only, as the OOM killer does
    proc.wait()
    assert _wait_gone(members) == []
    assert json.loads((run / "run.json").read_text())["status"] == "running"  # nobody could mark it


@pytest.mark.parametrize("sig, to_group, code", [
    (signal.SIGTERM, False, 143),  # `kill PID`
    (signal.SIGTERM, True, 143),   # a scheduler stopping the whole job
    (signal.SIGINT, True, 130),    # Ctrl-C in a terminal reaches the whole foreground group
])
def test_sigterm_and_sigint_stop_the_run_cleanly_and_resume_finishes_it(tmp_path, rubric_dir, sig, to_group, code):
    proc, cmd, run, workers = _start(tmp_path, rubric_dir)
    members = list(_group(proc.pid))
    (os.killpg if to_group else os.kill)(proc.pid, sig)
    try:
        out, err = proc.communicate(timeout=WAIT)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == code, err
    # the grader reaped its workers before it exited: nothing of the run is left, not even zombies
    assert [p for p in members if _stat(p) is not None] == []
    name = signal.Signals(sig).name
    assert err == (f"interrupted by {name}: run stopped; the findings so far are in {run}; continue with "
                   f"the same command and --resume -o {run}\n")
    manifest = json.loads((run / "run.json").read_text())
    written = _lines(run / "results.jsonl")
    assert manifest["status"] == "interrupted" and manifest["ended_at"]
    assert 0 < written < 3 * N and manifest["counts"]["pairs"] == written  # counts match what was flushed
    _resume_completes(cmd, run)


WATCHED = textwrap.dedent("""
    import multiprocessing, os, sys, time
    from grader.grading import workerguard

    def worker(grader_pid):
        workerguard._set_pdeathsig = lambda: False  # only the portable watcher is left
        workerguard.guard_worker(grader_pid)
        while True:
            time.sleep(1)

    if __name__ == "__main__":
        child = multiprocessing.get_context(sys.argv[1]).Process(target=worker, args=(os.getpid(),))
        child.start()
        print(child.pid, flush=True)
        time.sleep(600)
""")


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_the_watcher_alone_ends_a_worker_whose_grader_died(tmp_path, method):
    """Where prctl is missing (not Linux) the watcher thread is the guard: tested with it alone."""
    script = tmp_path / "watched.py"
    script.write_text(WATCHED)
    proc = subprocess.Popen([sys.executable, str(script), method], stdout=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        child = int(proc.stdout.readline())
        assert _running([child]) == [child]
        time.sleep(1.0)  # let the worker's guard start
        assert _running([child]) == [child]  # a live parent keeps it alive
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert _wait_gone([child]) == []
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)


class _StallingJudge:
    """Answers the first ``answer`` transcripts at once, then never answers (a hung provider)."""

    spec = "stall:test"

    def __init__(self, answer: int):
        self.answer = answer
        self.asked: list[str] = []
        self.stalled = 0

    async def grade(self, transcript, principles):  # type: ignore[no-untyped-def]
        import asyncio

        from grader.judges.base import JudgeOutcome

        self.asked.append(transcript.id)
        if len(self.asked) > self.answer:
            self.stalled += 1
            await asyncio.Event().wait()
        return {p.id: JudgeOutcome("compliant", rationale="ok") for p in principles}

    def settings(self):  # type: ignore[no-untyped-def]
        return {"spec": self.spec, "concurrency": 4}

    def usage(self):  # type: ignore[no-untyped-def]
        return {}

    async def aclose(self) -> None:
        return None


def test_cancelling_a_judge_run_drops_calls_in_flight_and_marks_the_run(tmp_path, rubric_dir):
    """The judge path of an interruption (what SIGINT/SIGTERM do through grader.grading.runstop):
    calls in flight are cancelled, nothing half-written, run.json interrupted, resume finishes."""
    import asyncio

    from grader.grading.engine import Engine
    from grader.grading.settings import RunSettings
    from grader.rubric import load_rubrics

    n = 40
    src = write_jsonl(tmp_path / "in.jsonl", n)
    run = tmp_path / "run"
    rubrics = load_rubrics([rubric_dir])
    judge = _StallingJudge(answer=10)

    async def interrupt() -> None:
        task = asyncio.ensure_future(Engine(rubrics, judge).arun([src], run))
        while judge.stalled < 8:  # the in-flight bound (2 x concurrency) is full of stalled calls
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []

    asyncio.run(interrupt())
    rows = [json.loads(x) for x in (run / "results.jsonl").read_text().splitlines()]
    assert len(rows) == 3 * 10  # the ten answered transcripts, each pair whole
    manifest = json.loads((run / "run.json").read_text())
    assert manifest["status"] == "interrupted" and manifest["counts"]["pairs"] == 30

    summary = Engine(rubrics, _StallingJudge(answer=n), RunSettings(resume=True)).run([src], run)
    rows = [json.loads(x) for x in (run / "results.jsonl").read_text().splitlines()]
    assert summary.exit_code == 0 and len(rows) == 3 * n
    assert len({(r["transcript_id"], r["principle_id"]) for r in rows}) == 3 * n
    assert json.loads((run / "run.json").read_text())["status"] == "complete"
