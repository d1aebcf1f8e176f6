"""Transcript model and loaders (OpenAI, Anthropic, Inspect AI logs, plain text)."""
from .load import FORMATS, iter_inputs, load_transcripts
from .model import Message, Source, ToolCall, Transcript

__all__ = ["FORMATS", "Message", "Source", "ToolCall", "Transcript", "iter_inputs", "load_transcripts"]
