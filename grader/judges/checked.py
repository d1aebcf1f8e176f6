"""Wrapping a caller's :class:`~grader.Judge` so that what it returns always makes valid findings.

A harness that plugs in its own model client implements the four members of the Judge
protocol; it should not also have to know every key of the finding's ``judge`` object.
:class:`CheckedJudge` fills the keys it leaves out (``model`` = the judge's ``spec``,
``samples`` 1, ``votes`` [verdict], tokens 0, ``cost_usd`` None, ``cached`` False), turns an
outcome outside the contract (or a verdict that also carries an error) into an ``error``
outcome (never a grade), and turns a
:class:`~grader.errors.GraderError` raised by ``grade`` into per-principle errors. Any other
exception is a bug in the judge and propagates.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Mapping, Sequence

from ..errors import GraderError
from .base import VERDICTS, Judge, JudgeOutcome
from ..run.folder import Evidence
from ..rubric import Principle
from ..transcripts.model import Transcript

INFO_KEYS = ("model", "samples", "votes", "input_tokens", "output_tokens", "cost_usd", "cached")


class CheckedJudge:
    """A Judge that delegates to ``inner`` and normalises its outcomes (see the module docstring)."""

    def __init__(self, inner: Judge):
        self.inner = inner
        self.spec = str(getattr(inner, "spec", type(inner).__name__))

    def _info(self, outcome: JudgeOutcome) -> dict[str, Any]:
        info = dict(outcome.info)
        votes = [outcome.outcome] if outcome.outcome in VERDICTS or outcome.outcome == "error" else ["error"]
        defaults: dict[str, Any] = {"model": self.spec, "samples": 1, "votes": votes, "input_tokens": 0,
                                    "output_tokens": 0, "cost_usd": None, "cached": False}
        for k in INFO_KEYS:
            info.setdefault(k, defaults[k])
        return info

    def _check(self, pid: str, outcome: Any) -> JudgeOutcome:
        if not isinstance(outcome, JudgeOutcome):
            return JudgeOutcome("error", error=f"the judge returned {type(outcome).__name__} for {pid}, "
                                               "not a JudgeOutcome", info=self._info(JudgeOutcome("error")))
        if outcome.outcome not in VERDICTS and outcome.outcome != "error":
            bad = JudgeOutcome("error", error=f"the judge returned outcome {outcome.outcome!r} for {pid}; "
                                              f"expected one of {', '.join(VERDICTS)} or error")
            return replace(bad, info=self._info(bad))
        if outcome.outcome == "error" and not outcome.error:
            outcome = replace(outcome, error="the judge reported an error without a reason")
        if outcome.outcome in VERDICTS and outcome.error:  # a verdict that says it failed is not a grade
            failed = JudgeOutcome("error", error=f"the judge returned {outcome.outcome!r} for {pid} together "
                                                 f"with an error: {outcome.error}")
            return replace(failed, info=self._info(failed))
        if any(not isinstance(e, Evidence) for e in outcome.evidence):
            return JudgeOutcome("error", error=f"the judge returned evidence for {pid} that is not grader.Evidence",
                                info=self._info(JudgeOutcome("error")))
        return replace(outcome, info=self._info(outcome))

    async def grade(self, transcript: Transcript, principles: Sequence[Principle]) -> Mapping[str, JudgeOutcome]:
        try:
            got = await self.inner.grade(transcript, principles)
        except GraderError as e:
            failed = JudgeOutcome("error", error=str(e))
            return {p.id: replace(failed, info=self._info(failed)) for p in principles}
        out: dict[str, JudgeOutcome] = {}
        for p in principles:
            if p.id in got:
                out[p.id] = self._check(p.id, got[p.id])
            else:
                missing = JudgeOutcome("error", error=f"the judge returned no verdict for {p.id}")
                out[p.id] = replace(missing, info=self._info(missing))
        return out

    def settings(self) -> Mapping[str, Any]:
        return self.inner.settings()

    def usage(self) -> Mapping[str, Any]:
        return self.inner.usage()

    async def aclose(self) -> None:
        await self.inner.aclose()
