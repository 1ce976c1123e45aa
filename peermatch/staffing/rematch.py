"""Automatic re-matching of a request's free seats after a decline or an expiry.

The region's problem comes from the matching runs' own builder (``match_runs.build_problem``):
every invited and accepted pair locked, every declined, expired or withdrawn pair excluded,
coordinators' locks and exclusions honoured. It is narrowed to the one request whose seat was
freed: other requests' held seats stay out of reach (their reviewers' capacity counts them) and
unapproved proposals elsewhere do not compete for the seat. Whoever the solver adds is invited
at once, within every team rule (the independent validator must pass first). The run is stored
as a MatchRun with purpose ``rematch``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from typing import Any

from sqlmodel import Session

from peermatch.matching.io import parse_problem, solution_to_json
from peermatch.matching.solver import solve
from peermatch.matching.validate import validate
from peermatch.models import (
    Assignment,
    MatchRun,
    Partnership,
    RequestEvent,
    ReviewRequest,
    RunStatus,
    utcnow,
)
from peermatch.settings import Settings
from peermatch.staffing import match_runs
from peermatch.vocabulary import load as load_vocabulary
from peermatch.web.pages.proposal import empty_seat_reasons

log = logging.getLogger("peermatch.staffing.rematch")


def request_problem(session: Session, request: ReviewRequest) -> tuple[dict[str, Any], str] | None:
    """The region's problem narrowed to ``request`` (``peermatch.problem/1`` data) and the
    request's key in it; None when the request has no seat open to matching."""
    home = session.get(Partnership, request.partnership_id)
    assert home is not None
    problem = match_runs.build_problem(session, home.region_id)
    key = match_runs.request_key(home.code, request.reference, request.id)
    if key not in {q["id"] for q in problem["requests"]}:
        return None
    others = {q["id"] for q in problem["requests"]} - {key}
    held_elsewhere = Counter(p["reviewer"] for p in problem["locked"] if p["request"] in others)
    held_here = Counter(p["reviewer"] for p in problem["locked"] if p["request"] == key)
    for reviewer in problem["reviewers"]:
        rid = reviewer["id"]
        reviewer["capacity"] = max(reviewer["capacity"] - held_elsewhere[rid], held_here[rid])
        reviewer["conflicts"] = [c for c in reviewer["conflicts"] if c not in others]
    problem["requests"] = [q for q in problem["requests"] if q["id"] == key]
    problem["locked"] = [p for p in problem["locked"] if p["request"] == key]
    problem["excluded"] = [p for p in problem["excluded"] if p["request"] == key]
    return problem, key


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
    then says why, in the proposal page's words)."""
    from peermatch.staffing.invitations import invite

    now = now or utcnow()
    assert request.id is not None
    found = request_problem(session, request)
    if found is None:
        return []
    data, key = found
    problem = parse_problem(data)
    solution = solve(problem, time_limit=settings.rematch_time_limit)
    errors = validate(problem, solution) if solution.status != "infeasible" else []
    team = {p.reviewer for p in problem.locked}
    added = sorted(
        match_runs.reviewer_id_of(p.reviewer)
        for p in solution.assignments
        if p.request == key and p.reviewer not in team
    )
    if errors:  # never invite from a solution that breaks a rule
        log.error("re-match of request %s broke %s rule(s)", request.id, len(errors))
        added = []
    home = session.get(Partnership, request.partnership_id)
    assert home is not None
    solution_data = solution_to_json(solution)
    run = MatchRun(
        region_id=home.region_id,
        started_by=actor,
        started_at=now,
        finished_at=utcnow(),
        status=RunStatus.failed if errors else RunStatus(solution.status),
        time_limit=settings.rematch_time_limit,
        problem=data,
        solution=solution_data,
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
    session.add_all(assignments)
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
        session.add(
            RequestEvent(
                request_id=request.id,
                actor=actor,
                kind="rematch_failed",
                detail={
                    "run_id": run.id,
                    "free": free,
                    "why": _why(solution_data, key, request, home.name),
                },
            )
        )
    log.info("request %s re-matched: %s invited, %s seat(s) free", request.id, len(added), free)
    session.flush()
    return assignments


def _why(solution: dict[str, Any], key: str, request: ReviewRequest, partnership: str) -> str:
    """Why seats stay empty, in the same words as the proposal page."""
    outcome = next((q for q in solution.get("requests", []) if q.get("id") == key), None)
    unfilled = (outcome or {}).get("unfilled")
    if not unfilled:
        return "the reviewers still available cannot complete the team within its rules"
    for suffix in (" Safeguarding Children Partnership", " Partnership"):
        partnership = partnership.removesuffix(suffix)
    reasons = empty_seat_reasons(
        unfilled,
        partnership=partnership,
        high_profile=request.high_profile,
        skill_label=load_vocabulary().skill_label,
    )
    return "; ".join(reasons) or "no one eligible is left"
