"""Reading problems (every refusal of the contract names the element) and writing solutions."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from builders import problem as build_problem
from builders import request, reviewer
from builders import solution as build_solution

from peermatch.matching.generate import generate
from peermatch.matching.io import (
    ProblemError,
    dump_problem,
    dump_solution,
    load_problem,
    load_solution,
    parse_problem,
    problem_to_json,
    solution_to_json,
)
from peermatch.matching.problem import Pair, RequestOutcome, Solution, Unfilled


def base() -> dict[str, Any]:
    """A valid problem using every field, as in the contract's example."""
    return {
        "format": "peermatch.problem/1",
        "partnerships": [
            {"id": "salford", "lent": 4, "received": 2},
            {"id": "wigan"},
            {"id": "bolton"},
        ],
        "reviewers": [
            {
                "id": "r-001",
                "partnership": "salford",
                "agency": "police",
                "skills": ["peer-review", "rca"],
                "capacity": 2,
                "unavailable": [{"from": "2027-04-01", "to": "2027-04-14"}],
                "conflicts": ["bolton", "req-18"],
            },
            {"id": "r-002", "partnership": "bolton", "agency": "health"},
            {"id": "r-003", "partnership": "wigan", "agency": "education"},
        ],
        "requests": [
            {
                "id": "req-17",
                "partnership": "wigan",
                "peers": 2,
                "high_profile": False,
                "required_skills": ["rca"],
                "agencies_involved": ["police", "health"],
                "from": "2027-01-10",
                "to": "2027-03-01",
            },
            {"id": "req-18", "partnership": "salford", "peers": 1, "from": "2027-05-01",
             "to": "2027-05-01"},
        ],
        "locked": [{"request": "req-17", "reviewer": "r-001"}],
        "excluded": [{"request": "req-17", "reviewer": "r-002"}],
    }  # fmt: skip


def refused(data: object) -> str:
    with pytest.raises(ProblemError) as caught:
        parse_problem(data)
    return str(caught.value)


def test_base_problem_parses_with_defaults():
    problem = parse_problem(base())
    assert [p.lent for p in problem.partnerships] == [4, 0, 0]
    r2 = problem.reviewers[1]
    assert (r2.capacity, r2.skills, r2.unavailable, r2.conflicts) == (
        1,
        frozenset(),
        (),
        frozenset(),
    )
    q18 = problem.requests[1]
    assert (q18.high_profile, q18.required_skills, q18.agencies_involved) == (
        False,
        (),
        frozenset(),
    )
    assert problem.locked == (Pair("req-17", "r-001"),)
    assert problem.excluded == (Pair("req-17", "r-002"),)


def test_minimal_problem_needs_only_format():
    problem = parse_problem({"format": "peermatch.problem/1"})
    assert problem.partnerships == problem.reviewers == problem.requests == ()


def edit(path: str, value: Any, data: dict[str, Any] | None = None) -> dict[str, Any]:
    """``base()`` (or ``data``) with the element at a dotted path (``requests.0.peers``)
    replaced; the value ``DELETE`` removes it."""
    data = base() if data is None else data
    *parents, last = path.split(".")
    node: Any = data
    for key in parents:
        node = node[int(key)] if key.isdigit() else node[key]
    key: Any = int(last) if last.isdigit() else last
    if value is DELETE:
        del node[key]
    else:
        node[key] = copy.deepcopy(value)
    return data


DELETE = object()

# (what is wrong, edit path, new value, the expected message)
CONTRACT_REFUSALS = [
    ("unknown format", "format", "peermatch.problem/2",
     "format: unknown format 'peermatch.problem/2', expected 'peermatch.problem/1'"),
    ("missing format", "format", DELETE, "format: missing (expected 'peermatch.problem/1')"),
    ("duplicate partnership", "partnerships.2.id", "salford",
     "partnerships[2].id: duplicate id 'salford' (also partnerships[0])"),
    ("duplicate reviewer", "reviewers.1.id", "r-001",
     "reviewers[1].id: duplicate id 'r-001' (also reviewers[0])"),
    ("duplicate request", "requests.1.id", "req-17",
     "requests[1].id: duplicate id 'req-17' (also requests[0])"),
    ("reviewer's unknown partnership", "reviewers.2.partnership", "x",
     "reviewers[2].partnership: unknown partnership 'x'"),
    ("request's unknown partnership", "requests.1.partnership", "leigh",
     "requests[1].partnership: unknown partnership 'leigh'"),
    ("unknown conflict", "reviewers.0.conflicts", ["bolton", "nowhere"],
     "reviewers[0].conflicts[1]: unknown request or partnership 'nowhere'"),
    ("locked unknown request", "locked.0.request", "req-99",
     "locked[0].request: unknown request 'req-99'"),
    ("locked unknown reviewer", "locked.0.reviewer", "r-999",
     "locked[0].reviewer: unknown reviewer 'r-999'"),
    ("excluded unknown request", "excluded.0.request", "req-99",
     "excluded[0].request: unknown request 'req-99'"),
    ("excluded unknown reviewer", "excluded.0.reviewer", "r-999",
     "excluded[0].reviewer: unknown reviewer 'r-999'"),
    ("peers below 1", "requests.1.peers", 0, "requests[1].peers: must be at least 1"),
    ("capacity below 0", "reviewers.1.capacity", -1, "reviewers[1].capacity: must be at least 0"),
    ("window from after to", "requests.1.from", "2027-05-02",
     "requests[1].from: 2027-05-02 is after to 2027-05-01"),
    ("gap from after to", "reviewers.0.unavailable.0.to", "2027-03-31",
     "reviewers[0].unavailable[0].from: 2027-04-01 is after to 2027-03-31"),
    ("locked and excluded", "excluded.0.reviewer", "r-001",
     "locked[0]: reviewer 'r-001' on request 'req-17' is also excluded (excluded[0])"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [case[1:] for case in CONTRACT_REFUSALS],
    ids=[case[0] for case in CONTRACT_REFUSALS],
)
def test_contract_refusals_name_the_element(path, value, message):
    assert refused(edit(path, value)) == message


def locked_case(**overrides: Any) -> dict[str, Any]:
    """Reviewer r1 (of B, police) locked on q1 (of A); overrides adjust reviewer or request."""
    data = {
        "format": "peermatch.problem/1",
        "partnerships": [{"id": "A"}, {"id": "B"}],
        "reviewers": [reviewer("r1") | overrides.pop("r1", {}), reviewer("r2", agency="health")],
        "requests": [request("q1") | overrides.pop("q1", {}), request("q2")],
        "locked": [{"request": "q1", "reviewer": "r1"}],
    }
    return data | overrides


ELIGIBILITY = [
    ("no_capacity", {"r1": {"capacity": 0}}),
    ("high_profile_internal", {"r1": {"partnership": "A"}, "q1": {"high_profile": True}}),
    ("involved_agency", {"r1": {"partnership": "A"}, "q1": {"agencies_involved": ["police"]}}),
    ("conflict", {"r1": {"conflicts": ["A"]}}),
    ("unavailable", {"r1": {"unavailable": [{"from": "2027-03-31", "to": "2027-04-02"}]}}),
]


@pytest.mark.parametrize(("rule", "overrides"), ELIGIBILITY, ids=[e[0] for e in ELIGIBILITY])
def test_locked_pair_breaking_an_eligibility_rule_names_the_rule(rule, overrides):
    assert parse_problem(locked_case())  # the unmodified case is fine
    message = refused(locked_case(**copy.deepcopy(overrides)))
    assert message == f"locked[0]: reviewer 'r1' on request 'q1' breaks eligibility rule {rule}"


def test_locked_pair_sharing_an_agency_is_refused():
    data = locked_case(r1={"capacity": 1}, q1={"peers": 2})
    data["reviewers"][1]["agency"] = "police"
    data["locked"].append({"request": "q1", "reviewer": "r2"})
    assert refused(data) == (
        "locked[1]: reviewer 'r2' on request 'q1' shares agency 'police' with locked reviewer "
        "'r1' (a team has distinct agencies)"
    )


def test_more_locked_than_peers_is_refused():
    data = locked_case()
    data["locked"].append({"request": "q1", "reviewer": "r2"})
    assert refused(data) == "locked[1]: request 'q1' has 2 locked reviewers, peers is 1"


def test_more_locked_than_capacity_is_refused():
    data = locked_case()
    data["locked"].append({"request": "q2", "reviewer": "r1"})
    assert refused(data) == "locked[1]: reviewer 'r1' is locked on 2 requests, capacity is 1"


def test_locked_within_capacity_is_accepted():
    data = locked_case(r1={"capacity": 2})
    data["locked"].append({"request": "q2", "reviewer": "r1"})
    assert len(parse_problem(data).locked) == 2


def test_duplicate_locked_pair_is_refused():
    data = locked_case(r1={"capacity": 2})
    data["locked"].append({"request": "q1", "reviewer": "r1"})
    assert refused(data) == "locked[1]: duplicate pair (also locked[0])"


WRONG_TYPES = [
    (
        "peers as boolean",
        "requests.1.peers",
        True,
        "requests[1].peers: must be an integer, not a boolean",
    ),
    (
        "capacity as float",
        "reviewers.1.capacity",
        1.5,
        "reviewers[1].capacity: must be an integer, not a number",
    ),
    (
        "capacity as text",
        "reviewers.1.capacity",
        "2",
        "reviewers[1].capacity: must be an integer, not a string",
    ),
    (
        "lent as boolean",
        "partnerships.0.lent",
        False,
        "partnerships[0].lent: must be an integer, not a boolean",
    ),
    (
        "negative received",
        "partnerships.0.received",
        -1,
        "partnerships[0].received: must be at least 0",
    ),
    (
        "high_profile as integer",
        "requests.0.high_profile",
        1,
        "requests[0].high_profile: must be true or false, not a number",
    ),
    ("id as number", "reviewers.1.id", 7, "reviewers[1].id: must be a string, not a number"),
    ("empty id", "requests.1.id", " ", "requests[1].id: must not be empty"),
    (
        "skills as string",
        "reviewers.0.skills",
        "rca",
        "reviewers[0].skills: must be a list, not a string",
    ),
    (
        "skill as null",
        "reviewers.0.skills",
        ["rca", None],
        "reviewers[0].skills[1]: must be a string, not null",
    ),
    ("reviewers as object", "reviewers", {}, "reviewers: must be a list, not an object"),
    ("reviewer as list", "reviewers.1", [], "reviewers[1]: must be an object, not a list"),
    (
        "locked entry as string",
        "locked.0",
        "req-17/r-001",
        "locked[0]: must be an object, not a string",
    ),
    (
        "bad date",
        "requests.1.to",
        "2027-02-30",
        "requests[1].to: not a valid date '2027-02-30' (expected YYYY-MM-DD)",
    ),
    (
        "date with time",
        "requests.1.to",
        "2027-05-01T00:00",
        "requests[1].to: not a valid date '2027-05-01T00:00' (expected YYYY-MM-DD)",
    ),
    (
        "compact date",
        "requests.1.from",
        "20270501",
        "requests[1].from: not a valid date '20270501' (expected YYYY-MM-DD)",
    ),
    (
        "date as number",
        "reviewers.0.unavailable.0.from",
        2027,
        "reviewers[0].unavailable[0].from: must be a string, not a number",
    ),
    ("missing agency", "reviewers.1.agency", DELETE, "reviewers[1].agency: missing"),
    ("missing peers", "requests.1.peers", DELETE, "requests[1].peers: missing"),
    ("missing window end", "requests.1.to", DELETE, "requests[1].to: missing"),
    ("missing pair reviewer", "excluded.0.reviewer", DELETE, "excluded[0].reviewer: missing"),
]


@pytest.mark.parametrize(
    ("path", "value", "message"), [c[1:] for c in WRONG_TYPES], ids=[c[0] for c in WRONG_TYPES]
)
def test_wrong_types_are_refused(path, value, message):
    assert refused(edit(path, value)) == message


def test_unknown_keys_are_refused():
    assert refused(edit("requests.0.high_proflie", True)).startswith(
        "requests[0].high_proflie: unknown field (expected id, partnership, peers, from, to, "
    )
    assert refused(edit("comment", "hello")).startswith("comment: unknown field")
    assert refused(edit("locked.0.note", "x")).startswith("locked[0].note: unknown field")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "problem: empty file"),
        ("  \n\t", "problem: empty file"),
        ('{"format": "peermatch.problem/1",', "problem: not valid JSON: Expecting property name"),
        ("[1, 2]", "problem: must be a JSON object, not a list"),
        ("null", "problem: must be a JSON object, not null"),
        ('{"format": "peermatch.problem/1", "format": "x"}', "problem: duplicate key 'format'"),
        (
            '{"format": "peermatch.problem/1", "partnerships": [{"id": "a", "lent": NaN}]}',
            "problem: not valid JSON: NaN is not a number",
        ),
        ("[" * 100_000, "problem: not valid JSON"),
        (
            '{"format": "peermatch.problem/1", "partnerships": [{"id": "a", "lent": 1'
            + "0" * 5000
            + "}]}",
            "problem: not valid JSON",
        ),
    ],
    ids=["empty", "blank", "truncated", "list", "null", "duplicate-key", "nan", "deep", "huge-int"],
)
def test_malformed_text_is_refused(text, message):
    with pytest.raises(ProblemError) as caught:
        load_problem(text)
    assert str(caught.value).startswith(message)


def test_problem_round_trip():
    problem = parse_problem(base())
    assert load_problem(dump_problem(problem)) == problem
    generated = generate(5, 60, 12, seed=4, locked=6, excluded=4)
    assert load_problem(dump_problem(generated)) == generated
    assert json.loads(dump_problem(generated)) == problem_to_json(generated)


def sample_solution() -> Solution:
    unfilled = Unfilled(
        eligible=0,
        ineligible={"no_capacity": 0, "excluded": 1, "conflict": 1, "unavailable": 5,
                    "involved_agency": 2, "high_profile_internal": 0},
        missing_skills=(),
        taken_elsewhere=0,
    )  # fmt: skip
    return Solution(
        status="optimal",
        assignments=(Pair("req-18", "r-003"), Pair("req-17", "r-001")),
        filled=2,
        imbalance=3,
        bound_filled=2,
        bound_imbalance=3,
        balance={"wigan": -1, "salford": 3},
        requests=(
            RequestOutcome("req-17", 2, 1, unfilled, ("r-009", "r-014")),
            RequestOutcome("req-18", 1, 1, None, ()),
        ),
        seconds=0.41234,
    )


def test_solution_json_has_the_contract_shape_and_order():
    data = solution_to_json(sample_solution())
    assert list(data) == [
        "format", "status", "assignments", "filled", "imbalance", "bounds", "balance",
        "requests", "seconds",
    ]  # fmt: skip
    assert data["format"] == "peermatch.solution/1"
    assert data["assignments"] == [
        {"request": "req-17", "reviewer": "r-001"},
        {"request": "req-18", "reviewer": "r-003"},
    ]
    assert data["bounds"] == {"filled": 2, "imbalance": 3}
    assert list(data["balance"].items()) == [("salford", 3), ("wigan", -1)]
    req17, req18 = data["requests"]
    assert list(req17) == ["id", "peers", "filled", "unfilled", "alternates"]
    assert list(req17["unfilled"]) == [
        "eligible",
        "ineligible",
        "missing_skills",
        "taken_elsewhere",
    ]
    assert list(req17["unfilled"]["ineligible"]) == [
        "high_profile_internal", "involved_agency", "conflict", "unavailable", "excluded",
        "no_capacity",
    ]  # fmt: skip
    assert req17["alternates"] == ["r-009", "r-014"]
    assert "unfilled" not in req18  # full requests carry no explanation
    assert data["seconds"] == 0.412


def test_solution_round_trip():
    original = sample_solution()
    again = load_solution(dump_solution(original))
    assert again.assignments == tuple(sorted(original.assignments, key=lambda p: p.request))
    assert again.requests == original.requests
    assert (again.filled, again.imbalance, again.balance) == (2, 3, original.balance)


def test_helpers_build_consistent_solutions():
    problem = build_problem([reviewer("r1")], [request("q1", peers=2)])
    text = dump_solution(build_solution(problem, [("q1", "r1")]))
    assert load_solution(text).requests[0].unfilled is not None
