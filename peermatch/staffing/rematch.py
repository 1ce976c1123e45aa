"""Automatic re-matching of a request's free seats after a decline or an expiry, off the web
path: the answer marks the request (``rematch_wanted_at``) and returns; the worker
(``run_due``, every second or so) claims the marked requests and re-matches each.

The problem comes from the matching runs' own builder (``match_runs.build_problem``) narrowed
to the one request (``only``): every invited and accepted pair locked, every declined, expired
or withdrawn pair excluded, coordinators' locks and exclusions honoured, and other requests'
held seats counted against their reviewers' capacity; unapproved proposals elsewhere do not
compete for the seat. Whoever the solver adds is invited at once, within every team rule (the
independent validator must pass first, on the problem built at that moment). The run is stored
as a MatchRun with purpose ``rematch``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging

from sqlalchemy import or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from peermatch.db import session_scope
from peermatch.matching.io import ProblemError, problem_to_json, solution_to_json
from peermatch.matching.problem import RequestOutcome
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
from peermatch.staffing import invitations, lifecycle, match_runs
from peermatch.staffing.lifecycle import Command

log = logging.getLogger("peermatch.rematch")

# A worker holds a claimed request this long; if it dies, another takes the request over.
LEASE = dt.timedelta(minutes=2)


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
    then carries the solver's explanation, which the page words)."""
    now = now or utcnow()
    assert request.id is not None
    lifecycle.check(request, Command.rematch, today=now.date())
    home = session.get(Partnership, request.partnership_id)
    assert home is not None
    problem = match_runs.build_problem(session, home.region_id, only=[request.id], today=now.date())
    key = match_runs.request_key(home.code, request.reference, request.id)
    if key not in {q.id for q in problem.requests}:
        return []  # no seat open to matching (filled meanwhile)
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
    run = MatchRun(
        region_id=home.region_id,
        started_by=actor,
        started_at=now,
        finished_at=utcnow(),
        status=RunStatus.failed if errors else RunStatus(solution.status),
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
    session.add_all(assignments)
    session.flush()
    if assignments:
        invitations.invite(session, assignments, actor=actor, settings=settings, now=now)
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
        outcome = next((q for q in solution.requests if q.id == key), None)
        session.add(
            RequestEvent(
                request_id=request.id,
                actor=actor,
                kind="rematch_failed",
                detail={"run_id": run.id, "free": free, **_explanation(outcome)},
            )
        )
    log.info("request %s re-matched: %s invited, %s seat(s) free", request.id, len(added), free)
    session.flush()
    return assignments


def _explanation(outcome: RequestOutcome | None) -> dict[str, object]:
    """The solver's ``unfilled`` explanation as plain data, for the page to word."""
    if outcome is None or outcome.unfilled is None:
        return {}
    return {"unfilled": dataclasses.asdict(outcome.unfilled)}


def due(session: Session, *, now: dt.datetime) -> list[int]:
    """Requests waiting for a replacement that no live worker holds, oldest first."""
    return [
        request_id
        for request_id in session.exec(
            select(ReviewRequest.id)
            .where(
                col(ReviewRequest.rematch_wanted_at).is_not(None),
                or_(
                    col(ReviewRequest.rematch_claimed_until).is_(None),
                    col(ReviewRequest.rematch_claimed_until) < now,
                ),
            )
            .order_by(col(ReviewRequest.rematch_wanted_at))
        ).all()
        if request_id is not None
    ]


def _claim(engine: Engine, request_id: int, now: dt.datetime) -> bool:
    """Take the request for this worker (a conditional UPDATE: of two workers, one wins)."""
    with session_scope(engine) as session:
        done = session.execute(
            update(ReviewRequest)
            .where(
                col(ReviewRequest.id) == request_id,
                col(ReviewRequest.rematch_wanted_at).is_not(None),
                or_(
                    col(ReviewRequest.rematch_claimed_until).is_(None),
                    col(ReviewRequest.rematch_claimed_until) < now,
                ),
            )
            .values(rematch_claimed_until=now + LEASE)
        )
        return getattr(done, "rowcount", 0) == 1


def run_due(engine: Engine, settings: Settings, *, now: dt.datetime | None = None) -> int:
    """Re-match every request waiting for a replacement; returns how many were handled. Safe
    to call from several workers at once: each request is claimed by one."""
    now = now or utcnow()
    with Session(engine) as session:
        waiting = due(session, now=now)
    handled = 0
    for request_id in waiting:
        if not _claim(engine, request_id, now):
            continue
        with session_scope(engine) as session:
            request = session.exec(
                select(ReviewRequest)
                .where(ReviewRequest.id == request_id)
                .with_for_update()
                .execution_options(populate_existing=True)
            ).one()
            request.rematch_wanted_at = None
            request.rematch_claimed_until = None
            session.add(request)
            session.flush()
            if request.rematch_paused:
                continue
            if lifecycle.refusal(request, Command.rematch, today=now.date()) is not None:
                continue  # closed or re-matched by a coordinator's run meanwhile
            try:
                with session.begin_nested():  # a failed re-match leaves the rest in place
                    rematch(session, settings, request, actor="system", now=now)
            except ProblemError:
                # The team as it stands breaks a rule (a member since marked unavailable).
                log.warning(
                    "request %s could not be re-matched: its team breaks a rule", request_id
                )
                session.add(
                    RequestEvent(
                        request_id=request_id,
                        actor="system",
                        kind="rematch_failed",
                        detail={"team_breaks_rule": True},
                    )
                )
        handled += 1
    return handled


def waiting(request: ReviewRequest) -> bool:
    """True while the request waits for the worker to find a replacement."""
    return request.rematch_wanted_at is not None
