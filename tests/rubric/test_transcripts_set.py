"""The shipped example transcripts and their human labels (transcripts/labels.csv)."""
from __future__ import annotations

import csv
from collections import Counter, defaultdict

import pytest

from grader.grading.checkrun import CheckRunner
from grader.errors import InputError, SkippedInput
from grader.grading.outcomes import decide
from grader.rubric import DEFAULT_RUBRIC, load_rubric_path
from grader.transcripts.load import iter_inputs

from .conftest import TRANSCRIPTS


@pytest.fixture(scope="module")
def transcripts():
    items = list(iter_inputs([str(TRANSCRIPTS)]))
    errors = [i for i in items if isinstance(i, InputError) and not isinstance(i, SkippedInput)]
    assert errors == []
    # labels.csv is listed as skipped (not a transcript), nothing else
    assert [(i.path.rsplit("/", 1)[1], type(i).__name__) for i in items if isinstance(i, InputError)] == [
        ("labels.csv", "SkippedInput")]
    return {t.id: t for t in items if not isinstance(t, InputError)}


@pytest.fixture(scope="module")
def labels():
    with open(TRANSCRIPTS / "labels.csv", newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == ["transcript_id", "principle_id", "label"]
        return list(reader)


@pytest.fixture(scope="module")
def rubric():
    return load_rubric_path(DEFAULT_RUBRIC)


def test_transcript_set_shape(transcripts):
    assert len(transcripts) == 48
    formats = defaultdict(int)
    for t in transcripts.values():
        formats[t.source.path.split("/")[-2]] += 1
    assert dict(formats) == {"anthropic": 14, "openai": 30, "text": 4}


def test_json_transcripts_carry_explicit_ids_and_metadata(transcripts):
    for tid, t in transcripts.items():
        if t.source.path.endswith(".txt"):
            continue
        assert tid.startswith("tx-p"), tid
        assert t.metadata["model"] == "hand-written"
        assert t.metadata["twin"] in ("violating", "compliant")
        assert tid[3:6].upper() == t.metadata["principle"]


def test_labels_refer_to_real_transcripts_and_principles(transcripts, labels, rubric):
    ids = {p.id for p in rubric.principles}
    seen = set()
    for row in labels:
        assert row["transcript_id"] in transcripts, row
        assert row["principle_id"] in ids, row
        assert row["label"] in ("violation", "compliant"), row
        key = (row["transcript_id"], row["principle_id"])
        assert key not in seen, key
        seen.add(key)
    assert {r["transcript_id"] for r in labels} == set(transcripts)


def test_every_principle_has_a_violating_and_a_compliant_twin(labels, rubric):
    by = defaultdict(set)
    for row in labels:
        by[row["principle_id"]].add(row["label"])
    for p in rubric.principles:
        assert by[p.id] == {"violation", "compliant"}, p.id


def test_action_principles_have_agentic_labelled_transcripts(transcripts, labels):
    agentic = defaultdict(set)
    for row in labels:
        if transcripts[row["transcript_id"]].has_tool_calls:
            agentic[row["principle_id"].split("-")[0]].add(row["label"])
    for key in ("P11", "P12", "P13", "P14", "P15", "P17"):
        assert agentic[key] == {"violation", "compliant"}, key


def test_checks_decide_check_decidable_twins_and_spare_compliant_ones(transcripts, labels, rubric):
    """On the twins marked decided_by: check, every labelled violation is found; a compliant
    twin is compliant only where a check that decides its scope covers it (P16's code
    security over Python), and otherwise screened (no check fired; the silence of screening
    checks proves nothing, so the pair stays ungraded). No labelled-compliant pair anywhere
    is a violation."""
    runner = CheckRunner(rubric.principles)
    wrong = []
    got: Counter = Counter()
    for row in labels:
        t = transcripts[row["transcript_id"]]
        p = rubric.principle(row["principle_id"])
        if not p.checks:
            continue
        stage = runner.run(t, [p.id])[p.id]
        out = decide(p, stage.results, stage.error, None, False) if stage.applies else None
        outcome = out.outcome if out else "not_applicable"
        screened = out is not None and "screened" in out.flags
        targeted = t.metadata.get("principle") == p.id.split("-")[0]
        if targeted and t.metadata.get("decided_by") == "check":
            got[(row["label"], outcome, screened)] += 1
            if row["label"] == "violation" and outcome != "violation":
                wrong.append((t.id, p.id, row["label"], outcome))
            if row["label"] == "compliant" and outcome != "compliant" and not screened:
                wrong.append((t.id, p.id, row["label"], outcome))
        elif row["label"] == "compliant" and outcome == "violation":
            wrong.append((t.id, p.id, row["label"], outcome))
    assert wrong == []
    assert got == {("violation", "violation", False): 11, ("compliant", "compliant", False): 1,
                   ("compliant", "ungraded", True): 9}
