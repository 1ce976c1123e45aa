"""Review requests: a partnership asks the region for peers. Only a reference and the
characteristics the matching needs are stored, never a child's name or the case narrative."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from peermatch import audit, ledger, working_days
from peermatch.errors import DomainError, NotFound, ValidationFailed
from peermatch.models import (
    Assignment,
    AssignmentStatus,
    Partnership,
    RequestEvent,
    RequestSource,
    RequestStatus,
    Reviewer,
    ReviewRequest,
    User,
    utcnow,
)
from peermatch.registry import Page
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
    "required_skills",
    "peers",
    "window_start",
    "window_end",
    "notified_on",
    "statutory_deadline",
    "deadline_overridden",
    "needs_experienced",
)
EDITABLE = (RequestStatus.draft, RequestStatus.submitted)


def _write(request: ReviewRequest, data: RequestInput) -> None:
    """Copy validated input onto ``request``, computing the deadline unless one was typed."""
    assert data.window_start and data.window_end and data.peers  # validated
    request.partnership_id = data.partnership_id or 0
    request.reference = data.reference.strip()
    request.methodology = data.methodology
    request.high_profile = data.high_profile
    request.agencies_involved = sorted(set(data.agencies_involved))
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


class NotEditable(DomainError):
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
    request, _ = _find(session, region_id, request_id)
    if request.status not in EDITABLE:
        raise NotEditable(not_editable_reason(request), "status")
    if errors := validation_errors(session, region_id, data, request_id=request_id):
        raise ValidationFailed(errors)
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


# --- The lifecycle: draft → submitted → matching → proposed → inviting → staffed → completed ---

_OPEN = {
    RequestStatus.draft,
    RequestStatus.submitted,
    RequestStatus.matching,
    RequestStatus.proposed,
    RequestStatus.inviting,
    RequestStatus.staffed,
}
# Every legal move, and nothing else. Cancelling is possible from any open status.
TRANSITIONS: dict[RequestStatus, set[RequestStatus]] = {
    RequestStatus.draft: {RequestStatus.submitted},
    # Triage may send a submitted request back to its partnership as a draft.
    RequestStatus.submitted: {RequestStatus.draft, RequestStatus.matching},
    # A run that fails or is cancelled returns its requests to where matching found them.
    RequestStatus.matching: {RequestStatus.proposed, RequestStatus.submitted},
    RequestStatus.proposed: {RequestStatus.matching, RequestStatus.inviting},
    RequestStatus.inviting: {RequestStatus.staffed},
    # A staffed request goes back to inviting when an accepted reviewer is withdrawn.
    RequestStatus.staffed: {RequestStatus.inviting, RequestStatus.completed},
    RequestStatus.completed: set(),
    RequestStatus.cancelled: set(),
}
for _status in _OPEN:
    TRANSITIONS[_status].add(RequestStatus.cancelled)

_WHY_NOT: dict[RequestStatus, str] = {
    RequestStatus.completed: "it is completed, so it can no longer change",
    RequestStatus.cancelled: "it is cancelled, so it can no longer change",
}


class IllegalTransition(DomainError):
    """A status change the lifecycle does not allow; the message says why."""


def check_transition(request: ReviewRequest, to: RequestStatus) -> None:
    """Raise IllegalTransition, in words a coordinator understands, unless ``to`` is legal."""
    current = RequestStatus(request.status)
    if to in TRANSITIONS[current]:
        return
    why = _WHY_NOT.get(current)
    if why is None:
        allowed = [s for s in RequestStatus if s in TRANSITIONS[current]]
        why = f"a {current} request can only become " + " or ".join(str(s) for s in allowed)
    raise IllegalTransition(f"Request {request.reference} cannot become {to}: {why}", "status")


def transition(
    session: Session,
    request: ReviewRequest,
    to: RequestStatus,
    *,
    actor: str,
    detail: dict[str, object] | None = None,
) -> None:
    """Move ``request`` to ``to`` if the lifecycle allows it, with an audit event and a line on
    the request's timeline, in the caller's transaction."""
    check_transition(request, to)
    before = request.status
    request.status = to
    request.updated_at = utcnow()
    session.add(request)
    partnership = session.get(Partnership, request.partnership_id)
    audit.record(
        session,
        actor=actor,
        action="request.status",
        entity="reviewrequest",
        entity_id=request.id,
        region_id=partnership.region_id if partnership else None,
        detail={"from": str(before), "to": str(to), **(detail or {})},
    )
    assert request.id is not None
    session.add(
        RequestEvent(request_id=request.id, actor=actor, kind=str(to), detail=dict(detail or {}))
    )
    session.flush()


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


def _find(session: Session, region_id: int, request_id: int) -> tuple[ReviewRequest, Partnership]:
    """The request and its partnership; NotFound outside the caller's region (we do not say
    whether it exists elsewhere)."""
    row = session.exec(
        select(ReviewRequest, Partnership)
        .join(Partnership, col(Partnership.id) == col(ReviewRequest.partnership_id))
        .where(ReviewRequest.id == request_id, Partnership.region_id == region_id)
    ).first()
    if row is None:
        raise NotFound("No such request")
    return row[0], row[1]


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
    request, _ = _find(session, region_id, request_id)
    transition(session, request, RequestStatus.submitted, actor=actor)
    return request


def send_back(
    session: Session, region_id: int, request_id: int, reason: str, *, actor: str
) -> ReviewRequest:
    """Triage: a submitted request goes back to draft, with one of SEND_BACK_REASONS."""
    request, _ = _find(session, region_id, request_id)
    if reason not in SEND_BACK_REASONS:
        raise ValidationFailed({"reason": "Choose why the request is going back"})
    if request.status != RequestStatus.submitted:
        raise IllegalTransition(
            f"Request {request.reference} cannot be sent back: only a submitted request can be "
            f"sent back, and this one is {request.status}",
            "status",
        )
    transition(session, request, RequestStatus.draft, actor=actor, detail={"reason": reason})
    return request


def accept(session: Session, region_id: int, request_id: int, *, actor: str) -> ReviewRequest:
    """Triage: the coordinator has checked a submitted request and it is ready to match. The
    status stays ``submitted`` (every submitted request goes into the next matching run); the
    acceptance is a line on the timeline, and takes it off the home page's triage list."""
    request, _ = _find(session, region_id, request_id)
    if request.status != RequestStatus.submitted:
        raise IllegalTransition(
            f"Request {request.reference} cannot be accepted for matching: only a submitted "
            f"request can, and this one is {request.status}",
            "status",
        )
    if request.id in _triaged(session, [request.id or 0]):
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


def cancel(session: Session, region_id: int, request_id: int, *, actor: str) -> ReviewRequest:
    """Cancel an open request. Its invited and accepted reviewers are sent a cancellation;
    peers it had been lent are given back in the ledger."""
    from peermatch.staffing.invitations import withdraw_team

    request, _ = _find(session, region_id, request_id)
    check_transition(request, RequestStatus.cancelled)
    withdraw_team(session, request, actor=actor, why="The review has been cancelled.")
    transition(session, request, RequestStatus.cancelled, actor=actor)
    ledger.reverse_request(session, request)
    return request


def _triaged(session: Session, request_ids: list[int]) -> set[int]:
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


def _seats(session: Session, requests: list[ReviewRequest]) -> dict[int, Seats]:
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
    seats = _seats(session, [r for r, _ in rows])
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


@dataclass(frozen=True)
class TimelineEntry:
    at: dt.datetime
    who: str
    text: str


@dataclass
class RequestDetail:
    """Everything a request's page shows."""

    request: ReviewRequest
    partnership: Partnership
    deadline: Deadline | None  # how PeerMatch computes it (even when a coordinator overrode it)
    working_days_left: int | None
    seats: Seats
    triaged: bool
    timeline: list[TimelineEntry]
    actions: list[str]  # "edit", "submit", "accept", "send_back", "cancel": allowed now

    @property
    def editable(self) -> bool:
        return "edit" in self.actions


def request_detail(
    session: Session, region_id: int, request_id: int, *, actor: str, today: dt.date
) -> RequestDetail:
    """A request's page: reading it is a view of the request, so it is audited."""
    request = get_request(session, region_id, request_id, actor=actor)
    _, partnership = _find(session, region_id, request_id)
    triaged = request.id in _triaged(session, [request_id])
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
        seats=_seats(session, [request])[request_id],
        triaged=triaged,
        timeline=_timeline(session, request_id),
        actions=_actions(request, triaged),
    )


def _actions(request: ReviewRequest, triaged: bool) -> list[str]:
    status = RequestStatus(request.status)
    actions = []
    if status in EDITABLE:
        actions.append("edit")
    if status == RequestStatus.draft:
        actions.append("submit")
    if status == RequestStatus.submitted:
        if not triaged:
            actions.append("accept")
        actions.append("send_back")
    if RequestStatus.cancelled in TRANSITIONS[status]:
        actions.append("cancel")
    return actions


_EVENT_TEXT = {
    "created": "Request opened",
    "edited": "Details changed",
    "accepted": "Accepted for matching",
    "submitted": "Submitted for matching",
    "draft": "Sent back to the partnership as a draft",
    "matching": "Matching started",
    "proposed": "Team proposed",
    "inviting": "Proposal approved: invitations going out",
    "staffed": "Every seat accepted",
    "completed": "Review completed",
    "cancelled": "Request cancelled",
}


def _timeline(session: Session, request_id: int) -> list[TimelineEntry]:
    events = session.exec(
        select(RequestEvent)
        .where(RequestEvent.request_id == request_id)
        .order_by(col(RequestEvent.at).desc(), col(RequestEvent.id).desc())
    ).all()
    people = _reviewer_names(session, {e.reviewer_id for e in events if e.reviewer_id})
    user_ids = {_user_id(e.actor) for e in events} - {None}
    users = _user_names(session, {u for u in user_ids if u is not None})
    entries = []
    from peermatch.staffing.invitations import describe as invitation_words

    for e in events:
        if (words := invitation_words(e, people)) is not None:  # names already in the words
            entries.append(TimelineEntry(at=e.at, who=_who(e.actor, users), text=words))
            continue
        text = _EVENT_TEXT.get(e.kind, e.kind.replace("-", " ").replace("_", " ").capitalize())
        if e.kind == "created" and e.detail.get("status") not in (None, "draft"):
            text += f" as {e.detail['status']}"
        if e.kind == "draft" and (reason := SEND_BACK_REASONS.get(str(e.detail.get("reason")))):
            text += f": {reason.lower()}"
        if e.kind == "edited" and isinstance(e.detail.get("fields"), list):
            text += ": " + ", ".join(str(f).replace("_", " ") for f in e.detail["fields"])
        if e.reviewer_id is not None:
            text += f" ({people.get(e.reviewer_id, 'a reviewer')})"
        entries.append(TimelineEntry(at=e.at, who=_who(e.actor, users), text=text))
    return entries


def _user_id(actor: str) -> int | None:
    kind, _, number = actor.partition(":")
    return int(number) if kind == "user" and number.isdigit() else None


def _who(actor: str, users: dict[int, str]) -> str:
    if (user_id := _user_id(actor)) is not None:
        return users.get(user_id, "A coordinator")
    if actor.startswith("apikey:"):
        return "The partnership, through the API"
    return {"seed": "Demo data", "cli": "Command line", "system": "PeerMatch"}.get(
        actor, "PeerMatch"
    )


def _reviewer_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.exec(select(Reviewer).where(col(Reviewer.id).in_(ids))).all()
    return {r.id or 0: r.name for r in rows}


def _user_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.exec(select(User).where(col(User.id).in_(ids))).all()
    return {u.id or 0: u.name for u in rows}


# --- The home page -------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusCount:
    status: RequestStatus
    count: int


@dataclass(frozen=True)
class DeadlineRow:
    request_id: int
    reference: str
    partnership_name: str
    status: RequestStatus
    due_on: dt.date
    working_days_left: int  # negative: overdue by that many working days


@dataclass(frozen=True)
class Action:
    """Something waiting for the coordinator, with where to do it."""

    text: str
    count: int
    href: str


@dataclass
class Dashboard:
    """The numbers on a coordinator's home page. Other features add their own ``actions``
    (invitations waiting too long, say)."""

    today: dt.date
    by_status: list[StatusCount]
    seats: Seats  # over open requests (submitted to staffed)
    deadlines: list[DeadlineRow]  # open requests, nearest statutory deadline first
    actions: list[Action] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(s.count for s in self.by_status)


DEADLINES_SHOWN = 5
SOON = 5  # working days: a deadline this close is an action


def dashboard(session: Session, region_id: int, today: dt.date) -> Dashboard:
    counts = status_counts(session, region_id)
    open_requests = session.exec(
        select(ReviewRequest, Partnership)
        .join(Partnership, col(Partnership.id) == col(ReviewRequest.partnership_id))
        .where(Partnership.region_id == region_id, col(ReviewRequest.status).in_(OPEN_STATUSES))
    ).all()
    seats = _seats(session, [r for r, _ in open_requests])
    total = Seats(
        peers=sum(s.peers for s in seats.values()),
        accepted=sum(s.accepted for s in seats.values()),
        invited=sum(s.invited for s in seats.values()),
    )
    with_deadline = sorted(
        ((r, p) for r, p in open_requests if r.statutory_deadline is not None),
        key=lambda rp: (rp[0].statutory_deadline, rp[0].id),
    )
    deadlines = [
        DeadlineRow(
            request_id=r.id or 0,
            reference=r.reference,
            partnership_name=p.name,
            status=RequestStatus(r.status),
            due_on=r.statutory_deadline,
            working_days_left=working_days.working_days_between(today, r.statutory_deadline),
        )
        for r, p in with_deadline
        if r.statutory_deadline is not None and r.status != RequestStatus.staffed
    ]
    submitted = [r.id or 0 for r, _ in open_requests if r.status == RequestStatus.submitted]
    triaged = _triaged(session, submitted)
    short = [
        r
        for r, _ in open_requests
        if r.status == RequestStatus.inviting and seats[r.id or 0].unfilled
    ]
    soon = sum(1 for d in deadlines if d.working_days_left <= SOON)
    actions = [
        _action(len(submitted) - len(triaged), "submitted request", "to triage", "submitted"),
        _action(len(triaged), "request", "accepted and ready to match", "submitted"),
        _action(counts[RequestStatus.proposed], "proposal", "to approve", "proposed"),
        _action(len(short), "request", "with seats still to fill", "inviting"),
        Action(
            f"statutory deadline{'' if soon == 1 else 's'} within {SOON} working days or missed",
            soon,
            "#deadlines",
        ),
        _action(counts[RequestStatus.draft], "draft", "not yet submitted", "draft"),
    ]
    return Dashboard(
        today=today,
        by_status=[StatusCount(s, counts[s]) for s in RequestStatus],
        seats=total,
        deadlines=deadlines[:DEADLINES_SHOWN],
        actions=[a for a in actions if a.count],
    )


def _action(count: int, noun: str, rest: str, status: str) -> Action:
    """ "3 submitted requests to triage", linked to the list of those requests."""
    return Action(f"{noun}{'' if count == 1 else 's'} {rest}", count, f"/requests?status={status}")
