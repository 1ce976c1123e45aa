"""What is left to decide once the locked pairs are placed: free seats, spare capacity, the
balance the locked pairs already carry, and who may still join each request."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from peermatch.matching.instance import Instance


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


def lending(inst: Instance, request: int, reviewer: int) -> tuple[int, int] | None:
    """(lender, receiver) partnerships of a pair, or None for an internal pair."""
    lender = int(inst.reviewer_partnership[reviewer])
    receiver = int(inst.request_partnership[request])
    return None if lender == receiver else (lender, receiver)


def balance_of(inst: Instance, pairs: list[tuple[int, int]]) -> np.ndarray:
    """balance_p of the contract for a set of (request, reviewer) pairs."""
    balance = inst.history.copy()
    for q, r in pairs:
        side = lending(inst, q, r)
        if side:
            balance[side[0]] += 1
            balance[side[1]] -= 1
    return balance


def place_locked(inst: Instance) -> Seats:
    spare = inst.capacity.copy()
    free = inst.peers.copy()
    team: list[list[int]] = [[] for _ in range(inst.n_requests)]
    for q, r in inst.locked:
        spare[r] -= 1
        free[q] -= 1
        team[q].append(r)
    if (spare < 0).any() or (free < 0).any():
        raise LockedInfeasible("locked pairs exceed a capacity or a request's peers")
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
