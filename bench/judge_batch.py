"""Benchmark: batch mode against interactive mode on the same inputs — requests sent and
estimated cost (the shipped price table; batch prices for --batch).

A fake server (grader.testing) answers every request ``compliant``, counting ~4 characters
a token of what was sent; in batch mode the same answers come through the fake OpenAI or
Anthropic batch endpoints. Each mode starts from an empty cache; a batch re-run then shows
that cached pairs are never submitted.

    python bench/judge_batch.py [PATH ...] [--provider openai|anthropic] [--model M] [--judge-mode MODE]
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from grader.cli import cli
from grader.testing.corpus import machine
from grader.testing.fake_batches import FakeBatches
from grader.testing.fake_server import FakeServer, Reply, Request, anthropic_body, openai_body

MODELS = {"openai": "gpt-4.1-mini", "anthropic": "claude-haiku-4-5"}
ONE = {"verdict": "compliant", "confidence": 0.9, "rationale": "No sign of a violation.", "evidence": []}


def answer(req: Request) -> Reply:
    body = req.json or {}
    text = req.text()
    if "response_format" in body:  # OpenAI
        batched = body["response_format"]["json_schema"]["name"] == "verdicts"
    else:
        batched = "verdicts" in json.dumps(body.get("tools", [{}])[0].get("input_schema", {}))
    if batched:
        ids = text.split("in this order: ")[-1].split(". Quote")[0].split(", ")
        obj: Any = {"verdicts": [{"principle_id": i, **ONE} for i in ids]}
    else:
        obj = ONE
    tokens_in, tokens_out = (len(text) + 3) // 4, (len(json.dumps(obj)) + 3) // 4
    if "response_format" in body:
        return Reply(200, openai_body(json.dumps(obj), prompt_tokens=tokens_in, completion_tokens=tokens_out))
    return Reply(200, anthropic_body(obj, input_tokens=tokens_in, output_tokens=tokens_out))


def run(args: argparse.Namespace, srv_url: str, out: Path, batch: bool) -> dict[str, Any]:
    url = srv_url + "/v1" if args.provider == "openai" else srv_url
    cmd = ["grade", *args.paths, "--judge", f"{args.provider}:{args.model}", "--base-url", url,
           "--judge-mode", args.judge_mode, "-q", "-o", str(out)]
    if batch:
        cmd += ["--batch", "--batch-poll", "0"]
    res = CliRunner().invoke(cli, cmd)
    if res.exit_code not in (0, 3):
        raise SystemExit(res.output)
    return json.loads((out / "run.json").read_text())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paths", nargs="*", default=["transcripts"])
    ap.add_argument("--provider", choices=sorted(MODELS), default="openai")
    ap.add_argument("--model", default=None)
    ap.add_argument("--judge-mode", default="per-principle", choices=["per-principle", "batched"])
    args = ap.parse_args()
    args.model = args.model or MODELS[args.provider]
    os.environ.setdefault("OPENAI_API_KEY", "sk-bench")
    os.environ.setdefault("ANTHROPIC_API_KEY", "sk-bench")
    fake = FakeBatches(answer)
    rows = []
    with tempfile.TemporaryDirectory() as tmp, FakeServer(fake) as srv:
        fake.url = srv.url
        for name, batch, cache in (("interactive", False, "c1"), ("batch", True, "c2"), ("batch, re-run", True, "c2")):
            os.environ["GRADER_CACHE_DIR"] = str(Path(tmp) / cache)
            before = len(fake.created)
            m = run(args, srv.url, Path(tmp) / name.replace(", ", "-"), batch)
            u, b = m["usage"], m.get("batch") or {}
            sent = sum(len(fake.batches[x].requests) for x in fake.created[before:])
            rows.append((name, m["counts"]["pairs"], u.get("requests", 0), u.get("cache_hits", 0),
                         len(fake.created) - before, sent, u.get("input_tokens", 0), u.get("output_tokens", 0),
                         u.get("cost_usd", 0.0)))
    print(f"machine: {machine()}")
    print(f"inputs {' '.join(args.paths)}; judge {args.provider}:{args.model}, {args.judge_mode}; shipped rubric")
    print("mode            pairs  requests  cache hits  batches  batched requests  input tokens  output tokens  est. cost")
    for r in rows:
        print(f"{r[0]:<15} {r[1]:>5}  {r[2]:>8}  {r[3]:>10}  {r[4]:>7}  {r[5]:>16}  {r[6]:>12}  {r[7]:>13}  ${r[8]:.4f}")
    if rows[0][8]:
        print(f"batch cost / interactive cost: {rows[1][8] / rows[0][8]:.2f}")


if __name__ == "__main__":
    main()
