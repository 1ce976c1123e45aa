"""Rule `involved_agency`: no reviewer from the requesting partnership whose agency is involved
in the case."""

from builders import outcome, pairs_of, problem, request, reviewer, solution, solve

from peermatch.matching.validate import validate


def case(reviewer_partnership: str, agency: str):
    return problem(
        [reviewer("r1", partnership=reviewer_partnership, agency=agency)],
        [request("q1", agencies_involved=["police", "health"])],
    )


def test_holds_internal_reviewer_from_uninvolved_agency():
    p = case("A", "education")
    assert validate(p, solution(p, [("q1", "r1")])) == []
    assert pairs_of(solve(p)) == {("q1", "r1")}


def test_holds_external_reviewer_from_involved_agency():
    p = case("B", "police")
    assert validate(p, solution(p, [("q1", "r1")])) == []
    assert pairs_of(solve(p)) == {("q1", "r1")}


def test_broken_internal_reviewer_from_involved_agency():
    p = case("A", "police")
    errors = validate(p, solution(p, [("q1", "r1")]))
    assert any("involved_agency" in e for e in errors)
    s = solve(p)
    assert validate(p, s) == []
    assert pairs_of(s) == set()
    assert outcome(s, "q1").unfilled.ineligible["involved_agency"] == 1
