"""Stable re-runs: ``previous`` pairs (the last proposal's teams) are kept as far as fill and
reciprocity allow, before practice; stale pairs are ignored, malformed ones refused; the
solution reports ``kept`` and ``bounds.kept`` only for a problem with ``previous``."""

from __future__ import annotations

import json

import pytest
from builders import pairs_of, problem, request, reviewer, solution, solve

from peermatch.matching.generate import generate
from peermatch.matching.io import (
    ProblemError,
    dump_problem,
    dump_solution,
    load_problem,
    load_solution,
    parse_problem,
    problem_to_json,
)
from peermatch.matching.problem import Pair
from peermatch.matching.solver import solve as run_solver
from peermatch.matching.validate import validate


def test_a_previous_pair_is_kept_among_equal_choices():
    reviewers = [reviewer("r1"), reviewer("r2")]
    for chosen in ("r1", "r2"):
        p = problem(reviewers, [request("q1")], previous=[("q1", chosen)])
        s = solve(p)
        assert validate(p, s) == []
        assert pairs_of(s) == {("q1", chosen)}
        assert (s.kept, s.bound_kept, s.status) == (1, 1, "optimal")


def test_fill_comes_before_stability():
    # Keeping r1 on q1 would leave q2 empty: r1 is the only one who can take q2.
    p = problem(
        [reviewer("r1", capacity=1), reviewer("r2", conflicts=["q2"])],
        [request("q1"), request("q2")],
        previous=[("q1", "r1")],
    )
    s = solve(p)
    assert validate(p, s) == []
    assert pairs_of(s) == {("q1", "r2"), ("q2", "r1")}
    assert (s.filled, s.kept, s.bound_kept) == (2, 0, 0)


def test_reciprocity_comes_before_stability():
    # A lends too much already: keeping its reviewer raises the imbalance.
    partnerships = [{"id": "A"}, {"id": "B", "lent": 3}, {"id": "C", "received": 3}]
    p = problem(
        [reviewer("rb", partnership="B"), reviewer("rc", partnership="C")],
        [request("q1")],
        previous=[("q1", "rb")],
        partnerships=partnerships,
    )
    s = solve(p)
    assert pairs_of(s) == {("q1", "rc")}
    assert s.kept == 0 and validate(p, s) == []


def test_stability_comes_before_practice():
    p = problem(
        [reviewer("r1", last_review_on="2027-02-20"), reviewer("r2", last_review_on="2025-01-01")],
        [request("q1")],
        previous=[("q1", "r1")],
    )
    s = solve(p)
    assert pairs_of(s) == {("q1", "r1")}  # r2 has gone longer without a review
    assert s.practice == s.bound_practice and s.kept == 1
    without = solve(problem(
        [reviewer("r1", last_review_on="2027-02-20"), reviewer("r2", last_review_on="2025-01-01")],
        [request("q1")],
    ))  # fmt: skip
    assert pairs_of(without) == {("q1", "r2")}


def test_stale_pairs_are_ignored_not_refused():
    p = problem(
        [reviewer("r1"), reviewer("r2", capacity=0), reviewer("r3")],
        [request("q1", peers=2, agencies_involved=["police"])],
        excluded=[("q1", "r3")],
        previous=[("q1", "gone"), ("q-gone", "r1"), ("q1", "r2"), ("q1", "r3"), ("q1", "r1")],
    )
    s = solve(p)
    assert validate(p, s) == []
    assert pairs_of(s) == {("q1", "r1")}
    assert (s.kept, s.bound_kept) == (1, 1)


def test_kept_is_written_only_for_a_problem_with_previous():
    plain = problem([reviewer("r1")], [request("q1")])
    text = dump_solution(solve(plain))
    assert '"kept"' not in text
    empty = problem([reviewer("r1")], [request("q1")], previous=[])
    data = json.loads(dump_solution(solve(empty)))
    assert data["kept"] == 0 and data["bounds"]["kept"] == 0
    assert list(data)[:6] == ["format", "status", "assignments", "filled", "imbalance", "kept"]
    assert list(data["bounds"]) == ["filled", "imbalance", "kept", "practice"]
    back = load_solution(json.dumps(data))
    assert (back.kept, back.bound_kept) == (0, 0) and validate(empty, back) == []


def test_previous_round_trips_and_is_not_checked_for_ids():
    p = problem([reviewer("r1")], [request("q1")], previous=[("q1", "r1"), ("q9", "r9")])
    assert p.previous == (Pair("q1", "r1"), Pair("q9", "r9"))
    assert load_problem(dump_problem(p)) == p
    assert problem_to_json(problem([reviewer("r1")], [request("q1")])).get("previous") is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "previous: must be a list, not null"),
        ({"request": "q1"}, "previous: must be a list, not an object"),
        ([["q1", "r1"]], "previous[0]: must be an object, not a list"),
        ([{"request": "q1", "reviewer": "r1"}, {"request": "q1"}], "previous[1].reviewer: missing"),
        ([{"request": "q1", "reviewer": 3}],
         "previous[0].reviewer: must be a string, not a number"),
        ([{"request": "q1", "reviewer": "r1", "why": 1}],
         "previous[0].why: unknown field (expected request, reviewer)"),
    ],
)  # fmt: skip
def test_malformed_previous_is_refused_naming_the_element(value, message):
    data = json.loads(dump_problem(problem([reviewer("r1")], [request("q1")])))
    data["previous"] = value
    with pytest.raises(ProblemError) as error:
        parse_problem(data)
    assert str(error.value) == message


def test_the_validator_checks_kept():
    p = problem([reviewer("r1"), reviewer("r2")], [request("q1")], previous=[("q1", "r1")])
    good = solution(p, [("q1", "r1")])
    assert validate(p, good) == []
    from dataclasses import replace

    assert validate(p, replace(good, kept=0)) == ["kept is 0, the assignments keep 1"]
    assert validate(p, replace(good, bound_kept=0)) == ["bound on kept 0 is below kept 1"]
    assert validate(p, replace(good, bound_kept=2)) == [
        "bound on kept 2 is above the 1 previous pairs"
    ]
    plain = problem([reviewer("r1")], [request("q1")])
    assert validate(plain, replace(solution(plain, [("q1", "r1")]), kept=1)) == [
        "kept is reported but the problem has no previous pairs"
    ]


def _interchangeable():
    """Four requests of A for two peers each, twelve reviewers of B and C (police and health,
    three of each kind): many optimal teams, all with the same fill and imbalance."""
    reviewers = [
        reviewer(f"r{p}{a}{i}", partnership=p, agency=agency)
        for p in "BC"
        for a, agency in enumerate(("police", "health"))
        for i in range(3)
    ]
    requests = [request(f"q{i}", peers=2) for i in range(4)]
    partnerships = [{"id": "A", "lent": 8}, {"id": "B"}, {"id": "C"}]
    return reviewers, requests, partnerships


@pytest.mark.parametrize("how", ["declined", "withdrawn"])
def test_excluding_one_reviewer_changes_exactly_one_pair_on_a_stable_rerun(how):
    """The reviewer declines (the pair is excluded) or leaves the pool (gone from the problem,
    so their previous pair names an unknown reviewer): the re-run replaces that one pair and
    keeps the other seven, proven."""
    reviewers, requests, partnerships = _interchangeable()
    first_problem = problem(reviewers, requests, partnerships=partnerships)
    first = solve(first_problem)
    assert first.status == "optimal" and first.filled == 8
    gone = sorted(pairs_of(first))[0]
    if how == "declined":
        rerun = problem(
            reviewers,
            requests,
            partnerships=partnerships,
            excluded=[gone],
            previous=sorted(pairs_of(first)),
        )
    else:
        rerun = problem(
            [r for r in reviewers if r["id"] != gone[1]],
            requests,
            partnerships=partnerships,
            previous=sorted(pairs_of(first)),
        )
    second = solve(rerun)
    assert validate(rerun, second) == []
    assert (second.filled, second.imbalance) == (first.filled, first.imbalance)
    assert pairs_of(first) - pairs_of(second) == {gone}
    assert len(pairs_of(second) - pairs_of(first)) == 1
    assert (second.kept, second.bound_kept, second.status) == (7, 7, "optimal")


@pytest.mark.parametrize("seed", [0, 1])
def test_a_generated_rerun_keeps_what_it_can(seed):
    """A regional-sized problem re-run with its own solution as ``previous`` keeps all of it
    (nothing changed, so the first solution is optimal again); with one reviewer excluded from
    one of their pairs it keeps every pair but a few, and proves it."""
    base = generate(6, 120, 14, seed, experience=True, organisations=True)
    first = run_solver(base, time_limit=20, workers=1, seed=0)
    assert first.status == "optimal"
    again = parse_problem(problem_to_json(base) | {"previous": _pairs(first)})
    same = run_solver(again, time_limit=20, workers=1, seed=0)
    assert same.status == "optimal" and validate(again, same) == []
    assert same.kept == same.bound_kept == first.filled
    gone = first.assignments[0]
    changed = problem_to_json(base) | {
        "previous": _pairs(first),
        "excluded": [{"request": gone.request, "reviewer": gone.reviewer}],
    }
    rerun = parse_problem(changed)
    second = run_solver(rerun, time_limit=20, workers=1, seed=0)
    assert validate(rerun, second) == []
    assert second.kept is not None and second.kept < first.filled
    assert second.bound_kept is not None and second.kept <= second.bound_kept


def _pairs(s):
    return [{"request": p.request, "reviewer": p.reviewer} for p in s.assignments]
