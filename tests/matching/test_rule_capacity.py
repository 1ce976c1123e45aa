"""Capacity: each reviewer is on at most `capacity` requests."""

from builders import problem, request, reviewer, solution, solve

from peermatch.matching.validate import validate


def case(capacity: int):
    return problem([reviewer("r1", capacity=capacity)], [request("q1"), request("q2")])


def test_holds_within_capacity():
    p = case(2)
    assert validate(p, solution(p, [("q1", "r1"), ("q2", "r1")])) == []
    s = solve(p)
    assert validate(p, s) == []
    assert s.filled == 2


def test_broken_over_capacity():
    p = case(1)
    errors = validate(p, solution(p, [("q1", "r1"), ("q2", "r1")]))
    assert any("capacity is 1" in e for e in errors)
    s = solve(p)
    assert validate(p, s) == []
    assert s.filled == 1
    free = [o for o in s.requests if o.filled == 0]
    assert len(free) == 1
    assert free[0].unfilled.taken_elsewhere == 1
