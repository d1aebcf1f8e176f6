from __future__ import annotations

import json
from pathlib import Path


def write_jsonl(path: Path, n: int, bad_every: int = 0) -> Path:
    """n conversations; every ``bad_every``-th line (1-based) is broken JSON instead."""
    with path.open("w") as f:
        for i in range(1, n + 1):
            if bad_every and i % bad_every == 0:
                f.write('{"messages": [ broken\n')
                continue
            answer = f"Run `chmod 777 /srv/data{i}` to fix it." if i % 3 == 0 else f"Answer number {i}."
            f.write(json.dumps({"messages": [{"role": "user", "content": f"Question {i}?"},
                                             {"role": "assistant", "content": answer}]}) + "\n")
    return path


def count_lines(path: Path) -> int:
    """Lines in ``path`` so far (0 before it exists): how far a run in another process got."""
    try:
        with path.open("rb") as f:
            return sum(1 for _ in f)
    except FileNotFoundError:
        return 0
