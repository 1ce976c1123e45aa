"""Rule `excluded`: a pair listed in `excluded` (e.g. after a decline) is never made."""

from builders import outcome, pairs_of, problem, request, reviewer, solution, solve

from peermatch.matching.validate import validate


def test_holds_exclusion_of_another_pair():
    p = problem([reviewer("r1")], [request("q1"), request("q2")], excluded=[("q2", "r1")])
    assert validate(p, solution(p, [("q1", "r1")])) == []
    s = solve(p)
    assert validate(p, s) == []
    assert pairs_of(s) == {("q1", "r1")}


def test_broken_excluded_pair():
    p = problem([reviewer("r1"), reviewer("r2")], [request("q1")], excluded=[("q1", "r1")])
    errors = validate(p, solution(p, [("q1", "r1")]))
    assert any("excluded" in e for e in errors)
    s = solve(p)
    assert validate(p, s) == []
    assert pairs_of(s) == {("q1", "r2")}


def test_broken_excluded_pair_leaves_seat_unfilled_with_reason():
    p = problem([reviewer("r1")], [request("q1")], excluded=[("q1", "r1")])
    s = solve(p)
    assert pairs_of(s) == set()
    assert outcome(s, "q1").unfilled.ineligible["excluded"] == 1
