"""What is left to decide once the locked pairs are placed: free seats, spare capacity, the
balance the locked pairs already carry, and who may still join each request."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from peermatch.matching.eligibility import locked_breach
from peermatch.matching.instance import Instance
from peermatch.matching.objective import balance_of, lending

__all__ = [
    "LockedInfeasible",
    "Restrictions",
    "Rule",
    "Seats",
    "balance_of",
    "lending",
    "place_locked",
]


class LockedInfeasible(Exception):
    """The locked pairs cannot be completed into a solution."""


@dataclass
class Seats:
    spare: np.ndarray  # int64[R]: capacity left after locked pairs
    free: np.ndarray  # int64[Q]: seats left after locked pairs
    base: np.ndarray  # int64[P]: balance before any free pair (history + locked pairs)
    locked_team: list[list[int]]  # per request: locked reviewers
    missing: list[tuple[int, ...]]  # per request: required skills the locked team lacks
    candidates: list[np.ndarray]  # per request: reviewers who may still join, ascending


def place_locked(inst: Instance) -> Seats:
    spare = inst.capacity.copy()
    free = inst.peers.copy()
    team: list[list[int]] = [[] for _ in range(inst.n_requests)]
    for q, r in inst.locked:
        spare[r] -= 1
        free[q] -= 1
        team[q].append(r)
    breach = locked_breach(inst.problem)  # the parser refuses these; a Problem built in code
    if breach is not None:
        raise LockedInfeasible(f"locked[{breach.index}]: {breach.message}")
    seats = Seats(
        spare=spare,
        free=free,
        base=balance_of(inst, inst.locked),
        locked_team=team,
        missing=[],
        candidates=[],
    )
    for q in range(inst.n_requests):
        _open_request(inst, seats, q)
    return seats


def _open_request(inst: Instance, seats: Seats, q: int) -> None:
    team = seats.locked_team[q]
    held = set(np.flatnonzero(inst.skills[team].any(axis=0)).tolist()) if team else set()
    missing = tuple(s for s in inst.required[q] if s not in held)
    seats.missing.append(missing)
    pool = inst.eligible[q]
    taken_agencies = inst.reviewer_agency[team] if team else np.zeros(0, dtype=np.int32)
    pool = pool[(seats.spare[pool] >= 1) & ~np.isin(inst.reviewer_agency[pool], taken_agencies)]
    if seats.free[q] < 1:
        pool = pool[:0]
    coverable = bool(pool.size) and bool(inst.has_skills(pool, missing).any(axis=0).all())
    if missing and not coverable:
        if team:
            raise LockedInfeasible(
                f"request {inst.problem.requests[q].id}: locked team lacks skills"
            )
        pool = pool[:0]  # nobody can bring the skills, so nobody may join
    seats.candidates.append(pool)


@dataclass(frozen=True)
class Rule:
    """What a (request, agency) seat demands of its member: skills it must hold (so the seat
    must be filled) and skills it must not hold (the branching of branch.py keeps children
    disjoint this way)."""

    needs: frozenset[int] = frozenset()
    forbids: frozenset[int] = frozenset()

    def needing(self, skill: int) -> Rule:
        return Rule(self.needs | {skill}, self.forbids)

    def forbidding(self, skill: int) -> Rule:
        return Rule(self.needs, self.forbids | {skill})

    def fits(self, inst: Instance, pool: np.ndarray) -> np.ndarray:
        """bool per reviewer of ``pool``: holds every needed skill and no forbidden one."""
        fits = inst.skills[pool][:, sorted(self.needs)].all(axis=1)
        return np.asarray(fits & ~inst.skills[pool][:, sorted(self.forbids)].any(axis=1))


@dataclass(frozen=True)
class Restrictions:
    """The rules of a branch-and-bound node, one per (request, agency) seat, in seat order (so
    equal restrictions compare and hash equal)."""

    rules: tuple[tuple[tuple[int, int], Rule], ...] = ()

    @staticmethod
    def of(rules: dict[tuple[int, int], Rule]) -> Restrictions:
        return Restrictions(tuple(sorted(rules.items(), key=lambda item: item[0])))

    def as_dict(self) -> dict[tuple[int, int], Rule]:
        return dict(self.rules)

    def forced(self) -> frozenset[tuple[int, int]]:
        """Seats that must be filled (their rule needs a skill)."""
        return frozenset(seat for seat, rule in self.rules if rule.needs)

    def restrict(self, inst: Instance, seats: Seats, closed: frozenset[int]) -> Seats:
        """``seats`` with closed requests emptied and each ruled seat's candidates filtered."""
        candidates = list(seats.candidates)
        for q in closed:
            candidates[q] = candidates[q][:0]
        for (q, agency), rule in self.rules:
            pool = candidates[q]
            candidates[q] = pool[(inst.reviewer_agency[pool] != agency) | rule.fits(inst, pool)]
        return replace(seats, candidates=candidates)
