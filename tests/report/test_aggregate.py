"""findings_frame / group_column / per_principle on small hand-made runs."""
from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from grader.errors import UsageError
from grader.reporting.aggregate import PER_PRINCIPLE_COLUMNS, findings_frame, group_column, per_principle
from grader.run.folder import RunFolder

from tests.report.util import finding, small_findings, write_run

Z2 = 1.959964 ** 2


def _row(df, **keys):
    sel = df
    for k, v in keys.items():
        sel = sel[sel[k] == v]
    assert len(sel) == 1, keys
    return sel.iloc[0].to_dict()


def test_findings_frame_columns(small_run):
    df = findings_frame(small_run)
    assert len(df) == 12
    for c in ("run_id", "transcript_id", "principle_id", "rubric_id", "severity", "outcome", "method", "flags",
              "unverified", "source_path", "meta.model", "meta.condition"):
        assert c in df.columns
    t1 = _row(df, transcript_id="t1", principle_id="honesty")
    assert t1["flags"] == ("unverified_evidence",)
    assert t1["unverified"] is True or t1["unverified"] == True  # noqa: E712 (numpy bool)
    assert t1["meta.model"] == "m1"
    assert int(df["unverified"].sum()) == 1


def test_findings_frame_accepts_folder_objects_and_dicts(small_run):
    a = findings_frame(RunFolder.open(small_run))
    b = findings_frame(small_findings())
    pd.testing.assert_frame_equal(a, b)
    empty = findings_frame([])
    assert len(empty) == 0 and "principle_id" in empty.columns
    assert list(per_principle(empty).columns) == PER_PRINCIPLE_COLUMNS


def test_per_principle_counts(small_run):
    pp = per_principle(findings_frame(small_run))
    assert list(pp.columns) == PER_PRINCIPLE_COLUMNS
    assert list(pp["principle_id"]) == ["oversight", "honesty"]  # critical first
    h = _row(pp, principle_id="honesty")
    assert {k: h[k] for k in ("total", "n", "violations", "compliant", "not_applicable", "ungraded", "errors",
                               "unverified")} == {"total": 6, "n": 4, "violations": 2, "compliant": 2,
                                                  "not_applicable": 1, "ungraded": 1, "errors": 0, "unverified": 1}
    assert h["rate"] == 0.5
    # Wilson 2/4: centre = .5 + z^2/8, half = z sqrt(1/16 + z^2/64), denominator 1 + z^2/4
    assert h["ci_low"] == pytest.approx(0.15004, abs=1e-5)
    assert h["ci_high"] == pytest.approx(0.84996, abs=1e-5)
    o = _row(pp, principle_id="oversight")
    assert (o["n"], o["violations"], o["errors"], o["severity"]) == (5, 0, 1, "critical")
    assert o["rate"] == 0.0
    assert o["ci_high"] == pytest.approx(Z2 / (5 + Z2), abs=1e-6)  # 0 of 5 is not 0 % risk


def test_per_principle_by_model(small_run):
    pp = per_principle(findings_frame(small_run), ["model"])
    assert list(pp.columns) == ["model"] + PER_PRINCIPLE_COLUMNS
    assert [(r["model"], r["principle_id"]) for r in pp.to_dict("records")] == [
        ("m1", "oversight"), ("m1", "honesty"), ("m2", "oversight"), ("m2", "honesty")]
    m1 = _row(pp, model="m1", principle_id="honesty")
    assert (m1["n"], m1["violations"], m1["unverified"]) == (3, 2, 1)
    m2 = _row(pp, model="m2", principle_id="honesty")
    assert (m2["n"], m2["violations"], m2["not_applicable"], m2["ungraded"]) == (1, 0, 1, 1)
    assert m2["ci_high"] == pytest.approx(Z2 / (1 + Z2), abs=1e-6)


def test_n_zero_gives_nan_rate_and_full_interval(tmp_path):
    run = write_run(tmp_path / "r", [finding("a", "p", "ungraded"), finding("b", "p", "error")])
    row = per_principle(findings_frame(run)).iloc[0]
    assert row["n"] == 0 and math.isnan(row["rate"])
    assert (row["ci_low"], row["ci_high"]) == (0.0, 1.0)
    assert (row["total"], row["ungraded"], row["errors"]) == (2, 1, 1)


def test_group_column_resolution(tmp_path):
    fs = [finding("a", "p", "violation", metadata={"model": "x", "source": "meta-wins", "tags": ["k", "j"]}),
          finding("b", "p", "compliant", metadata={}, path="other.jsonl")]
    df = findings_frame(fs)
    assert group_column(df, "model") == "meta.model"
    assert group_column(df, "meta.model") == "meta.model"
    assert group_column(df, "source") == "meta.source"   # a metadata key comes first
    assert group_column(findings_frame(small_findings()), "source") == "source_path"
    assert group_column(df, "severity") == "severity"
    assert group_column(df, "run_id") == "run_id"
    with pytest.raises(UsageError, match="--by nope: no such field"):
        group_column(df, "nope")
    pp = per_principle(df, ["model"])
    assert list(pp["model"]) == ["(none)", "x"]        # missing metadata is its own group
    pp = per_principle(df, ["tags"])                   # lists are grouped by their JSON text
    assert set(pp["tags"]) == {'["k", "j"]', "(none)"}


def test_by_source_and_two_fields(small_run):
    df = findings_frame(small_run)
    pp = per_principle(df, ["source", "model"])
    assert list(pp.columns[:2]) == ["source", "model"]
    assert set(pp["source"]) == {"data.jsonl"}
    assert len(pp) == 4


def test_broken_results_line_is_a_clear_error(tmp_path):
    run = write_run(tmp_path / "r", [finding("a", "p", "compliant")])
    with (run / "results.jsonl").open("a") as f:
        f.write('{"run_id": "x"}\n')
    from grader.errors import RunFolderError

    with pytest.raises(RunFolderError, match=r"results.jsonl: line 2: not a finding \(KeyError"):
        findings_frame(run)
    (run / "results.jsonl").write_text('{"run_id": \n', encoding="utf-8")
    with pytest.raises(RunFolderError, match=r"results.jsonl: line 1: not a JSON object \(JSONDecodeError"):
        findings_frame(run)


def test_hand_written_findings_follow_the_schema(finding_validator, tmp_path):
    from tests.report.util import hostile_run

    rows = small_findings() + [finding("a", "p", "ungraded"), finding("b", "p", "error")]
    run, _ = hostile_run(tmp_path)
    rows += [json.loads(line) for line in (run / "results.jsonl").read_text().splitlines()]
    for row in rows:
        finding_validator.validate(row)


def test_grouping_by_a_metadata_key_named_like_a_finding_column_keeps_the_counts(tmp_path):
    """--by outcome (a metadata key) must not overwrite the findings' own outcome column."""
    rows = [finding("t1", "P1", "violation", metadata={"outcome": "success"}),
            finding("t2", "P1", "compliant", metadata={"outcome": "success"}),
            finding("t3", "P1", "violation", metadata={"outcome": "failure"})]
    df = findings_frame(write_run(tmp_path / "run", rows))
    table = per_principle(df, ["outcome"]).set_index("by_outcome")
    assert table.loc["success", ["n", "violations"]].tolist() == [2, 1]
    assert table.loc["failure", ["n", "violations"]].tolist() == [1, 1]


def test_a_repeated_id_reads_back_its_own_transcript(tmp_path):
    """The engine names a repeated id ``id#2``; an id that itself ends in ``#42`` is not a repeat."""
    from grader.reporting.build import load_transcripts

    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "ticket#42", "messages": [{"role": "user", "content": "a"}]}) + "\n"
                   + json.dumps({"id": "ticket#42", "messages": [{"role": "user", "content": "b"}]}) + "\n")
    import pandas as pd

    wanted = pd.DataFrame([{"transcript_id": "ticket#42", "source_path": str(src), "source_locator": "line 1"},
                           {"transcript_id": "ticket#42#2", "source_path": str(src), "source_locator": "line 2"}])
    found, note = load_transcripts({"inputs": [str(src)], "options": {"format": None}}, wanted)
    assert note == ""
    assert found["ticket#42"].messages[0].content == "a" and found["ticket#42#2"].messages[0].content == "b"
