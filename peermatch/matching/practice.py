"""Practice: among equally good solutions on fill, imbalance and kept (stability), seats go to
the reviewers who have gone longest without a review (docs/solver.md, "Practice").

Runs on the final assignment of the search (fill F, imbalance I, kept k), which it never
worsens: fill stays F and the penalty ``K·imbalance + P − kept`` (``objective.py``) does not
rise, so imbalance, then kept, stay at least as good. Below, "(F, I)" is short for that.

1. When every reviewer who could take a seat has the same gap, practice is ``gap·F`` whatever
   the choice: proven.
2. The relaxation re-solved with practice as its lowest tier is exact on fill, imbalance and
   practice for the problem without the skill rule. When it reaches (F, I), its practice bounds
   that of every solution with fill F and imbalance at most I; when its teams also keep the skill
   rule (and the experience rule, a skill here), it is the answer, proven.
3. Otherwise member swaps raise practice, keeping fill, every rule and the penalty;
   then, on problems up to ``FULL_MODEL_PAIRS`` candidate pairs, CP-SAT re-decides every team
   with fill F and imbalance at most I held, maximising practice from the swapped solution.
   The bound is then the relaxation's (when it reached (F, I)), CP-SAT's, or the sum of the F
   largest gaps any seat could earn.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from peermatch.matching.flow import relax, solved, uncovered_skills
from peermatch.matching.instance import Instance
from peermatch.matching.objective import balance_of, kept_of, penalty, shift, stability_weight
from peermatch.matching.repair import Limits, Neighbourhood, practice_repair
from peermatch.matching.seats import Seats

# Up to this many candidate pairs CP-SAT re-decides the whole problem for practice.
FULL_MODEL_PAIRS = 5_000


@dataclass(frozen=True)
class Practice:
    pairs: list[tuple[int, int]]  # free pairs (locked ones apart), fill and imbalance unchanged
    value: int  # Σ gap over every pair, locked ones included
    bound: int  # upper bound among solutions with this fill and at most this imbalance


def value_of(inst: Instance, pairs: list[tuple[int, int]]) -> int:
    return int(sum(int(inst.gap[r]) for _, r in pairs))


def improve(
    inst: Instance,
    seats: Seats,
    pairs: list[tuple[int, int]],
    deadline: float,
    limits: Limits,
    flow_seconds: float = 0.0,
) -> Practice:
    """Raise the practice of the free ``pairs`` (a valid solution) without changing its fill
    or raising its imbalance; see the module text for the method and the bound.
    ``flow_seconds``: what one relaxation took; it is skipped when it would overrun
    ``deadline`` (then swaps alone, with the seat bound)."""
    locked_value = value_of(inst, inst.locked)
    filled = len(inst.locked) + len(pairs)
    imbalance = _imbalance(inst, pairs)
    kept = kept_of(inst, inst.locked + pairs)
    current = Practice(pairs, locked_value + value_of(inst, pairs), 0)
    pool = np.unique(np.concatenate([c for c in seats.candidates] + [np.zeros(0, np.int64)]))
    gaps = inst.gap[pool.astype(np.int64)]
    if not pairs or not gaps.size or (gaps == gaps[0]).all():
        return Practice(pairs, current.value, current.value)
    bound = _seat_bound(inst, seats, filled - len(inst.locked)) + locked_value
    relaxed = None
    if time.perf_counter() + flow_seconds < deadline:
        try:
            relaxed = solved(relax(inst, seats, practice=True))
        except RuntimeError:  # tier weights beyond the flow solver's cost range: no bound
            relaxed = None
    reached = (filled, imbalance, kept)
    if relaxed is not None and (relaxed.filled, relaxed.imbalance, relaxed.kept) == reached:
        relaxed_value = locked_value + value_of(inst, relaxed.pairs)
        bound = min(bound, relaxed_value)
        if not uncovered_skills(inst, seats, relaxed.pairs) and not _locked_lacking(
            inst, seats, relaxed.pairs
        ):
            return Practice(sorted(relaxed.pairs), relaxed_value, relaxed_value)
    if current.value >= bound:
        return Practice(pairs, current.value, current.value)
    swapped = _swaps(inst, seats, pairs, deadline)
    current = Practice(swapped, locked_value + value_of(inst, swapped), bound)
    if current.value < bound and sum(c.size for c in seats.candidates) <= FULL_MODEL_PAIRS:
        target = (filled, penalty(inst, imbalance, kept))
        return _exact(inst, seats, current, target, bound, deadline, limits)
    return Practice(swapped, current.value, max(bound, current.value))


def _imbalance(inst: Instance, pairs: list[tuple[int, int]]) -> int:
    return int(np.abs(balance_of(inst, inst.locked + pairs)).sum())


def _locked_lacking(inst: Instance, seats: Seats, pairs: list[tuple[int, int]]) -> bool:
    """A team with locked members and no free one that still lacks a skill (``uncovered_skills``
    only sees teams with free members)."""
    staffed = {q for q, _ in pairs}
    return any(
        seats.missing[q] and seats.locked_team[q] and q not in staffed
        for q in range(inst.n_requests)
    )


def _seat_bound(inst: Instance, seats: Seats, free_pairs: int) -> int:
    """The largest practice any ``free_pairs`` free pairs could earn: each reviewer counted up
    to their spare capacity (and the requests they may join), best gaps first."""
    units = np.zeros(inst.n_reviewers, dtype=np.int64)
    for pool in seats.candidates:
        units[pool] += 1
    units = np.minimum(units, seats.spare)
    order = np.argsort(-inst.gap, kind="stable")
    gaps = np.repeat(inst.gap[order], units[order])
    return int(gaps[:free_pairs].sum())


def _exact(
    inst: Instance,
    seats: Seats,
    current: Practice,
    target: tuple[int, int],
    bound: int,
    deadline: float,
    limits: Limits,
) -> Practice:
    teams: dict[int, list[int]] = {q: [] for q in range(inst.n_requests)}
    for q, r in current.pairs:
        teams[q].append(r)
    hood = Neighbourhood(
        requests=list(range(inst.n_requests)),
        candidates=dict(enumerate(seats.candidates)),
    )
    left = Limits(max(deadline - time.perf_counter(), 0.05), limits.workers, limits.seed)
    result = practice_repair(inst, seats, teams, hood, target, left)
    if result.objective is None:
        return Practice(current.pairs, current.value, bound)
    bound = result.objective if result.status == "optimal" else min(bound, result.bound)
    if result.objective <= current.value:
        return Practice(current.pairs, current.value, max(bound, current.value))
    pairs = sorted((q, r) for q, team in result.teams.items() for r in team)
    return Practice(pairs, result.objective, max(bound, result.objective))


def _swaps(
    inst: Instance, seats: Seats, pairs: list[tuple[int, int]], deadline: float
) -> list[tuple[int, int]]:
    """Swap members for candidates with longer gaps while fill, imbalance and every rule hold:
    same request, an agency free on the team (or the leaving member's), spare capacity, the
    team's missing skills still held, Σ|balance| (then kept) no worse. Best gain first per
    member."""
    teams: dict[int, list[int]] = {}
    for q, r in pairs:
        teams.setdefault(q, []).append(r)
    load = np.zeros(inst.n_reviewers, dtype=np.int64)
    for _, r in pairs:
        load[r] += 1
    balance = balance_of(inst, inst.locked + pairs)
    improved = True
    while improved and time.perf_counter() < deadline:
        improved = False
        for q in sorted(teams):
            for r in list(teams[q]):
                h = _best_swap(inst, seats, q, r, teams[q], load, balance)
                if h is None:
                    continue
                teams[q][teams[q].index(r)] = h
                load[r] -= 1
                load[h] += 1
                shift(inst, balance, q, r, -1)
                shift(inst, balance, q, h, 1)
                improved = True
    return sorted((q, r) for q, team in teams.items() for r in team)


def _best_swap(
    inst: Instance,
    seats: Seats,
    q: int,
    r: int,
    team: list[int],
    load: np.ndarray,
    balance: np.ndarray,
) -> int | None:
    pool = seats.candidates[q]
    pool = pool[(inst.gap[pool] > inst.gap[r]) & (load[pool] < seats.spare[pool])]
    if not pool.size:
        return None
    others = seats.locked_team[q] + [m for m in team if m != r]
    pool = pool[~np.isin(inst.reviewer_agency[pool], inst.reviewer_agency[others])]
    missing = list(seats.missing[q])
    if missing and pool.size:
        held = np.zeros(len(missing), dtype=bool)
        if others:
            held = np.asarray(inst.skills[others][:, missing].any(axis=0))
        need = [s for k, s in enumerate(missing) if not held[k]]
        if need:
            pool = pool[inst.skills[pool][:, need].all(axis=1)]
    if not pool.size:
        return None
    after = balance.copy()
    shift(inst, after, q, r, -1)
    lender = inst.reviewer_partnership[pool]
    receiver = int(inst.request_partnership[q])
    gain = np.abs(after[lender] + 1) - np.abs(after[lender])
    gain += abs(int(after[receiver]) - 1) - abs(int(after[receiver]))
    change = np.where(lender == receiver, 0, gain)
    change = change + int(np.abs(after).sum() - np.abs(balance).sum())
    if inst.previous:  # the penalty must not rise: K per unit of imbalance, 1 per pair kept
        change = stability_weight(inst) * change - inst.is_previous(q, pool).astype(np.int64)
        change = change + ((q, r) in inst.previous)
    pool, change = pool[change <= 0], change[change <= 0]
    if not pool.size:
        return None
    best = np.lexsort((pool, change, -inst.gap[pool]))[0]
    return int(pool[best])
