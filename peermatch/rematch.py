"""Automatic re-matching of a request's free seats after a decline or an expiry.

The request is solved again against the whole region's pool with its current team (invited and
accepted reviewers) locked, every pair that declined, expired or was withdrawn excluded, and
each reviewer's capacity reduced by what they hold on other open requests. Whoever the solver
adds is invited at once. The run is stored (MatchRun, purpose ``rematch``) like any other.

``region_problem`` is this module's own, minimal problem construction; it yields to the matching
runs' problem builder once that is merged (see the lead's notes).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict

from sqlmodel import Session, col, select

from peermatch import ledger
from peermatch.matching import problem as mp
from peermatch.matching.io import problem_to_json, solution_to_json
from peermatch.matching.solver import solve
from peermatch.matching.validate import validate
from peermatch.models import (
    Assignment,
    AssignmentStatus,
    MatchRun,
    PairDecision,
    PairDecisionKind,
    Partnership,
    RequestConflict,
    RequestEvent,
    RequestStatus,
    Reviewer,
    ReviewerConflict,
    ReviewerSkill,
    ReviewRequest,
    RunStatus,
    Unavailability,
    utcnow,
)
from peermatch.settings import Settings

log = logging.getLogger("peermatch.rematch")

OPEN = (AssignmentStatus.invited, AssignmentStatus.accepted)
CLOSED_REQUEST = (RequestStatus.completed, RequestStatus.cancelled)


def _rid(reviewer_id: int | None) -> str:
    return f"r{reviewer_id}"


def _qid(request_id: int | None) -> str:
    return f"q{request_id}"


def _pid(partnership_id: int | None) -> str:
    return f"p{partnership_id}"


def region_problem(session: Session, request: ReviewRequest) -> mp.Problem:
    """The problem of re-matching ``request``: the region's active reviewers, this request with
    its current team locked and its refused pairs excluded."""
    home = session.get(Partnership, request.partnership_id)
    assert home is not None and request.id is not None
    partnerships = session.exec(
        select(Partnership).where(Partnership.region_id == home.region_id)
    ).all()
    totals = ledger.totals(session, home.region_id)
    reviewers = session.exec(
        select(Reviewer)
        .where(
            col(Reviewer.partnership_id).in_([p.id for p in partnerships]),
            Reviewer.active == True,  # noqa: E712
        )
        .order_by(col(Reviewer.id))
    ).all()
    ids = [r.id for r in reviewers]
    skills: dict[int, set[str]] = defaultdict(set)
    for s in session.exec(select(ReviewerSkill).where(col(ReviewerSkill.reviewer_id).in_(ids))):
        skills[s.reviewer_id].add(s.skill)
    away: dict[int, list[mp.DateRange]] = defaultdict(list)
    for u in session.exec(select(Unavailability).where(col(Unavailability.reviewer_id).in_(ids))):
        away[u.reviewer_id].append(mp.DateRange(u.starts_on, u.ends_on))
    conflicts: dict[int, set[str]] = defaultdict(set)
    for c in session.exec(
        select(ReviewerConflict).where(col(ReviewerConflict.reviewer_id).in_(ids))
    ):
        conflicts[c.reviewer_id].add(_pid(c.partnership_id))
    for rc in session.exec(select(RequestConflict).where(RequestConflict.request_id == request.id)):
        conflicts[rc.reviewer_id].add(_qid(request.id))
    # What each reviewer already holds on the region's other open requests.
    load: dict[int, int] = defaultdict(int)
    held = session.exec(
        select(Assignment.reviewer_id)
        .join(ReviewRequest, col(ReviewRequest.id) == col(Assignment.request_id))
        .where(
            col(Assignment.status).in_(OPEN),
            Assignment.request_id != request.id,
            col(ReviewRequest.status).not_in(CLOSED_REQUEST),
        )
    ).all()
    for reviewer_id in held:
        load[reviewer_id] += 1
    mine = session.exec(select(Assignment).where(Assignment.request_id == request.id)).all()
    team = {a.reviewer_id for a in mine if a.status in OPEN}
    refused = {a.reviewer_id for a in mine if a.status not in OPEN}
    decisions = session.exec(select(PairDecision).where(PairDecision.request_id == request.id))
    for d in decisions:
        if d.kind == PairDecisionKind.excluded and d.reviewer_id not in team:
            refused.add(d.reviewer_id)
    known = {r.id for r in reviewers}
    codes = {p.id: p.code for p in partnerships}
    return mp.Problem(
        partnerships=tuple(
            mp.Partnership(_pid(p.id), *totals.get(codes[p.id], (0, 0))) for p in partnerships
        ),
        reviewers=tuple(
            mp.Reviewer(
                id=_rid(r.id),
                partnership=_pid(r.partnership_id),
                agency=r.agency,
                skills=frozenset(skills[r.id or 0]),
                # A team member keeps their seat even if overbooked elsewhere since.
                capacity=max(r.capacity - load[r.id or 0], 1 if r.id in team else 0),
                unavailable=tuple(away[r.id or 0]),
                conflicts=frozenset(conflicts[r.id or 0]),
            )
            for r in reviewers
        ),
        requests=(
            mp.Request(
                id=_qid(request.id),
                partnership=_pid(request.partnership_id),
                peers=request.peers,
                window=mp.DateRange(request.window_start, request.window_end),
                high_profile=request.high_profile,
                required_skills=tuple(request.required_skills),
                agencies_involved=frozenset(request.agencies_involved),
            ),
        ),
        locked=tuple(mp.Pair(_qid(request.id), _rid(r)) for r in sorted(team) if r in known),
        excluded=tuple(mp.Pair(_qid(request.id), _rid(r)) for r in sorted(refused) if r in known),
    )


def why_unfilled(outcome: mp.RequestOutcome | None, problem: mp.Problem) -> str:
    """Plain words for a seat that stays empty."""
    if outcome is None or outcome.unfilled is None:
        return "the team's rules cannot be met with the reviewers still available"
    unfilled = outcome.unfilled
    if unfilled.missing_skills:
        return (
            "no reviewer still available has the skills the review needs ("
            + ", ".join(unfilled.missing_skills)
            + ")"
        )
    if unfilled.eligible and unfilled.taken_elsewhere >= unfilled.eligible:
        return "every eligible reviewer is already at capacity on other reviews"
    reasons = {
        "no_capacity": "at capacity",
        "high_profile_internal": "from the requesting partnership on a high-profile review",
        "involved_agency": "from an agency involved in the case",
        "conflict": "conflicted",
        "unavailable": "unavailable on these dates",
        "excluded": "declined, expired, withdrawn or excluded",
    }
    counts = [
        f"{n} {reasons[k]}" for k, n in sorted(unfilled.ineligible.items(), key=lambda kv: -kv[1])
    ]
    counts = [c for c in counts if not c.startswith("0 ")]
    if unfilled.eligible:
        return (
            "no eligible reviewer fits the team without breaking a team rule (one reviewer per "
            "agency, the skills the review needs)"
        )
    return "no one eligible is left: of the region's reviewers, " + ", ".join(counts or ["none"])


def rematch(
    session: Session,
    settings: Settings,
    request: ReviewRequest,
    *,
    actor: str,
    now: dt.datetime | None = None,
) -> list[Assignment]:
    """Fill ``request``'s free seats now and invite whoever fills them, in the caller's
    transaction. Returns the new assignments (none when nobody eligible is left: the timeline
    then says why)."""
    from peermatch.invitations import invite

    now = now or utcnow()
    assert request.id is not None
    problem = region_problem(session, request)
    solution = solve(problem, time_limit=settings.rematch_time_limit)
    errors = validate(problem, solution) if solution.status != "infeasible" else []
    home = session.get(Partnership, request.partnership_id)
    assert home is not None
    team = {p.reviewer for p in problem.locked}
    added = sorted(
        int(p.reviewer[1:])
        for p in solution.assignments
        if p.request == _qid(request.id) and p.reviewer not in team
    )
    if errors:  # never invite from a solution that breaks a rule
        log.error("re-match of request %s broke %s rule(s)", request.id, len(errors))
        added = []
    run = MatchRun(
        region_id=home.region_id,
        started_by=actor,
        started_at=now,
        finished_at=utcnow(),
        status=RunStatus(solution.status) if not errors else RunStatus.failed,
        time_limit=settings.rematch_time_limit,
        problem=problem_to_json(problem),
        solution=solution_to_json(solution),
        seats=request.peers,
        filled=solution.filled,
        imbalance=solution.imbalance,
        seconds=solution.seconds,
        error="the solution broke a rule" if errors else None,
        approved_at=now if added else None,
        approved_by="system" if added else None,
        purpose="rematch",
    )
    session.add(run)
    session.flush()
    assignments = [
        Assignment(request_id=request.id, reviewer_id=r, run_id=run.id, invited_at=now)
        for r in added
    ]
    for assignment in assignments:
        session.add(assignment)
    session.flush()
    if assignments:
        invite(session, assignments, actor=actor, settings=settings, now=now)
        for assignment in assignments:
            session.add(
                RequestEvent(
                    request_id=request.id,
                    actor=actor,
                    kind="rematched",
                    reviewer_id=assignment.reviewer_id,
                    detail={"assignment_id": assignment.id, "run_id": run.id},
                )
            )
    free = request.peers - len(team) - len(assignments)
    if free > 0:
        outcome = next((o for o in solution.requests if o.id == _qid(request.id)), None)
        why = why_unfilled(outcome, problem)
        session.add(
            RequestEvent(
                request_id=request.id,
                actor=actor,
                kind="rematch_failed",
                detail={"run_id": run.id, "free": free, "why": why},
            )
        )
    log.info(
        "request %s re-matched: %s invited, %s seat(s) still free", request.id, len(added), free
    )
    session.flush()
    return assignments
