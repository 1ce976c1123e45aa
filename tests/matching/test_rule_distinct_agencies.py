"""Team rule: no two reviewers on one request share an agency (a multi-agency team)."""

from builders import outcome, pairs_of, problem, request, reviewer, solution, solve

from peermatch.matching.validate import validate


def case(second_agency: str):
    reviewers = [reviewer("r1", agency="police"), reviewer("r2", agency=second_agency)]
    return problem(reviewers, [request("q1", peers=2)])


def test_holds_two_agencies():
    p = case("health")
    assert validate(p, solution(p, [("q1", "r1"), ("q1", "r2")])) == []
    s = solve(p)
    assert validate(p, s) == []
    assert pairs_of(s) == {("q1", "r1"), ("q1", "r2")}


def test_broken_same_agency_twice():
    p = case("police")
    errors = validate(p, solution(p, [("q1", "r1"), ("q1", "r2")]))
    assert any("agency police" in e for e in errors)
    s = solve(p)
    assert validate(p, s) == []
    assert s.filled == 1  # the second seat stays free rather than doubling an agency
    assert outcome(s, "q1").unfilled is not None
