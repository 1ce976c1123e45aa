"""The "experience and practice" extension of the contract: its fields are read and written,
refused with the element named, and the third objective (practice) ranks after fill and
reciprocity."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from builders import outcome, pairs_of, problem, request, reviewer, solve
from test_io import base, edit, refused

from peermatch.matching.io import (
    dump_problem,
    dump_solution,
    load_problem,
    load_solution,
    parse_problem,
    solution_to_json,
)
from peermatch.matching.validate import validate

EXTENSION_REFUSALS = [
    ("reviews_completed below 0", "reviewers.1.reviews_completed", -1,
     "reviewers[1].reviews_completed: must be at least 0"),
    ("reviews_completed not an integer", "reviewers.1.reviews_completed", "3",
     "reviewers[1].reviews_completed: must be an integer, not a string"),
    ("experience_threshold below 1", "experience_threshold", 0,
     "experience_threshold: must be at least 1"),
    ("last_review_on not a date", "reviewers.0.last_review_on", "last spring",
     "reviewers[0].last_review_on: not a valid date 'last spring' (expected YYYY-MM-DD)"),
    ("last_review_on a number", "reviewers.0.last_review_on", 20270101,
     "reviewers[0].last_review_on: must be a string, not a number"),
    ("as_of not a date", "as_of", "2027-02-30",
     "as_of: not a valid date '2027-02-30' (expected YYYY-MM-DD)"),
    ("needs_experienced not a boolean", "requests.1.needs_experienced", "yes",
     "requests[1].needs_experienced: must be true or false, not a string"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [case[1:] for case in EXTENSION_REFUSALS],
    ids=[case[0] for case in EXTENSION_REFUSALS],
)
def test_it_refuses_bad_extension_fields_naming_the_element(path, value, message):
    assert refused(edit(path, value)) == message


def test_the_extension_fields_default_to_the_old_meaning():
    parsed = parse_problem(base())
    assert parsed.experience_threshold == 2
    assert parsed.as_of is None
    assert parsed.practice_date() == dt.date(2027, 1, 10)  # the earliest request start
    assert all(r.reviews_completed == 0 and r.last_review_on is None for r in parsed.reviewers)
    assert not any(q.needs_experienced for q in parsed.requests)
    assert "experience_threshold" not in dump_problem(parsed)  # defaults are left out


def test_the_extension_fields_round_trip():
    data: dict[str, Any] = base() | {"experience_threshold": 3, "as_of": "2027-01-01"}
    data["reviewers"][0] |= {"reviews_completed": 4, "last_review_on": "2026-06-30"}
    data["reviewers"][1] |= {"last_review_on": None}
    data["requests"][0] |= {"needs_experienced": True}
    parsed = parse_problem(data)
    assert parsed.reviewers[0].reviews_completed == 4
    assert parsed.reviewers[0].last_review_on == dt.date(2026, 6, 30)
    assert parsed.reviewers[1].last_review_on is None
    assert parsed.requests[0].needs_experienced
    assert load_problem(dump_problem(parsed)) == parsed


def test_gaps_are_capped_and_never_negative():
    p = problem(
        [
            reviewer("never"),
            reviewer("long-ago", last_review_on="2020-01-01"),
            reviewer("recent", last_review_on="2027-02-19"),
            reviewer("later", last_review_on="2027-03-15"),
        ],
        [request("q1")],
    )
    assert [p.gap(r) for r in p.reviewers] == [730, 730, 10, 0]  # as_of: 1 March 2027


def test_practice_gives_the_seat_to_the_longest_gap():
    p = problem(
        [
            reviewer("r1", last_review_on="2027-01-01"),
            reviewer("r2", last_review_on="2026-03-01"),
            reviewer("r3", last_review_on="2026-12-01"),
        ],
        [request("q1")],
    )
    s = solve(p)
    assert pairs_of(s) == {("q1", "r2")}
    assert s.practice == s.bound_practice == 365
    assert validate(p, s) == []
    data = solution_to_json(s)
    assert data["practice"] == 365 and data["bounds"]["practice"] == 365
    assert list(data).index("practice") == list(data).index("imbalance") + 1
    assert load_solution(dump_solution(s)).practice == 365


def test_practice_ranks_after_reciprocity():
    # C owes A (the requester) a reviewer: the C reviewer balances the books even though the
    # B reviewer has gone longer without a review.
    partnerships = [{"id": "A", "lent": 1}, {"id": "B"}, {"id": "C", "received": 1}]
    p = problem(
        [
            reviewer("rb", partnership="B", last_review_on="2025-01-01"),
            reviewer("rc", partnership="C", last_review_on="2027-02-01"),
        ],
        [request("q1")],
        partnerships=partnerships,
    )
    s = solve(p)
    assert (s.filled, s.imbalance) == (1, 0)
    assert pairs_of(s) == {("q1", "rc")}
    assert validate(p, s) == []


def test_practice_ranks_after_fill():
    p = problem(
        [
            reviewer("r1", agency="police", last_review_on="2027-02-27", capacity=2),
            reviewer("r2", agency="police", last_review_on="2025-01-01"),
        ],
        [request("q1"), request("q2")],
    )
    s = solve(p)
    assert s.filled == 2  # r1 takes a seat despite the short gap: filling comes first
    assert validate(p, s) == []


def test_the_explanation_names_a_missing_experienced_reviewer():
    p = problem(
        [reviewer("r1", reviews_completed=1), reviewer("r2", agency="health")],
        [request("q1", peers=2, needs_experienced=True)],
    )
    s = solve(p)
    unfilled = outcome(s, "q1").unfilled
    assert unfilled is not None and unfilled.missing_experience
    assert unfilled.missing_skills == ()
    assert solution_to_json(s)["requests"][0]["unfilled"]["missing_experience"] is True
