"""The table of check kinds: built-ins by explicit listing, plugins from the
``constitution_grader.checks`` entry-point group."""
from __future__ import annotations

from importlib import metadata

import pytest

from grader.checks import BUILTIN_KINDS, Check, kinds, registry
from grader.checks.kinds.text_pattern import TextPatternCheck
from grader.errors import UnknownCheckKindError


class _PluginCheck(Check):
    kind = "my_plugin"
    description = "a plugin kind"


class _FakeTextPattern(Check):
    kind = "text_pattern"


def _plugins(monkeypatch: pytest.MonkeyPatch, **found: type) -> None:
    eps = [metadata.EntryPoint(name, f"tests.checks.test_registry:{cls.__name__}", registry.ENTRY_POINT_GROUP)
           for name, cls in found.items()]
    monkeypatch.setattr(registry.metadata, "entry_points",
                        lambda group: eps if group == registry.ENTRY_POINT_GROUP else [])
    monkeypatch.setattr(registry, "_PLUGINS", None)


def test_builtin_kinds_is_the_table_of_every_built_in_kind() -> None:
    assert list(BUILTIN_KINDS) == ["text_pattern", "code_security", "tool_call", "claim_vs_action",
                                   "judge_tampering", "unreported_action"]
    assert all(name == cls.kind for name, cls in BUILTIN_KINDS.items())
    assert BUILTIN_KINDS["text_pattern"] is TextPatternCheck


def test_a_plugin_adds_a_kind_but_cannot_replace_a_built_in(monkeypatch: pytest.MonkeyPatch) -> None:
    _plugins(monkeypatch, my_plugin=_PluginCheck, text_pattern=_FakeTextPattern)
    found = kinds()
    assert found["my_plugin"] is _PluginCheck
    assert found["text_pattern"] is TextPatternCheck
    assert set(found) == set(BUILTIN_KINDS) | {"my_plugin"}


def test_an_entry_point_that_is_not_a_check_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    _plugins(monkeypatch, bad=UnknownCheckKindError)
    with pytest.raises(TypeError, match=r"entry point bad \(tests.checks.test_registry:UnknownCheckKindError\) "
                                        r"is not a grader.checks.Check subclass"):
        kinds()


def test_an_unknown_kind_names_the_known_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    _plugins(monkeypatch)
    with pytest.raises(UnknownCheckKindError, match="unknown check kind 'nope'; known: claim_vs_action, "
                                                    "code_security, judge_tampering, text_pattern, tool_call, "
                                                    "unreported_action"):
        registry.check_class("nope", "r.yaml", "principles[0].checks[0]")
