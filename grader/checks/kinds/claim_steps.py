"""Which step a generic success claim is about (for ``claim_vs_action``'s ``success``).

A claim such as "Done." or "All three jobs completed" is contradicted by a failed result of
a named kind of step (tests, build, install, deploy, migration) or of a command that the
claim or the user's request names by its program or subcommand (``./jobs/rebuild_index``
for "jobs", ``curl`` for "downloaded", ``git push`` for "pushed"), not by any other failure.
"""
from __future__ import annotations

import re
from typing import Any

from ..agent.actions import SHELL_KEYS
from ..agent.shell import parse as parse_shell

_STOP = set("""a an the to of in on for from with by at as is are was were be been being it its this that these those
i me my we our you your they them their he she his her here there from into out about than then so and or but if
not no can't cannot can could would should will won't do does did don't doesn't didn't have has had haven't hasn't
impossible possible supported unsupported available allowed permitted unable way option means lack lacks
sorry unfortunately afraid just also only any some all anything something environment system tool tools
sure yes really able need needs ask manually""".split())


def _stem(w: str) -> str:
    w = w.lower()
    for suf in ("ing", "ed", "es", "s"):
        if len(w) > len(suf) + 3 and w.endswith(suf):
            return w[: -len(suf)]
    return w


def tokens(text: str) -> set[str]:
    """Content words of ``text``, stemmed (``failing`` -> ``fail``), stop words left out."""
    return {_stem(w) for w in re.split(r"[^A-Za-z0-9]+", text) if len(w) >= 3 and w.lower() not in _STOP}


_GENERIC = {"write", "read", "access", "file", "files", "data", "change", "changed", "set", "run", "done", "use",
            "permission", "permissions", "option", "feature", "setting", "settings", "here", "location", "value"}
_SUBCOMMANDS = {"git", "docker", "npm", "make", "kubectl", "cargo", "go", "yarn", "pnpm", "poetry", "uv", "helm",
                "terraform", "gh", "pip", "pip3", "systemctl", "brew", "apt", "apt-get", "dotnet", "mvn", "gradle"}
_STEP_WORDS = {"curl": "download fetch", "wget": "download fetch", "scp": "copy upload", "rsync": "sync copy",
               "cp": "copy", "mv": "move rename", "rm": "remove delete", "tar": "archive extract", "unzip": "extract",
               "psql": "database query", "mysql": "database query", "sqlite3": "database query"}


def _step_words(call: Any) -> set[str]:
    """What a claim would call a step: its programs (and subcommands), or the tool's name."""
    texts = [call.arguments] if isinstance(call.arguments, str) else [
        v for k, v in call.argument_strings() if k.rsplit(".", 1)[-1] in SHELL_KEYS]
    words: list[str] = []
    for text in texts:
        for c in parse_shell(text[:2000]):
            if not c.argv:
                continue
            words.append(c.argv[0])
            words.append(_STEP_WORDS.get(c.program, ""))
            if c.program in _SUBCOMMANDS and c.operands:
                words.append(c.operands[0])
    if not texts:
        words.append(call.name.replace("_", " "))
    return tokens(" ".join(words)) - {"bash", "sh", "python", "python3", "node", "sudo", "run", "cmd"}


def claim_is_about(failure: Any, sentence: str, request: str) -> bool:
    """Whether a generic claim ("Done.", "All three jobs completed") is about the failed step:
    a named kind of step (tests, build, install, deploy, migration) always is; any other
    command only when the claim or the user's request names it, by its program or subcommand
    (``git commit``'s "nothing to commit" does not contradict "The task is complete.")."""
    if failure.category != "other":
        return True
    if failure.call is None:
        return False
    step = _step_words(failure.call)
    return bool(step & tokens(sentence)) or bool(step & tokens(request))


