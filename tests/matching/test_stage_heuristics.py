"""The heuristics (``heuristics.py``): ``mend`` turns any relaxed assignment into a valid
solution, and the dive path (taken above a size threshold, here forced to 0) solves small
problems validly, never above the optimum."""

from __future__ import annotations

import pytest
from builders import solution
from exhaustive import exhaustive_optimum
from hypothesis import HealthCheck, assume, given, settings
from test_property import problems

from peermatch.matching import lp
from peermatch.matching import solver as solver_module
from peermatch.matching.branch import breaking_skills
from peermatch.matching.flow import relax, solved
from peermatch.matching.generate import generate
from peermatch.matching.heuristics import mend
from peermatch.matching.instance import build
from peermatch.matching.io import ProblemError, parse_problem
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


@SETTINGS
@given(problems())
def test_mend_output_validates(data):
    try:
        problem = parse_problem(data)
        inst = build(problem)
        seats = place_locked(inst)
    except (ProblemError, LockedInfeasible):
        assume(False)
        return
    relaxation = solved(relax(inst, seats))
    kept = mend(inst, seats, relaxation.pairs, breaking_skills(inst, seats, relaxation))
    if kept is None:  # only when a locked team cannot be mended
        assert any(seats.locked_team[q] for q in range(inst.n_requests))
        return
    assert validate(problem, solution(problem, _ids(problem, inst.locked + kept))) == []


@SETTINGS
@given(problems())
def test_the_dive_path_is_valid_and_never_beats_the_optimum(data):
    try:
        problem = parse_problem(data)
    except ProblemError:
        assume(False)
        return
    best = exhaustive_optimum(problem)
    dived = solve(problem, time_limit=5.0, workers=1, branch_pairs=0)
    if best is None:
        assert dived.status == "infeasible"
        return
    if dived.status == "infeasible":
        return  # the dive may miss the one completion of the locked pairs: allowed, not wrong
    assert validate(problem, dived) == []
    assert (dived.filled, -dived.imbalance) <= (best.filled, -best.imbalance)
    if (dived.filled, dived.imbalance) == (best.filled, best.imbalance) and dived.kept is not None:
        assert dived.kept <= best.kept <= dived.bound_kept


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_dive_runs_on_a_small_generated_problem(seed, monkeypatch):
    monkeypatch.setattr(solver_module, "lp_point", lambda *args: None)  # as if GLOP timed out
    p = generate(5, 80, 14, seed=seed, scarce_skill=True, experience=True)
    s = solve(p, time_limit=10.0, workers=1, branch_pairs=0)
    assert validate(p, s) == []
    assert str(s.extra["method"]).startswith("flow+dive") or s.extra["method"] == "flow"
    assert "branch_nodes" not in s.extra


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_large_path_proves_small_problems_with_generated_columns(seed, monkeypatch):
    monkeypatch.setattr(lp, "FULL_LP_PAIRS", 0)  # generate the columns, as for national ones
    p = generate(5, 80, 14, seed=seed, scarce_skill=True, experience=True)
    s = solve(p, time_limit=10.0, workers=1, branch_pairs=0)
    assert validate(p, s) == []
    assert str(s.extra["method"]).startswith("flow+lp") or s.extra["method"] == "flow"
    best = solve(p, time_limit=10.0, workers=1)  # the branch path
    assert (s.filled, s.imbalance) == (best.filled, best.imbalance)
    if s.extra["method"] == "flow+lp":
        assert s.status == "optimal"
