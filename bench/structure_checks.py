"""Benchmark: the structure-reading checks (tool_call with each detector, claim_vs_action,
judge_tampering) over synthetic agentic conversations, single process.

Each conversation has 3-8 tool calls drawn from a pool of realistic shell commands, editor
edits, patches and Python runs, with results (some failing pytest / pip output) and a final
answer; a share are plain chats without tools (the common case in big runs). Prints
transcripts per CPU second and the projected CPU time for 20,000 conversations.

Usage: python bench/structure_checks.py [--n 4000] [--chat-share 0.5] [--seed 1]
"""
from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path


from grader.checks import TranscriptContext, build
from grader.rubric import CheckSpec
from grader.transcripts.model import Transcript

SHELL = [
    "cd /srv/app && git status && git log --oneline -5",
    "pytest -q tests/ || true",
    "pip install -r requirements.txt",
    "grep -rn 'TODO' src/ | head -20",
    "rm -rf node_modules build && npm ci && npm run build",
    "cat config/app.yaml; sed -i 's/timeout: 30/timeout: 60/' config/app.yaml",
    "systemctl status nginx; journalctl -u nginx --since today | tail -50",
    "aws s3 cp reports/q3.csv s3://team-reports/q3.csv",
    "docker build -t app:dev . && docker run --rm app:dev pytest",
    "find . -name '*.pyc' -delete && python -m compileall -q src",
    "cat > notes.md <<'EOF'\n# Notes\n- investigated the timeout\n- raised it to 60s\nEOF",
    "export LOG_LEVEL=debug && python manage.py migrate && python manage.py test",
]
RESULTS = ["ok", "12 passed in 0.41s", "....F.\n1 failed, 5 passed in 0.3s", "Successfully installed requests-2.32.3",
           "ERROR: Could not find a version that satisfies the requirement foo==9", "On branch main\nnothing to commit",
           "Traceback (most recent call last):\n  File \"x.py\", line 2\nKeyError: 'x'", ""]
FINALS = ["Done. All tests pass.", "I raised the timeout in config/app.yaml to 60s; 1 test still fails.",
          "The install failed because foo==9 does not exist.", "Finished: the build is green and notes are in notes.md.",
          "I didn't modify any config files."]


def _call(rng: random.Random, n: int) -> dict:
    kind = rng.random()
    if kind < 0.6:
        fn = {"name": "bash", "arguments": json.dumps({"command": rng.choice(SHELL)})}
    elif kind < 0.8:
        fn = {"name": "str_replace_based_edit_tool", "arguments": json.dumps(
            {"command": "str_replace", "path": rng.choice(["src/api.py", "tests/test_api.py", "config/app.yaml"]),
             "old_str": "def total(xs):\n    return sum(xs) + 1\n", "new_str": "def total(xs):\n    return sum(xs)\n"})}
    elif kind < 0.9:
        fn = {"name": "apply_patch", "arguments": json.dumps({"input": "*** Begin Patch\n*** Update File: src/a.py\n"
                                                                        "@@\n-    x = 1\n+    x = 2\n*** End Patch"})}
    else:
        fn = {"name": "python", "arguments": json.dumps({"code": "import os\nprint(os.listdir('.'))\n"})}
    return {"id": f"c{n}", "type": "function", "function": fn}


def conversation(i: int, rng: random.Random, chat_share: float) -> Transcript:
    msgs: list[dict] = [{"role": "system", "content": "You are a coding agent."},
                        {"role": "user", "content": "Fix the failing job and tell me what you changed."}]
    if rng.random() >= chat_share:
        for n in range(rng.randint(3, 8)):
            c = _call(rng, n)
            msgs.append({"role": "assistant", "content": "Let me check." if n % 2 else None, "tool_calls": [c]})
            msgs.append({"role": "tool", "tool_call_id": c["id"], "content": rng.choice(RESULTS)})
    msgs.append({"role": "assistant", "content": rng.choice(FINALS) + " " + "Details follow. " * rng.randint(1, 30)})
    return Transcript.from_openai(msgs, id=f"b{i}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=4000)
    ap.add_argument("--chat-share", type=float, default=0.5)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    ts = [conversation(i, rng, a.chat_share) for i in range(a.n)]
    specs = [CheckSpec(d, "tool_call", {"detector": d})
             for d in ("oversight", "exfiltration", "privilege", "reward_hacking", "destructive")]
    specs += [CheckSpec("claims", "claim_vs_action", {}), CheckSpec("tamper", "judge_tampering", {})]
    checks = [build(s) for s in specs]
    fired = 0
    t0 = time.process_time()  # CPU time: the machine is shared, wall time is noisy
    for t in ts:
        ctx = TranscriptContext(t)
        for c in checks:
            fired += c.run(t, ctx).fired
    dt = time.process_time() - t0
    print(f"{a.n} transcripts ({a.chat_share:.0%} without tools) x {len(checks)} checks: {dt:.2f} s CPU, "
          f"{a.n / dt:.0f} transcripts/s, {fired} fired; projected 20,000: {20000 * dt / a.n:.1f} s (1 core)")


if __name__ == "__main__":
    main()
