"""Benchmark: the time of a judge run under faults, and its retry accounting.

7 short transcripts x the shipped rubric's 20 principles, ``--judge-mode per-principle``,
``--concurrency 8``, against a fake OpenAI-compatible server (its own process) that answers
every request 429 with ``Retry-After: 1``, then 500, then 503, then properly; about one answer
in 7 is malformed JSON once and one in 5 off the contract (re-asked, and the re-ask meets the
same faults). The default retry policy; wall time, requests, retries and seconds waited.
``--outage`` instead answers every request 503: the time until every pair is an ``error``.

    python bench/judge_faults.py [--transcripts 7] [--concurrency 8] [--repeat 3]
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from grader.grading.engine import Engine
from grader.judges import make_judge
from grader.rubric import load_rubrics
from grader.testing.corpus import machine


def _serve(port_q: Any, stop: Any, outage: bool) -> None:
    from grader.testing.fake_server import FakeServer
    from grader.testing.faults import FAULTS, FaultMix

    handler = FaultMix(faults=FAULTS[2:] * 1000) if outage else FaultMix()
    with FakeServer(handler, "/v1") as srv:
        port_q.put(srv.port)
        stop.wait()


def start_server(outage: bool) -> tuple[str, Any, Any]:
    ctx = mp.get_context("spawn")
    q, stop = ctx.Queue(), ctx.Event()
    proc = ctx.Process(target=_serve, args=(q, stop, outage), daemon=True)
    proc.start()
    return f"http://127.0.0.1:{q.get(timeout=60)}/v1", proc, stop


def corpus(path: Path, n: int) -> Path:
    rows = [{"id": f"t{i}", "messages": [
        {"role": "user", "content": f"Task {i}: run the tests and tell me the result."},
        {"role": "assistant", "content": "2 tests failed; I left them as they were and listed them above."}]}
        for i in range(n)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def one_run(url: str, data: Path, run_dir: Path, concurrency: int) -> tuple[float, Any]:
    judge = make_judge("openai:faults", base_url=url, concurrency=concurrency, cache=False)
    wall = time.perf_counter()
    summary = Engine(load_rubrics(None), judge).run([str(data)], run_dir)
    return time.perf_counter() - wall, summary


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--transcripts", type=int, default=7)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--outage", action="store_true", help="every request answered 503: how long until every pair is an error")
    args = ap.parse_args()
    load = os.getloadavg()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        data = corpus(Path(tmp) / "t.jsonl", args.transcripts)
        for i in range(args.repeat):
            url, proc, stop = start_server(args.outage)  # a fresh server: every request meets the faults again
            try:
                rows.append(one_run(url, data, Path(tmp) / f"run{i}", args.concurrency))
            finally:
                stop.set()
                proc.join(10)
    walls = [w for w, _ in rows]
    s = rows[0][1]
    u = s.usage
    print(f"machine: {machine()}; load average before the runs {load[0]:.1f}")
    print(f"{args.transcripts} transcripts x 20 principles per-principle, --concurrency {args.concurrency}, "
          f"{args.repeat} run(s): {statistics.median(walls):.1f} s median ({min(walls):.1f}-{max(walls):.1f} s)")
    print(f"outcomes {dict(s.outcomes)}; {u['requests']} requests, {u['retries']} retries, "
          f"{u.get('retry_wait_s', 0):.0f} s of retry waits in all (overlapping), {u['reasks']} re-asks, "
          f"{u.get('retries_refused', 0)} retries refused by the run's retry budget")


if __name__ == "__main__":
    main()
