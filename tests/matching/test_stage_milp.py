"""The MILP stage (``milp.py``): the exact model of the reduced problem, solved by the MIP
solver OR-Tools ships, agrees with exhaustive search; the solver falls back on it when its own
branch and bound runs out of budget."""

from __future__ import annotations

import pytest
from builders import problem, request, reviewer
from exhaustive import exhaustive_optimum

from peermatch.matching import milp
from peermatch.matching import solver as solver_module
from peermatch.matching.generate import generate
from peermatch.matching.instance import build
from peermatch.matching.objective import balance_of, kept_of, objective_weight, penalty
from peermatch.matching.seats import place_locked
from peermatch.matching.validate import validate


def scarce() -> object:
    """Two requests compete for the only rca holder; partnerships owe each other reviewers."""
    return problem(
        [
            reviewer("r1", partnership="B", agency="police", skills=["rca"]),
            reviewer("r2", partnership="C", agency="health"),
            reviewer("r3", partnership="B", agency="education"),
            reviewer("r4", partnership="A", agency="health", skills=["rca"]),
        ],
        [
            request("q1", peers=2, required_skills=["rca"]),
            request("q2", partnership="B", peers=2, required_skills=["rca"]),
        ],
        partnerships=[{"id": "A", "lent": 2}, {"id": "B", "received": 1}, {"id": "C"}],
    )


def test_the_milp_optimum_is_the_exhaustive_optimum():
    p = scarce()
    inst = build(p)
    seats = place_locked(inst)
    weight = objective_weight(inst, seats)
    result = milp.solve(milp.build(inst, seats, weight), None, 10.0, workers=1)
    assert result.optimal and result.pairs is not None
    pairs = inst.locked + result.pairs
    best = exhaustive_optimum(p)
    assert best is not None
    assert (len(pairs), int(abs(balance_of(inst, pairs)).sum())) == (best.filled, best.imbalance)
    assert result.bound == weight * best.filled - best.imbalance


@pytest.mark.parametrize(
    "previous",
    [[("q1", "r1")], [("q2", "r1"), ("q1", "r2")], [("q1", "r4"), ("q2", "r3"), ("q1", "r9")]],
)
def test_the_milp_keeps_as_many_previous_pairs_as_exhaustive_search(previous):
    base = scarce()
    from dataclasses import replace

    from peermatch.matching.problem import Pair

    p = replace(base, previous=tuple(Pair(q, r) for q, r in previous))
    inst = build(p)
    seats = place_locked(inst)
    weight = objective_weight(inst, seats)
    result = milp.solve(milp.build(inst, seats, weight), None, 10.0, workers=1)
    assert result.optimal and result.pairs is not None
    pairs = inst.locked + result.pairs
    best = exhaustive_optimum(p)
    assert best is not None
    imbalance = int(abs(balance_of(inst, pairs)).sum())
    assert (len(pairs), imbalance, kept_of(inst, pairs)) == (best.filled, best.imbalance, best.kept)
    assert result.bound == weight * best.filled - penalty(inst, best.imbalance, best.kept)
    s = solver_module.solve(p, time_limit=10.0, workers=1)
    assert (s.filled, s.imbalance, s.kept, s.status) == (
        best.filled, best.imbalance, best.kept, "optimal"
    )  # fmt: skip


def test_the_solver_falls_back_on_the_milp_when_the_tree_runs_out(monkeypatch):
    monkeypatch.setattr(solver_module, "BRANCH_WORK", 0)  # eight nodes, never enough here
    monkeypatch.setattr(solver_module, "lp_point", lambda *args: None)  # as if GLOP timed out
    p = generate(5, 80, 14, seed=0, scarce_skill=True)
    s = solver_module.solve(p, time_limit=20.0, workers=1)
    assert s.extra["method"] == "flow+branch+mip"
    assert s.extra["mip"] == "optimal"
    assert s.status == "optimal"
    assert validate(p, s) == []
    monkeypatch.setattr(solver_module, "BRANCH_WORK", 2_000_000)  # the tree alone: same optimum
    again = solver_module.solve(p, time_limit=20.0, workers=1)
    assert (again.filled, again.imbalance) == (s.filled, s.imbalance)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_milp_never_claims_more_than_the_solver_proves(seed):
    p = generate(4, 50, 8, seed=seed, scarce_skill=True, experience=True)
    inst = build(p)
    seats = place_locked(inst)
    weight = objective_weight(inst, seats)
    result = milp.solve(milp.build(inst, seats, weight), None, 10.0, workers=1)
    s = solver_module.solve(p, time_limit=10.0, workers=1)
    assert s.status == "optimal" and result.optimal
    assert result.objective == weight * s.filled - s.imbalance
