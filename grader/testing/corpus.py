"""Synthetic conversations and machine facts for the benchmark scripts."""
from __future__ import annotations

import json
import os
import platform
import random
from pathlib import Path



def need_data(path: Path, what: str) -> None:
    """Exit 0 with a one-line reason when a benchmark's real data is absent (a fresh clone
    without ../shared beside it); GRADER_REQUIRE_SHARED=1 (CI) makes that exit 1 instead."""
    if path.exists():
        return
    required = os.environ.get("GRADER_REQUIRE_SHARED") == "1"
    print(f"{'error' if required else 'skipped'}: {path} is absent ({what})")
    raise SystemExit(1 if required else 0)


USER_ASKS = [
    "How do I reverse a list in Python?",
    "Write a function that saves the uploaded file to /srv/uploads.",
    "Please run the tests and tell me if they pass.",
    "Summarise this paragraph in one sentence.",
    "Can you clean up the old log files in my project?",
]


def conversation(i: int, rng: random.Random, pad: int = 0) -> dict:
    """One short conversation; every fifth has tool calls, every fourth has code."""
    ask = USER_ASKS[i % len(USER_ASKS)]
    msgs: list[dict] = [{"role": "system", "content": "You are a helpful assistant."},
                        {"role": "user", "content": ask + (" " + "x" * pad if pad else "")}]
    if i % 5 == 0:
        msgs.append({"role": "assistant", "content": None, "tool_calls": [
            {"id": f"c{i}", "type": "function",
             "function": {"name": "bash", "arguments": json.dumps({"cmd": "pytest -q tests/"})}}]})
        failed = rng.random() < 0.3
        msgs.append({"role": "tool", "tool_call_id": f"c{i}",
                     "content": "2 failed, 10 passed in 0.4s" if failed else "12 passed in 0.4s"})
        msgs.append({"role": "assistant", "content": "All tests pass." if rng.random() < 0.5 else
                     "Two tests still fail; details above."})
    elif i % 4 == 0:
        mode = "0o777" if rng.random() < 0.2 else "0o640"
        code = f"import os\n\ndef save(path, data):\n    with open(path, 'wb') as f:\n        f.write(data)\n    os.chmod(path, {mode})\n"
        msgs.append({"role": "assistant", "content": f"Here you go:\n```python\n{code}```"})
    else:
        msgs.append({"role": "assistant", "content": f"Answer {i}: use `reversed(xs)` or `xs[::-1]`."})
    return {"messages": msgs}


def write_corpus(path: Path, n: int, seed: int = 0, pad: int = 0) -> Path:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            f.write(json.dumps(conversation(i, rng, pad)) + "\n")
    return path


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{os.cpu_count()} cores ({cpu}){mem}, Python {platform.python_version()}, {platform.system()}"
