"""The skill-aware linear relaxation: the LP of the exact MILP (``milp.py``), solved by GLOP.

The flow lets a team fill its seats without the one scarce lead reviewer it needs. Here a
request with a missing skill may fill at most ``free seats × staffed`` seats, and ``staffed`` is
at most the (fractional) number of its members holding each missing skill, so the scarce holders
are shared out as in any solution, only fractionally. Its optimum bounds ``W·fill − imbalance``
of every solution, never less tightly than the flow does.

It is also a primal heuristic, and on the scarce-skill problems the best one there is: the
matrix is a network plus a few skill rows, so the simplex vertex is usually integral on every
pair. An integral vertex is a solution (a team with members has ``staffed > 0``, so it holds
each missing skill) whose value is the bound itself: proven optimal. Where a few pairs stay
fractional, their requests are the neighbourhood left to decide (``LpPoint.fractional``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from peermatch.matching import milp
from peermatch.matching.instance import Instance
from peermatch.matching.seats import Seats

# GLOP's tolerances are far below this; it only keeps rounding noise from cutting off the
# integer optimum when the bound is rounded down.
ROUNDING_MARGIN = 1e-3
# A pair whose value is this close to 0 or 1 counts as integral.
INTEGRAL = 1e-6
# A reduced cost this far below zero keeps its pair out of every LP optimum (the objective's
# coefficients are integers, so a real one is far larger).
REDUCED_COST = 1e-6


@dataclass(frozen=True)
class LpPoint:
    """The LP optimum: its bound, the pairs at 1, and the requests with a fractional pair."""

    bound: int  # ⌊LP optimum⌋, an upper bound on W·fill − imbalance
    pairs: list[tuple[int, int]]  # free pairs whose value is 1
    fractional: list[int]  # requests with a pair strictly between 0 and 1
    # Per request, the candidates whose reduced cost is zero: an integral solution reaching
    # the bound is an LP optimum too, so by complementary slackness it takes only those.
    priced: dict[int, np.ndarray]


def lp_point(inst: Instance, seats: Seats, weight: int, seconds: float = 30.0) -> LpPoint | None:
    """Solve the LP; None if GLOP does not return an optimum within ``seconds``."""
    from ortools.linear_solver import linear_solver_pb2

    model = milp.build(inst, seats, weight)
    response = milp.run_proto(
        milp.to_proto(model, integer=False), "GLOP_LINEAR_PROGRAMMING", seconds
    )
    if response.status != linear_solver_pb2.MPSolverResponseStatus.Value("MPSOLVER_OPTIMAL"):
        return None
    x = np.asarray(response.variable_value)[: len(model.pair_q)]
    fractional = (x > INTEGRAL) & (x < 1 - INTEGRAL)
    zero = np.asarray(response.reduced_cost)[: len(model.pair_q)] >= -REDUCED_COST
    return LpPoint(
        bound=math.floor(response.objective_value + ROUNDING_MARGIN),
        pairs=model.pairs_of(np.where(fractional, 0.0, x)),
        fractional=sorted(set(model.pair_q[fractional].tolist())),
        priced={
            q: model.pair_r[(model.pair_q == q) & zero]
            for q in np.unique(model.pair_q[fractional]).tolist()
        },
    )


def lp_bound(inst: Instance, seats: Seats, weight: int) -> int | None:
    """An upper bound on W·fill − imbalance, or None if GLOP does not return an optimum."""
    point = lp_point(inst, seats, weight)
    return None if point is None else point.bound
