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
import time
from dataclasses import dataclass
from typing import Any

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
# Above this many candidate pairs the LP's columns are generated rather than all built (the
# solver's large problems; national ones have millions): at 300,000 pairs generating them took
# 3-4 s where the whole LP took 11-17 s; at regional size (27,000) the whole LP is quicker. Each
# round adds at most PRICED_PER_REQUEST pairs per request.
FULL_LP_PAIRS = 60_000
PRICED_PER_REQUEST = 30


@dataclass(frozen=True)
class LpPoint:
    """The LP optimum: its bound, the pairs at 1, and the requests with a fractional pair."""

    bound: int  # ⌊LP optimum⌋, an upper bound on W·fill − imbalance
    pairs: list[tuple[int, int]]  # free pairs whose value is 1
    fractional: list[int]  # requests with a pair strictly between 0 and 1
    # Per request, the candidates whose reduced cost is zero: an integral solution reaching
    # the bound is an LP optimum too, so by complementary slackness it takes only those.
    priced: dict[int, np.ndarray]
    rounds: int = 1  # LPs solved (more than one when columns are generated)
    columns: int = 0  # pair columns in the last LP


def lp_point(
    inst: Instance,
    seats: Seats,
    weight: int,
    seconds: float = 30.0,
    start: list[tuple[int, int]] | None = None,
) -> LpPoint | None:
    """Solve the LP within ``seconds``. Up to FULL_LP_PAIRS candidate pairs the LP holds them
    all; beyond, columns are generated: from the pairs ``start`` (a flow's), add each round the
    pairs whose reduced cost under the current duals is positive (at most PRICED_PER_REQUEST per
    request), until none is, or the vertex is integral and no pair can lift the bound past it.
    The bound is valid after any round: the restricted optimum plus every positive reduced cost
    (each pair can add at most its reduced cost, times its upper bound 1), so when time runs out
    the last round's point is returned; None if not even one round was solved."""
    deadline = time.perf_counter() + seconds
    layout = milp.Layout(inst, seats)
    if layout.n_pairs <= FULL_LP_PAIRS:
        columns = np.arange(layout.n_pairs)
    else:
        columns = np.unique(layout.index_of(start or []))
    point = None
    rounds = 0
    while True:
        rounds += 1
        model = layout.build(weight, columns)
        left = deadline - time.perf_counter()
        response = milp.run_proto(
            milp.to_proto(model, integer=False), "GLOP_LINEAR_PROGRAMMING", left
        )
        if not milp.is_optimal(response):
            return point
        reduced = layout.price(weight, np.asarray(response.dual_value))
        reduced[columns] = np.minimum(reduced[columns], 0.0)  # in the model: priced already
        entering = np.flatnonzero(reduced > REDUCED_COST)
        point = _point(layout, model, response, reduced, float(reduced[entering].sum()), rounds)
        value = math.floor(response.objective_value + ROUNDING_MARGIN)
        settled = not point.fractional and point.bound == value
        if not entering.size or settled or time.perf_counter() >= deadline:
            return point
        columns = np.union1d(columns, _best_per_request(layout, reduced, entering))


def _point(
    layout: milp.Layout,
    model: milp.Milp,
    response: Any,
    reduced: np.ndarray,
    gain: float,
    rounds: int,
) -> LpPoint:
    x = np.asarray(response.variable_value)[: len(model.pair_q)]
    fractional = (x > INTEGRAL) & (x < 1 - INTEGRAL)
    fractional_q = np.unique(model.pair_q[fractional])
    priced = {}
    for q in fractional_q.tolist():
        pairs = layout.request_pairs(q)
        priced[q] = layout.pair_r[pairs][reduced[pairs] >= -REDUCED_COST]
    return LpPoint(
        bound=math.floor(response.objective_value + gain + ROUNDING_MARGIN),
        pairs=model.pairs_of(np.where(fractional, 0.0, x)),
        fractional=fractional_q.tolist(),
        priced=priced,
        rounds=rounds,
        columns=len(model.pair_q),
    )


def _best_per_request(layout: milp.Layout, reduced: np.ndarray, entering: np.ndarray) -> Any:
    """Of the ``entering`` pairs, the PRICED_PER_REQUEST with the largest reduced cost per
    request."""
    q = layout.pair_q[entering]
    order = np.lexsort((-reduced[entering], q))
    entering, q = entering[order], q[order]
    rank = np.arange(len(q)) - np.searchsorted(q, q, side="left")
    return entering[rank < PRICED_PER_REQUEST]


def lp_bound(inst: Instance, seats: Seats, weight: int) -> int | None:
    """An upper bound on W·fill − imbalance, or None if GLOP does not return an optimum."""
    point = lp_point(inst, seats, weight)
    return None if point is None else point.bound
