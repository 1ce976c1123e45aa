"""Rule `high_profile_internal`: no reviewer from the requesting partnership on a high-profile
case."""

from builders import outcome, pairs_of, problem, request, reviewer, solution, solve

from peermatch.matching.validate import validate


def case(high_profile: bool):
    return problem([reviewer("r1", partnership="A")], [request("q1", high_profile=high_profile)])


def test_holds_internal_reviewer_on_ordinary_case():
    p = case(False)
    assert validate(p, solution(p, [("q1", "r1")])) == []
    s = solve(p)
    assert validate(p, s) == []
    assert pairs_of(s) == {("q1", "r1")}


def test_holds_external_reviewer_on_high_profile_case():
    p = problem([reviewer("r1", partnership="B")], [request("q1", high_profile=True)])
    assert validate(p, solution(p, [("q1", "r1")])) == []
    assert pairs_of(solve(p)) == {("q1", "r1")}


def test_broken_internal_reviewer_on_high_profile_case():
    p = case(True)
    errors = validate(p, solution(p, [("q1", "r1")]))
    assert any("high_profile_internal" in e for e in errors)
    s = solve(p)
    assert validate(p, s) == []
    assert pairs_of(s) == set()
    assert outcome(s, "q1").unfilled.ineligible["high_profile_internal"] == 1
