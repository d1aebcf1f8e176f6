"""LLM judges: protocol, prompt building, backends, cache, evidence verification.

``make_judge("openai:gpt-4.1-mini")`` builds a judge from a spec string; ``ModelJudge``
runs any backend (OpenAI, Anthropic, or the scripted one used in tests).
"""
from .base import Judge, JudgeOutcome, JudgePending
from .factory import make_judge
from .settings import JudgeSettings
from .retry import RetryPolicy
from .runner import ModelJudge
from .scripted import ScriptedBackend

__all__ = ["Judge", "JudgeOutcome", "JudgePending", "JudgeSettings", "ModelJudge", "RetryPolicy", "ScriptedBackend", "make_judge"]
