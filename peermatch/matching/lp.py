"""A skill-aware linear relaxation (GLOP): a tighter bound than the flow when skills bind.

The flow lets a team fill its seats without the one scarce lead reviewer it needs. Here a
request with a missing skill may fill at most ``free seats × staffed`` seats, and ``staffed`` is
at most the (fractional) number of its members holding each missing skill, so the scarce holders
are shared out as in any solution, only fractionally. Variables are the candidate pairs; the
objective is the solver's ``W·fill − imbalance``; its optimum bounds that of every solution.
"""

from __future__ import annotations

import math

from ortools.linear_solver import pywraplp

from peermatch.matching.instance import Instance
from peermatch.matching.objective import lending
from peermatch.matching.seats import Seats

# GLOP's tolerances are far below this; it only keeps rounding noise from cutting off the
# integer optimum when the bound is rounded down.
ROUNDING_MARGIN = 1e-3


def lp_bound(inst: Instance, seats: Seats, weight: int) -> int | None:
    """An upper bound on W·fill − imbalance, or None if GLOP does not return an optimum."""
    solver = pywraplp.Solver.CreateSolver("GLOP")
    infinity = solver.infinity()
    objective = solver.Objective()
    spare: dict[int, pywraplp.Constraint] = {}
    shift: dict[int, list[tuple[int, pywraplp.Variable]]] = {}
    for q, pool in enumerate(seats.candidates):
        if not pool.size:
            continue
        team = _team_rows(solver, inst, seats, q)
        for r in pool.tolist():
            x = solver.NumVar(0.0, 1.0, "")
            objective.SetCoefficient(x, weight)
            for row in team(r):
                row.SetCoefficient(x, 1.0)
            if r not in spare:
                spare[r] = solver.Constraint(-infinity, float(seats.spare[r]))
            spare[r].SetCoefficient(x, 1.0)
            side = lending(inst, q, r)
            if side:
                shift.setdefault(side[0], []).append((1, x))
                shift.setdefault(side[1], []).append((-1, x))
    _imbalance(solver, objective, seats, shift, weight * len(inst.locked))
    objective.SetMaximization()
    if solver.Solve() != pywraplp.Solver.OPTIMAL:
        return None
    value: float = objective.Value()
    return math.floor(value + ROUNDING_MARGIN)


def _team_rows(solver: pywraplp.Solver, inst: Instance, seats: Seats, q: int):  # type: ignore[no-untyped-def]
    """The rows a pair (q, r) enters: seats (scaled by `staffed` when a skill is missing), one
    per agency, and one per missing skill the reviewer holds."""
    infinity = solver.infinity()
    free = float(seats.free[q])
    seats_row = solver.Constraint(-infinity, free)
    skill_rows = {}
    if seats.missing[q]:
        if seats.locked_team[q]:
            staffed_lb = 1.0  # a locked member: the team exists, the skills must come
            for s in seats.missing[q]:
                skill_rows[s] = solver.Constraint(staffed_lb, infinity)
        else:
            staffed = solver.NumVar(0.0, 1.0, "")
            seats_row.SetBounds(-infinity, 0.0)
            seats_row.SetCoefficient(staffed, -free)  # Σ x ≤ free · staffed
            for s in seats.missing[q]:
                skill_rows[s] = solver.Constraint(0.0, infinity)
                skill_rows[s].SetCoefficient(staffed, -1.0)  # Σ holders x ≥ staffed
    agency_rows: dict[int, pywraplp.Constraint] = {}

    def rows(r: int) -> list[pywraplp.Constraint]:
        agency = int(inst.reviewer_agency[r])
        if agency not in agency_rows:
            agency_rows[agency] = solver.Constraint(-infinity, 1.0)
        held = [row for s, row in skill_rows.items() if inst.skills[r, s]]
        return [seats_row, agency_rows[agency], *held]

    return rows


def _imbalance(
    solver: pywraplp.Solver,
    objective: pywraplp.Objective,
    seats: Seats,
    shift: dict[int, list[tuple[int, pywraplp.Variable]]],
    locked_value: int,
) -> None:
    """|balance_p| as t_p ≥ ±balance_p, charged −1 each in the objective; the offset adds what
    the locked pairs are worth (W each; missing it once put the bound below the optimum)."""
    constant = -locked_value
    for p, base in enumerate(seats.base.tolist()):
        if p not in shift:
            constant += abs(base)
            continue
        t = solver.NumVar(0.0, solver.infinity(), "")
        objective.SetCoefficient(t, -1.0)
        for sign in (1, -1):
            # t - sign·Σ(moves) ≥ sign·base
            row = solver.Constraint(sign * base, solver.infinity())
            row.SetCoefficient(t, 1.0)
            for coefficient, x in shift[p]:
                row.SetCoefficient(x, -sign * coefficient)
    objective.SetOffset(-constant)
