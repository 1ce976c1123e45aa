"""Team rule: a request that gets anyone gets, among its team, every required skill."""

from builders import outcome, pairs_of, problem, request, reviewer, solution, solve

from peermatch.matching.validate import validate


def test_holds_skills_spread_over_the_team():
    p = problem(
        [reviewer("r1", agency="police", skills=["rca"]), reviewer("r2", agency="health")],
        [request("q1", peers=2, required_skills=["rca"])],
    )
    assert validate(p, solution(p, [("q1", "r1"), ("q1", "r2")])) == []
    s = solve(p)
    assert validate(p, s) == []
    assert pairs_of(s) == {("q1", "r1"), ("q1", "r2")}


def test_holds_empty_team_needs_no_skills():
    p = problem([reviewer("r1")], [request("q1", required_skills=["rca"])])
    assert validate(p, solution(p, [])) == []


def test_broken_team_without_the_skill():
    p = problem([reviewer("r1", skills=["peer-review"])], [request("q1", required_skills=["rca"])])
    errors = validate(p, solution(p, [("q1", "r1")]))
    assert any("lacks skills rca" in e for e in errors)
    s = solve(p)
    assert validate(p, s) == []
    assert pairs_of(s) == set()  # nobody rather than a team that cannot do the review
    assert "rca" in outcome(s, "q1").unfilled.missing_skills
