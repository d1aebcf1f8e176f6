"""Deterministic checks. See :mod:`grader.checks.registry` for the kinds."""
from .kinds.base import Check, CheckResult, Hit
from .kinds.context import TranscriptContext
from .registry import BUILTIN_KINDS, build, kinds

__all__ = ["BUILTIN_KINDS", "Check", "CheckResult", "Hit", "TranscriptContext", "build", "kinds"]
