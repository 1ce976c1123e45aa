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
from typing import Any

import numpy as np

from peermatch.matching.instance import Instance
from peermatch.matching.seats import Seats


@dataclass
class Milp:
    """``max cost·y + offset`` s.t. ``row_lower ≤ A y ≤ row_upper``, ``0 ≤ y ≤ col_upper``, with
    ``A`` in coordinates (``entry_row``, ``entry_col``, ``entry_value``). Columns ``0 … len(pair_q)
    − 1`` are the pairs (``pair_q[k]``, ``pair_r[k]``)."""

    cost: np.ndarray  # float64[n]
    col_upper: np.ndarray  # float64[n] (inf for t)
    integer: np.ndarray  # bool[n]
    row_lower: np.ndarray  # float64[m]
    row_upper: np.ndarray  # float64[m]
    entry_row: np.ndarray  # int64[nnz]
    entry_col: np.ndarray  # int64[nnz]
    entry_value: np.ndarray  # float64[nnz]
    offset: float
    pair_q: np.ndarray  # int64[pairs]
    pair_r: np.ndarray  # int64[pairs]

    @property
    def n_cols(self) -> int:
        return len(self.cost)

    @property
    def n_rows(self) -> int:
        return len(self.row_lower)

    def pairs_of(self, values: np.ndarray) -> list[tuple[int, int]]:
        """The pairs whose columns are set in a solution vector."""
        chosen = np.asarray(values)[: len(self.pair_q)] > 0.5
        return list(zip(self.pair_q[chosen].tolist(), self.pair_r[chosen].tolist(), strict=True))

    def csr(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Row starts, column indices and values of ``A`` (for solvers that take rows)."""
        order = np.argsort(self.entry_row, kind="stable")
        starts = np.searchsorted(self.entry_row[order], np.arange(self.n_rows))
        return starts, self.entry_col[order], self.entry_value[order]


@dataclass(frozen=True)
class MipResult:
    pairs: list[tuple[int, int]] | None  # free pairs of the best solution found
    objective: int | None  # W·fill − imbalance of it
    bound: int | None  # proven upper bound on that objective
    optimal: bool


class _Rows:
    """Accumulates rows as coordinate arrays."""

    def __init__(self) -> None:
        self.lower: list[np.ndarray] = []
        self.upper: list[np.ndarray] = []
        self.rows: list[np.ndarray] = []
        self.cols: list[np.ndarray] = []
        self.values: list[np.ndarray] = []
        self.count = 0

    def add(self, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
        """New rows with these bounds; returns their numbers."""
        numbers = self.count + np.arange(len(lower), dtype=np.int64)
        self.count += len(lower)
        self.lower.append(np.asarray(lower, dtype=np.float64))
        self.upper.append(np.asarray(upper, dtype=np.float64))
        return numbers

    def enter(self, rows: np.ndarray, cols: np.ndarray, values: np.ndarray | float) -> None:
        self.rows.append(np.asarray(rows, dtype=np.int64))
        self.cols.append(np.asarray(cols, dtype=np.int64))
        self.values.append(np.broadcast_to(np.asarray(values, dtype=np.float64), len(rows)))


def build(inst: Instance, seats: Seats, weight: int) -> Milp:
    sizes = np.array([c.size for c in seats.candidates], dtype=np.int64)
    pair_q = np.repeat(np.arange(inst.n_requests, dtype=np.int64), sizes)
    pair_r = np.concatenate(
        [c.astype(np.int64) for c in seats.candidates] + [np.zeros(0, np.int64)]
    )
    n_x = len(pair_q)
    x = np.arange(n_x, dtype=np.int64)
    rows = _Rows()
    # Seats, and `staffed` columns for requests whose skill rule binds only a team that exists.
    staffed_q = np.array(
        [q for q in range(inst.n_requests) if sizes[q] and seats.missing[q]
         and not seats.locked_team[q]], dtype=np.int64)  # fmt: skip
    staffed_col = np.full(inst.n_requests, -1, dtype=np.int64)
    staffed_col[staffed_q] = n_x + np.arange(len(staffed_q))
    free = seats.free.astype(np.float64)
    seat_upper = np.where(staffed_col >= 0, 0.0, free)
    seat_row = rows.add(np.full(inst.n_requests, -np.inf), seat_upper)
    rows.enter(seat_row[pair_q], x, 1.0)
    rows.enter(seat_row[staffed_q], staffed_col[staffed_q], -free[staffed_q])
    # One member per agency per team, where two or more candidates share one.
    n_a = int(inst.reviewer_agency.max()) + 1 if inst.n_reviewers else 1
    team = pair_q * n_a + inst.reviewer_agency[pair_r]
    keys, which, counts = np.unique(team, return_inverse=True, return_counts=True)
    agency_row = rows.add(np.full(len(keys), -np.inf), np.ones(len(keys)))
    shared = counts[which] > 1
    rows.enter(agency_row[which[shared]], x[shared], 1.0)
    # Capacity, where a reviewer has more candidate seats than spare capacity.
    load = np.bincount(pair_r, minlength=inst.n_reviewers)
    binding = np.flatnonzero(load > seats.spare)
    capacity_row = np.full(inst.n_reviewers, -1, dtype=np.int64)
    capacity_row[binding] = rows.add(np.full(len(binding), -np.inf), seats.spare[binding])
    tight = capacity_row[pair_r] >= 0
    rows.enter(capacity_row[pair_r[tight]], x[tight], 1.0)
    # Skills: Σ holders ≥ staffed (≥ 1 for a locked team).
    starts = np.concatenate([[0], np.cumsum(sizes)])
    for q in range(inst.n_requests):
        if not sizes[q]:
            continue
        cols = x[starts[q] : starts[q + 1]]
        for s in seats.missing[q]:
            holders = cols[inst.skills[pair_r[cols], s]]
            if staffed_col[q] >= 0:
                row = rows.add(np.zeros(1), np.full(1, np.inf))
                rows.enter(np.repeat(row, len(holders)), holders, 1.0)
                rows.enter(row, staffed_col[q : q + 1], -1.0)
            else:
                row = rows.add(np.ones(1), np.full(1, np.inf))
                rows.enter(np.repeat(row, len(holders)), holders, 1.0)
    # |balance_p| as t_p ≥ ±balance_p for every partnership a pair can move.
    lender = inst.reviewer_partnership[pair_r].astype(np.int64)
    receiver = inst.request_partnership[pair_q].astype(np.int64)
    cross = lender != receiver
    touched = np.unique(np.concatenate([lender[cross], receiver[cross]]))
    n_cols = n_x + len(staffed_q)
    t_col = np.full(inst.n_partnerships, -1, dtype=np.int64)
    t_col[touched] = n_cols + np.arange(len(touched))
    base = seats.base.astype(np.float64)
    plus = np.full(inst.n_partnerships, -1, dtype=np.int64)  # t − Σ moves ≥ base
    minus = np.full(inst.n_partnerships, -1, dtype=np.int64)  # t + Σ moves ≥ −base
    plus[touched] = rows.add(base[touched], np.full(len(touched), np.inf))
    minus[touched] = rows.add(-base[touched], np.full(len(touched), np.inf))
    rows.enter(plus[touched], t_col[touched], 1.0)
    rows.enter(minus[touched], t_col[touched], 1.0)
    moved = x[cross]
    rows.enter(plus[lender[cross]], moved, -1.0)
    rows.enter(plus[receiver[cross]], moved, 1.0)
    rows.enter(minus[lender[cross]], moved, 1.0)
    rows.enter(minus[receiver[cross]], moved, -1.0)
    untouched = np.setdiff1d(np.arange(inst.n_partnerships), touched)
    offset = float(weight * len(inst.locked) - np.abs(seats.base[untouched]).sum())
    n_t = len(touched)
    return Milp(
        cost=np.concatenate([np.full(n_x, float(weight)), np.zeros(len(staffed_q)), -np.ones(n_t)]),
        col_upper=np.concatenate([np.ones(n_x + len(staffed_q)), np.full(n_t, np.inf)]),
        integer=np.concatenate([np.ones(n_x + len(staffed_q), bool), np.zeros(n_t, bool)]),
        row_lower=np.concatenate(rows.lower),
        row_upper=np.concatenate(rows.upper),
        entry_row=np.concatenate(rows.rows),
        entry_col=np.concatenate(rows.cols),
        entry_value=np.concatenate(rows.values),
        offset=offset,
        pair_q=pair_q,
        pair_r=pair_r,
    )


def to_proto(
    model: Milp, *, integer: bool = True, hint: list[tuple[int, int]] | None = None
) -> Any:
    """The model as an ``MPModelProto`` (built from the arrays, no Python object per entry of the
    matrix), for ``pywraplp.Solver.SolveWithProto``; ``integer=False`` gives its LP relaxation."""
    from ortools.linear_solver import linear_solver_pb2

    proto = linear_solver_pb2.MPModelProto(maximize=True, objective_offset=model.offset)
    upper = np.where(np.isinf(model.col_upper), np.inf, model.col_upper).tolist()
    is_integer = (model.integer & integer).tolist()
    add_variable = proto.variable.add
    for ub, cost, kind in zip(upper, model.cost.tolist(), is_integer, strict=True):
        add_variable(lower_bound=0.0, upper_bound=ub, objective_coefficient=cost, is_integer=kind)
    starts, index, value = model.csr()
    ends = np.append(starts[1:], len(index)).tolist()
    index_list, value_list = index.tolist(), value.tolist()
    add_row = proto.constraint.add
    bounds = zip(model.row_lower.tolist(), model.row_upper.tolist(), strict=True)
    for (lower, upper_bound), start, end in zip(bounds, starts.tolist(), ends, strict=True):
        row = add_row(lower_bound=lower, upper_bound=upper_bound)
        row.var_index.extend(index_list[start:end])
        row.coefficient.extend(value_list[start:end])
    if hint is not None:
        chosen = set(hint)
        every = zip(model.pair_q.tolist(), model.pair_r.tolist(), strict=True)
        values = [1.0 if pair in chosen else 0.0 for pair in every]
        proto.solution_hint.var_index.extend(range(len(values)))
        proto.solution_hint.var_value.extend(values)
    return proto


def run_proto(proto: Any, solver_type: str, seconds: float, workers: int = 0) -> Any:
    """Solve an ``MPModelProto`` with one of the solvers the OR-Tools wheel ships (``GLOP_LINEAR_
    PROGRAMMING``, ``SCIP_MIXED_INTEGER_PROGRAMMING``…); returns the ``MPSolutionResponse``."""
    from ortools.linear_solver import linear_solver_pb2, pywraplp

    kind = linear_solver_pb2.MPModelRequest.SolverType.Value(solver_type)
    request = linear_solver_pb2.MPModelRequest(
        model=proto, solver_type=kind, solver_time_limit_seconds=max(0.01, seconds)
    )
    if workers and solver_type.startswith("SCIP"):
        request.solver_specific_parameters = f"parallel/maxnthreads = {workers}\n"
    response = linear_solver_pb2.MPSolutionResponse()
    pywraplp.Solver.SolveWithProto(request, response)
    return response


def solve(
    model: Milp,
    hint: list[tuple[int, int]] | None,
    seconds: float,
    workers: int = 0,
    engine: str = "SCIP",
) -> MipResult:
    """Solve with a MIP solver OR-Tools ships, from the ``hint`` assignment; stops at
    ``seconds``. SCIP by default: the HiGHS that OR-Tools wraps crashed on a hint (OR-Tools
    9.15), and without one took three times as long as SCIP on a scarce regional instance."""
    from ortools.linear_solver import linear_solver_pb2

    started = time.perf_counter()
    proto = to_proto(model, hint=hint)
    left = seconds - (time.perf_counter() - started)
    response = run_proto(proto, f"{engine}_MIXED_INTEGER_PROGRAMMING", left, workers)
    status = linear_solver_pb2.MPSolverResponseStatus
    if response.status not in (status.Value("MPSOLVER_OPTIMAL"), status.Value("MPSOLVER_FEASIBLE")):
        return MipResult(None, None, None, False)
    pairs = model.pairs_of(np.asarray(response.variable_value))
    bound = response.best_objective_bound
    return MipResult(
        pairs=pairs,
        objective=round(response.objective_value),
        bound=int(np.floor(bound + 1e-6)) if np.isfinite(bound) else None,
        optimal=response.status == status.Value("MPSOLVER_OPTIMAL"),
    )
