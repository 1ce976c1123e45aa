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
penalty`` (``objective.py``: ``penalty = K·Σ t_p + P − kept``, so a previous pair's column earns
``W + 1`` and ``t_p`` costs ``K``), the lexicographic order fill, imbalance, kept in one sum.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from peermatch.matching.instance import Instance
from peermatch.matching.objective import kept_of, stability_weight
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

    def copy(self) -> _Rows:
        """The same rows with no entries yet."""
        other = _Rows()
        other.lower, other.upper, other.count = list(self.lower), list(self.upper), self.count
        return other

    def enter(self, rows: np.ndarray, cols: np.ndarray, values: np.ndarray | float) -> None:
        self.rows.append(np.asarray(rows, dtype=np.int64))
        self.cols.append(np.asarray(cols, dtype=np.int64))
        self.values.append(np.broadcast_to(np.asarray(values, dtype=np.float64), len(rows)))


class Layout:
    """The rows of the exact model, numbered over every candidate pair, whichever columns a
    model then holds: ``build`` enters some of the pairs, ``price`` prices all of them against
    the duals of a model holding only some (column generation, for national problems whose
    MILP has millions of columns)."""

    def __init__(self, inst: Instance, seats: Seats) -> None:
        self.inst, self.seats = inst, seats
        sizes = np.array([c.size for c in seats.candidates], dtype=np.int64)
        self.pair_q = np.repeat(np.arange(inst.n_requests, dtype=np.int64), sizes)
        self.pair_r = np.concatenate(
            [c.astype(np.int64) for c in seats.candidates] + [np.zeros(0, np.int64)]
        )
        rows = _Rows()
        # Seats, and `staffed` columns for requests whose skill rule binds only a team that
        # exists.
        self.staffed_q = np.array(
            [q for q in range(inst.n_requests) if sizes[q] and seats.missing[q]
             and not seats.locked_team[q]], dtype=np.int64)  # fmt: skip
        self.is_staffed = np.zeros(inst.n_requests, dtype=bool)
        self.is_staffed[self.staffed_q] = True
        free = seats.free.astype(np.float64)
        self.seat_row = rows.add(
            np.full(inst.n_requests, -np.inf), np.where(self.is_staffed, 0.0, free)
        )
        # One member per agency per team, where two or more candidates share one.
        n_a = int(inst.reviewer_agency.max()) + 1 if inst.n_reviewers else 1
        team = self.pair_q * n_a + inst.reviewer_agency[self.pair_r]
        keys, which, counts = np.unique(team, return_inverse=True, return_counts=True)
        shared = counts > 1
        key_row = np.full(len(keys), -1, dtype=np.int64)
        key_row[shared] = rows.add(np.full(int(shared.sum()), -np.inf), np.ones(int(shared.sum())))
        self.agency_row = key_row[which]  # per pair, -1 where the pair is alone in its agency
        # Capacity, where a reviewer has more candidate seats than spare capacity.
        load = np.bincount(self.pair_r, minlength=inst.n_reviewers)
        binding = np.flatnonzero(load > seats.spare)
        self.capacity_row = np.full(inst.n_reviewers, -1, dtype=np.int64)
        self.capacity_row[binding] = rows.add(
            np.full(len(binding), -np.inf), seats.spare[binding].astype(np.float64)
        )
        # Skills: Σ holders ≥ staffed (≥ 1 for a locked team), a row per (request, skill).
        self.skill_row = np.full((inst.n_requests, inst.skills.shape[1]), -1, dtype=np.int64)
        for q in range(inst.n_requests):
            for s in seats.missing[q] if sizes[q] else ():
                locked = not self.is_staffed[q]
                self.skill_row[q, s] = rows.add(
                    np.full(1, 1.0 if locked else 0.0), np.full(1, np.inf)
                )[0]
        # |balance_p| as t_p ≥ ±balance_p for every partnership a pair can move.
        lender = inst.reviewer_partnership[self.pair_r].astype(np.int64)
        receiver = inst.request_partnership[self.pair_q].astype(np.int64)
        cross = lender != receiver
        self.touched = np.unique(np.concatenate([lender[cross], receiver[cross]]))
        base = seats.base.astype(np.float64)
        self.plus = np.full(inst.n_partnerships, -1, dtype=np.int64)  # t − Σ moves ≥ base
        self.minus = np.full(inst.n_partnerships, -1, dtype=np.int64)  # t + Σ moves ≥ −base
        self.plus[self.touched] = rows.add(base[self.touched], np.full(len(self.touched), np.inf))
        self.minus[self.touched] = rows.add(-base[self.touched], np.full(len(self.touched), np.inf))
        self.rows = rows
        # Stability: a previous pair's column earns one more than W.
        self.bonus = np.zeros(self.n_pairs)
        if inst.previous:
            self.bonus[inst.is_previous(self.pair_q, self.pair_r)] = 1.0

    @property
    def n_pairs(self) -> int:
        return len(self.pair_q)

    def request_pairs(self, q: int) -> slice:
        """The pair numbers of request ``q`` (pairs are in request order)."""
        start, end = np.searchsorted(self.pair_q, [q, q + 1])
        return slice(int(start), int(end))

    def index_of(self, pairs: list[tuple[int, int]]) -> np.ndarray:
        """The pair numbers of (request, reviewer) candidate pairs (pairs are in request, then
        reviewer order, so one key sorts them all)."""
        if not pairs:
            return np.zeros(0, dtype=np.int64)
        n_r = max(1, self.inst.n_reviewers)
        wanted = np.array([q * n_r + r for q, r in pairs], dtype=np.int64)
        return np.searchsorted(self.pair_q * n_r + self.pair_r, wanted)

    def price(self, weight: int, duals: np.ndarray) -> np.ndarray:
        """The reduced cost ``c − yᵀA`` of every pair's column under the row duals ``duals``."""
        q, r = self.pair_q, self.pair_r
        y = np.append(np.asarray(duals, dtype=np.float64), 0.0)  # row -1: no row
        value = weight + self.bonus - y[self.seat_row[q]] - y[self.agency_row]
        value -= y[self.capacity_row[r]]
        for s in range(self.skill_row.shape[1]):
            rows = self.skill_row[q, s]
            value -= np.where(self.inst.skills[r, s], y[rows], 0.0)
        lender = self.inst.reviewer_partnership[r]
        receiver = self.inst.request_partnership[q]
        move = -y[self.plus[lender]] + y[self.plus[receiver]] + y[self.minus[lender]]
        move -= y[self.minus[receiver]]
        return np.asarray(value - np.where(lender != receiver, move, 0.0))

    def build(self, weight: int, columns: np.ndarray | None = None) -> Milp:
        """The model with the pairs ``columns`` (indices into the pairs; default all)."""
        inst, seats = self.inst, self.seats
        chosen = np.arange(self.n_pairs) if columns is None else np.asarray(columns, np.int64)
        pair_q, pair_r = self.pair_q[chosen], self.pair_r[chosen]
        n_x = len(chosen)
        x = np.arange(n_x, dtype=np.int64)
        rows = self.rows.copy()
        rows.enter(self.seat_row[pair_q], x, 1.0)
        staffed_col = np.full(inst.n_requests, -1, dtype=np.int64)
        staffed_col[self.staffed_q] = n_x + np.arange(len(self.staffed_q))
        free = seats.free.astype(np.float64)
        rows.enter(
            self.seat_row[self.staffed_q], staffed_col[self.staffed_q], -free[self.staffed_q]
        )
        agency = self.agency_row[chosen]
        rows.enter(agency[agency >= 0], x[agency >= 0], 1.0)
        capacity = self.capacity_row[pair_r]
        rows.enter(capacity[capacity >= 0], x[capacity >= 0], 1.0)
        for s in range(self.skill_row.shape[1]):
            skill = self.skill_row[pair_q, s]
            holds = (skill >= 0) & inst.skills[pair_r, s]
            rows.enter(skill[holds], x[holds], 1.0)
        staffed_skill = self.skill_row[self.staffed_q]
        has_row = staffed_skill >= 0
        rows.enter(
            staffed_skill[has_row],
            np.broadcast_to(staffed_col[self.staffed_q][:, None], staffed_skill.shape)[has_row],
            -1.0,
        )
        lender = inst.reviewer_partnership[pair_r].astype(np.int64)
        receiver = inst.request_partnership[pair_q].astype(np.int64)
        cross = lender != receiver
        n_cols = n_x + len(self.staffed_q)
        touched = self.touched
        t_col = n_cols + np.arange(len(touched))
        rows.enter(self.plus[touched], t_col, 1.0)  # t_p ≥ ±balance_p
        rows.enter(self.minus[touched], t_col, 1.0)
        moved = x[cross]
        rows.enter(self.plus[lender[cross]], moved, -1.0)
        rows.enter(self.plus[receiver[cross]], moved, 1.0)
        rows.enter(self.minus[lender[cross]], moved, 1.0)
        rows.enter(self.minus[receiver[cross]], moved, -1.0)
        untouched = np.setdiff1d(np.arange(inst.n_partnerships), touched)
        k = stability_weight(inst)
        offset = float(
            weight * len(inst.locked)
            - k * int(np.abs(seats.base[untouched]).sum())
            - inst.n_previous
            + kept_of(inst, inst.locked)
        )
        n_t, n_s = len(touched), len(self.staffed_q)
        return Milp(
            cost=np.concatenate(
                [weight + self.bonus[chosen], np.zeros(n_s), np.full(n_t, -float(k))]
            ),
            col_upper=np.concatenate([np.ones(n_x + n_s), np.full(n_t, np.inf)]),
            integer=np.concatenate([np.ones(n_x + n_s, bool), np.zeros(n_t, bool)]),
            row_lower=np.concatenate(rows.lower),
            row_upper=np.concatenate(rows.upper),
            entry_row=np.concatenate(rows.rows),
            entry_col=np.concatenate(rows.cols),
            entry_value=np.concatenate(rows.values),
            offset=offset,
            pair_q=pair_q,
            pair_r=pair_r,
        )


def build(inst: Instance, seats: Seats, weight: int) -> Milp:
    """The exact model with every candidate pair."""
    return Layout(inst, seats).build(weight)


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


def is_optimal(response: Any) -> bool:
    """Whether an ``MPSolutionResponse`` holds a proven optimum."""
    from ortools.linear_solver import linear_solver_pb2

    return bool(
        response.status == linear_solver_pb2.MPSolverResponseStatus.Value("MPSOLVER_OPTIMAL")
    )


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
