"""Rule `no_capacity`: a reviewer with capacity 0 is eligible for nothing."""

from builders import outcome, pairs_of, problem, request, reviewer, solution, solve

from peermatch.matching.validate import validate


def case(capacity: int):
    return problem([reviewer("r1", capacity=capacity)], [request("q1")])


def test_holds_reviewer_with_capacity_is_placed():
    p = case(1)
    assert validate(p, solution(p, [("q1", "r1")])) == []
    s = solve(p)
    assert validate(p, s) == []
    assert pairs_of(s) == {("q1", "r1")}


def test_broken_reviewer_without_capacity_is_rejected_and_never_placed():
    p = case(0)
    errors = validate(p, solution(p, [("q1", "r1")]))
    assert any("no_capacity" in e for e in errors)
    s = solve(p)
    assert validate(p, s) == []
    assert pairs_of(s) == set()
    assert outcome(s, "q1").unfilled.ineligible["no_capacity"] == 1
