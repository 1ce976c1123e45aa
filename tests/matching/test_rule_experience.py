"""Team rule (experience and practice): a request with ``needs_experienced`` that gets anyone
gets, among its team, a reviewer with at least ``experience_threshold`` completed reviews."""

from dataclasses import replace

from builders import outcome, pairs_of, problem, request, reviewer, solution, solve

from peermatch.matching.io import dump_solution, load_solution
from peermatch.matching.validate import validate


def test_holds_with_one_experienced_member_in_the_team():
    p = problem(
        [
            reviewer("r1", agency="police", reviews_completed=2),
            reviewer("r2", agency="health"),
        ],
        [request("q1", peers=2, needs_experienced=True)],
    )
    assert validate(p, solution(p, [("q1", "r1"), ("q1", "r2")])) == []
    s = solve(p)
    assert validate(p, s) == []
    assert pairs_of(s) == {("q1", "r1"), ("q1", "r2")}


def test_holds_empty_team_needs_nobody_experienced():
    p = problem([reviewer("r1")], [request("q1", needs_experienced=True)])
    assert validate(p, solution(p, [])) == []


def test_broken_team_without_an_experienced_member():
    p = problem([reviewer("r1", reviews_completed=1)], [request("q1", needs_experienced=True)])
    errors = validate(p, solution(p, [("q1", "r1")]))
    assert any("no experienced reviewer" in e for e in errors)
    s = solve(p)
    assert validate(p, s) == []
    assert pairs_of(s) == set()  # nobody rather than a team without experience
    unfilled = outcome(s, "q1").unfilled
    assert unfilled is not None and unfilled.missing_experience
    assert load_solution(dump_solution(s)).requests[0].unfilled.missing_experience


def test_the_threshold_comes_from_the_problem():
    reviewers = [reviewer("r1", reviews_completed=1)]
    requests = [request("q1", needs_experienced=True)]
    strict = problem(reviewers, requests)  # default threshold 2
    assert pairs_of(solve(strict)) == set()
    lenient = replace(problem(reviewers, requests), experience_threshold=1)
    s = solve(lenient)
    assert pairs_of(s) == {("q1", "r1")}
    assert validate(lenient, s) == []


def test_the_scarce_experienced_reviewer_goes_where_needed():
    # r1 is the only experienced reviewer; q1 needs one, q2 does not: fill both.
    p = problem(
        [
            reviewer("r1", agency="police", reviews_completed=5),
            reviewer("r2", agency="police"),
        ],
        [request("q1", needs_experienced=True), request("q2")],
    )
    s = solve(p)
    assert validate(p, s) == []
    assert pairs_of(s) == {("q1", "r1"), ("q2", "r2")}
    assert outcome(s, "q1").unfilled is None


def test_a_locked_team_that_can_never_be_experienced_is_infeasible():
    p = problem(
        [reviewer("r1"), reviewer("r2", agency="health", reviews_completed=3, capacity=0)],
        [request("q1", peers=2, needs_experienced=True)],
        locked=[("q1", "r1")],
    )
    assert solve(p).status == "infeasible"


def test_without_the_field_experience_does_not_matter():
    p = problem([reviewer("r1")], [request("q1")])
    s = solve(p)
    assert pairs_of(s) == {("q1", "r1")}
    assert outcome(s, "q1").unfilled is None
