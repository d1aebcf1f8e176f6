"""Reading the README's fenced blocks: console commands with their shown output, Python
blocks and YAML blocks."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

FENCE = re.compile(r"^```([A-Za-z0-9_+-]*)[^\n]*\n(.*?)^```[ \t]*$", re.DOTALL | re.MULTILINE)
VOLATILE = [
    (re.compile(r"\d{8}T\d{6}Z-[0-9a-f]{6}"), "<run-id>"),
    (re.compile(r"run-\d{8}-\d{6}"), "run-<time>"),
    (re.compile(r"\d+(\.\d+)? ?(s|ms)\b"), "<time>"),
    (re.compile(r"/tmp/[^\s'\"]+"), "<tmp>"),
]


@dataclass
class Command:
    line: int  # README line of the command
    text: str
    expected: list[str] = field(default_factory=list)
    exit_code: int = 0


@dataclass
class Block:
    lang: str
    line: int
    body: str
    commands: list[Command] = field(default_factory=list)


def normalise(text: str) -> str:
    for pattern, repl in VOLATILE:
        text = pattern.sub(repl, text)
    return " ".join(text.split())


def _commands(body: str, first_line: int) -> list[Command]:
    out: list[Command] = []
    lines = body.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("$ "):
            text, start = line[2:], i
            while text.endswith("\\") and i + 1 < len(lines):
                i += 1
                text = text[:-1] + " " + lines[i].strip()
            m = re.search(r"#\s*exit (\d+)\s*$", text)
            cmd = Command(first_line + start, text, exit_code=int(m.group(1)) if m else 0)
            out.append(cmd)
        elif out and line.strip() and line.strip() != "...":
            out[-1].expected.append(line)
        i += 1
    return out


def blocks(readme: Path) -> list[Block]:
    text = readme.read_text(encoding="utf-8")
    found = []
    for m in FENCE.finditer(text):
        line = text.count("\n", 0, m.start()) + 2  # first line inside the fence
        b = Block(m.group(1), line, m.group(2))
        if b.lang == "console":
            b.commands = _commands(b.body, line)
        found.append(b)
    return found
