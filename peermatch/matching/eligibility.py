"""Who may review what: the eligibility rules of the contract, one function per rule name."""

from __future__ import annotations

from peermatch.matching.problem import Pair, Request, Reviewer


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
    return None
