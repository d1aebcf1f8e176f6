"""Python code an agent ran (a python tool call, ``python -c``, ``python - <<EOF``) ->
the shell commands and file operations it contains, read with :mod:`ast` (parsed, never run).

``os.system("...")`` and ``subprocess.*("...", shell=True)`` strings are shell text;
``subprocess.run(["rm", "-rf", p])`` lists become argv; ``shutil.rmtree(p)``,
``os.remove(p)``, ``Path(p).unlink()`` become ``rm``; ``open(p, "w")`` and
``Path(p).write_text(...)`` become writes. Arguments that are not literals are skipped.

Code too deeply nested for the parser (``RecursionError``/``MemoryError``) raises
:class:`PythonTooDeep`: what it does is unknown, so the checks reading it raise (the pair
becomes an ``error``) instead of reporting it harmless.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass

_SUBPROCESS = {"run", "call", "check_call", "check_output", "Popen", "getoutput", "getstatusoutput"}
_FALLBACK = re.compile(r"\b(?:os\.system|os\.popen|subprocess\.\w+)\(\s*(?:r|f)?(['\"])(.+?)\1")


class PythonTooDeep(Exception):
    """The parser (or a walk of its tree) gave up on the code: nesting or an expression chain
    too deep. Whether it is valid Python, and what it does, is unknown. Raised rather than
    treated as a syntax error: falling back to line patterns would make the pair compliant by
    accident; a check that raises makes the pair an ``error``."""

    @classmethod
    def of(cls, code: str, cause: BaseException) -> "PythonTooDeep":
        return cls(f"Python code too deeply nested to parse ({type(cause).__name__}; {len(code)} characters, "
                   f"{code.count(chr(10)) + 1} lines)")


@dataclass(frozen=True)
class PyOp:
    """One operation found in Python code.

    ``kind``: ``shell`` (``text`` is shell code), ``argv`` (``argv`` set), ``write``
    (``path``; ``content`` when a literal), ``delete`` (``path``; ``recursive``).
    ``quote`` is verbatim source text of the call, for citing."""

    kind: str
    quote: str
    text: str = ""
    argv: tuple[str, ...] = ()
    path: str = ""
    content: str | None = None
    recursive: bool = False


def _const(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):  # f-string: keep the literal parts, mark holes
        parts = []
        for v in node.values:
            if isinstance(v, ast.Constant) and isinstance(v.value, str):
                parts.append(v.value)
            else:
                parts.append("$VAR")
        return "".join(parts)
    if isinstance(node, ast.Call) and _name(node.func) in ("Path", "PurePath", "pathlib.Path") and node.args:
        return _const(node.args[0])
    return None


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _name(node.value)
        return f"{base}.{node.attr}" if base else node.attr
    if isinstance(node, ast.Call):
        return _name(node.func) + "()"
    return ""


def _kw(call: ast.Call, name: str) -> ast.AST | None:
    for k in call.keywords:
        if k.arg == name:
            return k.value
    return None


def scan(code: str) -> list[PyOp]:
    """Operations in ``code``; on a syntax error, a regex fallback for shell strings.
    Raises :class:`PythonTooDeep` when the code is too deeply nested to read."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, OverflowError):
        return [PyOp("shell", m.group(0), text=m.group(2)) for m in _FALLBACK.finditer(code)]
    except (RecursionError, MemoryError) as e:
        raise PythonTooDeep.of(code, e) from None
    out: list[PyOp] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        try:
            op = _op(node, code)
        except RecursionError as e:  # pathological nesting: a skipped call could be the one that matters
            raise PythonTooDeep.of(code, e) from None
        if op is not None:
            out.append(op)
    return out


def _op(node: ast.Call, code: str) -> PyOp | None:
    fname = _name(node.func)
    short = fname.rsplit(".", 1)[-1]
    quote = ast.get_source_segment(code, node) or fname
    first = node.args[0] if node.args else None
    if fname in ("os.system", "os.popen", "system", "popen") or short in ("getoutput", "getstatusoutput"):
        text = _const(first)
        return PyOp("shell", quote, text=text) if text else None
    if short in _SUBPROCESS and (fname.startswith("subprocess.") or fname == short):
        if isinstance(first, (ast.List, ast.Tuple)):
            argv = tuple(_const(e) or "$VAR" for e in first.elts)
            return PyOp("argv", quote, argv=argv) if argv else None
        text = _const(first)
        return PyOp("shell", quote, text=text) if text else None
    if fname in ("shutil.rmtree", "rmtree"):
        path = _const(first)
        return PyOp("delete", quote, path=path, recursive=True) if path else None
    if fname in ("os.remove", "os.unlink", "os.rmdir", "remove", "unlink"):
        path = _const(first)
        return PyOp("delete", quote, path=path) if path else None
    if short in ("unlink", "rmdir") and isinstance(node.func, ast.Attribute):
        path = _const(node.func.value)
        return PyOp("delete", quote, path=path) if path else None
    if fname == "open" and first is not None:
        mode = _const(node.args[1]) if len(node.args) > 1 else _const(_kw(node, "mode"))
        path = _const(first)
        if path and mode and any(c in mode for c in "wax"):
            return PyOp("write", quote, path=path)
        return None
    if short in ("write_text", "write_bytes") and isinstance(node.func, ast.Attribute):
        path = _const(node.func.value)
        return PyOp("write", quote, path=path, content=_const(first)) if path else None
    return None
