"""What each tool result says: which kind of step it was (tests, install, build, deploy,
migration, other) and whether it failed, with the line that shows it.

The kind comes from the call that produced the result (its shell command or tool name),
else from the output itself (pytest/unittest/jest summaries, pip output). A failure is a
result marked ``is_error``, or output with a failure signature: ``2 failed``, ``FAILED``,
``KeyError: ...``, ``npm ERR!``, ``ERROR: Could not``, ``error:``,
``fatal:``, ``command not found``, ``exit code 1`` ... ("0 failed" is not a failure).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from typing import Any

from ...transcripts.model import Message, ToolCall, Transcript
from .actions import actions_of, iter_results, leaves

CATEGORIES = ("tests", "install", "build", "deploy", "migration", "other")
_KIND_BY_COMMAND = (
    ("tests", re.compile(r"\b(pytest|py\.test|-m\s+unittest|nose2?|tox|nox|(npm|pnpm|yarn|bun)\s+(run\s+)?test|jest|vitest|"
                         r"mocha|go\s+test|cargo\s+test|mvn\s+(\S+\s+)*test|gradlew?\s+test|make\s+(check|test)|rspec|"
                         r"phpunit|ctest|dotnet\s+test|run_tests?|manage\.py\s+test)\b", re.I)),
    ("install", re.compile(r"\b(pip3?\s+install|python[\d.]*\s+-m\s+pip\s+install|uv\s+(pip\s+install|add|sync)|"
                           r"(npm|pnpm)\s+(install|i|ci|add)|yarn(\s+(add|install))?$|apt(-get)?\s+install|brew\s+install|"
                           r"conda\s+install|poetry\s+(install|add)|cargo\s+(install|add)|go\s+(get|install)|gem\s+install|"
                           r"pipx\s+install|composer\s+(install|require)|bundle\s+install|install_packages?)\b", re.I)),
    ("migration", re.compile(r"\b(migrat\w*|alembic|flyway|liquibase|db:migrate)\b", re.I)),
    ("deploy", re.compile(r"\b(deploy\w*|kubectl\s+apply|helm\s+(install|upgrade)|terraform\s+apply|docker\s+push|"
                          r"fly\s+deploy|vercel|netlify)\b", re.I)),
    ("build", re.compile(r"\b(make|cmake|cargo\s+build|(npm|pnpm|yarn)\s+run\s+build|tsc|gradlew?\s+build|"
                         r"mvn\s+(package|compile|install)|go\s+build|docker\s+build|webpack|vite\s+build|build)\b", re.I)),
)
_KIND_BY_OUTPUT = (
    ("tests", re.compile(r"collected \d+ items?|=+ .*\b(passed|failed)\b.* in [\d.]+s|^Ran \d+ tests? in|^Tests?:\s+\d+|"
                         r"test result: |^(PASS|FAIL)\s+\S+\.(test|spec)\.", re.M)),
    ("install", re.compile(r"Successfully installed|Could not find a version|No matching distribution|npm ERR! code E|"
                           r"Requirement already satisfied|added \d+ packages?", re.I)),
)
# failure signatures, most informative first: the first that matches gives the quoted line
_FAILURES = tuple(re.compile(p, re.M) for p in (
    r"^FAILED\b", r"\b[1-9]\d* (failed|errors?)\b", r"test result: FAILED", r"\bTests?:\s+[1-9]\d* failed",
    r"^--- FAIL", r"^FAIL(:|\s)", r"ERROR: Could not", r"npm ERR!|^npm error", r"^E: ",
    r"^\w*(Error|Exception): ", r"^error(\[\w+\])?: ", r"^ERROR\b", r"\bfatal: ", r"^panic: ", r"Exception in thread",
    r"Traceback \(most recent call last\)", r"^=+ FAILURES =+", r"command not found", r"No such file or directory",
    r"Permission denied", r"(?i:\bexit(ed)?[_ ]?(code|status)[:=]? ?[1-9])", r"(?i:\breturn ?code[:=]? ?[1-9])",
    r"non-zero exit status", r"(?i:exited with (code|status) [1-9])",
    r"^make: \*\*\*", r"BUILD FAILED", r"^FAILURE:", r"Segmentation fault", r"ModuleNotFoundError|ImportError|SyntaxError",
    r"Killed$"))
_ANY_FAILURE = re.compile("|".join(f"(?:{p.pattern})" for p in _FAILURES), re.M)
# cheap substring prefilters (lower-cased text) so the regexes run only where they can match
_FAILURE_HINTS = ("fail", "error", "err!", "traceback", "exception", "fatal", "not found", "no such file",
                  "permission denied", "exit", "code", "*** ", "segmentation", "panic", "killed", "e: ")
_KIND_HINTS = {
    "tests": ("test", "tox", "nox", "jest", "mocha", "rspec", "phpunit", "nose"),
    "install": ("install", "add", "sync", "yarn", " i ", " ci", " get"),
    "migration": ("migrat", "alembic", "flyway", "liquibase"),
    "deploy": ("deploy", "apply", "helm", "push", "vercel", "netlify"),
    "build": ("make", "build", "tsc", "webpack", "mvn", "compile"),
}
_OUTPUT_HINTS = {
    "tests": ("passed", "failed", "ran ", "tests", "test result", "pass ", "fail ", "collected"),
    "install": ("install", "requirement", "could not find", "no matching", "npm err", "packages"),
}


def _hinted(low: str, hints: tuple[str, ...]) -> bool:
    return any(h in low for h in hints)
_READ_ONLY = {"ls", "cat", "grep", "rg", "find", "which", "head", "tail", "wc", "stat", "file", "echo", "pwd",
              "type", "du", "df", "env", "printenv", "ps", "less", "more", "tree", "whoami", "id", "test", "[",
              "true", "sed", "awk", "diff", "curl", "wget", "ping", "dig", "nslookup", "man", "history", "locate"}
_READ_TOOL = re.compile(r"read|view|list|search|get|fetch|find|open|browse|look|inspect|check|grep|cat\b|ls\b|show|query", re.I)


_NO_OP = re.compile(r"nothing to commit|nothing added to commit|no changes added to commit|Already up[ -]to[ -]date|"
                    r"Everything up-to-date|nothing to do\b", re.I)
_EXIT_ONLY = re.compile(r"(?i:exit|return ?code|non-zero|exited)")


@dataclass(frozen=True)
class ResultInfo:
    message: Message
    call: ToolCall | None
    category: str
    failed: bool
    quote: str  # the line showing the failure ('' when it did not fail)
    key: str  # what counts as "the same step" for re-runs (for category other)
    read_only: bool


def classify(message: Message, call: ToolCall | None, progs: list[str] | None = None) -> ResultInfo:
    """``progs``: the call's shell commands as ``program operand operand`` strings."""
    progs = progs or []
    text = " ; ".join(v for _, v in leaves(call))[:5000] if call is not None else ""
    subject = (call.name.replace("_", " ") + " " + text) if call is not None else ""
    category = "other"
    low_subject = subject.lower()
    for cat, pat in _KIND_BY_COMMAND:
        if _hinted(low_subject, _KIND_HINTS[cat]) and pat.search(subject):
            category = cat
            break
    head = message.content[:20000]
    low = head.lower()
    if category == "other":
        for cat, pat in _KIND_BY_OUTPUT:
            if _hinted(low, _OUTPUT_HINTS[cat]) and pat.search(head):
                category = cat
                break
    m = None
    if (_hinted(low, _FAILURE_HINTS) or len(message.content) > 20000) and _ANY_FAILURE.search(message.content):
        for pat in _FAILURES:
            m = pat.search(message.content)
            if m is not None:
                break
    failed = message.is_error or m is not None
    if failed and _NO_OP.search(head) and (m is None or _EXIT_ONLY.search(m.group(0))):
        failed = False  # "nothing to commit, working tree clean": a no-op, not a failed step
    quote = ""
    if m is not None:
        start = message.content.rfind("\n", 0, m.start()) + 1
        end = message.content.find("\n", m.end())
        line = message.content[start:end if end >= 0 else len(message.content)].strip()
        quote = line if len(line) <= 200 else m.group(0)
    elif failed:
        quote = next((ln.strip() for ln in message.content.splitlines() if ln.strip()), "")[:200]
    read_only = False
    if call is not None and category == "other":
        if progs:
            read_only = all(p.split(" ", 1)[0] in _READ_ONLY or p.startswith("git ") and p.split(" ")[1:2] in (
                ["status"], ["log"], ["diff"], ["show"], ["branch"]) for p in progs)
        else:
            read_only = bool(_READ_TOOL.search(call.name))
    key = category
    if category == "other":
        key = (call.name if call else "?") + ":" + (progs[0] if progs else "")
    return ResultInfo(message, call, category, failed, quote, key, read_only)


def result_infos(transcript: Transcript, ctx: Any = None) -> list[ResultInfo]:
    """Every tool result classified, in order (memoised on ``ctx`` when given)."""
    def compute() -> list[ResultInfo]:
        progs: dict[int, list[str]] = {}
        for c in actions_of(transcript, ctx).commands:
            ops = [a for a in c.cmd.args if not a.startswith("-")][:2]
            progs.setdefault(id(c.ref.call), []).append(" ".join([c.cmd.program] + ops))
        return [classify(m, call, progs.get(id(call)) if call is not None else None)
                for m, call in iter_results(transcript)]
    if ctx is not None:
        return ctx.memo("result_infos", compute)  # type: ignore[no-any-return]
    return compute()


def standing_failures(infos: list[ResultInfo], before: int) -> list[ResultInfo]:
    """Failed results before message ``before`` that no later result of the same kind
    (same category; for ``other``, the same tool and command) superseded by succeeding.
    Read-only exploration (``ls``, ``cat``, ``grep``, read tools) is left out."""
    last: dict[str, ResultInfo] = {}
    for info in infos:
        if info.message.index >= before:
            break
        if info.read_only:
            continue
        last[info.key] = info
    return [i for i in last.values() if i.failed and i.quote]
