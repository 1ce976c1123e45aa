"""Review requests: a partnership asks the region for peers. Only a reference and the
characteristics the matching needs are stored, never a child's name or the case narrative."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from sqlmodel import Session, select

from peermatch import audit
from peermatch.errors import DomainError, ValidationFailed
from peermatch.models import Partnership, RequestEvent, RequestStatus, ReviewRequest, utcnow
from peermatch.vocabulary import load as load_vocabulary

MIN_PEERS, MAX_PEERS = 1, 6
MAX_REFERENCE = 40
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
    statutory_deadline: dt.date | None = None


def validation_errors(session: Session, region_id: int, data: RequestInput) -> dict[str, str]:
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
    elif partnership is not None and _reference_taken(session, partnership.id, reference):
        errors["reference"] = "This partnership already has a request with this reference"
    if data.methodology not in vocab.methodologies:
        errors["methodology"] = f"Methodology must be one of: {', '.join(vocab.methodologies)}"
    if data.peers is None or not MIN_PEERS <= data.peers <= MAX_PEERS:
        errors["peers"] = f"A review needs from {MIN_PEERS} to {MAX_PEERS} peers"
    if data.window_start is None or data.window_end is None:
        errors["window_start"] = "Enter the dates the review will run between"
    elif data.window_start > data.window_end:
        errors["window_end"] = "The review window must end on or after its start"
    if unknown := [a for a in data.agencies_involved if a not in vocab.agencies]:
        errors["agencies_involved"] = f"Unknown agency {', '.join(unknown)}"
    if unknown := [s for s in data.required_skills if s not in vocab.skills]:
        errors["required_skills"] = f"Unknown skill {', '.join(unknown)}"
    if data.notified_on and data.statutory_deadline and data.statutory_deadline < data.notified_on:
        errors["statutory_deadline"] = "The statutory deadline cannot be before the notification"
    return errors


def _reference_taken(session: Session, partnership_id: int | None, reference: str) -> bool:
    found = session.exec(
        select(ReviewRequest.id).where(
            ReviewRequest.partnership_id == partnership_id, ReviewRequest.reference == reference
        )
    ).first()
    return found is not None


def create_request(
    session: Session,
    region_id: int,
    data: RequestInput,
    *,
    actor: str,
    status: RequestStatus = RequestStatus.draft,
) -> ReviewRequest:
    if errors := validation_errors(session, region_id, data):
        raise ValidationFailed(errors)
    assert data.window_start and data.window_end and data.peers  # checked above
    request = ReviewRequest(
        partnership_id=data.partnership_id or 0,
        reference=data.reference.strip(),
        methodology=data.methodology,
        high_profile=data.high_profile,
        agencies_involved=sorted(set(data.agencies_involved)),
        required_skills=sorted(set(data.required_skills)),
        peers=data.peers,
        window_start=data.window_start,
        window_end=data.window_end,
        notified_on=data.notified_on,
        statutory_deadline=data.statutory_deadline,
        status=status,
    )
    session.add(request)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="request.create",
        entity="reviewrequest",
        entity_id=request.id,
        region_id=region_id,
        detail={"status": str(status)},
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
