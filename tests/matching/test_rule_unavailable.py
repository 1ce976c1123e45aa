"""Rule `unavailable`: a reviewer unavailable on any day of the request's window (inclusive)."""

import pytest
from builders import outcome, pairs_of, problem, request, reviewer, solution, solve

from peermatch.matching.validate import validate

WINDOW = {"from": "2027-03-01", "to": "2027-03-31"}


def case(gap_from: str, gap_to: str):
    gaps = [{"from": gap_from, "to": gap_to}]
    return problem([reviewer("r1", unavailable=gaps)], [request("q1", **WINDOW)])


@pytest.mark.parametrize(
    ("start", "end"), [("2027-02-01", "2027-02-28"), ("2027-04-01", "2027-04-02")]
)
def test_holds_gap_outside_the_window(start, end):
    p = case(start, end)
    assert validate(p, solution(p, [("q1", "r1")])) == []
    s = solve(p)
    assert validate(p, s) == []
    assert pairs_of(s) == {("q1", "r1")}


@pytest.mark.parametrize(
    ("start", "end"),
    [("2027-02-01", "2027-03-01"), ("2027-03-31", "2027-04-30"), ("2027-03-10", "2027-03-10")],
    ids=["touches-start", "touches-end", "inside"],
)
def test_broken_gap_overlapping_the_window(start, end):
    p = case(start, end)
    errors = validate(p, solution(p, [("q1", "r1")]))
    assert any("unavailable" in e for e in errors)
    s = solve(p)
    assert validate(p, s) == []
    assert pairs_of(s) == set()
    assert outcome(s, "q1").unfilled.ineligible["unavailable"] == 1
