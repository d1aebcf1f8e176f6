"""What the assistant's tool calls did: shell commands, file edits, code runs and reads.

Tool names and argument names vary between harnesses (``bash``, ``shell``,
``run_command``, ``execute``, ``terminal``, ``python``, ``str_replace_editor``,
``edit_file``, ``write_file``, ``apply_patch``, ``text_editor`` ...), so calls are
classified by their argument names first and their tool name second:

- an editor call has a path key and either an editor sub-command (``command: str_replace``)
  or content keys (``content``, ``file_text``, ``new_str``/``old_str`` ...);
- a patch is any argument that looks like a unified diff or a ``*** Begin Patch`` block;
- a shell call has a ``cmd``/``command``/``script`` string (or argv list), or ``code``/``input``
  on a tool whose name says shell; Python tools (``python``, ``ipython``, ``jupyter``,
  ``code_interpreter`` ...) carry code;
- shell commands that write (``>``, ``tee``, ``sed -i``, ``truncate``, ``rm``, ``mv``, ``cp``,
  ``apply_patch``/``git apply`` heredocs) and Python file operations also become file edits.

Computed once per transcript (``actions_of``) and shared by every check.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from typing import Any, Iterator

from ...transcripts.model import Message, ToolCall, Transcript
from . import pycode
from .patches import looks_like_patch, parse_patch
from .shell import SimpleCommand, parse as parse_shell
from .shellvars import ShellState

SHELL_KEYS = ("cmd", "command", "commands", "script", "shell", "bash", "command_line", "cmdline")
PY_KEYS = ("code", "source", "cell", "script", "program", "input")
PATH_KEYS = ("path", "file_path", "filepath", "filename", "file", "target_file", "file_name",
             "relative_path", "absolute_path", "target", "dest", "destination")
NEW_KEYS = ("content", "contents", "file_text", "new_str", "new_string", "new_content", "text",
            "replacement", "insert_text", "code_edit", "new_text", "updated_content", "body", "data")
OLD_KEYS = ("old_str", "old_string", "old_content", "old_text", "search", "find", "original")
EDITOR_COMMANDS = {"create", "str_replace", "insert", "undo_edit", "write", "append", "delete",
                   "rename", "overwrite", "view", "replace"}
_SHELL_TOOL = re.compile(r"bash|shell|terminal|command|cmd|exec|console|powershell|zsh|\bsh\b|^run$", re.I)
_PY_TOOL = re.compile(r"python|ipython|jupyter|notebook|code_interpreter|execute_code|run_code", re.I)
_DELETE_TOOL = re.compile(r"delete|remove|unlink|trash", re.I)
_MOVE_TOOL = re.compile(r"move|rename", re.I)
_READ_TOOL = re.compile(r"read|view|cat\b|open|get_file|show_file|load_file", re.I)
_PY_PROGRAMS = re.compile(r"^(python[\d.]*|ipython3?|pypy3?)$")


@dataclass(frozen=True)
class CallRef:
    """A tool call and where it is: ``order`` counts calls across the transcript."""

    message_index: int
    call: ToolCall
    order: int

    @property
    def label(self) -> str:
        return self.call.id or self.call.name


@dataclass(frozen=True)
class Command:
    ref: CallRef
    cmd: SimpleCommand


@dataclass(frozen=True)
class FileEdit:
    """A change to a file. ``op``: ``write`` (whole content), ``edit`` (``old`` -> ``new``),
    ``append``, ``delete`` or ``move`` (to ``dest``). ``new``/``old`` are None when unknown.
    ``quote`` is verbatim argument text to cite; ``via`` says how it was recognised."""

    ref: CallRef
    path: str
    op: str
    quote: str
    via: str
    new: str | None = None
    old: str | None = None
    dest: str | None = None


@dataclass(frozen=True)
class CodeRun:
    ref: CallRef
    text: str


@dataclass(frozen=True)
class Actions:
    calls: tuple[CallRef, ...]
    commands: tuple[Command, ...]
    edits: tuple[FileEdit, ...]
    code: tuple[CodeRun, ...]
    reads: tuple[tuple[CallRef, str], ...]  # (call, path) of calls that only read a file

    def __bool__(self) -> bool:
        return bool(self.calls)


def actions_of(transcript: Transcript, ctx: Any = None) -> Actions:
    """The actions of ``transcript``, memoised on ``ctx`` (a TranscriptContext) when given."""
    if ctx is not None:
        return ctx.memo("actions", lambda: _extract(transcript))  # type: ignore[no-any-return]
    return _extract(transcript)


_LEAF_CACHE: dict[int, tuple[ToolCall, list[tuple[str, str]]]] = {}


def leaves(call: ToolCall) -> list[tuple[str, str]]:
    """(dotted key, string value) of every leaf; a raw-string argument is one leaf ``""``.
    Cached by identity (a small bounded cache: checks ask for the same call many times)."""
    hit = _LEAF_CACHE.get(id(call))
    if hit is not None and hit[0] is call:
        return hit[1]
    out = [("", call.arguments)] if isinstance(call.arguments, str) else list(call.argument_strings())
    if len(_LEAF_CACHE) > 4096:
        _LEAF_CACHE.clear()
    _LEAF_CACHE[id(call)] = (call, out)
    return out


def citable(call: ToolCall, candidate: str, fallback: str) -> str:
    """``candidate`` when it appears verbatim in an argument leaf, else ``fallback``."""
    if candidate and any(candidate in v for _, v in leaves(call)):
        return candidate
    return fallback


def _extract(transcript: Transcript) -> Actions:
    calls: list[CallRef] = []
    commands: list[Command] = []
    edits: list[FileEdit] = []
    code: list[CodeRun] = []
    reads: list[tuple[CallRef, str]] = []
    st = ShellState()
    for m in transcript.messages:
        if m.role != "assistant" or not m.tool_calls:
            continue
        for call in m.tool_calls:
            ref = CallRef(m.index, call, len(calls))
            calls.append(ref)
            before = len(edits)
            _classify(ref, commands, edits, code, reads, st)
            for e in edits[before:]:
                if e.op in ("write", "edit", "append"):
                    st.remember(e.path, e.new if e.op == "write" else None)
    return Actions(tuple(calls), tuple(commands), tuple(edits), tuple(code), tuple(reads))


def _top(call: ToolCall) -> dict[str, Any]:
    return call.arguments if isinstance(call.arguments, dict) else {}


def _first_str(args: dict[str, Any], keys: tuple[str, ...]) -> tuple[str, str] | None:
    for k in keys:
        v = args.get(k)
        if isinstance(v, str) and v.strip():
            return k, v
    return None


def _classify(ref: CallRef, commands: list[Command], edits: list[FileEdit], code: list[CodeRun],
              reads: list[tuple[CallRef, str]], st: ShellState) -> None:
    call = ref.call
    args = _top(call)
    name = call.name
    if not args and isinstance(call.arguments, str):
        text = call.arguments
        if looks_like_patch(text):
            _add_patch(ref, text, edits)
        elif _PY_TOOL.search(name):
            _add_code(ref, text, commands, edits, code, st)
        elif _SHELL_TOOL.search(name):
            _add_shell(ref, text, commands, edits, code, st)
        return
    for _, leaf in leaves(call):
        if "\n" in leaf and looks_like_patch(leaf):
            _add_patch(ref, leaf, edits)
    path = _first_str(args, PATH_KEYS)
    sub = args.get("command") if isinstance(args.get("command"), str) else None
    is_editor = path is not None and (
        (sub is not None and sub.strip() in EDITOR_COMMANDS)
        or (sub is None and (_first_str(args, NEW_KEYS + OLD_KEYS) is not None
                             or _DELETE_TOOL.search(name) or _MOVE_TOOL.search(name) or _READ_TOOL.search(name))))
    if is_editor and path is not None:
        _add_editor(ref, args, path[1], sub, edits, reads)
        return
    if _PY_TOOL.search(name):
        found = _first_str(args, PY_KEYS)
        if found:
            _add_code(ref, found[1], commands, edits, code, st)
            return
    for key in SHELL_KEYS + (("code", "input") if _SHELL_TOOL.search(name) else ()):
        arg = args.get(key)
        if isinstance(arg, str) and arg.strip():
            _add_shell(ref, arg, commands, edits, code, st)
            return
        if isinstance(arg, list) and arg and all(isinstance(v, str) for v in arg):
            _add_argv(ref, [str(v) for v in arg], commands, edits, code, st)
            return


def _add_editor(ref: CallRef, args: dict[str, Any], path: str, sub: str | None,
                edits: list[FileEdit], reads: list[tuple[CallRef, str]]) -> None:
    name = ref.call.name
    new = _first_str(args, NEW_KEYS)
    old = _first_str(args, OLD_KEYS)
    sub = sub.strip() if sub else ""
    if sub == "view" or (not sub and not new and not old and _READ_TOOL.search(name)
                         and not _DELETE_TOOL.search(name) and not _MOVE_TOOL.search(name)):
        reads.append((ref, path))
        return
    if sub == "delete" or (not sub and _DELETE_TOOL.search(name) and not new):
        edits.append(FileEdit(ref, path, "delete", path, "editor"))
        return
    if sub == "rename" or (not sub and _MOVE_TOOL.search(name) and not new):
        dest = _first_str(args, ("new_path", "dest", "destination", "to", "new_name", "target"))
        edits.append(FileEdit(ref, path, "move", path, "editor", dest=dest[1] if dest else None))
        return
    if sub == "undo_edit":
        return
    if old is not None or sub in ("str_replace", "replace"):
        edits.append(FileEdit(ref, path, "edit", path, "editor",
                              new=new[1] if new else "", old=old[1] if old else None))
        return
    op = "append" if sub in ("insert", "append") or re.search(r"append|insert", name, re.I) else "write"
    edits.append(FileEdit(ref, path, op, path, "editor", new=new[1] if new else None))


def _add_patch(ref: CallRef, text: str, edits: list[FileEdit]) -> None:
    for fp in parse_patch(text):
        quote = citable(ref.call, fp.path, fp.path)
        edits.append(FileEdit(ref, fp.path, fp.op, quote, "patch", new="\n".join(fp.added),
                              old="\n".join(fp.removed), dest=fp.dest))


def _add_code(ref: CallRef, text: str, commands: list[Command], edits: list[FileEdit],
              code: list[CodeRun], st: ShellState) -> None:
    code.append(CodeRun(ref, text))
    for op in pycode.scan(text):
        if op.kind == "shell":
            for c in parse_shell(op.text):
                _add_command(ref, SimpleCommand(op.quote, c.argv, c.assignments, c.redirects,
                                                c.pipeline, c.heredoc, c.remote, c.parser), commands, edits, code, st)
        elif op.kind == "argv":
            _add_argv(ref, list(op.argv), commands, edits, code, st, quote=op.quote)
        elif op.kind == "delete":
            argv = ("rm", "-rf", op.path) if op.recursive else ("rm", op.path)
            _add_command(ref, SimpleCommand(op.quote, argv), commands, edits, code, st)
        elif op.kind == "write":
            edits.append(FileEdit(ref, op.path, "write", op.quote, "python", new=op.content))


def _add_argv(ref: CallRef, argv: list[str], commands: list[Command], edits: list[FileEdit],
              code: list[CodeRun], st: ShellState, quote: str | None = None) -> None:
    """A command given as a list (``["bash", "-lc", "..."]``, ``["rm", "-rf", "x"]``)."""
    prog = argv[0].rsplit("/", 1)[-1]
    if prog in ("bash", "sh", "zsh") and len(argv) >= 3 and argv[-2].startswith("-") and "c" in argv[-2]:
        _add_shell(ref, argv[-1], commands, edits, code, st)
        return
    if prog == "apply_patch" and len(argv) >= 2:
        _add_patch(ref, argv[1], edits)
        return
    text = quote or json.dumps(argv, ensure_ascii=False)
    _add_command(ref, SimpleCommand(text, tuple(argv)), commands, edits, code, st)


def _add_shell(ref: CallRef, text: str, commands: list[Command], edits: list[FileEdit],
               code: list[CodeRun], st: ShellState) -> None:
    for c in parse_shell(text):
        _add_command(ref, c, commands, edits, code, st)


def _redirect_content(cmd: SimpleCommand, operands: list[str]) -> str | None:
    """What ``cmd > file`` writes, when the text shows it (heredoc, echo, ``: >``)."""
    if cmd.heredoc is not None:
        return cmd.heredoc
    if cmd.program in ("echo", "printf"):
        words = [a for a in cmd.args if not re.fullmatch(r"-[neE]+", a)]
        return " ".join(words).replace("\\n", "\n")
    if cmd.program in ("", ":", "true") or (cmd.program == "cat" and operands == ["/dev/null"]):
        return ""
    return None


def _add_command(ref: CallRef, cmd: SimpleCommand, commands: list[Command], edits: list[FileEdit],
                 code: list[CodeRun], st: ShellState, depth: int = 0) -> None:
    cmd = st.expand(cmd)
    commands.append(Command(ref, cmd))
    script = st.script_for(cmd) if depth < 2 else None
    if script is not None:  # a script the agent wrote earlier: read its commands as this call's
        kind, _, body = script
        if kind == "python":  # quotes must be citable in this call: the run command stands for them
            sub_cmds: list[Command] = []
            sub_edits: list[FileEdit] = []
            _add_code(ref, body, sub_cmds, sub_edits, code, st)
            commands.extend(Command(c.ref, replace(c.cmd, text=cmd.text)) for c in sub_cmds)
            edits.extend(replace(e, quote=cmd.text) for e in sub_edits)
        else:
            for inner in parse_shell(body):
                _add_command(ref, replace(inner, text=cmd.text), commands, edits, code, st, depth + 1)
    prog, args = cmd.program, [a for a in cmd.args]
    operands = [a for a in args if not a.startswith("-")]
    for op, target in cmd.redirects:
        if op in (">", ">>") and target and target != "/dev/null" and not target.startswith("&"):
            content = _redirect_content(cmd, operands)
            edits.append(FileEdit(ref, target, "append" if op == ">>" else "write", cmd.text, "shell", new=content))
            st.remember(target, content if op == ">" else None)
    if prog == "tee":
        for target in operands:
            edits.append(FileEdit(ref, target, "append" if "-a" in args else "write", cmd.text, "shell"))
    elif prog == "sed" and any(a == "-i" or a.startswith("-i") or a == "--in-place" for a in args):
        files = _sed_files(args)
        for target in files:
            edits.append(FileEdit(ref, target, "edit", cmd.text, "shell"))
    elif prog in ("rm", "unlink", "shred", "rmdir") or (prog == "git" and args[:1] == ["rm"]):
        for target in (operands[1:] if prog == "git" else operands):
            edits.append(FileEdit(ref, target, "delete", cmd.text, "shell"))
    elif prog in ("mv", "cp") and len(operands) >= 2:
        for src in operands[:-1]:
            if prog == "mv":
                edits.append(FileEdit(ref, src, "move", cmd.text, "shell", dest=operands[-1]))
        edits.append(FileEdit(ref, operands[-1], "write", cmd.text, "shell"))
    elif prog == "truncate":
        for target in [a for i, a in enumerate(args) if not a.startswith("-") and
                       (i == 0 or args[i - 1] not in ("-s", "--size", "-r", "--reference"))]:
            edits.append(FileEdit(ref, target, "write", cmd.text, "shell", new=""))
    elif prog in ("apply_patch", "patch") or (prog == "git" and args[:1] == ["apply"]):
        if cmd.heredoc:
            _add_patch(ref, cmd.heredoc, edits)
    elif _PY_PROGRAMS.match(prog):
        if "-c" in args and args.index("-c") + 1 < len(args):
            _add_code(ref, args[args.index("-c") + 1], commands, edits, code, st)
        elif cmd.heredoc:
            _add_code(ref, cmd.heredoc, commands, edits, code, st)


def _sed_files(args: list[str]) -> list[str]:
    """The files of ``sed -i [-e SCRIPT]... [SCRIPT] FILE...``."""
    files: list[str] = []
    script_given = False
    skip = False
    for i, a in enumerate(args):
        if skip:
            skip = False
            continue
        if a in ("-e", "--expression", "-f", "--file"):
            script_given = True
            skip = True
            continue
        if a.startswith("-"):
            continue
        if not script_given:
            script_given = True
            continue
        files.append(a)
    return files


def iter_results(transcript: Transcript) -> Iterator[tuple[Message, ToolCall | None]]:
    """Tool result messages with the call each answers (None when it cannot be matched)."""
    by_id: dict[str, ToolCall] = {}
    last_calls: list[ToolCall] = []
    pos = 0
    for m in transcript.messages:
        if m.role == "assistant" and m.tool_calls:
            for c in m.tool_calls:
                if c.id:
                    by_id[c.id] = c
            last_calls = list(m.tool_calls)
            pos = 0
        elif m.role == "tool":
            call = by_id.get(m.tool_call_id or "") if m.tool_call_id else None
            if call is None and pos < len(last_calls):
                call = last_calls[pos]
            pos += 1
            yield m, call
