"""Review requests: a partnership asks the region for peers. Only a reference and the
characteristics the matching needs are stored, never a child's name or the case narrative."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from peermatch import audit, ledger, organisations, working_days
from peermatch.errors import ValidationFailed
from peermatch.models import (
    Assignment,
    AssignmentStatus,
    Partnership,
    RequestEvent,
    RequestSource,
    RequestStatus,
    ReviewRequest,
    utcnow,
)
from peermatch.registry import Page
from peermatch.settings import Settings, load_settings
from peermatch.staffing import invitations, lifecycle, scope
from peermatch.staffing.lifecycle import Command, IllegalTransition
from peermatch.vocabulary import load as load_vocabulary
from peermatch.working_days import Deadline

MIN_PEERS, MAX_PEERS = 1, 6
MAX_REFERENCE = 40
MAX_WINDOW_DAYS = 731
# Dates outside these are typing mistakes (and would make working-day arithmetic run for ages).
EARLIEST, LATEST = dt.date(2000, 1, 1), dt.date(2099, 12, 31)
MAX_DEADLINE_DAYS = 731  # after the notification
_DATE_LABELS = {
    "window_start": "Review window start",
    "window_end": "Review window end",
    "notified_on": "Notification date",
    "statutory_deadline": "Statutory deadline",
}
# Letters, digits, "-" and "/", with at least one digit: references look like "LSCP-2027-014",
# which a person's name never does.
_REFERENCE = re.compile(r"^(?=.*\d)[A-Za-z0-9][A-Za-z0-9/-]*$")
REFERENCE_HELP = (
    "Your partnership's case reference, like LSCP-2027-014: letters, digits, - and /, "
    "including at least one digit. Never a child's or family member's name."
)


@dataclass
class RequestInput:
    partnership_id: int | None
    reference: str
    methodology: str
    window_start: dt.date | None
    window_end: dt.date | None
    peers: int | None = 2
    high_profile: bool = False
    agencies_involved: list[str] = field(default_factory=list)
    # Ids of the organisations involved (each serving the request's partnership). Their agency
    # types are added to ``agencies_involved`` when the request is written.
    organisations_involved: list[int] = field(default_factory=list)
    required_skills: list[str] = field(default_factory=list)
    notified_on: dt.date | None = None
    # A date here overrides the deadline computed from the notification date; None takes the
    # computed one (see peermatch/working_days.py).
    statutory_deadline: dt.date | None = None
    # None: the default, yes when two or more peers are needed.
    needs_experienced: bool | None = None


def needs_experienced_default(peers: int | None) -> bool:
    """A team of two or more should include someone who has done this before."""
    return (peers or 0) >= 2


def validation_errors(
    session: Session, region_id: int, data: RequestInput, *, request_id: int | None = None
) -> dict[str, str]:
    vocab = load_vocabulary()
    errors: dict[str, str] = {}
    partnership = session.get(Partnership, data.partnership_id) if data.partnership_id else None
    if partnership is None or partnership.region_id != region_id:
        errors["partnership_id"] = "Choose a partnership in your region"
    reference = data.reference.strip()
    if not reference:
        errors["reference"] = "Enter the partnership's reference for this review"
    elif len(reference) > MAX_REFERENCE or not _REFERENCE.match(reference):
        errors["reference"] = REFERENCE_HELP
    elif partnership is not None and _reference_taken(
        session, partnership.id, reference, request_id
    ):
        errors["reference"] = "This partnership already has a request with this reference"
    if data.methodology not in vocab.methodologies:
        errors["methodology"] = f"Methodology must be one of: {', '.join(vocab.methodologies)}"
    if data.peers is None or not MIN_PEERS <= data.peers <= MAX_PEERS:
        errors["peers"] = f"A review needs from {MIN_PEERS} to {MAX_PEERS} peers"
    errors.update(_date_errors(data))
    if unknown := [a for a in data.agencies_involved if a not in vocab.agencies]:
        errors["agencies_involved"] = f"Unknown agency {', '.join(unknown)}"
    if data.organisations_involved and partnership is not None:
        found = organisations.organisations_by_id(session, region_id, data.organisations_involved)
        if any(
            o not in found or partnership.id not in found[o].partnership_ids
            for o in data.organisations_involved
        ):
            errors["organisations_involved"] = (
                "Choose organisations that serve the requesting partnership"
            )
    if unknown := [s for s in data.required_skills if s not in vocab.skills]:
        errors["required_skills"] = f"Unknown skill {', '.join(unknown)}"
    return errors


def _date_errors(data: RequestInput) -> dict[str, str]:
    errors: dict[str, str] = {}
    for name, label in _DATE_LABELS.items():
        value = getattr(data, name)
        if value is not None and not EARLIEST <= value <= LATEST:
            errors[name] = f"{label} must be between {EARLIEST.year} and {LATEST.year}"
    if errors:
        return errors
    if data.window_start is None:
        errors["window_start"] = "Enter the review window start"
    if data.window_end is None:
        errors["window_end"] = "Enter the review window end"
    elif data.window_start is not None:
        if data.window_start > data.window_end:
            errors["window_end"] = "The review window must end on or after its start"
        elif (data.window_end - data.window_start).days > MAX_WINDOW_DAYS:
            errors["window_end"] = "The review window must be at most two years long"
    if data.notified_on and data.statutory_deadline:
        if data.statutory_deadline < data.notified_on:
            errors["statutory_deadline"] = (
                "The statutory deadline cannot be before the notification"
            )
        elif (data.statutory_deadline - data.notified_on).days > MAX_DEADLINE_DAYS:
            errors["statutory_deadline"] = (
                "The statutory deadline must be within two years of the notification"
            )
    return errors


def with_organisation_agencies(
    session: Session, region_id: int, data: RequestInput
) -> RequestInput:
    """``data`` (valid) with the agency types of its organisations among the agencies
    involved: the rule for the requesting partnership's own agencies covers them too."""
    found = organisations.organisations_by_id(session, region_id, data.organisations_involved)
    agencies = set(data.agencies_involved) | {o.agency for o in found.values()}
    return replace(data, agencies_involved=sorted(agencies))


def _reference_taken(
    session: Session, partnership_id: int | None, reference: str, request_id: int | None = None
) -> bool:
    query = select(ReviewRequest.id).where(
        ReviewRequest.partnership_id == partnership_id, ReviewRequest.reference == reference
    )
    if request_id is not None:
        query = query.where(ReviewRequest.id != request_id)
    return session.exec(query).first() is not None


def create_request(
    session: Session,
    region_id: int,
    data: RequestInput,
    *,
    actor: str,
    status: RequestStatus = RequestStatus.draft,
    source: RequestSource = RequestSource.coordinator,
) -> ReviewRequest:
    if errors := validation_errors(session, region_id, data):
        raise ValidationFailed(errors)
    data = with_organisation_agencies(session, region_id, data)
    request = ReviewRequest(
        partnership_id=0,
        reference="",
        methodology="",
        window_start=dt.date.min,
        window_end=dt.date.min,
        status=status,
        source=source,
    )
    _write(request, data)
    session.add(request)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="request.create",
        entity="reviewrequest",
        entity_id=request.id,
        region_id=region_id,
        detail={"status": str(status), "source": str(source)},
    )
    assert request.id is not None
    session.add(
        RequestEvent(
            request_id=request.id, actor=actor, kind="created", detail={"status": str(status)}
        )
    )
    session.flush()
    return request


# The fields a coordinator may change while a request is a draft or submitted.
_FIELDS = (
    "partnership_id",
    "reference",
    "methodology",
    "high_profile",
    "agencies_involved",
    "organisations_involved",
    "required_skills",
    "peers",
    "window_start",
    "window_end",
    "notified_on",
    "statutory_deadline",
    "deadline_overridden",
    "needs_experienced",
)
EDITABLE = tuple(lifecycle.REQUEST_COMMANDS[Command.edit].allowed)


def _write(request: ReviewRequest, data: RequestInput) -> None:
    """Copy validated input onto ``request``, computing the deadline unless one was typed."""
    assert data.window_start and data.window_end and data.peers  # validated
    request.partnership_id = data.partnership_id or 0
    request.reference = data.reference.strip()
    request.methodology = data.methodology
    request.high_profile = data.high_profile
    request.agencies_involved = sorted(set(data.agencies_involved))
    request.organisations_involved = sorted(set(data.organisations_involved))
    request.required_skills = sorted(set(data.required_skills))
    request.peers = data.peers
    request.window_start = data.window_start
    request.window_end = data.window_end
    request.notified_on = data.notified_on
    computed = computed_deadline(data.methodology, data.notified_on)
    typed = data.statutory_deadline
    request.statutory_deadline = typed or (computed.due_on if computed else None)
    request.deadline_overridden = typed is not None and (
        computed is None or typed != computed.due_on
    )
    request.needs_experienced = (
        needs_experienced_default(data.peers)
        if data.needs_experienced is None
        else data.needs_experienced
    )


def computed_deadline(methodology: str, notified_on: dt.date | None) -> Deadline | None:
    """The deadline PeerMatch works out for a request; None without a notification date."""
    if notified_on is None:
        return None
    return working_days.statutory_deadline(methodology, notified_on)


class NotEditable(IllegalTransition):
    """The request has gone too far in its lifecycle to change its details."""


def not_editable_reason(request: ReviewRequest) -> str:
    return (
        f"Request {request.reference} cannot be changed: it is {request.status}, and only "
        "draft or submitted requests can be changed. Cancel it and open a new one instead."
    )


def update_request(
    session: Session, region_id: int, request_id: int, data: RequestInput, *, actor: str
) -> ReviewRequest:
    """Change a draft or submitted request; refused, with the reason, once matching has begun."""
    request, _ = scope.request_in_region(session, region_id, request_id, lock=True)
    if lifecycle.refusal(request, Command.edit, today=dt.date.today()) is not None:
        raise NotEditable(not_editable_reason(request), "status")
    if errors := validation_errors(session, region_id, data, request_id=request_id):
        raise ValidationFailed(errors)
    data = with_organisation_agencies(session, region_id, data)
    before = {f: getattr(request, f) for f in _FIELDS}
    _write(request, data)
    changed = [f for f in _FIELDS if getattr(request, f) != before[f]]
    if not changed:
        return request
    request.updated_at = utcnow()
    session.add(request)
    audit.record(
        session,
        actor=actor,
        action="request.update",
        entity="reviewrequest",
        entity_id=request.id,
        region_id=region_id,
        detail={"fields": changed},
    )
    session.add(
        RequestEvent(request_id=request_id, actor=actor, kind="edited", detail={"fields": changed})
    )
    session.flush()
    return request


# --- Coordinator actions on one request ----------------------------------------------------

# Why triage sends a request back to its partnership: codes, so the timeline and the audit log
# carry no free text (and so no narrative can creep in).
SEND_BACK_REASONS: dict[str, str] = {
    "incomplete": "Details are missing or unclear",
    "dates": "The review window or notification date needs checking",
    "methodology": "Another methodology would suit this review better",
    "skills": "The skills or number of peers need checking",
    "duplicate": "It duplicates another request",
    "not-peer-review": "It does not need peers from other partnerships",
}


def _find(
    session: Session, region_id: int, request_id: int, *, lock: bool = False
) -> tuple[ReviewRequest, Partnership]:
    return scope.request_in_region(session, region_id, request_id, lock=lock)


def get_request(session: Session, region_id: int, request_id: int, *, actor: str) -> ReviewRequest:
    """A request of the caller's region; every view is written to the audit log."""
    request, _ = _find(session, region_id, request_id)
    audit.record(
        session,
        actor=actor,
        action="request.view",
        entity="reviewrequest",
        entity_id=request.id,
        region_id=region_id,
    )
    session.flush()
    return request


def submit(session: Session, region_id: int, request_id: int, *, actor: str) -> ReviewRequest:
    """A draft goes to the region for triage and matching."""
    request, _ = _find(session, region_id, request_id, lock=True)
    lifecycle.apply(session, request, Command.submit, actor=actor)
    return request


def send_back(
    session: Session, region_id: int, request_id: int, reason: str, *, actor: str
) -> ReviewRequest:
    """Triage: a submitted request goes back to draft, with one of SEND_BACK_REASONS."""
    request, _ = _find(session, region_id, request_id, lock=True)
    lifecycle.check(request, Command.send_back)
    if reason not in SEND_BACK_REASONS:
        raise ValidationFailed({"reason": "Choose why the request is going back"})
    lifecycle.apply(session, request, Command.send_back, actor=actor, detail={"reason": reason})
    return request


def accept(session: Session, region_id: int, request_id: int, *, actor: str) -> ReviewRequest:
    """Triage: the coordinator has checked a submitted request and it is ready to match. The
    status stays ``submitted`` (every submitted request goes into the next matching run); the
    acceptance is a line on the timeline, and takes it off the home page's triage list."""
    request, _ = _find(session, region_id, request_id, lock=True)
    lifecycle.check(request, Command.triage)
    if request.id in triaged(session, [request.id or 0]):
        return request
    audit.record(
        session,
        actor=actor,
        action="request.accept",
        entity="reviewrequest",
        entity_id=request.id,
        region_id=region_id,
    )
    session.add(RequestEvent(request_id=request.id or 0, actor=actor, kind="accepted"))
    session.flush()
    return request


def cancel(
    session: Session,
    region_id: int,
    request_id: int,
    *,
    actor: str,
    settings: Settings | None = None,
) -> ReviewRequest:
    """Cancel an open request. Its invited and accepted reviewers are sent a cancellation;
    peers it had been lent are given back in the ledger."""
    request, _ = _find(session, region_id, request_id, lock=True)
    lifecycle.check(request, Command.cancel)
    invitations.withdraw_team(
        session,
        request,
        actor=actor,
        why="The review has been cancelled.",
        settings=settings or load_settings(),
    )
    lifecycle.apply(session, request, Command.cancel, actor=actor)
    ledger.reverse_request(session, request)
    return request


def complete(
    session: Session,
    region_id: int,
    request_id: int,
    *,
    actor: str,
    today: dt.date | None = None,
) -> ReviewRequest:
    """A staffed request's review has run (its window has started): the ledger keeps its
    entries, and each accepted reviewer's completed reviews count it. Refused before the
    window starts, and for any request that is not staffed."""
    request, _ = _find(session, region_id, request_id, lock=True)
    lifecycle.apply(session, request, Command.complete, actor=actor, today=today)
    return request


def set_rematch_paused(
    session: Session, region_id: int, request_id: int, paused: bool, *, actor: str
) -> ReviewRequest:
    """Pause (or resume) automatic re-matching of the request's freed seats."""
    request, _ = _find(session, region_id, request_id, lock=True)
    lifecycle.check(request, Command.pause_rematch)
    if request.rematch_paused != paused:
        request.rematch_paused = paused
        request.updated_at = utcnow()
        session.add(request)
        assert request.id is not None
        kind = "rematch_paused" if paused else "rematch_resumed"
        session.add(RequestEvent(request_id=request.id, actor=actor, kind=kind, detail={}))
        audit.record(
            session,
            actor=actor,
            action=f"request.{kind}",
            entity="reviewrequest",
            entity_id=request.id,
            region_id=region_id,
        )
        session.flush()
    return request


def triaged(session: Session, request_ids: list[int]) -> set[int]:
    """Of ``request_ids``, those accepted for matching since they were last submitted."""
    if not request_ids:
        return set()
    last: dict[int, str] = {}
    for request_id, kind in session.exec(
        select(RequestEvent.request_id, RequestEvent.kind)
        .where(
            col(RequestEvent.request_id).in_(request_ids),
            col(RequestEvent.kind).in_(["submitted", "accepted", "created"]),
        )
        .order_by(col(RequestEvent.id))
    ):
        last[request_id] = kind
    return {rid for rid, kind in last.items() if kind == "accepted"}


# --- Reading: the list, one request's page, the home page ----------------------------------

OPEN_STATUSES = (
    RequestStatus.submitted,
    RequestStatus.matching,
    RequestStatus.proposed,
    RequestStatus.inviting,
    RequestStatus.staffed,
)
# Seats count as taken by these assignments.
_HOLDING = (AssignmentStatus.invited, AssignmentStatus.accepted)


@dataclass(frozen=True)
class Seats:
    peers: int
    accepted: int
    invited: int

    @property
    def unfilled(self) -> int:
        return max(0, self.peers - self.accepted - self.invited)


@dataclass
class RequestSummary:
    id: int
    reference: str
    partnership_id: int
    partnership_name: str
    methodology: str
    status: RequestStatus
    high_profile: bool
    window_start: dt.date
    window_end: dt.date
    statutory_deadline: dt.date | None
    seats: Seats


@dataclass(frozen=True)
class RequestFilter:
    status: RequestStatus | None = None
    partnership_id: int | None = None


def seats_of(session: Session, requests: list[ReviewRequest]) -> dict[int, Seats]:
    ids = [r.id for r in requests if r.id is not None]
    held: dict[tuple[int, str], int] = {}
    if ids:
        for request_id, status, n in session.exec(
            select(Assignment.request_id, Assignment.status, func.count())
            .where(col(Assignment.request_id).in_(ids), col(Assignment.status).in_(_HOLDING))
            .group_by(col(Assignment.request_id), col(Assignment.status))
        ):
            held[(request_id, str(status))] = int(n)
    return {
        r.id or 0: Seats(
            peers=r.peers,
            accepted=held.get((r.id or 0, "accepted"), 0),
            invited=held.get((r.id or 0, "invited"), 0),
        )
        for r in requests
    }


def status_counts(session: Session, region_id: int) -> dict[RequestStatus, int]:
    counts = dict.fromkeys(RequestStatus, 0)
    for status, n in session.exec(
        select(ReviewRequest.status, func.count())
        .join(Partnership, col(Partnership.id) == col(ReviewRequest.partnership_id))
        .where(Partnership.region_id == region_id)
        .group_by(col(ReviewRequest.status))
    ):
        counts[RequestStatus(status)] = int(n)
    return counts


def list_requests(
    session: Session,
    region_id: int,
    filters: RequestFilter = RequestFilter(),
    *,
    page: int = 1,
    per_page: int = 25,
    actor: str | None = None,
) -> Page[RequestSummary]:
    """The region's requests, the nearest deadline first (those without one last). With an
    ``actor``, the listing (an access to the requests' references) is audited."""
    page, per_page = max(1, page), max(1, min(per_page, 200))
    conditions = [col(Partnership.region_id) == region_id]
    if filters.status is not None:
        conditions.append(col(ReviewRequest.status) == filters.status)
    if filters.partnership_id is not None:
        conditions.append(col(ReviewRequest.partnership_id) == filters.partnership_id)
    joined = col(Partnership.id) == col(ReviewRequest.partnership_id)
    total = session.exec(
        select(func.count(col(ReviewRequest.id))).join(Partnership, joined).where(*conditions)
    ).one()
    no_deadline = case((col(ReviewRequest.statutory_deadline).is_(None), 1), else_=0)
    rows = session.exec(
        select(ReviewRequest, Partnership)
        .join(Partnership, joined)
        .where(*conditions)
        .order_by(
            no_deadline,
            col(ReviewRequest.statutory_deadline),
            col(ReviewRequest.window_start),
            col(ReviewRequest.id),
        )
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    seats = seats_of(session, [r for r, _ in rows])
    items = [
        RequestSummary(
            id=r.id or 0,
            reference=r.reference,
            partnership_id=p.id or 0,
            partnership_name=p.name,
            methodology=r.methodology,
            status=RequestStatus(r.status),
            high_profile=r.high_profile,
            window_start=r.window_start,
            window_end=r.window_end,
            statutory_deadline=r.statutory_deadline,
            seats=seats[r.id or 0],
        )
        for r, p in rows
    ]
    if actor is not None:
        audit.record(
            session,
            actor=actor,
            action="request.list",
            entity="reviewrequest",
            region_id=region_id,
            detail={"ids": [i.id for i in items]},
        )
        session.flush()
    return Page(items=items, page=page, per_page=per_page, total=int(total))


@dataclass
class RequestDetail:
    """Everything a request's page shows."""

    request: ReviewRequest
    partnership: Partnership
    deadline: Deadline | None  # how PeerMatch computes it (even when a coordinator overrode it)
    working_days_left: int | None
    seats: Seats
    triaged: bool
    actions: list[str]  # names from _PAGE_ACTIONS: what the lifecycle allows now

    @property
    def editable(self) -> bool:
        return "edit" in self.actions


def request_detail(
    session: Session, region_id: int, request_id: int, *, actor: str, today: dt.date
) -> RequestDetail:
    """A request's page: reading it is a view of the request, so it is audited."""
    request = get_request(session, region_id, request_id, actor=actor)
    _, partnership = _find(session, region_id, request_id)
    is_triaged = request.id in triaged(session, [request_id])
    deadline = computed_deadline(request.methodology, request.notified_on)
    left = (
        working_days.working_days_between(today, request.statutory_deadline)
        if request.statutory_deadline
        else None
    )
    return RequestDetail(
        request=request,
        partnership=partnership,
        deadline=deadline,
        working_days_left=left,
        seats=seats_of(session, [request])[request_id],
        triaged=is_triaged,
        actions=_actions(request, is_triaged, today),
    )


# What the request's page may offer, by the lifecycle command behind it.
_PAGE_ACTIONS = (
    ("edit", Command.edit),
    ("submit", Command.submit),
    ("accept", Command.triage),
    ("send_back", Command.send_back),
    ("complete", Command.complete),
    ("cancel", Command.cancel),
)


def _actions(request: ReviewRequest, is_triaged: bool, today: dt.date) -> list[str]:
    allowed = lifecycle.allowed(request, today=today)
    return [
        name
        for name, command in _PAGE_ACTIONS
        if command in allowed and not (name == "accept" and is_triaged)
    ]
