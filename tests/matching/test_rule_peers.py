"""Team rule: a request gets at most `peers` reviewers."""

from builders import AGENCIES, outcome, problem, request, reviewer, solution, solve

from peermatch.matching.validate import validate


def case():
    reviewers = [reviewer(f"r{i}", agency=AGENCIES[i]) for i in range(3)]
    return problem(reviewers, [request("q1", peers=2)])


def test_holds_team_of_peers():
    p = case()
    assert validate(p, solution(p, [("q1", "r0"), ("q1", "r1")])) == []
    s = solve(p)
    assert validate(p, s) == []
    assert s.filled == 2
    assert outcome(s, "q1").unfilled is None
    assert len(outcome(s, "q1").alternates) == 1  # the third is kept for a decline


def test_broken_more_than_peers():
    p = case()
    errors = validate(p, solution(p, [("q1", "r0"), ("q1", "r1"), ("q1", "r2")]))
    assert any("peers is 2" in e for e in errors)
