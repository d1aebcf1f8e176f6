"""Format plug-ins (entry point group grader.formats): discovery, checks, and the README example."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from grader.errors import FormatPluginError, InputError
from grader.transcripts import iter_inputs, plugins
from grader.transcripts.contrib import palisade

ROOT = Path(__file__).resolve().parents[2]
MOD = "tests.transcripts.plugin_samples"


def _eps(*specs: tuple[str, str]) -> list[EntryPoint]:
    return [EntryPoint(name, f"{MOD}:{attr}", plugins.GROUP) for name, attr in specs]


@pytest.fixture
def fake_group(monkeypatch: pytest.MonkeyPatch):
    """Stand in for the installed entry points of the group (cache cleared around)."""
    def install(*specs: tuple[str, str]) -> None:
        monkeypatch.setattr(plugins, "entry_points", lambda group: _eps(*specs) if group == plugins.GROUP else [])
        plugins.clear_cache()
    yield install
    plugins.clear_cache()


def test_shipped_palisade_plugin_is_installed() -> None:
    plugins.clear_cache()
    assert [f.name for f in plugins.plugin_formats()] == ["palisade"]
    assert plugins.plugin_formats()[0] is palisade.FORMAT


def test_objects_and_factories_load_in_name_order(fake_group) -> None:
    fake_group(("z", "GOOD"), ("a", "make_good"))
    assert [f.name for f in plugins.plugin_formats()] == ["sample-log", "sample-made"]


def test_result_is_cached(fake_group, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_group(("z", "GOOD"))
    first = plugins.plugin_formats()
    monkeypatch.setattr(plugins, "entry_points", lambda group: [])  # not asked again
    assert plugins.plugin_formats() == first


@pytest.mark.parametrize("attr, message", [
    ("NOT_A_FORMAT", "format plug-in 'bad = tests.transcripts.plugin_samples:NOT_A_FORMAT' is dict, not a "
                     "grader.transcripts.formats.Format (or a callable returning one)"),
    ("make_broken", "format plug-in 'bad = tests.transcripts.plugin_samples:make_broken': calling it failed: "
                    "RuntimeError: factory exploded"),
    ("MISSING", "format plug-in 'bad = tests.transcripts.plugin_samples:MISSING' failed to load: AttributeError: "
                "module 'tests.transcripts.plugin_samples' has no attribute 'MISSING'"),
    ("CLASHING", "format plug-in 'bad = tests.transcripts.plugin_samples:CLASHING': its name 'openai' is a "
                 "built-in format's"),
    ("BAD_NAME", "format plug-in 'bad = tests.transcripts.plugin_samples:BAD_NAME': name 'My Log' must be a "
                 "lower-case word (letters, digits, '-', '_')"),
    ("BAD_EXTENSION", "format plug-in 'bad = tests.transcripts.plugin_samples:BAD_EXTENSION': extension 'log' "
                      "must be a lower-case suffix starting with a dot, such as '.jsonl'"),
    ("BAD_EXTENSIONS_TYPE", "format plug-in 'bad = tests.transcripts.plugin_samples:BAD_EXTENSIONS_TYPE': "
                            "extensions must be a frozenset of suffixes such as '.jsonl', got list"),
    ("BAD_READ", "format plug-in 'bad = tests.transcripts.plugin_samples:BAD_READ': read must be callable "
                 "as read(path, stem)"),
    ("BAD_DETECT", "format plug-in 'bad = tests.transcripts.plugin_samples:BAD_DETECT': detect must be "
                   "callable as detect(head, path), or None"),
])
def test_a_bad_plugin_is_a_typed_error_naming_the_entry_point(fake_group, attr: str, message: str) -> None:
    fake_group(("good", "GOOD"), ("bad", attr))
    with pytest.raises(FormatPluginError) as e:
        plugins.plugin_formats()
    assert str(e.value) == message


def test_a_module_that_fails_to_import_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    ep = EntryPoint("gone", "no_such_module_for_grader:FORMAT", plugins.GROUP)
    monkeypatch.setattr(plugins, "entry_points", lambda group: [ep])
    plugins.clear_cache()
    try:
        with pytest.raises(FormatPluginError, match=r"^format plug-in 'gone = no_such_module_for_grader:FORMAT' "
                                                    r"failed to load: ModuleNotFoundError: No module named"):
            plugins.plugin_formats()
    finally:
        plugins.clear_cache()


def test_two_plugins_with_one_name(fake_group) -> None:
    fake_group(("one", "GOOD"), ("two", "DUPLICATE"))
    with pytest.raises(FormatPluginError) as e:
        plugins.plugin_formats()
    assert str(e.value) == ("format plug-in 'two = tests.transcripts.plugin_samples:DUPLICATE': its name "
                            "'sample-log' is already taken by 'one = tests.transcripts.plugin_samples:GOOD'")


# -- the README example, installed for real (a dist-info folder on the path) ------------------

def _readme_plugin() -> tuple[str, str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("### Your own log format (plug-in)"):text.index("## Using a judge")]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    entry = re.search(r"```text\n(.*?)```", section, re.DOTALL)
    assert code and entry
    return code.group(1), entry.group(1)


def _install_readme_plugin(base: Path) -> Path:
    code, entry = _readme_plugin()
    assert '[project.entry-points."grader.formats"]\nmylog = "mylog:FORMAT"' in entry
    (base / "mylog.py").write_text(code, encoding="utf-8")
    dist = base / "mylog-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: mylog\nVersion: 0.1\n", encoding="utf-8")
    (dist / "entry_points.txt").write_text("[grader.formats]\nmylog = mylog:FORMAT\n", encoding="utf-8")
    log = base / "logs" / "run-1.jsonl"
    log.parent.mkdir()
    log.write_text("\n".join(json.dumps(r) for r in [
        {"t": 1, "note": "session start"},
        {"t": 2, "chat": {"role": "user", "content": "Delete the build folder."}},
        {"t": 3, "chat": {"role": "assistant", "content": "", "tool_calls": [
            {"id": "k1", "type": "function", "function": {"name": "shell", "arguments": "{\"cmd\": \"rm -r build\"}"}}]}},
        {"t": 4, "chat": {"role": "tool", "tool_call_id": "k1", "content": ""}},
        {"t": 5, "chat": {"role": "assistant", "content": "Deleted build/."}},
    ]) + "\n", encoding="utf-8")
    return log


def test_readme_plugin_example_is_discovered_and_reads_a_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = _install_readme_plugin(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    plugins.clear_cache()
    try:
        assert [f.name for f in plugins.plugin_formats()] == ["mylog", "palisade"]
        [t] = list(iter_inputs(log.parent))
        assert not isinstance(t, InputError), t
        assert [(m.role, m.content) for m in t.messages] == [
            ("user", "Delete the build folder."), ("assistant", ""), ("tool", ""), ("assistant", "Deleted build/.")]
        assert t.messages[1].tool_calls[0].arguments == {"cmd": "rm -r build"}
        assert t.messages[2].name == "shell"
        assert dict(t.metadata) == {"file": "run-1.jsonl"}
    finally:
        plugins.clear_cache()


def test_readme_plugin_example_through_the_cli(tmp_path: Path) -> None:
    log = _install_readme_plugin(tmp_path)
    env = {"PYTHONPATH": str(tmp_path), "PATH": str(Path(sys.executable).parent)}
    r = subprocess.run([sys.executable, "-m", "grader", "transcripts", "show", str(log.parent), "--json"],
                       capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert [len(t["messages"]) for t in doc["transcripts"]] == [4]


def test_a_detector_that_raises_stops_with_the_format_named(fake_group, tmp_path: Path) -> None:
    fake_group(("boom", "RAISING_DETECT"))
    path = tmp_path / "x.samplelog"
    path.write_text("anything")
    with pytest.raises(FormatPluginError) as e:
        list(iter_inputs(path))
    assert str(e.value) == f"format 'boom-log': detect failed on {path}: ValueError: cannot tell"


def test_a_plugin_format_is_read_by_name_and_by_its_extension_in_a_walk(fake_group, tmp_path: Path) -> None:
    fake_group(("good", "GOOD"))
    (tmp_path / "a.samplelog").write_text("x")
    (tmp_path / "b.unknownext").write_text("x")
    [err] = list(iter_inputs(tmp_path, format="sample-log"))
    assert (err.path, err.reason) == (str(tmp_path / "a.samplelog"), "sample plug-in reads nothing")
    assert list(iter_inputs(tmp_path)) == []  # no detector: read only when named
