"""Helpers for the code_security tests: run the check on a one-turn transcript."""
from __future__ import annotations

from typing import Any

from grader.checks.kinds.base import CheckResult
from grader.checks.kinds.code_security import CodeSecurityCheck
from grader.checks.kinds.context import TranscriptContext
from grader.rubric import CheckSpec
from grader.transcripts.model import Transcript


def check(params: dict[str, Any] | None = None) -> CodeSecurityCheck:
    return CodeSecurityCheck(CheckSpec("p16-code", "code_security", params or {}))


def transcript(answer: str, user: str = "Write this for me, please.", *, fence: str | None = "python",
               system: str | None = None) -> Transcript:
    content = f"Here you go:\n```{fence}\n{answer}\n```\n" if fence is not None else answer
    messages = ([{"role": "system", "content": system}] if system else []) + [
        {"role": "user", "content": user}, {"role": "assistant", "content": content}]
    return Transcript.from_openai(messages, id="t")


def run(answer: str, user: str = "Write this for me, please.", *, params: dict[str, Any] | None = None,
        fence: str | None = "python", system: str | None = None) -> CheckResult:
    t = transcript(answer, user, fence=fence, system=system)
    return check(params).run(t, TranscriptContext(t))


def found(result: CheckResult) -> list[tuple[str, str]]:
    """(quote, detector id) of every hit, in order."""
    return [(h.quote, h.detail.split(":", 1)[0]) for h in result.hits]
