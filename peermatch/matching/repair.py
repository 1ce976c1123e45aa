"""Skill repair: CP-SAT re-decides the teams of some requests, everything else held fixed.

The flow relaxation ignores the skill rule. When its teams break it, this model re-decides a
neighbourhood (the offending requests, possibly more, up to every request) with the exact rules,
keeps the rest of the assignment as constants, and optimises the lexicographic objective as one
weighted sum ``W·fill - penalty`` (``penalty = K·imbalance + P - kept``, ``objective.py``) with
W larger than any penalty. The relaxation's bound is
added as a constraint, so CP-SAT stops (proven optimal) the moment it reaches it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np
from ortools.sat.python import cp_model

from peermatch.matching.instance import Instance
from peermatch.matching.objective import kept_of, lending, objective_weight, stability_weight
from peermatch.matching.seats import Seats

__all__ = ["Limits", "Neighbourhood", "Repair", "objective_weight", "practice_repair", "repair"]


@dataclass
class Neighbourhood:
    requests: list[int]  # requests whose free seats are re-decided
    candidates: dict[int, np.ndarray]  # request -> reviewers it may take


@dataclass
class Repair:
    teams: dict[int, list[int]]  # new free members of each request in the neighbourhood
    status: str  # "optimal" (within the neighbourhood), "feasible", "infeasible", "unknown"
    objective: int | None  # W·fill - imbalance of the whole assignment
    bound: int  # proven upper bound on that objective, within the neighbourhood


@dataclass
class Limits:
    seconds: float
    workers: int
    seed: int


def repair(
    inst: Instance,
    seats: Seats,
    teams: dict[int, list[int]],
    hood: Neighbourhood,
    cut: int | None,
    limits: Limits,
) -> Repair:
    """Re-decide ``hood``; ``teams`` holds the free members of every request (the hint inside
    the neighbourhood, constants outside). ``cut`` bounds W·fill - imbalance from above."""
    started = time.perf_counter()
    model = _Model(inst, seats, teams, hood)
    if cut is not None:
        model.model.add(model.objective <= cut)
    building = time.perf_counter() - started  # counts against the round's time too
    return model.solve(hood, teams, replace(limits, seconds=limits.seconds - building))


def practice_repair(
    inst: Instance,
    seats: Seats,
    teams: dict[int, list[int]],
    hood: Neighbourhood,
    target: tuple[int, int],
    limits: Limits,
) -> Repair:
    """Re-decide ``hood`` for practice: fill held at ``target[0]`` and the penalty at most
    ``target[1]`` (so imbalance, then kept, at least as good), practice maximised.
    ``objective``/``bound`` are practice values."""
    started = time.perf_counter()
    model = _Model(inst, seats, teams, hood)
    model.model.add(model.fill == target[0])
    model.model.add(model.penalty <= target[1])
    model.model.maximize(model.practice)
    building = time.perf_counter() - started
    return model.solve(hood, teams, replace(limits, seconds=limits.seconds - building))


class _Model:
    def __init__(
        self, inst: Instance, seats: Seats, teams: dict[int, list[int]], hood: Neighbourhood
    ) -> None:
        self.inst, self.model = inst, cp_model.CpModel()
        inside = set(hood.requests)
        spare = seats.spare.copy()
        fixed_pairs = [(q, r) for q, team in teams.items() if q not in inside for r in team]
        for _, r in fixed_pairs:
            spare[r] -= 1
        self.x: dict[tuple[int, int], cp_model.IntVar] = {}
        self.members: dict[int, list[tuple[int, cp_model.IntVar]]] = {}
        for q in hood.requests:
            self.members[q] = []
            for r in hood.candidates[q].tolist():
                if spare[r] >= 1:
                    self.x[q, r] = self.model.new_bool_var(f"x{q}_{r}")
                    self.members[q].append((r, self.x[q, r]))
        self._teams(seats, hood)
        self._capacity(spare)
        fill = len(inst.locked) + len(fixed_pairs) + cp_model.LinearExpr.sum(list(self.x.values()))
        imbalance = self._imbalance(seats, fixed_pairs)
        self.fill, self.imbalance = fill, imbalance
        kept = kept_of(inst, [*inst.locked, *fixed_pairs]) + cp_model.LinearExpr.sum(
            [v for pair, v in self.x.items() if pair in inst.previous]
        )
        self.penalty = stability_weight(inst) * imbalance + inst.n_previous - kept
        fixed_gaps = sum(int(inst.gap[r]) for _, r in [*inst.locked, *fixed_pairs])
        self.practice = fixed_gaps + cp_model.LinearExpr.weighted_sum(
            list(self.x.values()), [int(inst.gap[r]) for _, r in self.x]
        )
        self.objective: cp_model.LinearExprT = objective_weight(inst, seats) * fill - self.penalty
        self.model.maximize(self.objective)

    def _teams(self, seats: Seats, hood: Neighbourhood) -> None:
        inst = self.inst
        for q in hood.requests:
            members = self.members[q]
            self._skills(seats, q, members)
            if not members:
                continue
            self.model.add(sum(v for _, v in members) <= int(seats.free[q]))
            by_agency: dict[int, list[cp_model.IntVar]] = {}
            for r, v in members:
                by_agency.setdefault(int(inst.reviewer_agency[r]), []).append(v)
            for vs in by_agency.values():
                if len(vs) > 1:
                    self.model.add_at_most_one(vs)

    def _skills(self, seats: Seats, q: int, members: list[tuple[int, cp_model.IntVar]]) -> None:
        missing = seats.missing[q]
        if not missing:
            return
        if seats.locked_team[q]:
            staffed: cp_model.IntVar | int = 1  # a locked member means the team exists
        else:
            staffed = self.model.new_bool_var(f"staffed{q}")
            for _, v in members:
                self.model.add_implication(v, staffed)
        for s in missing:
            holders = [v for r, v in members if self.inst.skills[r, s]]
            if holders:
                self.model.add(sum(holders) >= staffed)
            elif isinstance(staffed, int):
                self.model.add_bool_or([])  # a locked team that can never get the skill
            else:
                self.model.add(staffed == 0)

    def _capacity(self, spare: np.ndarray) -> None:
        by_reviewer: dict[int, list[cp_model.IntVar]] = {}
        for (_, r), v in self.x.items():
            by_reviewer.setdefault(r, []).append(v)
        for r, vs in by_reviewer.items():
            if len(vs) > int(spare[r]):
                self.model.add(sum(vs) <= int(spare[r]))

    def _imbalance(self, seats: Seats, fixed_pairs: list[tuple[int, int]]) -> cp_model.LinearExpr:
        inst = self.inst
        constant = seats.base.copy()
        for q, r in fixed_pairs:
            side = lending(inst, q, r)
            if side:
                constant[side[0]] += 1
                constant[side[1]] -= 1
        moves: dict[int, list[tuple[int, cp_model.IntVar]]] = {}
        for (q, r), v in self.x.items():
            side = lending(inst, q, r)
            if side:
                moves.setdefault(side[0], []).append((1, v))
                moves.setdefault(side[1], []).append((-1, v))
        terms: list[cp_model.IntVar] = []
        fixed_part = 0
        for p in range(inst.n_partnerships):
            if p not in moves:
                fixed_part += abs(int(constant[p]))
                continue
            reach = len(moves[p])
            balance = int(constant[p]) + sum(sign * v for sign, v in moves[p])
            size = abs(int(constant[p])) + reach
            magnitude = self.model.new_int_var(0, size, f"imbalance{p}")
            # Two inequalities rather than an equality: the objective presses the magnitude
            # down anyway, and the LP relaxation of this form is what proves the bound.
            self.model.add(magnitude >= balance)
            self.model.add(magnitude >= -balance)
            terms.append(magnitude)
        return cp_model.LinearExpr.sum(terms) + fixed_part

    def solve(self, hood: Neighbourhood, teams: dict[int, list[int]], limits: Limits) -> Repair:
        for (q, r), v in self.x.items():
            self.model.add_hint(v, r in teams.get(q, ()))
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = max(limits.seconds, 0.01)
        solver.parameters.random_seed = limits.seed
        if limits.workers:
            solver.parameters.num_workers = limits.workers
        code = solver.solve(self.model)
        status = {
            cp_model.OPTIMAL: "optimal",
            cp_model.FEASIBLE: "feasible",
            cp_model.INFEASIBLE: "infeasible",
        }.get(code, "unknown")
        if status not in ("optimal", "feasible"):
            return Repair(teams={}, status=status, objective=None, bound=0)
        new_teams: dict[int, list[int]] = {q: [] for q in hood.requests}
        for (q, r), v in self.x.items():
            if solver.boolean_value(v):
                new_teams[q].append(r)
        return Repair(
            teams=new_teams,
            status=status,
            objective=int(solver.objective_value),
            bound=int(solver.best_objective_bound),
        )
