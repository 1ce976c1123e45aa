"""Which region a request, reviewer or invitation belongs to: the one check every staffing
command makes before it acts. Outside the caller's region a thing is NotFound (we never say
whether it exists elsewhere)."""

from __future__ import annotations

from sqlmodel import Session, col, select

from peermatch.errors import NotFound
from peermatch.models import Assignment, Partnership, Reviewer, ReviewRequest


def region_of_request(session: Session, request_id: int) -> int | None:
    return session.exec(
        select(Partnership.region_id)
        .join(ReviewRequest, col(ReviewRequest.partnership_id) == col(Partnership.id))
        .where(ReviewRequest.id == request_id)
    ).first()


def request_in_region(
    session: Session, region_id: int, request_id: int, *, lock: bool = False
) -> tuple[ReviewRequest, Partnership]:
    """The request and its partnership. ``lock``: hold the request's row until the caller's
    transaction ends (PostgreSQL; SQLite writes one at a time anyway), so that two commands on
    one request run one after the other and the second sees what the first did."""
    query = (
        select(ReviewRequest, Partnership)
        .join(Partnership, col(Partnership.id) == col(ReviewRequest.partnership_id))
        .where(ReviewRequest.id == request_id, Partnership.region_id == region_id)
    )
    if lock:
        query = query.with_for_update(of=ReviewRequest).execution_options(populate_existing=True)
    row = session.exec(query).first()
    if row is None:
        raise NotFound("No such request")
    return row[0], row[1]


def reviewer_in_region(session: Session, region_id: int, reviewer_id: int) -> Reviewer:
    row = session.exec(
        select(Reviewer)
        .join(Partnership, col(Partnership.id) == col(Reviewer.partnership_id))
        .where(Reviewer.id == reviewer_id, Partnership.region_id == region_id)
    ).first()
    if row is None:
        raise NotFound(f"No reviewer {reviewer_id} in this region")
    return row


def assignment_in_region(session: Session, region_id: int, assignment_id: int) -> Assignment:
    assignment = session.get(Assignment, assignment_id)
    if assignment is None or region_of_request(session, assignment.request_id) != region_id:
        raise NotFound("No such invitation")
    return assignment
