"""Transcript model and loaders: one table of formats (``table``: OpenAI, Anthropic, Inspect AI
logs, Claude Code sessions, ShareGPT, preference data, Responses items, plain text, plug-ins),
compressed inputs, nested conversations (``selector``)."""
from .load import FORMATS, iter_inputs, load_transcripts
from .model import Message, Source, ToolCall, Transcript

__all__ = ["FORMATS", "Message", "Source", "ToolCall", "Transcript", "iter_inputs", "load_transcripts"]
