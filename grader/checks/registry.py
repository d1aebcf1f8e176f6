"""The registry of check kinds: the built-in ones (:data:`BUILTIN_KINDS`, an explicit table)
and custom kinds from the ``constitution_grader.checks`` entry-point group
(``name = module:CheckClass``)."""
from __future__ import annotations

from importlib import metadata
from typing import TYPE_CHECKING, Any, Mapping

from ..errors import RubricError, UnknownCheckKindError
from ..schemas import describe, error_path
from .kinds.base import Check
from .kinds.claims import ClaimVsActionCheck
from .kinds.code_security import CodeSecurityCheck
from .kinds.tampering import JudgeTamperingCheck
from .kinds.text_pattern import TextPatternCheck
from .kinds.tool_call import ToolCallCheck
from .kinds.unreported import UnreportedActionCheck

if TYPE_CHECKING:  # rubric.model asks this module to validate params; checks never import rubric
    from ..rubric import CheckSpec

ENTRY_POINT_GROUP = "constitution_grader.checks"

#: Every built-in kind: adding one is a module in ``kinds/`` and a row here.
BUILTIN_KINDS: dict[str, type[Check]] = {cls.kind: cls for cls in (
    TextPatternCheck, CodeSecurityCheck, ToolCallCheck, ClaimVsActionCheck, JudgeTamperingCheck,
    UnreportedActionCheck)}

_PLUGINS: dict[str, type[Check]] | None = None


def _plugins() -> dict[str, type[Check]]:
    global _PLUGINS
    if _PLUGINS is None:
        found: dict[str, type[Check]] = {}
        for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
            cls = ep.load()
            if not (isinstance(cls, type) and issubclass(cls, Check)):
                raise TypeError(f"entry point {ep.name} ({ep.value}) is not a grader.checks.Check subclass")
            found[ep.name] = cls
        _PLUGINS = found
    return _PLUGINS


def kinds() -> dict[str, type[Check]]:
    """Every known kind, built-in first; a plugin cannot replace a built-in kind."""
    out = dict(_plugins())
    out.update(BUILTIN_KINDS)
    return out


def check_class(kind: str, file: str = "", where: str = "") -> type[Check]:
    k = kinds()
    if kind not in k:
        raise UnknownCheckKindError(file, f"{where}.kind" if where else "kind",
                                    f"unknown check kind {kind!r}; known: {', '.join(sorted(k))}")
    return k[kind]


def validate_check_params(kind: str, params: Mapping[str, Any], file: str, where: str) -> None:
    """Validate ``params`` against the kind's schema; raise RubricError naming the place."""
    import jsonschema

    cls = check_class(kind, file, where)
    v = jsonschema.Draft202012Validator(cls.params_schema)
    errors = sorted(v.iter_errors(dict(params)), key=lambda e: len(list(e.absolute_path)))
    if errors:
        raise RubricError(file, error_path(errors[0], f"{where}.params"), describe(errors[0]))
    check = getattr(cls, "validate_params", None)
    if check is not None:
        try:
            check(dict(params))
        except ValueError as e:
            raise RubricError(file, f"{where}.params", str(e)) from None


def build(spec: CheckSpec) -> Check:
    return check_class(spec.kind)(spec)
