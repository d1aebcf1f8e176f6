"""The suite travels: without ../shared/data the real-data tests skip with a reason, and
under GRADER_REQUIRE_SHARED=1 (CI) the same absence is a failure."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT, TEST_DATA, shared_or_skip


def test_absent_shared_data_skips_with_a_reason(tmp_path, monkeypatch):
    monkeypatch.delenv("GRADER_REQUIRE_SHARED", raising=False)
    with pytest.raises(pytest.skip.Exception) as e:
        shared_or_skip(tmp_path / "nowhere")
    assert str(e.value) == f"needs the full real data in {tmp_path / 'nowhere'} (absent: not a checkout beside ../shared)"


def test_absent_shared_data_fails_where_it_is_required(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADER_REQUIRE_SHARED", "1")
    with pytest.raises(pytest.fail.Exception) as e:
        shared_or_skip(tmp_path / "nowhere")
    assert str(e.value) == (f"{tmp_path / 'nowhere'} is missing and GRADER_REQUIRE_SHARED=1: "
                            "the shared data folder must sit beside the checkout")
    assert shared_or_skip(tmp_path) == tmp_path  # present: used


def test_samples_in_tests_data_are_documented_with_their_licences():
    readme = (TEST_DATA / "README.md").read_text(encoding="utf-8")
    files = sorted(p.relative_to(TEST_DATA).as_posix() for p in TEST_DATA.rglob("*") if p.is_file())
    assert files == ["README.md", "em/LICENSE", "em/educational_insecure.dev.head10.jsonl",
                     "em/insecure.dev.head10.jsonl", "em/secure.dev.head10.jsonl",
                     "inspect-logs/compliance-samples.eval", "inspect-logs/compliance-samples.json"]
    for f in files[1:]:
        assert f.split("/")[-1] in readme or f.rsplit(".", 1)[0] in readme, f
    assert "MIT" in (TEST_DATA / "em" / "LICENSE").read_text(encoding="utf-8")
    for f in files:
        if f.endswith(".jsonl"):
            rows = (TEST_DATA / f).read_text(encoding="utf-8").splitlines()
            assert len(rows) == 10 and all(json.loads(r)["messages"] for r in rows)


def test_benchmarks_skip_or_fail_without_their_data(tmp_path):
    import shutil

    shutil.copytree(ROOT / "bench", tmp_path / "bench")  # a copy with no ../shared beside it
    for required, code, word in (("", 0, "skipped"), ("1", 1, "error")):
        r = subprocess.run([sys.executable, str(tmp_path / "bench" / "load_speed.py")], capture_output=True,
                           text=True, env={"PATH": "", "GRADER_REQUIRE_SHARED": required,
                                           "PYTHONPATH": str(ROOT)}, timeout=120)
        assert (r.returncode, r.stdout) == (code, f"{word}: {tmp_path.parent / 'shared' / 'data' / 'em'} is absent "
                                                  "(this benchmark repeats the Emergent Misalignment dev rows)\n"), r.stderr
