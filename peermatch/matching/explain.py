"""Why a seat stays empty, and whom to ask next: the per-request part of a solution.

Semantics (docs/solver.md): for a request with free seats,
- ``eligible``: reviewers eligible for it by the rule table and not on its team;
- ``ineligible``: every reviewer not eligible, counted under the first rule they fail, so
  team size + eligible + Σ ineligible = number of reviewers;
- ``missing_skills``: required skills that no eligible reviewer (team included) holds;
- ``missing_experience``: the request needs an experienced reviewer and no eligible reviewer
  (team included) is one (the experience rule is a required skill held by the experienced);
- ``taken_elsewhere``: eligible reviewers not on the team whose whole capacity is used by other
  requests in this solution.
``alternates`` (every request): eligible reviewers not on the team, best first, at most 10.
"""

from __future__ import annotations

import numpy as np

from peermatch.matching.instance import Instance
from peermatch.matching.problem import INELIGIBLE_REASONS, RequestOutcome, Unfilled

MAX_ALTERNATES = 10


def outcomes(
    inst: Instance, teams: list[list[int]], balance: np.ndarray
) -> tuple[RequestOutcome, ...]:
    """``teams``: every member (locked included) of each request."""
    load = np.zeros(inst.n_reviewers, dtype=np.int64)
    for team in teams:
        load[team] += 1
    full = load >= inst.capacity
    return tuple(_outcome(inst, q, teams[q], full, load, balance) for q in range(inst.n_requests))


def _outcome(
    inst: Instance,
    q: int,
    team: list[int],
    full: np.ndarray,
    load: np.ndarray,
    balance: np.ndarray,
) -> RequestOutcome:
    request = inst.problem.requests[q]
    others = inst.eligible[q][~np.isin(inst.eligible[q], team)]
    unfilled = None
    if len(team) < request.peers:
        unfilled = Unfilled(
            eligible=int(others.size),
            ineligible={
                name: int(inst.reason_counts[q, k + 1])
                for k, name in enumerate(INELIGIBLE_REASONS)
                # Counted only where the rule can bite: explanations of problems without
                # organisations involved are what they were before it.
                if name != "involved_organisation" or inst.organisations
            },
            missing_skills=_missing_skills(inst, q),
            taken_elsewhere=int(full[others].sum()),
            missing_experience=_missing_experience(inst, q),
        )
    ranked = _rank_alternates(inst, q, team, others, full, balance)
    return RequestOutcome(
        id=request.id,
        peers=request.peers,
        filled=len(team),
        unfilled=unfilled,
        alternates=tuple(inst.problem.reviewers[r].id for r in ranked),
    )


def _missing_skills(inst: Instance, q: int) -> tuple[str, ...]:
    pool = inst.eligible[q]
    required = inst.problem.requests[q].required_skills
    names = list(dict.fromkeys(required))
    if not pool.size:
        return tuple(names)
    held = np.asarray(inst.has_skills(pool, inst.required[q]).any(axis=0))
    return tuple(name for k, name in enumerate(names) if not held[k])


def _missing_experience(inst: Instance, q: int) -> bool:
    if inst.experience is None or not inst.problem.requests[q].needs_experienced:
        return False
    return not bool(inst.skills[inst.eligible[q], inst.experience].any())


def _rank_alternates(
    inst: Instance,
    q: int,
    team: list[int],
    others: np.ndarray,
    full: np.ndarray,
    balance: np.ndarray,
) -> list[int]:
    """Best first: has spare capacity; keeps the team multi-agency (agency not on the team);
    holds more of the required skills (experience counting as one); lowers the imbalance most
    if placed; input order."""
    if not others.size:
        return []
    on_team = np.isin(inst.reviewer_agency[others], inst.reviewer_agency[team])
    skills = (
        inst.has_skills(others, inst.required[q]).sum(axis=1)
        if inst.required[q]
        else np.zeros(others.size, dtype=np.int64)
    )
    lender = inst.reviewer_partnership[others]
    receiver = int(inst.request_partnership[q])
    lent = balance[lender]
    # Change of Σ|balance| if the pair were added: lender +1, receiver -1 (0 when internal).
    delta = np.abs(lent + 1) - np.abs(lent) + abs(balance[receiver] - 1) - abs(balance[receiver])
    delta = np.where(lender == receiver, 0, delta)
    order = np.lexsort((others, delta, -skills, on_team, full[others]))
    return [int(r) for r in others[order[:MAX_ALTERNATES]]]
