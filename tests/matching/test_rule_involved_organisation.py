"""Rule `involved_organisation`: no reviewer whose organisation (their employer, such as a police
force serving several partnerships) is involved in the case, whatever their partnership."""

import pytest
from builders import outcome, pairs_of, problem, request, reviewer, solution, solve

from peermatch.matching.io import ProblemError, dump_solution, load_problem, parse_problem
from peermatch.matching.validate import validate

FORCE = "northshire-police"


def case(organisation: str | None, partnership: str = "B", **request_fields):
    fields = {} if organisation is None else {"organisation": organisation}
    return problem(
        [reviewer("r1", partnership=partnership, agency="police", **fields)],
        [request("q1", organisations_involved=[FORCE], **request_fields)],
    )


def test_holds_reviewer_of_another_partnership_from_an_uninvolved_organisation_of_the_agency():
    p = case("southshire-police")  # the same agency type, another force
    assert validate(p, solution(p, [("q1", "r1")])) == []
    assert pairs_of(solve(p)) == {("q1", "r1")}


def test_holds_reviewer_without_an_organisation():
    p = case(None)
    assert validate(p, solution(p, [("q1", "r1")])) == []
    assert pairs_of(solve(p)) == {("q1", "r1")}


def test_broken_reviewer_of_another_partnership_from_the_involved_organisation():
    p = case(FORCE)  # partnership B, request of A: the agency rule alone would allow it
    errors = validate(p, solution(p, [("q1", "r1")]))
    assert any("involved_organisation" in e for e in errors)
    s = solve(p)
    assert validate(p, s) == []
    assert pairs_of(s) == set()
    ineligible = outcome(s, "q1").unfilled.ineligible
    assert ineligible["involved_organisation"] == 1
    assert sum(ineligible.values()) == 1


def test_the_involved_organisations_reviewer_is_never_placed_but_the_other_forces_is():
    p = problem(
        [
            reviewer("r1", partnership="B", agency="police", organisation=FORCE),
            reviewer("r2", partnership="C", agency="police", organisation="southshire-police"),
            reviewer("r3", partnership="C", agency="health", organisation=FORCE),
        ],
        [request("q1", peers=3, organisations_involved=[FORCE])],
    )
    s = solve(p)
    assert validate(p, s) == []
    assert pairs_of(s) == {("q1", "r2")}
    assert outcome(s, "q1").unfilled.ineligible["involved_organisation"] == 2


def test_an_earlier_rule_is_counted_first():
    p = case(FORCE, high_profile=True, partnership="A")
    assert outcome(solve(p), "q1").unfilled.ineligible == {
        "high_profile_internal": 1, "involved_agency": 0, "conflict": 0, "unavailable": 0,
        "excluded": 0, "no_capacity": 0, "involved_organisation": 0,
    }  # fmt: skip


def test_locked_pair_from_the_involved_organisation_is_refused():
    with pytest.raises(ProblemError) as error:
        problem(
            [reviewer("r1", organisation=FORCE)],
            [request("q1", organisations_involved=[FORCE])],
            locked=[("q1", "r1")],
        )
    assert str(error.value) == (
        "locked[0]: reviewer 'r1' on request 'q1' breaks eligibility rule involved_organisation"
    )


def test_without_organisations_involved_explanations_are_as_before():
    p = problem([reviewer("r1", organisation=FORCE, capacity=0)], [request("q1")])
    s = solve(p)
    assert "involved_organisation" not in outcome(s, "q1").unfilled.ineligible
    assert "involved_organisation" not in dump_solution(s)
    assert validate(p, s) == []


def test_the_fields_are_read_written_and_refused_by_element():
    p = case(FORCE)
    assert load_problem(_dump(p)) == p
    base = {
        "format": "peermatch.problem/1",
        "partnerships": [{"id": "A"}],
        "reviewers": [{"id": "r1", "partnership": "A", "agency": "police", "organisation": 7}],
        "requests": [],
    }
    with pytest.raises(ProblemError, match=r"^reviewers\[0\]\.organisation: must be a string"):
        parse_problem(base)
    base["reviewers"][0]["organisation"] = " "
    with pytest.raises(ProblemError, match=r"^reviewers\[0\]\.organisation: must not be empty"):
        parse_problem(base)
    base["reviewers"][0]["organisation"] = FORCE
    base["requests"] = [
        {"id": "q1", "partnership": "A", "peers": 1, "from": "2027-03-01", "to": "2027-03-02",
         "organisations_involved": [FORCE, ""]}
    ]  # fmt: skip
    with pytest.raises(ProblemError, match=r"^requests\[0\]\.organisations_involved\[1\]: must"):
        parse_problem(base)
    base["requests"][0]["organisations_involved"] = FORCE
    with pytest.raises(ProblemError, match=r"^requests\[0\]\.organisations_involved: must be a"):
        parse_problem(base)


def _dump(p):
    from peermatch.matching.io import dump_problem

    text = dump_problem(p)
    assert '"organisation": "northshire-police"' in text
    assert '"organisations_involved": ["northshire-police"]' in text
    return text
