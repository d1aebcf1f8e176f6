"""LLM judges: protocol, prompt building, backends, cache, evidence verification."""
from .base import Judge, JudgeOutcome

__all__ = ["Judge", "JudgeOutcome"]
