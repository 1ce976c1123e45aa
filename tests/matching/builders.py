"""Small hand-written problems and solutions for the rule tests.

Problems are written as contract JSON (so the parser is exercised too) with defaults that make
every pair eligible: two partnerships, reviewers from ``B`` lending to requests of ``A``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from peermatch.matching.io import parse_problem
from peermatch.matching.problem import (
    INELIGIBLE_REASONS,
    Pair,
    Problem,
    RequestOutcome,
    Solution,
    Unfilled,
)
from peermatch.matching.validate import balances, kept_value, objective_values, practice_value

AGENCIES = ("police", "health", "education", "local-authority", "probation", "voluntary")


def reviewer(rid: str, **fields: Any) -> dict[str, Any]:
    return {"id": rid, "partnership": "B", "agency": "police"} | fields


def request(qid: str, **fields: Any) -> dict[str, Any]:
    base = {"id": qid, "partnership": "A", "peers": 1, "from": "2027-03-01", "to": "2027-03-31"}
    return base | fields


def problem(
    reviewers: list[dict[str, Any]],
    requests: list[dict[str, Any]],
    *,
    locked: Sequence[tuple[str, str]] = (),
    excluded: Sequence[tuple[str, str]] = (),
    partnerships: list[dict[str, Any]] | None = None,
    previous: Sequence[tuple[str, str]] | None = None,
) -> Problem:
    data: dict[str, Any] = {
        "format": "peermatch.problem/1",
        "partnerships": partnerships or [{"id": "A"}, {"id": "B"}, {"id": "C"}],
        "reviewers": reviewers,
        "requests": requests,
        "locked": [{"request": q, "reviewer": r} for q, r in locked],
        "excluded": [{"request": q, "reviewer": r} for q, r in excluded],
    }
    if previous is not None:
        data["previous"] = [{"request": q, "reviewer": r} for q, r in previous]
    return parse_problem(data)


def solution(problem: Problem, pairs: list[tuple[str, str]], status: str = "optimal") -> Solution:
    """A solution with these pairs whose figures are all consistent, so that a validator
    complaint can only be about the rules."""
    assignments = tuple(Pair(q, r) for q, r in pairs)
    filled, imbalance = objective_values(problem, assignments)
    outcomes = []
    for q in problem.requests:
        count = sum(1 for p in assignments if p.request == q.id)
        unfilled = None
        if count < q.peers:
            unfilled = Unfilled(
                eligible=0,
                ineligible=dict.fromkeys(INELIGIBLE_REASONS, 0),
                missing_skills=(),
                taken_elsewhere=0,
            )
        outcomes.append(RequestOutcome(q.id, q.peers, count, unfilled, ()))
    return Solution(
        status=status,
        assignments=assignments,
        filled=filled,
        imbalance=imbalance,
        bound_filled=filled,
        bound_imbalance=imbalance,
        balance=balances(problem, assignments),
        requests=tuple(outcomes),
        seconds=0.0,
        practice=practice_value(problem, assignments),
        bound_practice=practice_value(problem, assignments),
        kept=None if problem.previous is None else kept_value(problem, assignments),
        bound_kept=None if problem.previous is None else kept_value(problem, assignments),
    )


def solve(problem: Problem) -> Solution:
    """The solver under test, single-threaded for reproducibility."""
    from peermatch.matching.solver import solve as run

    return run(problem, time_limit=10.0, workers=1, seed=0)


def pairs_of(solution: Solution) -> set[tuple[str, str]]:
    return {(p.request, p.reviewer) for p in solution.assignments}


def outcome(solution: Solution, qid: str) -> RequestOutcome:
    return next(o for o in solution.requests if o.id == qid)
