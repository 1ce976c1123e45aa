"""Matching runs: a region's open requests and its reviewers, solved together.

The flow, in one place:
- ``start_run`` builds a ``peermatch.problem/1`` document from the database (``build_problem``),
  stores it in a queued ``MatchRun`` and moves the requests it covers to ``matching``. Only one
  run per region can be queued or running: ``MatchRun.active_region_id`` is unique, so when two
  coordinators press "Run matching" at once the database lets one insert win and the other gets
  that run back.
- ``execute_run`` runs the solver in its own process (``peermatch.match_worker``: the branch and
  bound is Python and would hold the web process's interpreter lock), under the run's time
  limit, touching the run's heartbeat while it waits and killing the process if the run is
  cancelled. It stores the solution, its status and figures, and moves the requests to
  ``proposed`` (or back to ``submitted`` if the run failed). A solution that the independent
  validator faults fails the run: no invalid team is ever proposed.
- ``approve_run`` turns the latest solved run's proposal into ``invited`` assignments.

Ids in the problem trace back to the database: a request is ``"DUN/DUN-2027-041#12"``
(partnership code, reference, database id) and a reviewer ``"r-123"`` (registry id);
``parse_id`` reads them back.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import func, update
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from peermatch import audit, ledger, registry
from peermatch.db import session_scope
from peermatch.errors import Conflict, DomainError, NotFound
from peermatch.matching.io import (
    ProblemError,
    check_problem,
    parse_problem,
    parse_solution,
    problem_requests,
    problem_to_json,
)
from peermatch.matching.problem import DateRange, Pair, Problem, Solution
from peermatch.matching.problem import Partnership as ProblemPartnership
from peermatch.matching.problem import Request as ProblemRequest
from peermatch.matching.problem import Reviewer as ProblemReviewer
from peermatch.matching.validate import broken_rules, rule_violations
from peermatch.models import (
    Assignment,
    AssignmentStatus,
    AuditEvent,
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
from peermatch.settings import Settings, load_settings
from peermatch.staffing import invitations, lifecycle, scope
from peermatch.staffing.lifecycle import Command

log = logging.getLogger("peermatch.staffing.match_runs")

PROBLEM_FORMAT = "peermatch.problem/1"
HELD = (AssignmentStatus.invited, AssignmentStatus.accepted)
# Pairs never proposed again: the reviewer said no or did not answer; a coordinator withdrew
# them (a lock decided after the withdrawal brings them back).
NEVER_AGAIN = (AssignmentStatus.declined, AssignmentStatus.expired)
WITHDRAWN = (AssignmentStatus.withdrawn,)
ACTIVE = (RunStatus.queued, RunStatus.running)
SOLVED = (RunStatus.optimal, RunStatus.feasible)
# Requests a run may propose teams for; ``matching`` ones are only found outside a run when a
# server died mid-run (or the demo seeded them so), and the next run takes them over.
_MATCHABLE = (RequestStatus.submitted, RequestStatus.matching, RequestStatus.proposed)
# A request whose reviewers are held (invited, accepted) still needs capacity from them.
_OPEN = (
    RequestStatus.submitted,
    RequestStatus.matching,
    RequestStatus.proposed,
    RequestStatus.inviting,
    RequestStatus.staffed,
)
HEARTBEAT_SECONDS = 1.0
# A queued or running run whose heartbeat is older than this has lost its supervisor.
STALE_AFTER = dt.timedelta(seconds=20)
# The solver stops itself at its time limit, but on a busy host its last steps can overrun it
# (a national run on a loaded two-core host has taken nearly three times its limit); a worker
# still running at four times the limit plus this is taken to be stuck, killed, and its run
# failed. (A coordinator can cancel sooner.)
GRACE_SECONDS = 60.0


class RunRefused(DomainError):
    """The run cannot be started, approved or cancelled; the message says why."""


# --- ids -----------------------------------------------------------------------------------


def request_key(code: str, reference: str, request_id: int | None) -> str:
    return f"{code}/{reference}#{request_id}"


def reviewer_key(reviewer_id: int | None) -> str:
    return f"r-{reviewer_id}"


def organisation_key(organisation_id: int) -> str:
    """An organisation's stable id in a matching problem."""
    return f"o-{organisation_id}"


def parse_id(key: str) -> tuple[str, int]:
    """``("request", 12)`` for ``"DUN/DUN-2027-041#12"``, ``("reviewer", 123)`` for
    ``"r-123"``; ValueError for anything else."""
    if "#" in key:
        number = key.rsplit("#", 1)[1]
        kind = "request"
    elif key.startswith("r-"):
        number = key[2:]
        kind = "reviewer"
    else:
        raise ValueError(f"not a request or reviewer id: {key!r}")
    if not number.isdigit():
        raise ValueError(f"not a request or reviewer id: {key!r}")
    return kind, int(number)


def request_id_of(key: str) -> int:
    kind, number = parse_id(key)
    if kind != "request":
        raise ValueError(f"not a request id: {key!r}")
    return number


def reviewer_id_of(key: str) -> int:
    kind, number = parse_id(key)
    if kind != "reviewer":
        raise ValueError(f"not a reviewer id: {key!r}")
    return number


# --- the problem ---------------------------------------------------------------------------


def _held(session: Session, region_id: int) -> list[tuple[Assignment, ReviewRequest]]:
    """Invited and accepted assignments on the region's open requests."""
    rows = session.exec(
        select(Assignment, ReviewRequest)
        .join(ReviewRequest, col(ReviewRequest.id) == Assignment.request_id)
        .join(Partnership, col(Partnership.id) == ReviewRequest.partnership_id)
        .where(
            Partnership.region_id == region_id,
            col(Assignment.status).in_(HELD),
            col(ReviewRequest.status).in_(_OPEN),
        )
    ).all()
    return [(a, q) for a, q in rows]


def matchable_requests(
    session: Session,
    region_id: int,
    *,
    only: Iterable[int] | None = None,
    held: Sequence[tuple[Assignment, ReviewRequest]] | None = None,
) -> list[ReviewRequest]:
    """The requests a run of the region covers: submitted or proposed ones, and inviting ones
    with a seat that nobody holds; nearest deadline (then window) first. ``only``: of these
    requests alone (loads no others); ``held``: the region's ``_held`` rows, if at hand."""
    seats = Counter(a.request_id for a, _ in (_held(session, region_id) if held is None else held))
    query = (
        select(ReviewRequest)
        .join(Partnership, col(Partnership.id) == ReviewRequest.partnership_id)
        .where(
            Partnership.region_id == region_id,
            col(ReviewRequest.status).in_((*_MATCHABLE, RequestStatus.inviting)),
        )
        .order_by(col(ReviewRequest.window_start), col(ReviewRequest.id))
    )
    if only is not None:
        query = query.where(col(ReviewRequest.id).in_(sorted(set(only))))
    rows = session.exec(query).all()
    return [q for q in rows if q.status != RequestStatus.inviting or q.peers - seats[q.id or 0] > 0]


class _ReviewerRow(NamedTuple):
    """What a problem needs of a reviewer's registry entry."""

    id: int
    partnership_id: int
    agency: str
    capacity: int
    active: bool
    prior_reviews: int
    last_review_on: dt.date | None
    organisation_id: int | None


def build_problem(
    session: Session,
    region_id: int,
    *,
    today: dt.date | None = None,
    only: Iterable[int] | None = None,
) -> Problem:
    """The region's matching problem (see the module doc), checked as the contract checks a
    file (``check_problem``: ProblemError if a locked pair breaks a rule). ``only``: just these
    requests (a re-match of freed seats); every other request's held reviewers still count
    against their capacity. ``problem_to_json`` gives the stored ``peermatch.problem/1``."""
    today = today or dt.date.today()
    partnerships = {
        p.id: p for p in session.exec(select(Partnership).where(Partnership.region_id == region_id))
    }
    codes = {pid: p.code for pid, p in partnerships.items()}
    held = _held(session, region_id)
    requests = matchable_requests(session, region_id, only=only, held=held)
    keys = {q.id: request_key(codes[q.partnership_id], q.reference, q.id) for q in requests}
    locked = {(a.request_id, a.reviewer_id) for a, _ in held if a.request_id in keys}
    outside = Counter(a.reviewer_id for a, _ in held if a.request_id not in keys)

    decisions = session.exec(
        select(PairDecision).where(col(PairDecision.request_id).in_(list(keys)))
    ).all()
    ended = session.exec(
        select(Assignment.request_id, Assignment.reviewer_id, Assignment.status).where(
            col(Assignment.request_id).in_(list(keys)),
            col(Assignment.status).in_((*NEVER_AGAIN, *WITHDRAWN)),
        )
    ).all()
    excluded = {(q, r) for q, r, _ in ended}
    excluded |= {
        (d.request_id, d.reviewer_id) for d in decisions if d.kind == PairDecisionKind.excluded
    }
    # A held invitation outranks a later exclusion (withdraw it instead); a decline outranks
    # a coordinator's lock (the reviewer said no); a lock outranks a withdrawal (withdrawing
    # removes any lock on the pair, so a lock now is the coordinator asking for them again).
    excluded -= locked
    excluded -= {(q, r) for q, r, status in ended if status in WITHDRAWN} & {
        (d.request_id, d.reviewer_id) for d in decisions if d.kind == PairDecisionKind.locked
    }
    locked |= {
        (d.request_id, d.reviewer_id)
        for d in decisions
        if d.kind == PairDecisionKind.locked and (d.request_id, d.reviewer_id) not in excluded
    }

    locked_reviewers = {r for _, r in locked}
    # Plain rows rather than objects, joined to the region rather than a list of ids: a
    # national region has 10,000 reviewers (and a re-match of one seat builds them all).
    in_region = col(Partnership.region_id) == region_id
    reviewers = [
        r
        for r in (
            _ReviewerRow(*row)
            for row in session.execute(
                sa_select(  # sqlmodel's select takes at most four columns
                    col(Reviewer.id),
                    col(Reviewer.partnership_id),
                    col(Reviewer.agency),
                    col(Reviewer.capacity),
                    col(Reviewer.active),
                    col(Reviewer.prior_reviews),
                    col(Reviewer.last_review_on),
                    col(Reviewer.organisation_id),
                )
                .join(Partnership, col(Partnership.id) == Reviewer.partnership_id)
                .where(in_region)
                .order_by(col(Reviewer.id))
            ).all()
        )
        if r.active or r.id in locked_reviewers
    ]
    skills: dict[int, list[str]] = defaultdict(list)
    for reviewer_id, skill in session.exec(
        select(ReviewerSkill.reviewer_id, ReviewerSkill.skill)
        .join(Reviewer, col(Reviewer.id) == ReviewerSkill.reviewer_id)
        .join(Partnership, col(Partnership.id) == Reviewer.partnership_id)
        .where(in_region)
        .order_by(col(ReviewerSkill.skill))
    ):
        skills[reviewer_id].append(skill)
    away: dict[int, list[DateRange]] = defaultdict(list)
    for reviewer_id, starts_on, ends_on in session.exec(
        select(
            col(Unavailability.reviewer_id),
            col(Unavailability.starts_on),
            col(Unavailability.ends_on),
        )
        .join(Reviewer, col(Reviewer.id) == Unavailability.reviewer_id)
        .join(Partnership, col(Partnership.id) == Reviewer.partnership_id)
        .where(in_region)
        .order_by(col(Unavailability.starts_on), col(Unavailability.id))
    ):
        away[reviewer_id].append(DateRange(starts_on, ends_on))
    conflicts: dict[int, list[str]] = defaultdict(list)
    for reviewer_id, partnership_id in session.exec(
        select(ReviewerConflict.reviewer_id, ReviewerConflict.partnership_id)
        .join(Reviewer, col(Reviewer.id) == ReviewerConflict.reviewer_id)
        .join(Partnership, col(Partnership.id) == Reviewer.partnership_id)
        .where(in_region)
    ):
        if partnership_id in codes:
            conflicts[reviewer_id].append(codes[partnership_id])
    for reviewer_id, request_id in session.exec(
        select(RequestConflict.reviewer_id, RequestConflict.request_id).where(
            col(RequestConflict.request_id).in_(list(keys))
        )
    ):
        conflicts[reviewer_id].append(keys[request_id])

    # Only reviewers with a review completed through PeerMatch differ from their registry
    # entry (the fallback below): ask the registry about those alone.
    practiced = session.exec(
        select(Assignment.reviewer_id)
        .distinct()
        .join(ReviewRequest, col(ReviewRequest.id) == Assignment.request_id)
        .join(Reviewer, col(Reviewer.id) == Assignment.reviewer_id)
        .join(Partnership, col(Partnership.id) == Reviewer.partnership_id)
        .where(
            in_region,
            col(Assignment.status) == AssignmentStatus.accepted,
            col(ReviewRequest.status) == RequestStatus.completed,
        )
    ).all()
    practice = registry.reviews_completed(session, practiced)
    locked_count = Counter(r for _, r in locked)
    reviewer_rows = []
    for r in reviewers:
        # Experience and practice (MATCHING.md): reviews before PeerMatch plus those it recorded.
        completed, last_on = practice.get(r.id, (r.prior_reviews, r.last_review_on))
        free = max(0, r.capacity - outside[r.id]) if r.active else 0
        reviewer_rows.append(
            ProblemReviewer(
                id=reviewer_key(r.id),
                partnership=codes[r.partnership_id],
                agency=r.agency,
                skills=frozenset(skills[r.id]),
                # Held invitations are kept even if the registry's capacity was lowered since.
                capacity=max(free, locked_count[r.id]),
                unavailable=tuple(away[r.id]),
                conflicts=frozenset(conflicts[r.id]),
                reviews_completed=completed,
                last_review_on=last_on,
                organisation=(
                    organisation_key(r.organisation_id) if r.organisation_id is not None else None
                ),
            )
        )

    request_rows = tuple(
        ProblemRequest(
            id=keys[q.id],
            partnership=codes[q.partnership_id],
            peers=q.peers,
            window=DateRange(q.window_start, q.window_end),
            high_profile=q.high_profile,
            required_skills=tuple(dict.fromkeys(q.required_skills)),
            agencies_involved=frozenset(q.agencies_involved),
            needs_experienced=q.needs_experienced,
            # Independence by employer (docs/matching.md): whatever the reviewer's partnership.
            organisations_involved=frozenset(organisation_key(o) for o in q.organisations_involved),
        )
        for q in requests
    )

    # The ledger's one balance, on the run's day (ledger.positions): the proposal's "Before"
    # equals the ledger page's balance for a period ending that day.
    standing = ledger.positions_by_code(session, region_id, on=today)
    # A reviewer who accepted a seat on one of these requests is in the ledger already and
    # comes back as a locked pair, which the solver counts again; so the problem leaves their
    # peer out of lent and received (the proposal page adds it back for "Before").
    home = {r.id: codes[r.partnership_id] for r in reviewers}
    counted: Counter[tuple[str, str]] = Counter()
    for a, q in held:
        lender, receiver = home.get(a.reviewer_id), codes[q.partnership_id]
        if a.request_id in keys and a.status == AssignmentStatus.accepted and lender != receiver:
            counted[(str(lender), "lent")] += 1
            counted[(receiver, "received")] += 1
    present = {r.id for r in reviewer_rows}
    previous: tuple[Pair, ...] | None = None
    if (earlier := previous_proposal(session, region_id)) is not None:
        # Stable re-runs: the teams of the region's latest coordinator proposal, for the
        # requests still in this problem, so that a re-run changes only the teams it must.
        wanted_keys = set(keys.values())
        previous = tuple(
            pair for pair in stored_solution(earlier).assignments if pair.request in wanted_keys
        )
    return check_problem(
        Problem(
            partnerships=tuple(
                _standing(
                    code,
                    ledger.Position(
                        standing[code].lent - counted[(code, "lent")],
                        standing[code].received - counted[(code, "received")],
                    ),
                )
                for code in sorted(codes.values())
            ),
            reviewers=tuple(reviewer_rows),
            requests=request_rows,
            locked=tuple(Pair(keys[q], reviewer_key(r)) for q, r in sorted(locked)),
            # Only reviewers in the problem: one made inactive since cannot be placed anyway.
            excluded=tuple(
                Pair(keys[q], reviewer_key(r))
                for q, r in sorted(excluded)
                if reviewer_key(r) in present
            ),
            as_of=today,
            previous=previous,
        )
    )


def _standing(code: str, position: ledger.Position) -> ProblemPartnership:
    """A problem's partnership: ``lent`` and ``received`` (counts, at least 0) with the
    position's balance.
    Only a reversal dated before its acceptance can make a side negative on a day; both sides
    are then raised alike, which keeps the balance."""
    low = min(0, position.lent, position.received)
    return ProblemPartnership(code, position.lent - low, position.received - low)


# Runs whose proposal a later run keeps stable: a coordinator's (web or command line), not a
# worker's re-match of freed seats.
PROPOSING = ("coordinator", "cli")


def previous_proposal(session: Session, region_id: int) -> MatchRun | None:
    """The region's latest solved coordinator run (its proposal is the one a re-run keeps)."""
    return session.exec(
        select(MatchRun)
        .where(
            MatchRun.region_id == region_id,
            col(MatchRun.status).in_(SOLVED),
            col(MatchRun.purpose).in_(PROPOSING),
        )
        .order_by(col(MatchRun.id).desc())
    ).first()


# --- reading a stored run ----------------------------------------------------------------------


def stored_problem(run: MatchRun) -> Problem:
    """The run's problem, read with the contract's parser (it was checked when it was built)."""
    return parse_problem(run.problem)


def stored_solution(run: MatchRun) -> Solution:
    """The run's solution, read with the contract's parser; RunRefused if the run has none."""
    if run.solution is None:
        raise RunRefused(f"Run {run.id} has no solution ({run.status})")
    return parse_solution(run.solution)


def run_request_keys(run: MatchRun) -> list[str]:
    """The ids of the requests a run covers, in its problem's order. Only the ids, read by the
    contract's schema: a run's whole problem is not parsed to learn which requests it holds."""
    return [q.id for q in problem_requests(run.problem)]


# --- starting and stopping -------------------------------------------------------------------


def active_run(session: Session, region_id: int) -> MatchRun | None:
    return session.exec(select(MatchRun).where(MatchRun.active_region_id == region_id)).first()


def start_run(
    session: Session,
    region_id: int,
    *,
    actor: str,
    time_limit: float,
    purpose: str = "coordinator",
    today: dt.date | None = None,
) -> tuple[MatchRun, bool]:
    """A queued run of the region's open requests, and True; or the run already under way for
    the region, and False. The caller commits, then has the run executed."""
    recover_stale(session, region_id=region_id)
    if (existing := active_run(session, region_id)) is not None:
        return existing, False
    problem = build_problem(session, region_id, today=today)
    if not problem.requests:
        raise RunRefused(
            "There are no requests to match: submit a request, or wait for a seat to free up"
        )
    run = MatchRun(
        region_id=region_id,
        active_region_id=region_id,
        started_by=actor,
        status=RunStatus.queued,
        time_limit=time_limit,
        problem=problem_to_json(problem),
        seats=sum(q.peers for q in problem.requests),
        purpose=purpose,
        heartbeat_at=utcnow(),
    )
    try:
        # The unique active_region_id is the lock: of two coordinators starting at once, one
        # insert waits for the other's commit and then fails here.
        with session.begin_nested():
            session.add(run)
            session.flush()
    except IntegrityError:
        existing = active_run(session, region_id)
        if existing is None:
            raise Conflict("Another run of this region has just started and finished") from None
        return existing, False
    assert run.id is not None
    for q in problem.requests:
        request = session.get(ReviewRequest, request_id_of(q.id))
        assert request is not None
        if lifecycle.refusal(request, Command.start_matching, today=utcnow().date()) is None:
            lifecycle.apply(
                session, request, Command.start_matching, actor=actor, detail={"run": run.id}
            )
    audit.record(
        session,
        actor=actor,
        action="matchrun.start",
        entity="matchrun",
        entity_id=run.id,
        region_id=region_id,
        detail={"requests": len(problem.requests), "time_limit": time_limit, "purpose": purpose},
    )
    session.flush()
    return run, True


def _finish(
    session: Session,
    run_id: int,
    status: RunStatus,
    *,
    actor: str,
    allowed: Sequence[RunStatus] = ACTIVE,
    error: str | None = None,
    solution: dict[str, Any] | None = None,
) -> MatchRun | None:
    """End the run if it is still in one of ``allowed`` (a guarded UPDATE, so that a cancel and
    the solver finishing at the same moment end it once), and move its requests on. None if it
    had already ended."""
    now = utcnow()
    values: dict[str, Any] = {
        "status": status,
        "active_region_id": None,
        "finished_at": now,
        "heartbeat_at": now,
        "error": error[:500] if error else None,
    }
    if solution is not None:
        read = parse_solution(solution)
        values |= {
            "solution": solution,
            "filled": read.filled,
            "imbalance": read.imbalance,
            "seconds": read.seconds,
        }
    result = session.execute(
        update(MatchRun)
        .where(col(MatchRun.id) == run_id, col(MatchRun.status).in_(allowed))
        .values(**values)
    )
    if getattr(result, "rowcount", 0) != 1:
        return None
    session.expire_all()
    run = session.get(MatchRun, run_id)
    assert run is not None
    command = Command.propose if status in SOLVED else Command.unmatch
    for key in run_request_keys(run):
        request = session.get(ReviewRequest, request_id_of(key))
        if request is not None and request.status == RequestStatus.matching:
            lifecycle.apply(session, request, command, actor=actor, detail={"run": run_id})
    audit.record(
        session,
        actor=actor,
        action="matchrun.finish",
        entity="matchrun",
        entity_id=run_id,
        region_id=run.region_id,
        detail={"status": str(status), "filled": run.filled, "seats": run.seats},
    )
    session.flush()
    return run


def cancel_run(session: Session, region_id: int, run_id: int, *, actor: str) -> MatchRun:
    """Cancel a queued or running run; its supervisor kills the solver process."""
    run = get_run(session, region_id, run_id)
    if _finish(session, run_id, RunStatus.cancelled, actor=actor) is None:
        raise RunRefused(f"Run {run_id} has already finished ({run.status}); nothing to cancel")
    _kill_local(run_id)
    session.expire_all()
    found = session.get(MatchRun, run_id)
    assert found is not None
    return found


def recover_stale(
    session: Session, *, region_id: int | None = None, now: dt.datetime | None = None
) -> list[int]:
    """Fail the queued or running runs whose supervisor stopped beating (the server died);
    their requests go back to ``submitted``. Returns their ids."""
    now = now or utcnow()
    query = select(MatchRun.id, MatchRun.heartbeat_at, MatchRun.started_at).where(
        col(MatchRun.status).in_(ACTIVE)
    )
    if region_id is not None:
        query = query.where(MatchRun.region_id == region_id)
    stale = [
        run_id
        for run_id, beat, started in session.exec(query).all()
        if now - (beat or started) > STALE_AFTER
    ]
    for run_id in stale:
        assert run_id is not None
        _finish(
            session,
            run_id,
            RunStatus.failed,
            actor="system",
            error="The server stopped while this run was under way. Run matching again.",
        )
    return [r for r in stale if r is not None]


# --- executing -------------------------------------------------------------------------------

_processes: dict[int, subprocess.Popen[bytes]] = {}
_processes_lock = threading.Lock()
_spare: subprocess.Popen[bytes] | None = None  # a worker started ahead, its solver loaded
WORKER = [sys.executable, "-m", "peermatch.match_worker"]


def _spawn() -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        WORKER, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )


def prewarm() -> None:
    """Start a worker ahead of the next run (the web server does, at start-up and after each
    run), so that a run does not wait for the solver's imports."""
    global _spare
    with _processes_lock:
        if _spare is None or _spare.poll() is not None:
            _spare = _spawn()


def _take_worker() -> subprocess.Popen[bytes]:
    global _spare
    with _processes_lock:
        process, _spare = _spare, None
    if process is not None and process.poll() is None:
        return process
    return _spawn()


def _kill_local(run_id: int) -> None:
    with _processes_lock:
        process = _processes.get(run_id)
    if process is not None and process.poll() is None:
        process.kill()


def kill_all_local() -> None:
    """Stop every solver process this process started (at shutdown). The runs' supervisors
    reap their own workers (and fail their runs); the spare is reaped here."""
    global _spare
    with _processes_lock:
        running, spare, _spare = list(_processes.values()), _spare, None
    for process in running:
        if process.poll() is None:
            process.kill()
    if spare is not None:
        spare.kill()
        with contextlib.suppress(subprocess.TimeoutExpired, ValueError, OSError):
            spare.communicate(timeout=5)


def _claim(engine: Engine, run_id: int) -> tuple[dict[str, Any], float] | None:
    """queued -> running; the problem and time limit, or None if the run is not queued."""
    with session_scope(engine) as session:
        result = session.execute(
            update(MatchRun)
            .where(col(MatchRun.id) == run_id, col(MatchRun.status) == RunStatus.queued)
            .values(status=RunStatus.running, heartbeat_at=utcnow())
        )
        if getattr(result, "rowcount", 0) != 1:
            return None
        run = session.get(MatchRun, run_id)
        assert run is not None
        return run.problem, run.time_limit


def _beat(engine: Engine, run_id: int) -> bool:
    """Touch the heartbeat; False if the run is no longer running (cancelled, failed)."""
    with session_scope(engine) as session:
        result = session.execute(
            update(MatchRun)
            .where(col(MatchRun.id) == run_id, col(MatchRun.status) == RunStatus.running)
            .values(heartbeat_at=utcnow())
        )
        return getattr(result, "rowcount", 0) == 1


def execute_run(engine: Engine, run_id: int, *, actor: str = "system") -> RunStatus | None:
    """Solve a queued run in a separate process and store the outcome; blocks until it ends.
    Returns the run's final status (None if it was not queued)."""
    claimed = _claim(engine, run_id)
    if claimed is None:
        return None
    problem, time_limit = claimed
    process = _take_worker()
    with _processes_lock:
        _processes[run_id] = process
    started = time.monotonic()
    payload: bytes | None = json.dumps({"problem": problem, "time_limit": time_limit}).encode()
    outcome: dict[str, Any] | None = None
    error: str | None = None
    try:
        while True:
            try:
                out, _err = process.communicate(payload, timeout=HEARTBEAT_SECONDS)
            except subprocess.TimeoutExpired:
                payload = None  # sent already; later calls only wait
                if not _beat(engine, run_id):  # cancelled (here or by another process)
                    process.kill()
                    process.communicate()
                    return _status(engine, run_id)
                if time.monotonic() - started > 4 * time_limit + GRACE_SECONDS:
                    process.kill()
                    process.communicate()
                    error = f"The solver did not finish within {time_limit:g} seconds."
                    break
                continue
            if process.returncode != 0:
                error = "The solver process stopped unexpectedly."
            else:
                try:
                    outcome = json.loads(out)
                except ValueError:
                    error = "The solver process gave an unreadable answer."
            break
    finally:
        with _processes_lock:
            _processes.pop(run_id, None)
    return _store(engine, run_id, outcome, error, actor=actor)


def execute_here(engine: Engine, run_id: int, *, actor: str = "system") -> RunStatus | None:
    """Solve a queued run in this process, blocking (small problems: the worker process's
    re-matches, tests that drive many runs). The same steps as ``execute_run``, without the
    solver process."""
    from peermatch.match_worker import work

    claimed = _claim(engine, run_id)
    if claimed is None:
        return None
    problem, time_limit = claimed
    outcome = work(problem, time_limit=time_limit, workers=1, seed=0)
    return _store(engine, run_id, outcome, None, actor=actor)


def _status(engine: Engine, run_id: int) -> RunStatus | None:
    with Session(engine) as session:
        run = session.get(MatchRun, run_id)
        return RunStatus(run.status) if run else None


def _store(
    engine: Engine, run_id: int, outcome: dict[str, Any] | None, error: str | None, *, actor: str
) -> RunStatus | None:
    solution = None
    if outcome is not None:
        if "error" in outcome:
            error = str(outcome["error"])
        elif outcome.get("violations"):
            # Never propose a team that breaks a rule: the run fails and says how many.
            log.error("run %s: the solution broke %d rule(s)", run_id, len(outcome["violations"]))
            error = (
                f"The solver's answer broke {len(outcome['violations'])} matching rule(s), so "
                "nothing was proposed. Report this to the PeerMatch team."
            )
        else:
            solution = outcome["solution"]
    status = (
        RunStatus(parse_solution(solution).status) if solution is not None else RunStatus.failed
    )
    with session_scope(engine) as session:
        _finish(
            session,
            run_id,
            status,
            actor=actor,
            allowed=(RunStatus.running,),
            error=error,
            solution=solution,
        )
    return _status(engine, run_id)


def execute_in_background(engine: Engine, run_id: int) -> threading.Thread:
    """Supervise the run from a daemon thread of this process (the web server's), so the page
    that started it answers at once and polls for progress."""

    def supervise() -> None:
        try:
            execute_run(engine, run_id)
            prewarm()  # ready for the next run
        except Exception:  # the supervisor must never die silently with the run left running
            log.exception("run %s: the supervisor failed", run_id)
            with session_scope(engine) as session:
                _finish(
                    session,
                    run_id,
                    RunStatus.failed,
                    actor="system",
                    error="The run could not be supervised. Run matching again.",
                )

    thread = threading.Thread(target=supervise, name=f"peermatch-run-{run_id}", daemon=True)
    thread.start()
    return thread


# --- reading ---------------------------------------------------------------------------------


def get_run(session: Session, region_id: int, run_id: int) -> MatchRun:
    run = session.get(MatchRun, run_id)
    if run is None or run.region_id != region_id:
        raise NotFound(f"No run {run_id} in this region")
    return run


def find_run(session: Session, run_id: int) -> MatchRun:
    run = session.get(MatchRun, run_id)
    if run is None:
        raise NotFound(f"No run has the id {run_id}")
    return run


@dataclass(frozen=True)
class RunPage:
    items: list[MatchRun]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def list_runs(session: Session, region_id: int, *, page: int = 1, per_page: int = 20) -> RunPage:
    """The region's runs, newest first."""
    total = session.exec(
        select(func.count()).select_from(MatchRun).where(MatchRun.region_id == region_id)
    ).one()
    items = session.exec(
        select(MatchRun)
        .where(MatchRun.region_id == region_id)
        .order_by(col(MatchRun.id).desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return RunPage(list(items), int(total), page, per_page)


def awaiting_approval(session: Session, region_id: int) -> MatchRun | None:
    """The region's latest run if it is solved, not yet approved, and proposes a team for at
    least one request that is still ``proposed``; else None."""
    run = latest_run(session, region_id)
    if run is None or run.status not in SOLVED or run.approved_at is not None:
        return None
    ids = [request_id_of(key) for key in run_request_keys(run)]
    waiting = session.exec(
        select(func.count())
        .select_from(ReviewRequest)
        .where(col(ReviewRequest.id).in_(ids), ReviewRequest.status == RequestStatus.proposed)
    ).one()
    return run if waiting else None


def latest_run(session: Session, region_id: int) -> MatchRun | None:
    return session.exec(
        select(MatchRun).where(MatchRun.region_id == region_id).order_by(col(MatchRun.id).desc())
    ).first()


# --- decisions and approval ------------------------------------------------------------------


def decide_pair(
    session: Session,
    region_id: int,
    request_id: int,
    reviewer_id: int,
    kind: PairDecisionKind,
    *,
    actor: str,
) -> PairDecision:
    """Lock or exclude ``reviewer`` on ``request`` for every later run (replacing an earlier
    decision on the pair). A lock the rules would refuse is refused now, with the reason."""
    request, _ = scope.request_in_region(session, region_id, request_id, lock=True)
    scope.reviewer_in_region(session, region_id, reviewer_id)
    lifecycle.check(request, Command.decide_pair)
    decision = session.get(PairDecision, (request_id, reviewer_id))
    if decision is None:
        decision = PairDecision(
            request_id=request_id, reviewer_id=reviewer_id, kind=kind, decided_by=actor
        )
    decision.kind = kind
    decision.decided_by = actor
    decision.decided_at = utcnow()
    session.add(decision)
    session.flush()
    if kind == PairDecisionKind.locked:
        _check_lock(session, region_id, request_id, reviewer_id)
    audit.record(
        session,
        actor=actor,
        action=f"pair.{kind}",
        entity="reviewrequest",
        entity_id=request_id,
        region_id=region_id,
        detail={"reviewer_id": reviewer_id},
    )
    session.flush()
    return decision


def _check_lock(session: Session, region_id: int, request_id: int, reviewer_id: int) -> None:
    try:
        build_problem(session, region_id)
    except ProblemError as exc:
        raise RunRefused(
            "This reviewer cannot be locked on this request: the locks together break a "
            f"matching rule ({exc.message})"
        ) from None


def remove_decision(
    session: Session, region_id: int, request_id: int, reviewer_id: int, *, actor: str
) -> None:
    request, _ = scope.request_in_region(session, region_id, request_id, lock=True)
    lifecycle.check(request, Command.decide_pair)
    decision = session.get(PairDecision, (request_id, reviewer_id))
    if decision is None:
        raise NotFound("There is no lock or exclusion for this reviewer on this request")
    session.delete(decision)
    audit.record(
        session,
        actor=actor,
        action="pair.remove",
        entity="reviewrequest",
        entity_id=request_id,
        region_id=region_id,
        detail={"reviewer_id": reviewer_id, "was": str(decision.kind)},
    )
    session.flush()


def decisions_for(session: Session, request_ids: Iterable[int]) -> list[PairDecision]:
    return list(
        session.exec(
            select(PairDecision)
            .where(col(PairDecision.request_id).in_(list(request_ids)))
            .order_by(col(PairDecision.decided_at))
        ).all()
    )


def approval_problem(session: Session, run: MatchRun) -> str | None:
    """Why ``run`` cannot be approved, in plain words, or None if it can."""
    if run.status not in SOLVED:
        return (
            f"Run {run.id} cannot be approved: its status is {run.status}, not optimal or feasible"
        )
    if run.approved_at is not None:
        return f"Run {run.id} was already approved"
    latest = latest_run(session, run.region_id)
    if latest is not None and latest.id != run.id:
        return (
            f"Run {run.id} is not the region's latest run (run {latest.id} is); "
            "approve the latest run instead"
        )
    # A lock, exclusion or their removal since the run started makes it out of date; the
    # audit log has all three (a removed decision leaves no row behind).
    newer = session.exec(
        select(func.count())
        .select_from(AuditEvent)
        .where(
            AuditEvent.region_id == run.region_id,
            col(AuditEvent.action).in_(("pair.locked", "pair.excluded", "pair.remove")),
            col(AuditEvent.at) > run.started_at,
        )
    ).one()
    if newer:
        return (
            f"Run {run.id} is out of date: a reviewer was locked, excluded or released after it "
            "started. "
            "Run matching again to include the change."
        )
    return None


@dataclass(frozen=True)
class Breach:
    """A proposed reviewer who no longer fits, found when the proposal is approved: ``rule`` is
    an eligibility rule of the contract (``unavailable``, ``involved_agency``…), or ``inactive``,
    ``no_capacity``, ``shared_agency``, ``missing_skills`` or ``missing_experience``.
    ``reviewer_id`` is None for a team rule no one reviewer breaks (skills, experience)."""

    request_id: int
    reviewer_id: int | None
    rule: str


@dataclass
class Approval:
    invited: list[Assignment]
    held_back: dict[int, list[Breach]]  # request id -> why its team was not invited


def recheck(
    session: Session, run: MatchRun
) -> tuple[dict[int, list[Pair]], list[Breach], Problem, set[Pair]]:
    """The run's proposed teams checked against the registry and requests as they are now.

    Returns the new pairs to invite per request (in the fresh problem's ids), the breaches of
    the teams that no longer hold, and the fresh problem. Requests that have moved on since the
    run (cancelled, fully staffed) are left out."""
    assert run.solution is not None
    problem = build_problem(session, run.region_id)
    requests = {request_id_of(q.id): q for q in problem.requests}
    reviewers = {r.id: r for r in problem.reviewers}
    keys = _keys_of(problem)
    # Places already held (invited, accepted): kept as they are. A coordinator's lock that is
    # not yet an invitation is in ``problem.locked`` too, but it is invited here like any pair.
    held = {
        Pair(keys[a.request_id], reviewer_key(a.reviewer_id))
        for a, _ in _held(session, run.region_id)
        if a.request_id in keys
    }
    excluded = set(problem.excluded)
    proposed: dict[int, list[Pair]] = defaultdict(list)
    for pair in stored_solution(run).assignments:
        request_id = request_id_of(pair.request)
        q = requests.get(request_id)
        record = session.get(ReviewRequest, request_id)
        if (
            q is None
            or record is None
            or lifecycle.refusal(
                record,
                Command.approve if record.status == RequestStatus.proposed else Command.invite,
                today=utcnow().date(),
            )
        ):
            continue  # moved on since the proposal
        fresh = Pair(q.id, pair.reviewer)
        if fresh not in held:
            proposed[request_id].append(fresh)
    breaches: list[Breach] = []
    load = Counter(p.reviewer for p in held) + Counter(
        p.reviewer for pairs in proposed.values() for p in pairs
    )
    for request_id, pairs in proposed.items():
        q = requests[request_id]
        team = [reviewers[p.reviewer] for p in held if p.request == q.id]
        for pair in pairs:
            reviewer_id = reviewer_id_of(pair.reviewer)
            r = reviewers.get(pair.reviewer)
            if r is None:
                breaches.append(Breach(request_id, reviewer_id, "inactive"))
                continue
            rules = broken_rules(r, q, excluded)
            if load[r.id] > r.capacity and "no_capacity" not in rules:
                rules.append("no_capacity")
            if any(m.agency == r.agency for m in team):
                rules.append("shared_agency")
            breaches += [Breach(request_id, reviewer_id, rule) for rule in rules]
            team.append(r)
        if team:
            held_skills = set().union(*(m.skills for m in team))
            if any(s not in held_skills for s in q.required_skills):
                breaches.append(Breach(request_id, None, "missing_skills"))
            if q.needs_experienced and not any(problem.experienced(m) for m in team):
                breaches.append(Breach(request_id, None, "missing_experience"))
    return dict(proposed), breaches, problem, held


def _keys_of(problem: Problem) -> dict[int, str]:
    return {request_id_of(q.id): q.id for q in problem.requests}


def _request_named(violation: str) -> str | None:
    """The request a validator message is about ("assignment (Q, r-1): …", "request Q: …");
    None for one about a reviewer across requests (capacity)."""
    if violation.startswith("assignment ("):
        return violation[len("assignment (") :].split(",", 1)[0]
    if violation.startswith("request "):
        return violation[len("request ") :].split(":", 1)[0]
    return None


def approve_run(
    session: Session,
    run_id: int,
    *,
    actor: str,
    region_id: int | None = None,
    settings: Settings | None = None,
) -> Approval:
    """Approve the proposal: each proposed team is checked again against the registry and the
    requests as they are now (``recheck``, then the independent validator); a team that still
    holds gets an ``invited`` assignment for each reviewer not already held, its request moves
    from ``proposed`` to ``inviting`` and the invitations go to the outbox in this
    transaction. A team that no longer holds is not invited: its request stays as it was, and
    its timeline says which reviewer broke which rule (run matching again)."""
    run = (
        get_run(session, region_id, run_id) if region_id is not None else find_run(session, run_id)
    )
    if (why := approval_problem(session, run)) is not None:
        raise RunRefused(why)
    proposed, breaches, problem, held = recheck(session, run)
    held_back: dict[int, list[Breach]] = defaultdict(list)
    for breach in breaches:
        held_back[breach.request_id].append(breach)
    going = {q: pairs for q, pairs in proposed.items() if q not in held_back}
    # The independent validator has the last word on every team that goes out (its places
    # already held and the new ones); a team it faults is held back too.
    keys = {q: problem_key for q, problem_key in _keys_of(problem).items() if q in going}
    outgoing = [p for p in held if p.request in keys.values()]
    outgoing += [p for pairs in going.values() for p in pairs]
    faulted = {_request_named(v) for v in rule_violations(problem, outgoing)}
    if None in faulted:  # a capacity across teams: recheck counts it, so this is a bug
        log.error("run %s: approval would overbook a reviewer", run_id)
        raise RunRefused(
            f"Run {run.id} cannot be approved: its teams no longer fit the reviewers' "
            "capacity. Run matching again."
        )
    for request_id, problem_key in keys.items():
        if problem_key in faulted:
            held_back[request_id].append(Breach(request_id, None, "team_rules"))
            del going[request_id]
    created: list[Assignment] = []
    for request_id, pairs in going.items():
        request = session.get(ReviewRequest, request_id)
        assert request is not None
        if request.status == RequestStatus.proposed:
            lifecycle.apply(session, request, Command.approve, actor=actor, detail={"run": run.id})
        for pair in pairs:
            assignment = Assignment(
                request_id=request_id,
                reviewer_id=reviewer_id_of(pair.reviewer),
                run_id=run.id,
                status=AssignmentStatus.invited,
            )
            session.add(assignment)
            created.append(assignment)
    session.flush()
    for request_id, found in held_back.items():
        session.add(
            RequestEvent(
                request_id=request_id,
                actor=actor,
                kind="approval_held_back",
                detail={
                    "run": run.id,
                    "breaches": [{"reviewer_id": b.reviewer_id, "rule": b.rule} for b in found],
                },
            )
        )
    run.approved_at = utcnow()
    run.approved_by = actor
    session.add(run)
    audit.record(
        session,
        actor=actor,
        action="matchrun.approve",
        entity="matchrun",
        entity_id=run.id,
        region_id=run.region_id,
        detail={
            "invited": len(created),
            "requests": len(going),
            "held_back": sorted(held_back),
        },
    )
    session.flush()
    invitations.invite(session, created, actor=actor, settings=settings or load_settings())
    return Approval(invited=created, held_back=dict(held_back))


def held_back(session: Session, run: MatchRun) -> dict[int, list[Breach]]:
    """The teams of an approved run that were not invited, and why (from their timelines)."""
    found: dict[int, list[Breach]] = {}
    for event in session.exec(
        select(RequestEvent).where(RequestEvent.kind == "approval_held_back")
    ):
        if event.detail.get("run") != run.id:
            continue
        found[event.request_id] = [
            Breach(event.request_id, b.get("reviewer_id"), str(b.get("rule")))
            for b in event.detail.get("breaches", [])
        ]
    return found


def actor_names(session: Session, actors: Iterable[str]) -> dict[str, str]:
    """Who an audit actor is, for the pages: a coordinator's name, or the command line."""
    from peermatch.models import User

    ids = [int(a[5:]) for a in actors if a.startswith("user:") and a[5:].isdigit()]
    users = session.exec(select(User).where(col(User.id).in_(ids))).all() if ids else []
    names = {f"user:{u.id}": u.name for u in users}
    names |= {"cli": "Command line", "system": "PeerMatch", "seed": "Demo data"}
    return names
