"""What a partnership may do through the API, always within its own partnership.

The registry, requests and ledger services hold the rules; this module narrows them to one
partnership and shapes their results for the API. Another partnership's request or reviewer is
reported exactly as a missing one (:class:`ForeignResource` is a :class:`NotFound`), and the
attempt is written to the audit log by the API's unit of work.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import msgspec
from sqlmodel import Session, col, select

from peermatch import audit, ledger, organisations, registry
from peermatch.api import schemas
from peermatch.api.auth import ApiClient
from peermatch.errors import NotFound
from peermatch.models import (
    Assignment,
    AssignmentStatus,
    Partnership,
    RequestSource,
    RequestStatus,
    Reviewer,
    ReviewRequest,
)
from peermatch.staffing import requests
from peermatch.staffing.requests import RequestInput, create_request

MAX_PAGE = 100


class ForeignResource(NotFound):
    """The id exists but belongs to another partnership; answered as not found, audited."""

    def __init__(self, client: ApiClient, entity: str, entity_id: int, region_id: int) -> None:
        super().__init__("Not found")
        self.client = client
        self.entity = entity
        self.entity_id = entity_id
        self.region_id = region_id


def record_foreign_attempt(session: Session, exc: ForeignResource, method: str) -> None:
    """Audit a partnership reaching for another's resource (in the owner's region's log)."""
    audit.record(
        session,
        actor=exc.client.actor,
        action="api.foreign_resource",
        entity=exc.entity,
        entity_id=exc.entity_id,
        region_id=exc.region_id,
        detail={
            "method": method,
            "partnership_id": exc.client.partnership_id,
            "caller_region_id": exc.client.region_id,
        },
    )


# --- organisations ---------------------------------------------------------------------------


def api_organisations(session: Session, client: ApiClient) -> schemas.OrganisationList:
    """The organisations serving the key's partnership."""
    found = organisations.list_organisations(
        session, client.region_id, partnership_id=client.partnership_id
    )
    return schemas.OrganisationList(
        items=[schemas.OrganisationOut(id=o.id, name=o.name, agency=o.agency) for o in found]
    )


# --- requests --------------------------------------------------------------------------------


def create_api_request(
    session: Session, client: ApiClient, data: schemas.RequestCreate
) -> schemas.RequestOut:
    """A request submitted through the API: straight to the coordinator, marked source=api."""
    request = create_request(
        session,
        client.region_id,
        RequestInput(
            partnership_id=client.partnership_id,
            reference=data.reference,
            methodology=data.methodology,
            window_start=data.window_start,
            window_end=data.window_end,
            peers=data.peers,
            high_profile=data.high_profile,
            agencies_involved=list(data.agencies_involved),
            organisations_involved=list(data.organisations_involved),
            required_skills=list(data.required_skills),
            notified_on=data.notified_on,
        ),
        actor=client.actor,
        status=RequestStatus.submitted,
        source=RequestSource.api,
    )
    return _request_views(session, [request])[0]


def list_api_requests(
    session: Session,
    client: ApiClient,
    *,
    status: RequestStatus | None,
    after: int,
    limit: int,
) -> tuple[list[schemas.RequestOut], int | None]:
    """The partnership's requests by id, after the cursor ``after``; and the next cursor."""
    query = select(ReviewRequest).where(
        ReviewRequest.partnership_id == client.partnership_id, col(ReviewRequest.id) > after
    )
    if status is not None:
        query = query.where(ReviewRequest.status == status)
    rows = list(session.exec(query.order_by(col(ReviewRequest.id)).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return _request_views(session, rows), (rows[-1].id if more and rows else None)


def get_api_request(session: Session, client: ApiClient, request_id: int) -> schemas.RequestOut:
    request = _own_request(session, client, request_id)
    audit.record(
        session,
        actor=client.actor,
        action="request.view",
        entity="reviewrequest",
        entity_id=request_id,
        region_id=client.region_id,
    )
    return _request_views(session, [request])[0]


def cancel_api_request(session: Session, client: ApiClient, request_id: int) -> schemas.RequestOut:
    """Cancel the request (IllegalTransition once it is completed or cancelled) and take back
    any peers the ledger counted as lent to it."""
    _own_request(session, client, request_id)
    request = requests.cancel(session, client.region_id, request_id, actor=client.actor)
    return _request_views(session, [request])[0]


def _own_request(session: Session, client: ApiClient, request_id: int) -> ReviewRequest:
    request = session.get(ReviewRequest, request_id)
    if request is None:
        raise NotFound("No such request")
    if request.partnership_id != client.partnership_id:
        owner = session.get(Partnership, request.partnership_id)
        region_id = owner.region_id if owner else client.region_id
        raise ForeignResource(client, "reviewrequest", request_id, region_id)
    return request


def _request_views(session: Session, rows: list[ReviewRequest]) -> list[schemas.RequestOut]:
    ids = [r.id for r in rows]
    peers: dict[int, list[schemas.Peer]] = defaultdict(list)
    if ids:
        accepted = session.exec(
            select(Assignment.request_id, Reviewer, Partnership)
            .join(Reviewer, col(Reviewer.id) == col(Assignment.reviewer_id))
            .join(Partnership, col(Partnership.id) == col(Reviewer.partnership_id))
            .where(
                col(Assignment.request_id).in_(ids),
                Assignment.status == AssignmentStatus.accepted,
            )
            .order_by(col(Assignment.id))
        ).all()
        for request_id, reviewer, partnership in accepted:
            peers[request_id].append(
                schemas.Peer(
                    name=reviewer.name,
                    agency=reviewer.agency,
                    partnership_code=partnership.code,
                    partnership_name=partnership.name,
                )
            )
    return [
        schemas.RequestOut(
            id=r.id or 0,
            reference=r.reference,
            methodology=r.methodology,
            high_profile=r.high_profile,
            agencies_involved=list(r.agencies_involved),
            organisations_involved=list(r.organisations_involved or []),
            required_skills=list(r.required_skills),
            peers=r.peers,
            window_start=r.window_start,
            window_end=r.window_end,
            notified_on=r.notified_on,
            status=RequestStatus(r.status),
            source=RequestSource(r.source),
            seats_filled=len(peers[r.id or 0]),
            accepted_peers=peers[r.id or 0],
            created_at=r.created_at.replace(tzinfo=dt.UTC),
            updated_at=r.updated_at.replace(tzinfo=dt.UTC),
        )
        for r in rows
    ]


# --- reviewers -------------------------------------------------------------------------------


def list_api_reviewers(
    session: Session, client: ApiClient, *, active: bool | None, page: int, limit: int
) -> tuple[list[schemas.ReviewerOut], int | None]:
    """The partnership's reviewers in name order, a page at a time; and the next page."""
    found = registry.list_reviewers(
        session,
        client.region_id,
        registry.ReviewerFilter(partnership_id=client.partnership_id, active=active),
        page=page,
        per_page=limit,
    )
    more = page * limit < found.total
    return [_reviewer_out(v) for v in found.items], (page + 1 if more else None)


def get_api_reviewer(session: Session, client: ApiClient, reviewer_id: int) -> schemas.ReviewerOut:
    return _reviewer_out(_own_reviewer(session, client, reviewer_id))


def create_api_reviewer(
    session: Session, client: ApiClient, data: schemas.ReviewerCreate
) -> schemas.ReviewerOut:
    view = registry.create_reviewer(
        session,
        client.region_id,
        registry.ReviewerInput(
            name=data.name,
            email=data.email,
            partnership_id=client.partnership_id,
            agency=data.agency,
            job_role=data.job_role,
            skills=list(data.skills),
            capacity=data.capacity,
            active=data.active,
            accredited_on=data.accredited_on,
            unavailable=[(p.starts_on, p.ends_on) for p in data.unavailable],
        ),
        actor=client.actor,
    )
    return _reviewer_out(view)


def update_api_reviewer(
    session: Session, client: ApiClient, reviewer_id: int, patch: schemas.ReviewerPatch
) -> schemas.ReviewerOut:
    """Change the fields sent, keep the rest (declared conflicts included)."""
    data = _own_reviewer(session, client, reviewer_id).as_input()
    if patch.agency is not msgspec.UNSET and patch.agency != data.agency:
        # Their organisation is of the old agency: they move to their partnership's own one.
        data.organisation_id = None
    for name in ("name", "email", "agency", "job_role", "capacity", "active", "accredited_on"):
        value = getattr(patch, name)
        if value is not msgspec.UNSET:
            setattr(data, name, value)
    if not isinstance(patch.skills, msgspec.UnsetType):
        data.skills = list(patch.skills)
    if not isinstance(patch.unavailable, msgspec.UnsetType):
        data.unavailable = [(p.starts_on, p.ends_on) for p in patch.unavailable]
    view = registry.update_reviewer(
        session, client.region_id, reviewer_id, data, actor=client.actor
    )
    return _reviewer_out(view)


def _own_reviewer(session: Session, client: ApiClient, reviewer_id: int) -> registry.ReviewerView:
    reviewer = session.get(Reviewer, reviewer_id)
    if reviewer is None:
        raise NotFound("No such reviewer")
    if reviewer.partnership_id != client.partnership_id:
        owner = session.get(Partnership, reviewer.partnership_id)
        region_id = owner.region_id if owner else client.region_id
        raise ForeignResource(client, "reviewer", reviewer_id, region_id)
    return registry.get_reviewer(session, client.region_id, reviewer_id)


def _reviewer_out(view: registry.ReviewerView) -> schemas.ReviewerOut:
    return schemas.ReviewerOut(
        id=view.id,
        name=view.name,
        email=view.email,
        agency=view.agency,
        job_role=view.job_role,
        skills=list(view.skills),
        capacity=view.capacity,
        active=view.active,
        accredited_on=view.accredited_on,
        unavailable=[schemas.Period(starts_on=s, ends_on=e) for s, e in view.unavailable],
    )


# --- ledger ----------------------------------------------------------------------------------


def api_ledger(
    session: Session, client: ApiClient, *, start: dt.date | None, end: dt.date | None
) -> schemas.LedgerOut:
    """The partnership's own line of the region's ledger; other partnerships' are not shown."""
    own = next(
        b
        for b in ledger.balances(session, client.region_id, start=start, end=end)
        if b.partnership_id == client.partnership_id
    )
    return schemas.LedgerOut(
        partnership_code=own.code,
        from_date=start,
        to_date=end,
        opening=own.opening,
        lent=own.lent,
        received=own.received,
        balance=own.closing,
    )
