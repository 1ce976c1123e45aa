"""Who may review what: the eligibility rules of the contract, and the rules a locked pair must
keep (the one place both the parser and the solver take them from)."""

from __future__ import annotations

from dataclasses import dataclass

from peermatch.matching.problem import Pair, Problem, Request, Reviewer


def ineligibility(reviewer: Reviewer, request: Request, excluded: frozenset[Pair]) -> str | None:
    """The first rule (in the contract's order) that makes ``reviewer`` ineligible for
    ``request``, or None when eligible."""
    if reviewer.capacity < 1:
        return "no_capacity"
    internal = reviewer.partnership == request.partnership
    if internal and request.high_profile:
        return "high_profile_internal"
    if internal and reviewer.agency in request.agencies_involved:
        return "involved_agency"
    if request.id in reviewer.conflicts or request.partnership in reviewer.conflicts:
        return "conflict"
    if any(gap.overlaps(request.window) for gap in reviewer.unavailable):
        return "unavailable"
    if Pair(request.id, reviewer.id) in excluded:
        return "excluded"
    if (
        reviewer.organisation is not None
        and reviewer.organisation in request.organisations_involved
    ):
        return "involved_organisation"
    return None


@dataclass(frozen=True)
class LockedBreach:
    index: int  # in ``problem.locked``
    message: str


def locked_breach(problem: Problem) -> LockedBreach | None:
    """The first locked pair that cannot be placed: also excluded, ineligible, sharing an agency
    with another locked member, beyond the request's peers or the reviewer's capacity. (Skill
    and experience coverage are team rules the solver settles: ``infeasible``.)"""
    reviewers = {r.id: r for r in problem.reviewers}
    requests = {q.id: q for q in problem.requests}
    excluded = {pair: i for i, pair in enumerate(problem.excluded)}
    teams: dict[str, list[Reviewer]] = {}
    load: dict[str, int] = {}
    for i, pair in enumerate(problem.locked):
        reviewer, request = reviewers[pair.reviewer], requests[pair.request]
        where = f"reviewer {reviewer.id!r} on request {request.id!r}"
        if pair in excluded:
            return LockedBreach(i, f"{where} is also excluded (excluded[{excluded[pair]}])")
        rule = ineligibility(reviewer, request, frozenset())
        if rule is not None:
            return LockedBreach(i, f"{where} breaks eligibility rule {rule}")
        team = teams.setdefault(request.id, [])
        for mate in team:
            if mate.agency == reviewer.agency:
                return LockedBreach(
                    i,
                    f"{where} shares agency {reviewer.agency!r} with locked reviewer "
                    f"{mate.id!r} (a team has distinct agencies)",
                )
        team.append(reviewer)
        if len(team) > request.peers:
            return LockedBreach(
                i,
                f"request {request.id!r} has {len(team)} locked reviewers, peers is "
                f"{request.peers}",
            )
        load[reviewer.id] = load.get(reviewer.id, 0) + 1
        if load[reviewer.id] > reviewer.capacity:
            return LockedBreach(
                i,
                f"reviewer {reviewer.id!r} is locked on {load[reviewer.id]} requests, "
                f"capacity is {reviewer.capacity}",
            )
    return None
