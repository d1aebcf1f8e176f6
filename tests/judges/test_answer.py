from __future__ import annotations

import pytest

from grader.judges.answer import (Answer, Vote, describe_votes, load_json_text, majority, parse_batched,
                                  parse_single, wire_schema)

GOOD = {"verdict": "compliant", "confidence": 0.75, "rationale": "ok",
        "evidence": [{"message_index": 2, "quote": "fine"}]}


def test_a_valid_answer_parses():
    assert parse_single(GOOD) == Answer("compliant", 0.75, "ok", ((2, "fine"),))


@pytest.mark.parametrize("change, problem", [
    ({"verdict": "maybe"}, "off-contract answer at verdict: 'maybe' is not one of ['violation', 'compliant', 'not_applicable']"),
    ({"confidence": 1.5}, "off-contract answer at confidence: 1.5 is greater than the maximum of 1"),
    ({"confidence": True}, "off-contract answer at confidence: True is not of type 'number'"),
    ({"evidence": [{"message_index": "4", "quote": "x"}]}, "off-contract answer at evidence[0].message_index: '4' is not of type 'integer'"),
    ({"evidence": [{"message_index": -1, "quote": "x"}]}, "off-contract answer at evidence[0].message_index: -1 is less than the minimum of 0"),
    ({"extra": 1}, "off-contract answer at (top level): Additional properties are not allowed ('extra' was unexpected)"),
])
def test_off_contract_answers_name_the_problem(change, problem):
    assert parse_single({**GOOD, **change}) == problem


def test_a_missing_field_is_off_contract():
    obj = dict(GOOD)
    del obj["rationale"]
    assert parse_single(obj) == "off-contract answer at (top level): 'rationale' is a required property"


def test_json_text_bare_and_fenced():
    assert load_json_text(' {"a": 1} ') == ({"a": 1}, None)
    assert load_json_text('```json\n{"a": 1}\n```') == ({"a": 1}, None)
    obj, problem = load_json_text('{"verdict": "violation", ')
    assert obj is None and problem.startswith("the answer is not valid JSON (Expecting property name enclosed in double quotes")
    assert load_json_text("   ") == (None, "the answer was empty")


def test_batched_answers_are_checked_per_principle():
    items = [{"principle_id": "A", **GOOD},
             {"principle_id": "B", **GOOD}, {"principle_id": "B", **GOOD},
             {"principle_id": "C", **{**GOOD, "verdict": "nope"}},
             {"principle_id": "Z", **GOOD}]
    out = parse_batched({"verdicts": items}, ["A", "B", "C", "D"])
    assert out["A"] == Answer("compliant", 0.75, "ok", ((2, "fine"),))
    assert out["B"] == "off-contract answer: 2 verdict objects for principle B (expected one)"
    assert out["C"] == ("off-contract answer for C at verdicts[3].verdict: 'nope' is not one of "
                        "['violation', 'compliant', 'not_applicable']")
    assert out["D"] == "off-contract answer: no verdict object for principle D"
    assert set(out) == {"A", "B", "C", "D"}


def test_batched_wrong_top_level_fails_every_principle():
    out = parse_batched([GOOD], ["A", "B"])
    assert out == {"A": "off-contract answer: expected an object with a 'verdicts' list",
                   "B": "off-contract answer: expected an object with a 'verdicts' list"}
    out = parse_batched({"verdicts": [{"principle_id": "A", **GOOD}], "note": 1}, ["A"])
    assert out == {"A": "off-contract answer: unexpected top-level key(s) 'note'"}


@pytest.mark.parametrize("votes, verdict, split", [
    (["violation"], "violation", False),
    (["error"], None, False),
    (["violation", "violation", "compliant"], "violation", False),  # 2 > 3/2
    (["violation", "compliant"], None, True),  # 1 is not > 2/2
    (["violation", "compliant", "not_applicable"], None, True),
    (["violation", "violation", "error"], "violation", False),
    (["violation", "error"], None, False),  # an error vote counts in K but never wins
    (["error", "error", "compliant"], None, False),
    (["compliant", "compliant", "violation", "violation"], None, True),
])
def test_strict_majority(votes, verdict, split):
    assert majority(votes) == Vote(verdict, tuple(votes), split)


def test_describe_votes():
    assert describe_votes(["compliant", "violation", "violation"]) == "violation 2, compliant 1"


def test_wire_schema_is_the_contract_without_meta_keys():
    s = wire_schema("judge_answer")
    assert "$schema" not in s and "$id" not in s
    assert s["required"] == ["verdict", "confidence", "rationale", "evidence"]
    assert s["additionalProperties"] is False
    b = wire_schema("judge_batch_answer")
    assert b["properties"]["verdicts"]["items"]["required"][0] == "principle_id"


def _variants():
    import copy
    base = {"verdict": "violation", "confidence": 0.5, "rationale": "r", "evidence": [{"message_index": 0, "quote": "q"}]}
    values = [None, True, False, 0, 1, -1, 0.0, 1.0, 1.5, -0.1, float("nan"), 4.0, "x", "violation", "compliant",
              "not_applicable", [], {}, [{"message_index": 1, "quote": "a"}], [{"message_index": 1}], [1],
              [{"message_index": True, "quote": "a"}], [{"message_index": 2.0, "quote": "a"}],
              [{"message_index": 1, "quote": "a", "x": 1}]]
    yield base
    for key in list(base) + ["extra"]:
        for v in values:
            obj = copy.deepcopy(base)
            obj[key] = v
            yield obj
        obj = copy.deepcopy(base)
        obj.pop(key, None)
        yield obj
    yield [base]
    yield "text"


def test_the_quick_check_never_accepts_what_the_schema_rejects():
    from grader.judges.answer import plainly_valid
    from grader.schemas import validator
    v = validator("judge_answer")
    checked = accepted = 0
    for obj in _variants():
        checked += 1
        if plainly_valid(obj):
            accepted += 1
            assert v.is_valid(obj), obj
    assert checked > 100 and accepted >= 10


def test_nan_confidence_and_duplicate_keys_are_off_contract() -> None:
    """Python's json accepts NaN and repeated keys; an answer using them must not become a grade."""
    from grader.judges.answer import load_json_text

    obj, problem = load_json_text('{"verdict": "compliant", "confidence": NaN, "rationale": "", "evidence": []}')
    assert obj is None and problem.startswith("the answer is not strict JSON (NaN is not a JSON number)")
    obj, problem = load_json_text('{"verdict": "violation", "verdict": "compliant", "confidence": 1, '
                                  '"rationale": "", "evidence": []}')
    assert obj is None and "duplicate key 'verdict'" in problem
    # an object that arrived already parsed (a tool input) with NaN is off-contract too
    assert parse_single({"verdict": "compliant", "confidence": float("nan"), "rationale": "", "evidence": []}) \
        == "off-contract answer at confidence: nan is not a number in [0, 1]"
