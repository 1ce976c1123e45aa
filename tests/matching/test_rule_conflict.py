"""Rule `conflict`: a reviewer who declared a conflict with the request or its partnership."""

import pytest
from builders import outcome, pairs_of, problem, request, reviewer, solution, solve

from peermatch.matching.validate import validate


def case(conflicts: list[str]):
    return problem([reviewer("r1", conflicts=conflicts)], [request("q1"), request("q2")])


def test_holds_conflict_elsewhere():
    p = case(["C", "q2"])
    assert validate(p, solution(p, [("q1", "r1")])) == []
    s = solve(p)
    assert validate(p, s) == []
    assert pairs_of(s) == {("q1", "r1")}


@pytest.mark.parametrize("conflict", ["q1", "A"], ids=["request", "partnership"])
def test_broken_conflict_with_request_or_partnership(conflict):
    p = problem([reviewer("r1", conflicts=[conflict])], [request("q1")])
    errors = validate(p, solution(p, [("q1", "r1")]))
    assert any("conflict" in e for e in errors)
    s = solve(p)
    assert validate(p, s) == []
    assert pairs_of(s) == set()
    assert outcome(s, "q1").unfilled.ineligible["conflict"] == 1
