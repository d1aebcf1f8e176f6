"""constitution-grader: check AI transcripts against a constitution."""
__version__ = "0.1.0"
