"""Invitations: asking the reviewers a run placed, and acting on their answers.

- ``invite`` writes each invitation's email (with its calendar invitation) to the outbox in the
  caller's transaction, sets when it expires and the nonce its answer link signs.
- An answer link is ``PEERMATCH_BASE_URL/answer/<token>``: the token is the assignment id and
  its nonce, signed with the app's secret (itsdangerous). It works once: answering or
  withdrawing clears the nonce, so the same link afterwards finds nothing to answer.
- ``accept`` writes the ledger and, once every seat is accepted, makes the request ``staffed``.
- ``decline`` (and an expiry, found by ``tick``) frees the seat and asks for a replacement:
  the request is marked ``rematch_wanted_at`` and the worker re-matches it
  (``peermatch.staffing.rematch``), unless a coordinator paused automatic re-matching. The
  answer itself never waits for the solver.
- ``withdraw`` (a coordinator) sends a cancellation (METHOD:CANCEL) and reverses the ledger.

Every step is a line on the request's timeline (RequestEvent) and an audit event.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import parseaddr

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import ColumnElement, func, update
from sqlmodel import Session, col, select

from peermatch import audit, ledger, outbox, working_days
from peermatch.emails import CalendarEvent, calendar, render
from peermatch.errors import Conflict, DomainError, ValidationFailed
from peermatch.models import (
    Assignment,
    AssignmentStatus,
    OutboxMessage,
    PairDecision,
    PairDecisionKind,
    Partnership,
    RequestEvent,
    RequestStatus,
    Reviewer,
    ReviewRequest,
    utcnow,
)
from peermatch.settings import Settings, load_settings
from peermatch.staffing import lifecycle, scope
from peermatch.staffing.lifecycle import Command
from peermatch.vocabulary import load as load_vocabulary

log = logging.getLogger("peermatch.staffing.invitations")

SALT = "peermatch.invitation-answer"
# The signature's own age limit; the invitation's ``expires_at`` is the limit that counts.
TOKEN_MAX_AGE = dt.timedelta(days=60)

# A decline may say why, as one of these (never free text: no narrative is stored).
DECLINE_REASONS: dict[str, str] = {
    "unavailable": "I am not available on these dates",
    "workload": "My workload does not allow it",
    "conflict": "I have a conflict of interest with this partnership or case",
    "not-suitable": "This review is outside my experience",
    "other": "Another reason",
}

# What a reviewer is asked to give, by methodology: what the email and answer page say.
TIME_COMMITMENT: dict[str, str] = {
    "appreciative-inquiry": "about 3 days across the review dates, including 2 workshop days",
    "reflective-learning": "about 2 days, including a 1-day learning session",
    "single-agency-review": "about 3 days across the review dates",
    "multi-agency-deep-dive": "about 5 days across the review dates",
    "peer-review": "about 4 days across the review dates",
    "root-cause-analysis": "about 4 days across the review dates",
}
DEFAULT_TIME_COMMITMENT = "about 3 days across the review dates"

OPEN_ASSIGNMENT = lifecycle.HOLDING


class InvitationUnavailable(DomainError):
    """An answer link that cannot be used; ``reason`` says why: ``invalid`` (tampered or
    malformed), ``expired``, ``answered`` (used already) or ``withdrawn``."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"This invitation link cannot be used ({reason})")
        self.reason = reason


# --- working days ------------------------------------------------------------------------------


def _after_working_days(at: dt.datetime, days: int) -> dt.datetime:
    """The same time of day, ``days`` working days (England and Wales) after ``at``."""
    return dt.datetime.combine(working_days.add_working_days(at.date(), days).due_on, at.time())


# --- links -------------------------------------------------------------------------------------


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key, salt=SALT)


def answer_token(settings: Settings, assignment: Assignment) -> str:
    assert assignment.id is not None and assignment.link_nonce
    return _serializer(settings).dumps([assignment.id, assignment.link_nonce])


def answer_url(settings: Settings, assignment: Assignment) -> str:
    return f"{settings.base_url}/answer/{answer_token(settings, assignment)}"


def _unsign(settings: Settings, token: str) -> tuple[int, str]:
    try:
        data = _serializer(settings).loads(token, max_age=int(TOKEN_MAX_AGE.total_seconds()))
    except SignatureExpired:
        raise InvitationUnavailable("expired") from None
    except BadSignature:
        raise InvitationUnavailable("invalid") from None
    if (
        not isinstance(data, list)
        or len(data) != 2
        or not isinstance(data[0], int)
        or not isinstance(data[1], str)
    ):
        raise InvitationUnavailable("invalid")
    return data[0], data[1]


# --- what the emails and the answer page show --------------------------------------------------


@dataclass(frozen=True)
class InvitationView:
    """One invitation as its reviewer sees it: nothing about the case beyond the reference."""

    assignment_id: int
    status: str
    reviewer_name: str
    reference: str
    methodology: str
    partnership: str
    starts_on: dt.date
    ends_on: dt.date
    time_commitment: str
    expires_on: dt.date | None
    decline_reason: str | None = None


def _view(session: Session, assignment: Assignment) -> InvitationView:
    request = session.get(ReviewRequest, assignment.request_id)
    reviewer = session.get(Reviewer, assignment.reviewer_id)
    assert request is not None and reviewer is not None and assignment.id is not None
    partnership = session.get(Partnership, request.partnership_id)
    assert partnership is not None
    return InvitationView(
        assignment_id=assignment.id,
        status=str(assignment.status),
        reviewer_name=reviewer.name,
        reference=request.reference,
        methodology=load_vocabulary().methodology_label(request.methodology),
        partnership=partnership.name,
        starts_on=request.window_start,
        ends_on=request.window_end,
        time_commitment=TIME_COMMITMENT.get(request.methodology, DEFAULT_TIME_COMMITMENT),
        expires_on=assignment.expires_at.date() if assignment.expires_at else None,
        decline_reason=DECLINE_REASONS.get(assignment.decline_reason or ""),
    )


def _email(
    session: Session, settings: Settings, assignment: Assignment, kind: str, *, why: str = ""
) -> OutboxMessage:
    view = _view(session, assignment)
    reviewer = session.get(Reviewer, assignment.reviewer_id)
    request = session.get(ReviewRequest, assignment.request_id)
    partnership = session.get(Partnership, request.partnership_id) if request else None
    assert reviewer is not None and request is not None and partnership is not None
    cancel = kind == "cancellation"
    link = None if cancel else answer_url(settings, assignment)
    event = CalendarEvent(
        uid=assignment.ics_uid,
        sequence=assignment.ics_sequence,
        summary=f"Peer review {view.reference} ({view.methodology})",
        description=(
            f"Peer review {view.reference} for {view.partnership}. "
            f"Expected time commitment: {view.time_commitment}."
            + (f" Accept or decline: {link}" if link else "")
        ),
        starts_on=view.starts_on,
        ends_on=view.ends_on,
        organizer=settings.mail_from,
        attendee=reviewer.email,
        url=link,
    )
    context = {**view.__dict__, "answer_url": link, "why": why}
    return outbox.enqueue(
        session,
        settings=settings,
        kind=kind,
        to_address=reviewer.email,
        email=render(kind, context, ics=calendar(event, cancel=cancel)),
        region_id=partnership.region_id,
        assignment_id=assignment.id,
    )


# --- inviting ----------------------------------------------------------------------------------


def invite(
    session: Session,
    assignments: Sequence[Assignment],
    *,
    actor: str,
    settings: Settings,
    now: dt.datetime | None = None,
) -> list[OutboxMessage]:
    """Send an invitation for each ``invited`` assignment (flushed, so it has an id), in the
    caller's transaction: sets its expiry, link nonce and calendar UID, writes the email to the
    outbox and a line on the request's timeline. The request must be taking reviewers
    (``inviting`` or ``staffed``: approval moves it there first)."""
    now = now or utcnow()
    messages = []
    for assignment in assignments:
        request = session.get(ReviewRequest, assignment.request_id)
        assert request is not None
        lifecycle.check(request, Command.invite, today=now.date())
        if assignment.status != AssignmentStatus.invited:
            raise Conflict("Only a reviewer who is invited can be sent an invitation")
        if assignment.id is None:
            session.add(assignment)
            session.flush()
        if assignment.ics_uid:  # invited again on the same calendar entry: a change
            assignment.ics_sequence += 1
        else:
            assignment.ics_uid = f"{uuid.uuid4()}@{_domain(settings)}"
        assignment.invited_at = now
        assignment.expires_at = _after_working_days(now, settings.invitation_working_days)
        assignment.reminded_at = None
        assignment.link_nonce = secrets.token_urlsafe(18)
        assignment.updated_at = now
        session.add(assignment)
        session.flush()
        messages.append(_email(session, settings, assignment, "invitation"))
        _event(session, assignment, "invited", actor, {"expires_on": str(assignment.expires_at)})
        _audit(session, assignment, "invitation.send", actor)
        log.info("assignment %s invited", assignment.id)
    session.flush()
    return messages


def _domain(settings: Settings) -> str:
    return parseaddr(settings.mail_from)[1].rpartition("@")[2] or "peermatch.invalid"


def _event(
    session: Session,
    assignment: Assignment,
    kind: str,
    actor: str,
    detail: dict[str, object] | None = None,
) -> None:
    session.add(
        RequestEvent(
            request_id=assignment.request_id,
            actor=actor,
            kind=kind,
            reviewer_id=assignment.reviewer_id,
            detail={"assignment_id": assignment.id, **(detail or {})},
        )
    )


def _audit(
    session: Session,
    assignment: Assignment,
    action: str,
    actor: str,
    detail: dict[str, object] | None = None,
) -> None:
    audit.record(
        session,
        actor=actor,
        action=action,
        entity="assignment",
        entity_id=assignment.id,
        region_id=scope.region_of_request(session, assignment.request_id),
        detail={"request_id": assignment.request_id, **(detail or {})},
    )


# --- answers -----------------------------------------------------------------------------------


def _usable(
    session: Session, settings: Settings, token: str, now: dt.datetime, *, lock: bool = False
) -> Assignment:
    """The assignment a link may still answer, or InvitationUnavailable saying why not."""
    assignment_id, nonce = _unsign(settings, token)
    query = select(Assignment).where(Assignment.id == assignment_id)
    if lock:  # two answers racing: the second waits, then finds the nonce gone
        query = query.with_for_update()
    assignment = session.exec(query).first()
    if assignment is None:
        raise InvitationUnavailable("invalid")
    if assignment.status == AssignmentStatus.withdrawn:
        raise InvitationUnavailable("withdrawn")
    if assignment.status == AssignmentStatus.expired:
        raise InvitationUnavailable("expired")
    if assignment.status != AssignmentStatus.invited:
        raise InvitationUnavailable("answered")
    if assignment.link_nonce is None or not secrets.compare_digest(assignment.link_nonce, nonce):
        # An older link of an invitation sent again, or one already used.
        raise InvitationUnavailable("answered")
    if assignment.expires_at is not None and now >= assignment.expires_at:
        raise InvitationUnavailable("expired")
    request = session.get(ReviewRequest, assignment.request_id)
    if request is None or lifecycle.refusal(request, Command.answer, today=now.date()):
        raise InvitationUnavailable("withdrawn")
    if lock:
        # Use the link up: only the one answer whose update still finds the nonce goes on
        # (SQLite has no row locks; this makes a double submit harmless there too).
        used = session.execute(
            update(Assignment)
            .where(col(Assignment.id) == assignment.id, col(Assignment.link_nonce) == nonce)
            .values(link_nonce=None)
        )
        if getattr(used, "rowcount", 1) != 1:
            raise InvitationUnavailable("answered")
        session.refresh(assignment)
    return assignment


def show(
    session: Session, settings: Settings, token: str, *, now: dt.datetime | None = None
) -> InvitationView:
    """What the answer page shows. Changes nothing (mail scanners follow links)."""
    return _view(session, _usable(session, settings, token, now or utcnow()))


def accept(
    session: Session, settings: Settings, token: str, *, now: dt.datetime | None = None
) -> InvitationView:
    now = now or utcnow()
    assignment = _usable(session, settings, token, now, lock=True)
    actor = f"reviewer:{assignment.reviewer_id}"
    request = _locked_request(session, assignment.request_id)
    lifecycle.move_assignment(
        session, request, assignment, Command.answer, to=AssignmentStatus.accepted, now=now
    )
    assignment.responded_at = now
    assignment.link_nonce = None
    session.add(assignment)
    session.flush()
    ledger.record_acceptance(session, assignment, on=now.date())
    _event(session, assignment, "invitation_accepted", actor)
    _audit(session, assignment, "invitation.accept", actor)
    if (
        _accepted(session, request) >= request.peers
        and lifecycle.refusal(request, Command.staff, today=now.date()) is None
    ):
        lifecycle.apply(session, request, Command.staff, actor=actor, today=now.date())
    log.info("assignment %s accepted", assignment.id)
    session.flush()
    return _view(session, assignment)


def decline(
    session: Session,
    settings: Settings,
    token: str,
    reason: str | None,
    *,
    now: dt.datetime | None = None,
) -> InvitationView:
    """Record a decline (with one of DECLINE_REASONS, or none) and re-match the seat."""
    now = now or utcnow()
    if reason and reason not in DECLINE_REASONS:
        raise ValidationFailed({"reason": "Choose one of the reasons, or none"})
    assignment = _usable(session, settings, token, now, lock=True)
    actor = f"reviewer:{assignment.reviewer_id}"
    request = _locked_request(session, assignment.request_id)
    lifecycle.move_assignment(
        session, request, assignment, Command.answer, to=AssignmentStatus.declined, now=now
    )
    assignment.decline_reason = reason or None
    assignment.responded_at = now
    session.add(assignment)
    _event(session, assignment, "invitation_declined", actor, {"reason": reason or None})
    _audit(session, assignment, "invitation.decline", actor, {"reason": reason or None})
    session.flush()
    log.info("assignment %s declined", assignment.id)
    view = _view(session, assignment)
    _free_seat(session, request, assignment, now=now)
    return view


def _accepted(session: Session, request: ReviewRequest) -> int:
    return int(
        session.exec(
            select(func.count()).where(
                Assignment.request_id == request.id,
                Assignment.status == AssignmentStatus.accepted,
            )
        ).one()
    )


def _locked_request(session: Session, request_id: int) -> ReviewRequest:
    """The request, its row held until the transaction ends (PostgreSQL): an answer, an
    expiry, a withdrawal and a re-match of one request happen one after the other."""
    return session.exec(
        select(ReviewRequest)
        .where(ReviewRequest.id == request_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def _free_seat(
    session: Session, request: ReviewRequest, freed: Assignment, *, now: dt.datetime
) -> None:
    """After a decline or an expiry: ask the worker for a replacement (it re-matches the
    request's free seats and invites), unless re-matching is paused or the request has
    closed. Nothing is solved here, so the reviewer's answer returns at once."""
    if lifecycle.refusal(request, Command.rematch, today=now.date()) is not None:
        return
    if request.rematch_paused:
        _event(session, freed, "rematch_skipped", "system", {"why": "paused"})
        return
    if request.rematch_wanted_at is None:
        request.rematch_wanted_at = now
        session.add(request)
    session.flush()


# --- coordinators ------------------------------------------------------------------------------


def withdraw(
    session: Session,
    settings: Settings,
    region_id: int,
    assignment_id: int,
    *,
    actor: str,
    why: str = "",
    now: dt.datetime | None = None,
    reopen: bool = True,
) -> Assignment:
    """Take a reviewer off a request: their link stops working, they get a cancellation
    (METHOD:CANCEL, the same UID, a higher SEQUENCE), and an acceptance leaves the ledger.
    Refused once the request is completed or cancelled (the lifecycle's table)."""
    now = now or utcnow()
    assignment = scope.assignment_in_region(session, region_id, assignment_id)
    request = _locked_request(session, assignment.request_id)
    before = lifecycle.move_assignment(session, request, assignment, Command.withdraw, now=now)
    was_accepted = before == AssignmentStatus.accepted
    assignment.ics_sequence += 1
    session.add(assignment)
    session.flush()
    _email(session, settings, assignment, "cancellation", why=why)
    if was_accepted:
        ledger.reverse_assignment(session, assignment, on=now.date())
    _event(session, assignment, "invitation_withdrawn", actor)
    _audit(session, assignment, "invitation.withdraw", actor)
    # The coordinator took them off: a lock on the pair no longer stands (a new lock asks for
    # them again; without one, later runs leave them out).
    lock = session.get(PairDecision, (assignment.request_id, assignment.reviewer_id))
    if lock is not None and lock.kind == PairDecisionKind.locked:
        session.delete(lock)
    if reopen and was_accepted and request.status == RequestStatus.staffed:
        lifecycle.apply(session, request, Command.reopen, actor=actor, today=now.date())
    session.flush()
    return assignment


def withdraw_team(
    session: Session,
    request: ReviewRequest,
    *,
    actor: str,
    why: str = "",
    settings: Settings | None = None,
    now: dt.datetime | None = None,
) -> list[Assignment]:
    """Withdraw every invited or accepted reviewer of ``request`` (it is being cancelled):
    each gets a cancellation and the request's status is left to the caller."""
    region_id = scope.region_of_request(session, request.id or 0)
    assert region_id is not None
    return [
        withdraw(
            session,
            settings or load_settings(),
            region_id,
            assignment.id or 0,
            actor=actor,
            why=why,
            now=now,
            reopen=False,
        )
        for assignment in _open_assignments(session, request)
    ]


def _open_assignments(session: Session, request: ReviewRequest) -> list[Assignment]:
    return list(
        session.exec(
            select(Assignment)
            .where(
                Assignment.request_id == request.id,
                col(Assignment.status).in_(OPEN_ASSIGNMENT),
            )
            .order_by(col(Assignment.id))
        ).all()
    )


# --- the clock: reminders and expiries ---------------------------------------------------------


@dataclass
class TickReport:
    reminded: int = 0
    expired: int = 0


def tick(session: Session, settings: Settings, *, now: dt.datetime | None = None) -> TickReport:
    """Send the reminders that are due and expire unanswered invitations (re-matching their
    seats). The background worker calls it; so does ``peermatch outbox relay``."""
    now = now or utcnow()
    report = TickReport()
    invited = session.exec(
        select(Assignment)
        .where(Assignment.status == AssignmentStatus.invited)
        .order_by(col(Assignment.id))
    ).all()
    for assignment in invited:
        request = session.get(ReviewRequest, assignment.request_id)
        if request is None or lifecycle.refusal(request, Command.expire, today=now.date()):
            continue
        if assignment.expires_at is not None and now >= assignment.expires_at:
            # Several relays may tick at once: only the one whose update still finds the
            # invitation open expires it (and re-matches its seat).
            if _claim(session, assignment, status=lifecycle.ASSIGNMENT_MOVES[Command.expire][1]):
                _expire(session, settings, assignment, now=now)
                report.expired += 1
        elif _reminder_due(settings, assignment, now):
            if not _claim(session, assignment, reminded_at=now):
                continue
            _email(session, settings, assignment, "reminder")
            _event(session, assignment, "invitation_reminded", "system")
            report.reminded += 1
    session.flush()
    return report


def _claim(session: Session, assignment: Assignment, **values: object) -> bool:
    """Set ``values`` on an invitation still open and not yet reminded, as one conditional
    UPDATE; False when another process got there first."""
    conditions: list[ColumnElement[bool]] = [
        col(Assignment.id) == assignment.id,
        col(Assignment.status) == AssignmentStatus.invited,
    ]
    if "reminded_at" in values:
        conditions.append(col(Assignment.reminded_at).is_(None))
    done = session.execute(update(Assignment).where(*conditions).values(**values))
    session.refresh(assignment)
    return bool(getattr(done, "rowcount", 1) == 1)


def _reminder_due(settings: Settings, assignment: Assignment, now: dt.datetime) -> bool:
    if assignment.reminded_at is not None or settings.reminder_working_days == 0:
        return False
    days = settings.invitation_working_days - settings.reminder_working_days
    return now >= _after_working_days(assignment.invited_at, days)


def _expire(
    session: Session, settings: Settings, assignment: Assignment, *, now: dt.datetime
) -> None:
    assignment.responded_at = now
    assignment.link_nonce = None
    assignment.updated_at = now
    session.add(assignment)
    _event(session, assignment, "invitation_expired", "system")
    _audit(session, assignment, "invitation.expire", "system")
    session.flush()
    log.info("assignment %s expired", assignment.id)
    _free_seat(session, _locked_request(session, assignment.request_id), assignment, now=now)


# --- what coordinators read --------------------------------------------------------------------


@dataclass(frozen=True)
class TeamMember:
    assignment_id: int
    reviewer_id: int
    name: str
    partnership: str
    status: str
    invited_at: dt.datetime
    expires_at: dt.datetime | None
    responded_at: dt.datetime | None
    decline_reason: str | None


@dataclass(frozen=True)
class RequestInvitations:
    request: ReviewRequest
    partnership: str
    team: list[TeamMember]


def for_request(session: Session, region_id: int, request_id: int) -> RequestInvitations:
    """A request's invitations, for its coordinator."""
    request, _ = scope.request_in_region(session, region_id, request_id)
    partnerships = {
        p.id: p.name
        for p in session.exec(select(Partnership).where(Partnership.region_id == region_id))
    }
    assignments = session.exec(
        select(Assignment, Reviewer)
        .join(Reviewer, col(Reviewer.id) == col(Assignment.reviewer_id))
        .where(Assignment.request_id == request.id)
        .order_by(col(Assignment.invited_at), col(Assignment.id))
    ).all()
    team = [
        TeamMember(
            assignment_id=a.id or 0,
            reviewer_id=r.id or 0,
            name=r.name,
            partnership=partnerships.get(r.partnership_id, ""),
            status=str(a.status),
            invited_at=a.invited_at,
            expires_at=a.expires_at,
            responded_at=a.responded_at,
            decline_reason=DECLINE_REASONS.get(a.decline_reason or ""),
        )
        for a, r in assignments
    ]
    return RequestInvitations(request, partnerships.get(request.partnership_id, ""), team)
