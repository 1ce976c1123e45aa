"""The validator's checks beyond the rules: ids, figures, bounds and per-request outcomes."""

from __future__ import annotations

from dataclasses import replace

import pytest
from builders import problem, request, reviewer, solution

from peermatch.matching.problem import Pair, RequestOutcome
from peermatch.matching.validate import balances, objective_values, validate


def case():
    p = problem(
        [reviewer("r1", agency="police"), reviewer("r2", agency="health", partnership="A")],
        [request("q1", peers=2), request("q2")],
        partnerships=[{"id": "A", "lent": 1}, {"id": "B", "received": 2}, {"id": "C"}],
    )
    return p, solution(p, [("q1", "r1"), ("q1", "r2")])


def test_objective_values_follow_the_contract():
    p, s = case()
    # r1 (B) lends to A: B +1, A -1; r2 is at home and counts neither way.
    assert balances(p, s.assignments) == {"A": 0, "B": -1, "C": 0}
    assert objective_values(p, s.assignments) == (2, 1)
    assert validate(p, s) == []


def test_status_must_be_known():
    p, s = case()
    assert validate(p, replace(s, status="done")) == [
        "status 'done' is not one of optimal, feasible, infeasible"
    ]


def test_unknown_ids_and_repeated_pairs():
    p, s = case()
    bad = replace(
        s, assignments=(*s.assignments, Pair("q9", "r1"), Pair("q1", "r9"), Pair("q1", "r1"))
    )
    errors = validate(p, bad)
    assert "assignment (q9, r1): unknown request" in errors
    assert "assignment (q1, r9): unknown reviewer" in errors
    assert "assignment (q1, r1): listed 2 times" in errors


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"filled": 3}, "filled is 3, the assignments make 2"),
        ({"imbalance": 0}, "imbalance is 0, the assignments make 1"),
        ({"balance": {"A": 0, "B": 0, "C": 0}}, "balance differs from the assignments' for B"),
        ({"balance": {"A": 0, "B": -1}}, "balance differs from the assignments' for C"),
        ({"bound_filled": 1}, "bound on fill 1 is below filled 2"),
        ({"bound_imbalance": 2}, "bound on imbalance 2 is not within 0..1"),
        ({"bound_imbalance": -1}, "bound on imbalance -1 is not within 0..1"),
    ],
    ids=["filled", "imbalance", "balance", "balance-missing", "fill-bound", "imbalance-bound",
         "negative-bound"],
)  # fmt: skip
def test_reported_figures_are_recomputed(change, expected):
    p, s = case()
    assert expected in validate(p, replace(s, **change))


def test_optimal_needs_tight_bounds_feasible_does_not():
    p, s = case()
    loose = replace(s, bound_filled=3, bound_imbalance=0)
    assert "status optimal but the bounds differ from the objective values" in validate(p, loose)
    assert validate(p, replace(loose, status="feasible")) == []


def test_infeasible_is_not_checked_against_the_rules():
    p, s = case()
    assert validate(p, replace(s, status="infeasible", filled=99)) == []


def outcomes_with(s, qid, **change):
    return replace(
        s, requests=tuple(replace(o, **change) if o.id == qid else o for o in s.requests)
    )


def test_outcomes_one_per_request():
    p, s = case()
    assert "request q2: no outcome" in validate(p, replace(s, requests=s.requests[:1]))
    doubled = replace(s, requests=(*s.requests, s.requests[0]))
    assert "request q1: 2 outcomes" in validate(p, doubled)
    extra = RequestOutcome("q7", 1, 0, None, ())
    assert "outcome for unknown request q7" in validate(
        p, replace(s, requests=(*s.requests, extra))
    )


def test_outcome_figures_and_explanations():
    p, s = case()
    q1, q2 = s.requests
    assert q1.unfilled is None and q2.unfilled is not None  # q1 full, q2 empty
    assert "request q1: outcome says peers 3, problem says 2" in validate(
        p, outcomes_with(s, "q1", peers=3)
    )
    assert "request q1: outcome says filled 1, assignments 2" in validate(
        p, outcomes_with(s, "q1", filled=1)
    )
    assert "request q1: is full but has an unfilled explanation" in validate(
        p, outcomes_with(s, "q1", unfilled=q2.unfilled)
    )
    assert "request q2: has free seats but no unfilled explanation" in validate(
        p, outcomes_with(s, "q2", unfilled=None)
    )
    partial = replace(q2.unfilled, ineligible={"conflict": 0})
    assert any(
        "must name exactly" in e for e in validate(p, outcomes_with(s, "q2", unfilled=partial))
    )
    stray = replace(q2.unfilled, missing_skills=("rca",))
    assert "request q2: missing_skills not required: rca" in validate(
        p, outcomes_with(s, "q2", unfilled=stray)
    )


def test_alternates_must_be_eligible_new_and_known():
    p = problem(
        [reviewer("r1"), reviewer("r2", agency="health", capacity=0), reviewer("r3", agency="x")],
        [request("q1")],
    )
    s = solution(p, [("q1", "r1")])
    assert validate(p, outcomes_with(s, "q1", alternates=("r3",))) == []
    for alternates, message in [
        (("r9",), "request q1: unknown alternate r9"),
        (("r1",), "request q1: alternate r1 repeated or already on the request"),
        (("r3", "r3"), "request q1: alternate r3 repeated or already on the request"),
        (("r2",), "request q1: alternate r2 is not eligible"),
    ]:
        assert message in validate(p, outcomes_with(s, "q1", alternates=alternates))
