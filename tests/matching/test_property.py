"""Property test: on tiny random problems the solver's answer is valid and exactly optimal.

Problems are drawn as contract JSON (small pools of ids, agencies, skills and dates, so that
collisions, conflicts and overlaps are frequent) and must pass the parser; the reference optimum
comes from ``exhaustive.py``, which shares no code with the solver. About half the problems use
the "experience and practice" fields (experienced members, gaps since the last review), so the
new team rule and the third objective are checked the same way.
"""

from __future__ import annotations

from typing import Any

from builders import solution, solve
from exhaustive import exhaustive_optimum
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from peermatch.matching.io import ProblemError, dump_problem, load_problem, parse_problem
from peermatch.matching.problem import Pair
from peermatch.matching.validate import (
    broken_rules,
    kept_value,
    objective_values,
    practice_value,
    validate,
)

PARTNERSHIPS = ("A", "B", "C")
AGENCIES = ("police", "health", "education")
SKILLS = ("rca", "lead")
ORGANISATIONS = ("force-1", "force-2")


# Last reviews: over two years before (gap capped at 730), a year, months, days before March
# 2027, after the requests start (gap 0), never.
LAST_REVIEWS = ("2024-06-30", "2026-03-01", "2026-11-15", "2027-02-20", "2027-03-09", None)


def _date(day: int) -> str:
    return f"2027-03-{day:02d}"


@st.composite
def _range(draw: st.DrawFn) -> dict[str, str]:
    start = draw(st.integers(1, 12))
    return {"from": _date(start), "to": _date(start + draw(st.integers(0, 4)))}


@st.composite
def problems(draw: st.DrawFn) -> dict[str, Any]:
    parts = PARTNERSHIPS[: draw(st.integers(2, 3))]
    experience = draw(st.booleans())
    organisations = draw(st.booleans())
    n_requests = draw(st.integers(1, 3))
    request_ids = [f"q{i}" for i in range(n_requests)]
    reviewers = [
        {
            "id": f"r{i}",
            "partnership": draw(st.sampled_from(parts)),
            "agency": draw(st.sampled_from(AGENCIES)),
            "skills": draw(st.lists(st.sampled_from(SKILLS), unique=True)),
            "capacity": draw(st.integers(0, 2)),
            "unavailable": draw(st.lists(_range(), max_size=1)),
            "conflicts": draw(st.lists(st.sampled_from([*parts, *request_ids]), max_size=1)),
        }
        | (
            {
                "reviews_completed": draw(st.integers(0, 3)),
                "last_review_on": draw(st.sampled_from(LAST_REVIEWS)),
            }
            if experience
            else {}
        )
        | (
            {"organisation": organisation}
            if organisations and (organisation := draw(st.sampled_from([*ORGANISATIONS, None])))
            else {}
        )
        for i in range(draw(st.integers(1, 5)))
    ]
    requests = [
        {
            "id": qid,
            "partnership": draw(st.sampled_from(parts)),
            "peers": draw(st.integers(1, 3)),
            "high_profile": draw(st.booleans()),
            "required_skills": draw(st.lists(st.sampled_from(SKILLS), unique=True, max_size=2)),
            "agencies_involved": draw(st.lists(st.sampled_from(AGENCIES), unique=True)),
        }
        | ({"needs_experienced": draw(st.booleans())} if experience else {})
        | (
            {"organisations_involved": draw(st.lists(st.sampled_from(ORGANISATIONS), unique=True))}
            if organisations
            else {}
        )
        | draw(_range())
        for qid in request_ids
    ]
    pair = st.tuples(st.sampled_from(request_ids), st.sampled_from([r["id"] for r in reviewers]))
    locked = draw(st.lists(pair, unique=True, max_size=2))
    # A pair both locked and excluded is refused by the parser: keep the two apart.
    excluded = [p for p in draw(st.lists(pair, unique=True, max_size=2)) if p not in locked]
    extension: dict[str, Any] = {}
    if experience and draw(st.booleans()):
        extension = {
            "experience_threshold": draw(st.integers(1, 3)),
            "as_of": draw(st.sampled_from(["2027-01-01", "2027-03-05"])),
        }
    if draw(st.booleans()):  # a re-run: the last proposal's pairs, some of them stale
        stale = st.tuples(st.sampled_from([*request_ids, "q-gone"]), st.just("r-gone"))
        previous = draw(st.lists(st.one_of(pair, pair, pair, stale), unique=True, max_size=5))
        extension["previous"] = [{"request": q, "reviewer": r} for q, r in previous]
    return {
        "format": "peermatch.problem/1",
        **extension,
        "partnerships": [
            {"id": p, "lent": draw(st.integers(0, 3)), "received": draw(st.integers(0, 3))}
            for p in parts
        ],
        "reviewers": reviewers,
        "requests": requests,
        "locked": [{"request": q, "reviewer": r} for q, r in locked],
        "excluded": [{"request": q, "reviewer": r} for q, r in excluded],
    }


@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
)
@given(problems())
def test_solver_matches_exhaustive_search(data):
    try:
        problem = parse_problem(data)
    except ProblemError:
        assume(False)  # e.g. a locked pair that is itself ineligible: refused before solving
        return
    best = exhaustive_optimum(problem)
    solution = solve(problem)
    event(f"status {solution.status}, locked {len(problem.locked)}")
    if best is None:
        assert solution.status == "infeasible"
        return
    assert solution.status == "optimal"
    assert validate(problem, solution) == []
    assert (solution.filled, solution.imbalance) == (best.filled, best.imbalance)
    if problem.previous is None:
        assert solution.kept is None and solution.bound_kept is None
    else:
        event(f"kept {best.kept} of {len(problem.previous)}")
        assert solution.kept == solution.bound_kept == best.kept
    assert solution.practice == solution.bound_practice == best.practice


def _subset_optimum(problem):
    """The same optimum by brute force over every subset of eligible pairs, feasibility judged
    by the validator: cross-checks ``exhaustive.py`` itself."""
    excluded = set(problem.excluded)
    candidates = [
        (q.id, r.id)
        for q in problem.requests
        for r in problem.reviewers
        if not broken_rules(r, q, excluded)
    ]
    assume(len(candidates) <= 10)
    best = None
    for mask in range(1 << len(candidates)):
        pairs = [c for i, c in enumerate(candidates) if mask >> i & 1]
        if validate(problem, solution(problem, pairs)) == []:
            chosen = [Pair(q, r) for q, r in pairs]
            filled, imbalance = objective_values(problem, chosen)
            kept, practice = kept_value(problem, chosen), practice_value(problem, chosen)
            key = (filled, -imbalance, kept, practice)
            if best is None or key > (best[0], -best[1], best[2], best[3]):
                best = (filled, imbalance, kept, practice)
    return best


@settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
)
@given(problems())
def test_exhaustive_search_agrees_with_brute_force(data):
    try:
        problem = parse_problem(data)
    except ProblemError:
        assume(False)
        return
    best = exhaustive_optimum(problem)
    expected = _subset_optimum(problem)
    assert (None if best is None else best.values) == expected


@settings(max_examples=200, deadline=None, derandomize=True)
@given(problems())
def test_problem_round_trips_through_its_file(data):
    try:
        problem = parse_problem(data)
    except ProblemError:
        assume(False)
        return
    assert load_problem(dump_problem(problem)) == problem


@settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
)
@given(problems(), st.data())
def test_stable_reruns_keep_the_exhaustive_maximum(data, draw):
    """``previous`` drawn among the eligible pairs (so that most of it could be kept, and the
    pairs compete for seats, agencies and capacity): the solver keeps exactly as many as the
    best fill- and imbalance-optimal solution does, and proves it."""
    try:
        problem = parse_problem({k: v for k, v in data.items() if k != "previous"})
    except ProblemError:
        assume(False)
        return
    excluded = set(problem.excluded)
    eligible = sorted(
        (q.id, r.id)
        for q in problem.requests
        for r in problem.reviewers
        if not broken_rules(r, q, excluded)
    )
    assume(eligible)
    chosen = draw.draw(st.lists(st.sampled_from(eligible), unique=True, min_size=1, max_size=6))
    from dataclasses import replace

    problem = replace(problem, previous=tuple(Pair(q, r) for q, r in chosen))
    best = exhaustive_optimum(problem)
    solution = solve(problem)
    if best is None:
        assert solution.status == "infeasible"
        return
    event(f"kept {best.kept} of {len(chosen)}")
    assert solution.status == "optimal"
    assert validate(problem, solution) == []
    assert (solution.filled, solution.imbalance) == (best.filled, best.imbalance)
    assert solution.kept == solution.bound_kept == best.kept
    assert solution.practice == solution.bound_practice == best.practice
