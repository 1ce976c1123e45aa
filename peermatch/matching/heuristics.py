"""Primal heuristic: ``mend`` turns a relaxed assignment into a valid solution (used by every
node of the branch and bound, ``branch.py``, and so by its dive too).

Imports run one way: ``branch.py`` uses this module, never the reverse.
"""

from __future__ import annotations

import numpy as np

from peermatch.matching.instance import Instance
from peermatch.matching.objective import balance_of, shift, stability_weight
from peermatch.matching.seats import Seats


def mend(
    inst: Instance, seats: Seats, pairs: list[tuple[int, int]], breaking: dict[int, int]
) -> list[tuple[int, int]] | None:
    """A valid solution from relaxed ``pairs``: each team lacking a skill takes in (or swaps a
    member of the same agency for) a candidate holding it with capacity to spare, choosing the
    move that changes the imbalance (then the previous pairs kept) least; teams that cannot be
    mended lose their free members. None when a locked team cannot be mended."""
    teams: dict[int, list[int]] = {}
    for q, r in pairs:
        teams.setdefault(q, []).append(r)
    load = np.zeros(inst.n_reviewers, dtype=np.int64)
    for _, r in pairs:
        load[r] += 1
    balance = balance_of(inst, inst.locked + pairs)
    for q in sorted(breaking):
        if not _mend_team(inst, seats, q, teams.setdefault(q, []), load, balance):
            if seats.locked_team[q]:
                return None
            for r in teams.pop(q):
                load[r] -= 1
                shift(inst, balance, q, r, -1)
    return [(q, r) for q in sorted(teams) for r in teams[q]]


def _mend_team(
    inst: Instance, seats: Seats, q: int, team: list[int], load: np.ndarray, balance: np.ndarray
) -> bool:
    for skill in seats.missing[q]:
        members = seats.locked_team[q] + team
        if members and inst.skills[members, skill].any():
            continue
        pool = seats.candidates[q]
        pool = pool[inst.skills[pool, skill] & (load[pool] < seats.spare[pool])]
        best: tuple[int, int, int | None] | None = None  # (imbalance change, holder, replaced)
        for h in pool.tolist():
            agency = inst.reviewer_agency[h]
            same = [m for m in team if inst.reviewer_agency[m] == agency]
            if any(inst.reviewer_agency[m] == agency for m in seats.locked_team[q]):
                continue
            if not same and len(members) >= inst.peers[q]:
                continue  # no free seat and nobody of that agency to swap out
            out = same[0] if same else None
            needed = list(seats.missing[q])
            if out is not None and (inst.skills[out, needed] & ~inst.skills[h, needed]).any():
                continue  # the member swapped out brings a skill the holder lacks
            change = _change(inst, balance, q, h, out)
            if best is None or change < best[0]:
                best = (change, h, out)
        if best is None:
            return False
        _, h, out = best
        if out is not None:
            team.remove(out)
            load[out] -= 1
            shift(inst, balance, q, out, -1)
        team.append(h)
        load[h] += 1
        shift(inst, balance, q, h, 1)
    members = seats.locked_team[q] + team
    return bool(members) and bool(inst.skills[members][:, list(seats.missing[q])].any(axis=0).all())


def _change(inst: Instance, balance: np.ndarray, q: int, h: int, out: int | None) -> int:
    """How much the penalty (K·Σ|balance| − kept, ``objective.py``) changes if ``h`` joins
    request ``q`` (replacing ``out``)."""
    trial = balance.copy()
    if out is not None:
        shift(inst, trial, q, out, -1)
    shift(inst, trial, q, h, 1)
    change = stability_weight(inst) * int(np.abs(trial).sum() - np.abs(balance).sum())
    return change - ((q, h) in inst.previous) + ((q, out) in inst.previous)
