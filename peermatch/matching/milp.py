"""The exact problem as a mixed-integer linear programme, for a MIP solver.

Built on the reduced model (the candidate pairs left after eligibility and the locked pairs), as
plain arrays, so that the solver can hand it to the MIP solver OR-Tools ships (HiGHS, through
``pywraplp``; :func:`solve`) and the benchmark to an off-the-shelf HiGHS (``highspy``) for its
baseline column. Columns:

- ``x[q, r]`` binary, one per candidate pair;
- ``staffed[q]`` binary, per request with a missing skill and no locked member (the skill rule
  applies only to a team that exists);
- ``t[p]`` ≥ 0, per partnership some pair can move: ``|balance_p|``.

Rows: seats (``Σ x ≤ free``, or ``≤ free · staffed``), one per (request, agency) with two or more
candidates (``Σ x ≤ 1``), capacity where it can bind, per missing skill ``Σ holders ≥ staffed``
(``≥ 1`` for a locked team), and ``t_p ≥ ±balance_p``. Objective: maximise ``W·fill −
imbalance`` (``objective_weight``), the lexicographic order of the contract in one sum.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from peermatch.matching.instance import Instance
from peermatch.matching.seats import Seats


@dataclass
class Milp:
    """``max cost·y + offset`` s.t. ``row_lower ≤ A y ≤ row_upper``, ``0 ≤ y ≤ col_upper``."""

    cost: np.ndarray  # float64[n]
    col_upper: np.ndarray  # float64[n] (inf for t)
    integer: np.ndarray  # bool[n]
    row_lower: list[float]
    row_upper: list[float]
    rows: list[tuple[list[int], list[float]]]  # per row: (columns, coefficients)
    offset: float
    pairs: list[tuple[int, int]]  # the pair of column k, for k < len(pairs)

    @property
    def n_cols(self) -> int:
        return len(self.cost)


@dataclass(frozen=True)
class MipResult:
    pairs: list[tuple[int, int]] | None  # free pairs of the best solution found
    objective: int | None  # W·fill − imbalance of it
    bound: int | None  # proven upper bound on that objective
    optimal: bool


def build(inst: Instance, seats: Seats, weight: int) -> Milp:
    pairs = [(q, int(r)) for q, pool in enumerate(seats.candidates) for r in pool.tolist()]
    n_x = len(pairs)
    cost: list[float] = [float(weight)] * n_x
    upper: list[float] = [1.0] * n_x
    integer: list[bool] = [True] * n_x
    rows: list[tuple[list[int], list[float]]] = []
    lower_b: list[float] = []
    upper_b: list[float] = []

    def row(cols: list[int], coefs: list[float], lo: float, hi: float) -> None:
        rows.append((cols, coefs))
        lower_b.append(lo)
        upper_b.append(hi)

    def new_col(c: float, ub: float, is_int: bool) -> int:
        cost.append(c)
        upper.append(ub)
        integer.append(is_int)
        return len(cost) - 1

    by_request: dict[int, list[int]] = {}
    by_reviewer: dict[int, list[int]] = {}
    for k, (q, r) in enumerate(pairs):
        by_request.setdefault(q, []).append(k)
        by_reviewer.setdefault(r, []).append(k)
    for q, cols in by_request.items():
        free = float(seats.free[q])
        missing = seats.missing[q]
        staffed: int | None = None
        if missing and not seats.locked_team[q]:
            staffed = new_col(0.0, 1.0, True)
            row([*cols, staffed], [1.0] * len(cols) + [-free], -np.inf, 0.0)
        elif len(cols) > free:
            row(cols, [1.0] * len(cols), -np.inf, free)
        agencies: dict[int, list[int]] = {}
        for k in cols:
            agencies.setdefault(int(inst.reviewer_agency[pairs[k][1]]), []).append(k)
        for members in agencies.values():
            if len(members) > 1:
                row(members, [1.0] * len(members), -np.inf, 1.0)
        for s in missing:
            holders = [k for k in cols if inst.skills[pairs[k][1], s]]
            if staffed is None:
                row(holders, [1.0] * len(holders), 1.0, np.inf)
            else:
                row([*holders, staffed], [1.0] * len(holders) + [-1.0], 0.0, np.inf)
    for r, cols in by_reviewer.items():
        if len(cols) > seats.spare[r]:
            row(cols, [1.0] * len(cols), -np.inf, float(seats.spare[r]))
    moves: dict[int, list[tuple[int, float]]] = {}
    for k, (q, r) in enumerate(pairs):
        lender, receiver = int(inst.reviewer_partnership[r]), int(inst.request_partnership[q])
        if lender != receiver:
            moves.setdefault(lender, []).append((k, 1.0))
            moves.setdefault(receiver, []).append((k, -1.0))
    offset = float(weight * len(inst.locked))
    for p, base in enumerate(seats.base.tolist()):
        if p not in moves:
            offset -= abs(base)
            continue
        t = new_col(-1.0, np.inf, False)
        cols = [k for k, _ in moves[p]]
        signs = [c for _, c in moves[p]]
        row([t, *cols], [1.0] + [-c for c in signs], float(base), np.inf)  # t ≥ balance
        row([t, *cols], [1.0, *signs], float(-base), np.inf)  # t ≥ -balance
    return Milp(
        cost=np.asarray(cost, dtype=np.float64),
        col_upper=np.asarray(upper, dtype=np.float64),
        integer=np.asarray(integer, dtype=bool),
        row_lower=lower_b,
        row_upper=upper_b,
        rows=rows,
        offset=offset,
        pairs=pairs,
    )


def solve(
    model: Milp,
    hint: list[tuple[int, int]] | None,
    seconds: float,
    workers: int = 0,
    engine: str = "SCIP",
) -> MipResult:
    """Solve with a MIP solver OR-Tools ships, from the ``hint`` assignment; stops at
    ``seconds``. SCIP by default: the HiGHS that ``pywraplp`` wraps crashed on a hint (OR-Tools
    9.15), and without one took three times as long as SCIP on a scarce regional instance."""
    from ortools.linear_solver import pywraplp

    started = time.perf_counter()
    solver = pywraplp.Solver.CreateSolver(engine)
    if solver is None:
        return MipResult(None, None, None, False)
    infinity = solver.infinity()
    cols = [
        solver.IntVar(0.0, float(ub), "") if is_int else solver.NumVar(0.0, infinity, "")
        for ub, is_int in zip(model.col_upper.tolist(), model.integer.tolist(), strict=True)
    ]
    for (members, coefs), lo, hi in zip(model.rows, model.row_lower, model.row_upper, strict=True):
        constraint = solver.Constraint(
            -infinity if lo == -np.inf else lo, infinity if hi == np.inf else hi
        )
        for k, c in zip(members, coefs, strict=True):
            constraint.SetCoefficient(cols[k], c)
    objective = solver.Objective()
    for k, c in enumerate(model.cost.tolist()):
        if c:
            objective.SetCoefficient(cols[k], c)
    objective.SetOffset(model.offset)
    objective.SetMaximization()
    if hint is not None:
        chosen = set(hint)
        values = [1.0 if pair in chosen else 0.0 for pair in model.pairs]
        solver.SetHint(cols[: len(model.pairs)], values)
    if workers:
        solver.SetNumThreads(workers)
    left = seconds - (time.perf_counter() - started)
    solver.SetTimeLimit(max(1, int(left * 1000)))
    status = solver.Solve()
    if status not in (pywraplp.Solver.OPTIMAL, pywraplp.Solver.FEASIBLE):
        return MipResult(None, None, None, False)
    pairs = [pair for k, pair in enumerate(model.pairs) if cols[k].solution_value() > 0.5]
    bound = objective.BestBound()
    return MipResult(
        pairs=pairs,
        objective=round(objective.Value()),
        bound=int(np.floor(bound + 1e-6)) if np.isfinite(bound) else None,
        optimal=status == pywraplp.Solver.OPTIMAL,
    )
