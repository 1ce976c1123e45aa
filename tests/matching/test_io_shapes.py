"""Every way a file's shape can be wrong, each refused with its element named exactly: the
paths that test_io.py does not already cover, for problems and for solution files."""

from __future__ import annotations

from typing import Any

import pytest
from test_io import DELETE, base, edit, refused, sample_solution

from peermatch.matching.io import (
    ProblemError,
    dump_problem,
    load_problem,
    load_solution,
    parse_problem,
    parse_solution,
    solution_to_json,
)

EXPECTED_PARTNERSHIP = "expected id, lent, received"
EXPECTED_GAP = "expected from, to"
EXPECTED_REVIEWER = (
    "expected id, partnership, agency, skills, capacity, unavailable, conflicts, "
    "reviews_completed, last_review_on, organisation"
)
EXPECTED_REQUEST = (
    "expected id, partnership, peers, from, to, high_profile, required_skills, "
    "agencies_involved, needs_experienced, organisations_involved"
)
EXPECTED_TOP = (
    "expected format, partnerships, reviewers, requests, locked, excluded, "
    "experience_threshold, as_of, previous"
)

# (what is wrong, edit path, new value, the exact message)
PROBLEM_SHAPES = [
    ("format as number", "format", 1,
     "format: unknown format 1, expected 'peermatch.problem/1'"),
    ("unknown top-level key", "comment", "hello", f"comment: unknown field ({EXPECTED_TOP})"),
    ("unknown partnership key", "partnerships.1.lend", 2,
     f"partnerships[1].lend: unknown field ({EXPECTED_PARTNERSHIP})"),
    ("unknown reviewer key", "reviewers.2.skill", ["rca"],
     f"reviewers[2].skill: unknown field ({EXPECTED_REVIEWER})"),
    ("unknown request key", "requests.1.high_proflie", True,
     f"requests[1].high_proflie: unknown field ({EXPECTED_REQUEST})"),
    ("unknown gap key", "reviewers.0.unavailable.0.until", "2027-05-01",
     f"reviewers[0].unavailable[0].until: unknown field ({EXPECTED_GAP})"),
    ("unknown pair key", "excluded.0.why", "declined",
     "excluded[0].why: unknown field (expected request, reviewer)"),
    ("partnerships as object", "partnerships", {}, "partnerships: must be a list, not an object"),
    ("requests as null", "requests", None, "requests: must be a list, not null"),
    ("locked as string", "locked", "none", "locked: must be a list, not a string"),
    ("partnership as string", "partnerships.1", "wigan",
     "partnerships[1]: must be an object, not a string"),
    ("request as number", "requests.0", 17, "requests[0]: must be an object, not a number"),
    ("missing partnership id", "partnerships.0.id", DELETE, "partnerships[0].id: missing"),
    ("missing reviewer id", "reviewers.0.id", DELETE, "reviewers[0].id: missing"),
    ("missing reviewer partnership", "reviewers.2.partnership", DELETE,
     "reviewers[2].partnership: missing"),
    ("missing request id", "requests.0.id", DELETE, "requests[0].id: missing"),
    ("missing request partnership", "requests.0.partnership", DELETE,
     "requests[0].partnership: missing"),
    ("missing window start", "requests.0.from", DELETE, "requests[0].from: missing"),
    ("missing gap end", "reviewers.0.unavailable.0.to", DELETE,
     "reviewers[0].unavailable[0].to: missing"),
    ("missing pair request", "locked.0.request", DELETE, "locked[0].request: missing"),
    ("negative lent", "partnerships.0.lent", -2, "partnerships[0].lent: must be at least 0"),
    ("received as text", "partnerships.0.received", "2",
     "partnerships[0].received: must be an integer, not a string"),
    ("received as float", "partnerships.0.received", 2.0,
     "partnerships[0].received: must be an integer, not a number"),
    ("peers as null", "requests.0.peers", None, "requests[0].peers: must be an integer, not null"),
    ("peers as list", "requests.0.peers", [2], "requests[0].peers: must be an integer, not a list"),
    ("peers negative", "requests.0.peers", -3, "requests[0].peers: must be at least 1"),
    ("capacity as object", "reviewers.0.capacity", {"n": 2},
     "reviewers[0].capacity: must be an integer, not an object"),
    ("capacity as boolean", "reviewers.0.capacity", True,
     "reviewers[0].capacity: must be an integer, not a boolean"),
    ("reviews_completed as boolean", "reviewers.0.reviews_completed", False,
     "reviewers[0].reviews_completed: must be an integer, not a boolean"),
    ("experience_threshold as null", "experience_threshold", None,
     "experience_threshold: must be an integer, not null"),
    ("experience_threshold as float", "experience_threshold", 2.5,
     "experience_threshold: must be an integer, not a number"),
    ("high_profile as null", "requests.0.high_profile", None,
     "requests[0].high_profile: must be true or false, not null"),
    ("high_profile as text", "requests.0.high_profile", "true",
     "requests[0].high_profile: must be true or false, not a string"),
    ("needs_experienced as number", "requests.0.needs_experienced", 0,
     "requests[0].needs_experienced: must be true or false, not a number"),
    ("id as boolean", "partnerships.1.id", True,
     "partnerships[1].id: must be a string, not a boolean"),
    ("empty partnership id", "partnerships.1.id", "", "partnerships[1].id: must not be empty"),
    ("blank agency", "reviewers.1.agency", "\t", "reviewers[1].agency: must not be empty"),
    ("agency as list", "reviewers.1.agency", ["police"],
     "reviewers[1].agency: must be a string, not a list"),
    ("blank skill", "reviewers.0.skills", ["rca", " "],
     "reviewers[0].skills[1]: must not be empty"),
    ("conflict as number", "reviewers.0.conflicts", ["bolton", 17],
     "reviewers[0].conflicts[1]: must be a string, not a number"),
    ("required_skills as string", "requests.0.required_skills", "rca",
     "requests[0].required_skills: must be a list, not a string"),
    ("blank agency involved", "requests.0.agencies_involved", ["police", ""],
     "requests[0].agencies_involved[1]: must not be empty"),
    ("unavailable as object", "reviewers.0.unavailable", {"from": "2027-04-01"},
     "reviewers[0].unavailable: must be a list, not an object"),
    ("gap as list", "reviewers.0.unavailable.0", ["2027-04-01", "2027-04-14"],
     "reviewers[0].unavailable[0]: must be an object, not a list"),
    ("gap date malformed", "reviewers.0.unavailable.0.from", "1 April 2027",
     "reviewers[0].unavailable[0].from: not a valid date '1 April 2027' (expected YYYY-MM-DD)"),
    ("date without padding", "requests.0.from", "2027-1-10",
     "requests[0].from: not a valid date '2027-1-10' (expected YYYY-MM-DD)"),
    ("date of year 0", "requests.0.from", "0000-01-10",
     "requests[0].from: not a valid date '0000-01-10' (expected YYYY-MM-DD)"),
    ("date not in a leap year", "requests.0.to", "2027-02-29",
     "requests[0].to: not a valid date '2027-02-29' (expected YYYY-MM-DD)"),
    ("date with spaces", "requests.0.to", " 2027-03-01",
     "requests[0].to: not a valid date ' 2027-03-01' (expected YYYY-MM-DD)"),
    ("empty date", "requests.0.to", "", "requests[0].to: must not be empty"),
    ("date as null", "requests.0.to", None, "requests[0].to: must be a string, not null"),
    ("as_of as number", "as_of", 2027, "as_of: must be a string, not a number"),
    ("last_review_on as boolean", "reviewers.1.last_review_on", False,
     "reviewers[1].last_review_on: must be a string, not a boolean"),
    ("last_review_on blank", "reviewers.1.last_review_on", " ",
     "reviewers[1].last_review_on: must not be empty"),
    ("pair reviewer as number", "locked.0.reviewer", 1,
     "locked[0].reviewer: must be a string, not a number"),
    ("conflict with itself unknown", "reviewers.1.conflicts", ["r-002"],
     "reviewers[1].conflicts[0]: unknown request or partnership 'r-002'"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [case[1:] for case in PROBLEM_SHAPES],
    ids=[case[0] for case in PROBLEM_SHAPES],
)
def test_a_problem_of_the_wrong_shape_is_refused_naming_the_element(path, value, message):
    assert refused(edit(path, value)) == message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"format": "peermatch.problem/1", "partnerships": [{"id": "a", "id": "b"}]}',
         "problem: duplicate key 'id' in a JSON object"),
        ('{"format": "peermatch.problem/1", "as_of": null, "as_of": "2027-01-01"}',
         "problem: duplicate key 'as_of' in a JSON object"),
        ('{"format": "peermatch.problem/1", "partnerships": [{"id": "a", "lent": Infinity}]}',
         "problem: not valid JSON: Infinity is not a number"),
        ('{"format": "peermatch.problem/1", "partnerships": [{"id": "a", "lent": -Infinity}]}',
         "problem: not valid JSON: -Infinity is not a number"),
        ('"peermatch.problem/1"', "problem: must be a JSON object, not a string"),
        ("true", "problem: must be a JSON object, not a boolean"),
        ("3.5", "problem: must be a JSON object, not a number"),
    ],
    ids=["nested-duplicate", "duplicate-after-null", "infinity", "minus-infinity", "string",
         "boolean", "number"],
)  # fmt: skip
def test_malformed_text_is_refused_exactly(text, message):
    with pytest.raises(ProblemError) as caught:
        load_problem(text)
    assert str(caught.value) == message


def test_a_pair_excluded_twice_is_refused():
    data = base()
    data["excluded"].append({"request": "req-17", "reviewer": "r-002"})
    assert refused(data) == "excluded[1]: duplicate pair (also excluded[0])"


def test_the_first_error_in_the_file_is_the_one_reported():
    data = edit("requests.1.peers", 0)
    data["reviewers"][2]["capacity"] = -1
    assert refused(data) == "reviewers[2].capacity: must be at least 0"  # before the requests


def test_shape_errors_come_before_reference_errors():
    data = edit("reviewers.2.partnership", "nowhere")
    data["requests"][1]["peers"] = 0
    assert refused(data) == "requests[1].peers: must be at least 1"


def test_null_optional_dates_mean_absent():
    data = base() | {"as_of": None}
    data["reviewers"][0]["last_review_on"] = None
    problem = parse_problem(data)
    assert problem.as_of is None and problem.reviewers[0].last_review_on is None


def test_repeated_skills_and_agencies_count_once_and_keep_their_order():
    data = edit("requests.0.required_skills", ["rca", "lead", "rca"])
    data["requests"][0]["agencies_involved"] = ["police", "police"]
    data["reviewers"][0]["skills"] = ["rca", "rca"]
    problem = parse_problem(data)
    assert problem.requests[0].required_skills == ("rca", "lead")
    assert problem.requests[0].agencies_involved == frozenset({"police"})
    assert problem.reviewers[0].skills == frozenset({"rca"})
    assert load_problem(dump_problem(problem)) == problem


def test_parsing_does_not_change_the_input():
    data = base()
    parse_problem(data)
    assert data == base()


# --- solution files: the shape is checked, the rules are the validator's -------------------


def solution_data() -> dict[str, Any]:
    return solution_to_json(sample_solution())


def solution_edit(path: str, value: Any) -> dict[str, Any]:
    return edit(path, value, solution_data())


SOLUTION_SHAPES = [
    ("unknown format", "format", "peermatch.solution/0",
     "format: unknown format 'peermatch.solution/0'"),
    ("missing format", "format", DELETE, "format: missing"),
    ("missing status", "status", DELETE, "status: missing"),
    ("missing seconds", "seconds", DELETE, "seconds: missing"),
    ("blank status", "status", "", "status: must not be empty"),
    ("assignments as object", "assignments", {}, "assignments: must be a list, not an object"),
    ("assignment reviewer missing", "assignments.0.reviewer", DELETE,
     "assignments[0].reviewer: missing"),
    ("assignment request as number", "assignments.1.request", 18,
     "assignments[1].request: must be a string, not a number"),
    ("assignment unknown key", "assignments.0.locked", True,
     "assignments[0].locked: unknown field (expected request, reviewer)"),
    ("filled negative", "filled", -1, "filled: must be at least 0"),
    ("imbalance as float", "imbalance", 3.0, "imbalance: must be an integer, not a number"),
    ("bounds as list", "bounds", [2, 3], "bounds: must be an object, not a list"),
    ("bounds unknown key", "bounds.fill", 2,
     "bounds.fill: unknown field (expected filled, imbalance, practice, kept)"),
    ("bound missing", "bounds.imbalance", DELETE, "bounds.imbalance: missing"),
    ("bound practice negative", "bounds.practice", -5, "bounds.practice: must be at least 0"),
    ("practice as text", "practice", "730", "practice: must be an integer, not a string"),
    ("balance as list", "balance", [], "balance: must be an object, not a list"),
    ("balance as boolean", "balance.wigan", True,
     "balance.wigan: must be an integer, not a boolean"),
    ("balance far too low", "balance.salford", -(10**12) - 1,
     "balance.salford: must be at least -1000000000000"),
    ("requests as null", "requests", None, "requests: must be a list, not null"),
    ("outcome unknown key", "requests.1.unfiled", {},
     "requests[1].unfiled: unknown field (expected id, peers, filled, alternates, unfilled)"),
    ("outcome peers zero", "requests.1.peers", 0, "requests[1].peers: must be at least 1"),
    ("outcome missing alternates", "requests.0.alternates", DELETE,
     "requests[0].alternates: missing"),
    ("alternate as null", "requests.0.alternates", ["r-009", None],
     "requests[0].alternates[1]: must be a string, not null"),
    ("unfilled as null", "requests.0.unfilled", None,
     "requests[0].unfilled: must be an object, not null"),
    ("unfilled unknown key", "requests.0.unfilled.missing_skill", [],
     "requests[0].unfilled.missing_skill: unknown field (expected eligible, ineligible, "
     "missing_skills, taken_elsewhere, missing_experience)"),
    ("unfilled eligible missing", "requests.0.unfilled.eligible", DELETE,
     "requests[0].unfilled.eligible: missing"),
    ("ineligible as list", "requests.0.unfilled.ineligible", [],
     "requests[0].unfilled.ineligible: must be an object, not a list"),
    ("ineligible count negative", "requests.0.unfilled.ineligible.conflict", -1,
     "requests[0].unfilled.ineligible.conflict: must be at least 0"),
    ("missing_experience as text", "requests.0.unfilled.missing_experience", "no",
     "requests[0].unfilled.missing_experience: must be true or false, not a string"),
    ("seconds as text", "seconds", "0.4", "seconds: must be a number, not a string"),
    ("seconds as boolean", "seconds", False, "seconds: must be a number, not a boolean"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [case[1:] for case in SOLUTION_SHAPES],
    ids=[case[0] for case in SOLUTION_SHAPES],
)
def test_a_solution_of_the_wrong_shape_is_refused_naming_the_element(path, value, message):
    with pytest.raises(ProblemError) as caught:
        parse_solution(solution_edit(path, value))
    assert str(caught.value) == message


def test_a_solution_must_be_an_object():
    with pytest.raises(ProblemError) as caught:
        load_solution("[]")
    assert str(caught.value) == "solution: must be a JSON object, not a list"


def test_a_solution_keeps_unknown_top_level_keys_as_extensions():
    data = solution_data() | {"note": {"by": "test"}, "practice": None}
    solution = parse_solution(data)
    assert solution.extra == {"note": {"by": "test"}}
    assert solution.practice is None and solution.seconds == 0.412
    assert solution_to_json(solution)["note"] == {"by": "test"}
