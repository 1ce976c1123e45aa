"""The LP stage (``lp.py``) as a primal guide: its vertex, less the requests it leaves
fractional, is always a valid solution, and when nothing is fractional it is an optimum; the
dive into the branch it points to (``branch.region_of``) finds valid solutions; the solver takes
this path on scarce-skill problems and proves them."""

from __future__ import annotations

import time

import pytest
from builders import solution
from exhaustive import exhaustive_optimum
from hypothesis import HealthCheck, assume, given, settings
from test_property import problems

from peermatch.matching import milp
from peermatch.matching.branch import BranchAndBound, region_of
from peermatch.matching.generate import generate
from peermatch.matching.instance import build
from peermatch.matching.io import ProblemError, parse_problem
from peermatch.matching.lp import lp_point
from peermatch.matching.objective import objective_weight, penalty, score_of, split, weighted
from peermatch.matching.seats import LockedInfeasible, place_locked
from peermatch.matching.solver import solve
from peermatch.matching.validate import validate

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
)


def _ids(problem, pairs):
    return [(problem.requests[q].id, problem.reviewers[r].id) for q, r in pairs]


def _setup(problem):
    inst = build(problem)
    seats = place_locked(inst)
    return inst, seats, objective_weight(inst, seats)


@SETTINGS
@given(problems())
def test_the_lp_vertex_less_its_fractional_requests_is_valid_and_never_above_the_optimum(data):
    try:
        problem = parse_problem(data)
        inst, seats, weight = _setup(problem)
    except (ProblemError, LockedInfeasible):
        assume(False)
        return
    point = lp_point(inst, seats, weight)
    assert point is not None
    best = exhaustive_optimum(problem)
    assert best is not None  # place_locked accepted the locked pairs
    assert point.bound >= weight * best.filled - penalty(inst, best.imbalance, best.kept)
    whole = [(q, r) for q, r in point.pairs if q not in point.fractional]
    if any(seats.missing[q] and seats.locked_team[q] for q in point.fractional):
        return  # a locked team lacking a skill cannot simply lose its free members
    pairs = inst.locked + whole
    assert validate(problem, solution(problem, _ids(problem, pairs))) == []
    if not point.fractional:  # an integral vertex is an optimum
        assert weighted(weight, score_of(inst, pairs)) == point.bound


@pytest.mark.parametrize("seed", range(6))
def test_integral_vertices_of_scarce_problems_are_proven_optima(seed):
    p = generate(6, 100, 16, seed=seed, scarce_skill=True)
    inst, seats, weight = _setup(p)
    point = lp_point(inst, seats, weight)
    assert point is not None
    s = solve(p, time_limit=20.0, workers=1)
    assert s.status == "optimal"
    assert point.bound >= weight * s.filled - s.imbalance
    if not point.fractional:
        assert weighted(weight, score_of(inst, inst.locked + point.pairs)) == point.bound


@pytest.mark.parametrize(
    ("size", "seed"), [((5, 80, 14), 0), ((6, 100, 16), 24), ((8, 150, 20), 19)]
)
def test_the_guided_dive_finds_valid_solutions_where_the_vertex_is_fractional(size, seed):
    p = generate(*size, seed=seed, scarce_skill=True)
    inst, seats, weight = _setup(p)
    point = lp_point(inst, seats, weight)
    assert point is not None and point.fractional  # the case under test
    region = region_of(inst, seats, point.pairs, point.fractional)
    outcome = BranchAndBound(inst, seats, region).run(
        time.perf_counter() + 20, 40, split(weight, point.bound)
    )
    assert outcome.pairs is not None
    pairs = inst.locked + outcome.pairs
    assert validate(p, solution(p, _ids(p, pairs))) == []
    assert weighted(weight, score_of(inst, pairs)) <= point.bound


def test_the_region_of_a_solution_contains_it():
    p = generate(6, 100, 16, seed=3, scarce_skill=True)
    inst, seats, _ = _setup(p)
    s = solve(p, time_limit=20.0, workers=1)
    index_q = {q.id: k for k, q in enumerate(p.requests)}
    index_r = {r.id: k for k, r in enumerate(p.reviewers)}
    pairs = [(index_q[a.request], index_r[a.reviewer]) for a in s.assignments]
    tree = BranchAndBound(inst, seats, region_of(inst, seats, pairs, []))
    assert not tree.infeasible
    root = tree.search.open[0][3]
    assert root.score >= (s.filled, -s.imbalance)  # the region's bound covers the solution


@pytest.mark.parametrize("seed", [0, 4, 6])
def test_the_solver_proves_fractional_scarce_problems_through_the_lp(seed):
    p = generate(5, 80, 14, seed=seed, scarce_skill=True)
    s = solve(p, time_limit=20.0, workers=1)
    assert validate(p, s) == []
    assert s.status == "optimal"
    assert s.extra["lp_fractional"] > 0
    inst, seats, weight = _setup(p)
    exact = milp.solve(milp.build(inst, seats, weight), None, 20.0, workers=1)
    assert exact.optimal and exact.objective == weight * s.filled - s.imbalance
