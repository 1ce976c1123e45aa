"""The bounds of every stage are on the right side of the exhaustive optimum: the flow
relaxation (and its practice variant) and the skill-aware LP never promise less than the best
solution (fill, then imbalance, then previous pairs kept), on tiny random problems of the
property test."""

from __future__ import annotations

from exhaustive import exhaustive_optimum
from hypothesis import HealthCheck, assume, given, settings
from test_property import problems

from peermatch.matching.flow import relax, solved
from peermatch.matching.instance import build
from peermatch.matching.io import ProblemError, parse_problem
from peermatch.matching.lp import lp_bound
from peermatch.matching.objective import objective_weight, penalty, weighted
from peermatch.matching.seats import LockedInfeasible, place_locked

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
)


@SETTINGS
@given(problems())
def test_flow_and_lp_bounds_are_never_below_the_optimum(data):
    try:
        problem = parse_problem(data)
    except ProblemError:
        assume(False)
        return
    best = exhaustive_optimum(problem)
    assume(best is not None)
    inst = build(problem)
    try:
        seats = place_locked(inst)
    except LockedInfeasible:
        raise AssertionError("refused locked pairs that the exhaustive search completes") from None
    weight = objective_weight(inst, seats)
    optimum = weighted(weight, (best.filled, -penalty(inst, best.imbalance, best.kept)))
    flow = solved(relax(inst, seats))
    assert weighted(weight, flow.score(inst)) >= optimum
    lp = lp_bound(inst, seats, weight)
    assert lp is None or lp >= optimum
    practice = solved(relax(inst, seats, practice=True))
    assert practice.score(inst) == flow.score(inst)
    reached = (flow.filled, flow.imbalance, flow.kept)
    if reached == (best.filled, best.imbalance, best.kept):
        gaps = sum(int(inst.gap[r]) for _, r in inst.locked + practice.pairs)
        assert gaps >= best.practice  # the practice tier bounds the last objective too
