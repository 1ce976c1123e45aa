"""A coordinator's home page: what needs them now, where the region's requests stand, the
nearest statutory deadlines and the invitations' tiles, in words and links."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import func
from sqlmodel import Session, col, select

from peermatch import working_days
from peermatch.models import (
    Assignment,
    AssignmentStatus,
    OutboxMessage,
    OutboxStatus,
    Partnership,
    RequestEvent,
    RequestStatus,
    ReviewRequest,
    utcnow,
)
from peermatch.staffing import match_runs, requests
from peermatch.staffing.requests import OPEN_STATUSES, Seats


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
    counts = requests.status_counts(session, region_id)
    open_requests = session.exec(
        select(ReviewRequest, Partnership)
        .join(Partnership, col(Partnership.id) == col(ReviewRequest.partnership_id))
        .where(Partnership.region_id == region_id, col(ReviewRequest.status).in_(OPEN_STATUSES))
    ).all()
    seats = requests.seats_of(session, [r for r, _ in open_requests])
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
    triaged = requests.triaged(session, submitted)
    short = [
        r
        for r, _ in open_requests
        if r.status == RequestStatus.inviting and seats[r.id or 0].unfilled
    ]
    soon = sum(1 for d in deadlines if d.working_days_left <= SOON)
    actions = [
        _action(len(submitted) - len(triaged), "submitted request", "to triage", "submitted"),
        _action(len(triaged), "request", "accepted and ready to match", "submitted"),
        _proposal_action(session, region_id, counts[RequestStatus.proposed]),
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


def _proposal_action(session: Session, region_id: int, proposed: int) -> Action:
    """The proposal waiting for approval leads to its run's page, where it can be approved;
    requests left proposed by an earlier run (a later run failed or was cancelled, say) lead
    to the runs page, to run matching again."""
    if not proposed:
        return Action("", 0, "")
    run = match_runs.awaiting_approval(session, region_id)
    if run is not None:
        return Action(
            f"proposal to approve, for {proposed} request{'' if proposed == 1 else 's'}",
            1,
            f"/runs/{run.id}",
        )
    return Action(
        f"request{'' if proposed == 1 else 's'} proposed a team by an earlier run: "
        "run matching again",
        proposed,
        "/runs",
    )


def _action(count: int, noun: str, rest: str, status: str) -> Action:
    """ "3 submitted requests to triage", linked to the list of those requests."""
    return Action(f"{noun}{'' if count == 1 else 's'} {rest}", count, f"/requests?status={status}")


@dataclass(frozen=True)
class InvitationTiles:
    awaiting_answer: int
    dead_letters: int
    rematched_last_30_days: int


def invitation_tiles(
    session: Session, region_id: int, *, now: dt.datetime | None = None
) -> InvitationTiles:
    """The home page's tiles for invitations."""
    now = now or utcnow()
    in_region = col(ReviewRequest.partnership_id).in_(
        select(Partnership.id).where(Partnership.region_id == region_id)
    )
    awaiting = session.exec(
        select(func.count())
        .select_from(Assignment)
        .join(ReviewRequest, col(ReviewRequest.id) == col(Assignment.request_id))
        .where(Assignment.status == AssignmentStatus.invited, in_region)
    ).one()
    dead = session.exec(
        select(func.count()).where(
            OutboxMessage.region_id == region_id, OutboxMessage.status == OutboxStatus.dead
        )
    ).one()
    rematched = session.exec(
        select(func.count())
        .select_from(RequestEvent)
        .join(ReviewRequest, col(ReviewRequest.id) == col(RequestEvent.request_id))
        .where(
            RequestEvent.kind == "rematched",
            col(RequestEvent.at) >= now - dt.timedelta(days=30),
            in_region,
        )
    ).one()
    return InvitationTiles(int(awaiting), int(dead), int(rematched))
