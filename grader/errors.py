"""Typed errors raised by the library. The CLI turns them into one-line messages.

Library code raises these and never prints or exits; anything that is not a
GraderError is a bug and is allowed to propagate.
"""
from __future__ import annotations


class GraderError(Exception):
    """Base class of every error the library raises on purpose."""


class UsageError(GraderError):
    """The caller asked for something inconsistent (bad option value, bad tag, ...)."""


class InputError(GraderError):
    """One input (file, line, sample) could not be read as a transcript.

    ``path`` and ``locator`` say where; the message is one line. The engine records
    these in ``input_errors.jsonl`` and goes on with the rest of the run.
    """

    def __init__(self, path: str, locator: str | None, reason: str):
        self.path = str(path)
        self.locator = locator
        self.reason = " ".join(str(reason).split())
        where = f"{self.path}:{locator}" if locator else self.path
        super().__init__(f"{where}: {self.reason}")


class FormatPluginError(GraderError):
    """An installed ``grader.formats`` plug-in cannot be used (fails to import, is not a
    ``Format``, or clashes with another format's name). The message names the entry point."""


class SkippedInput(InputError):
    """A file a folder walk passed over (an extension no format reads, a Markdown file
    without turn markers): listed with the input errors (``kind: skipped``) so nothing is
    dropped silently, but not an error: it does not change the exit status or the counts."""


class MissingExtraError(GraderError):
    """An optional dependency (an extra such as ``inspect``) is needed but not installed."""

    def __init__(self, extra: str, package: str, what: str):
        self.extra = extra
        self.package = package
        super().__init__(
            f"{what} needs the '{extra}' extra ({package}): pip install 'constitution-grader[{extra}]'"
        )


class RubricError(GraderError):
    """A rubric or checklist file is invalid: names the file, the path inside it and what was expected."""

    def __init__(self, path: str, where: str, message: str):
        self.path = str(path)
        self.where = where
        self.detail = message
        super().__init__(f"{self.path}: at {where or '(top level)'}: {message}")


class CheckError(GraderError):
    """A deterministic check failed while running; the pair's outcome is ``error``."""


class UnknownCheckKindError(RubricError):
    """A rubric names a check kind that no built-in or entry-point check provides."""


class RunFolderError(GraderError):
    """A run folder is missing, unreadable, or does not match what was asked (e.g. --resume with other inputs)."""


class JudgeError(GraderError):
    """A judge could not produce a valid answer; the pair's outcome is ``error``."""


class JudgeConfigError(GraderError):
    """The judge is misconfigured: unknown spec, missing API key variable, bad base URL."""


class ProviderError(JudgeError):
    """The provider refused the request for a reason retrying cannot fix (400, 401, 403, 404)."""


class TransientProviderError(JudgeError):
    """The provider failed in a way a retry may fix (429/529 rate limit or overload, 5xx,
    timeout, connection error). The judge's retry layer retries it with backoff, honouring
    ``retry_after`` (seconds); once the attempts run out the pair's outcome is ``error``."""

    def __init__(self, message: str, retry_after: float | None = None, status: int | None = None):
        self.retry_after = retry_after
        self.status = status
        super().__init__(message)


class ChecklistError(GraderError):
    """A checklist file is invalid or refers to something the run does not have."""


class LabelsError(GraderError):
    """A human labels file is invalid (missing columns, unknown labels)."""


class RunInterrupted(GraderError):
    """A run was stopped by SIGINT (Ctrl-C) or SIGTERM. The findings written so far are kept,
    run.json says ``"status": "interrupted"`` and ``--resume`` continues the run. The CLI
    exits with 128 + the signal number (130, 143)."""

    def __init__(self, signum: int):
        import signal

        self.signum = int(signum)
        self.exit_code = 128 + self.signum
        super().__init__(f"interrupted by {signal.Signals(self.signum).name}")


class ShardMismatchError(RunFolderError):
    """Run folders given to ``grader merge`` are not the complete set of shards of one job
    (other inputs, rubrics or judge options; a shard missing, repeated or unfinished)."""
