"""The solver on generated problems: every output validates and is proven optimal, the output is
reproducible with one worker, and a re-solve after a decline keeps what was accepted."""

from __future__ import annotations

from dataclasses import replace

import pytest

from peermatch.matching.generate import generate
from peermatch.matching.problem import Problem, Solution
from peermatch.matching.solver import solve
from peermatch.matching.validate import validate


def checked(problem: Problem, **kw: object) -> Solution:
    solution = solve(problem, **kw)  # type: ignore[arg-type]
    assert validate(problem, solution) == []
    return solution


@pytest.mark.parametrize("seed", range(8))
def test_small_problems_are_solved_to_proven_optimality(seed: int) -> None:
    solution = checked(generate(10, 100, 15, seed=seed))
    assert solution.status == "optimal"
    assert (solution.bound_filled, solution.bound_imbalance) == (
        solution.filled,
        solution.imbalance,
    )


@pytest.mark.parametrize("seed", range(3))
def test_regional_problems_are_solved_to_proven_optimality(seed: int) -> None:
    assert checked(generate(20, 600, 60, seed=seed)).status == "optimal"


def test_one_worker_and_a_seed_give_the_same_solution_twice() -> None:
    problem = generate(10, 100, 15, seed=0)  # takes a repair path
    first, second = (solve(problem, workers=1, seed=5) for _ in "ab")
    assert first.extra["method"] != "flow"
    assert first.assignments == second.assignments
    assert first.requests == second.requests
    assert first.extra == second.extra


def test_a_re_solve_after_a_decline_keeps_the_accepted_pairs() -> None:
    problem = generate(20, 600, 60, seed=1)
    before = checked(problem, workers=1)
    declined = before.assignments[len(before.assignments) // 2]
    after_decline = replace(
        problem,
        locked=tuple(p for p in before.assignments if p != declined),
        excluded=(*problem.excluded, declined),
    )
    after = checked(after_decline, workers=1)
    assert after.status == "optimal"
    assert set(after_decline.locked) <= set(after.assignments)
    assert declined not in after.assignments
    # Everything but the declined pair is still possible, and nothing better than before is.
    assert before.filled - 1 <= after.filled <= before.filled
    outcome = next(o for o in after.requests if o.id == declined.request)
    assert declined.reviewer not in outcome.alternates
