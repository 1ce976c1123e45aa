"""Tables. Rules over them live in the services (registry, requests, ...), not here.

No child's name or case narrative is ever stored: a review request carries a reference and the
characteristics the matching needs.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from pydantic import NaiveDatetime
from sqlalchemy import Column, Integer, String, Text, UniqueConstraint
from sqlalchemy import Enum as SAEnum
from sqlmodel import JSON, Field, SQLModel


def utcnow() -> dt.datetime:
    """Naive UTC, stored the same way on SQLite and PostgreSQL. Timestamp columns are typed
    ``NaiveDatetime``: SQLModel otherwise maps ``datetime`` to a timezone-aware column that
    refuses naive values."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Role(StrEnum):
    coordinator = "coordinator"
    admin = "admin"


class RequestStatus(StrEnum):
    draft = "draft"
    submitted = "submitted"
    matching = "matching"
    proposed = "proposed"
    inviting = "inviting"
    staffed = "staffed"
    completed = "completed"
    cancelled = "cancelled"


class RequestSource(StrEnum):
    coordinator = "coordinator"
    api = "api"
    seed = "seed"


class RunStatus(StrEnum):
    queued = "queued"
    running = "running"
    optimal = "optimal"
    feasible = "feasible"
    infeasible = "infeasible"
    failed = "failed"
    cancelled = "cancelled"


class AssignmentStatus(StrEnum):
    invited = "invited"
    accepted = "accepted"
    declined = "declined"
    expired = "expired"
    withdrawn = "withdrawn"


class PairDecisionKind(StrEnum):
    locked = "locked"
    excluded = "excluded"


class OutboxStatus(StrEnum):
    pending = "pending"
    sent = "sent"
    dead = "dead"


# Named constraints, so that later migrations can alter them (SQLite's batch mode needs names).
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _enum(cls: type[StrEnum]) -> SAEnum:
    # Stored as plain strings (no native PostgreSQL enum) so adding a value is a no-op migration.
    return SAEnum(cls, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class Region(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(sa_column=Column(String(40), unique=True, nullable=False))
    name: str = Field(max_length=120)
    # The region's own settings, kept by its coordinators (defaults are the service's).
    solver_time_limit_seconds: int = Field(default=30, sa_column_kwargs={"server_default": "30"})
    invitation_working_days: int = Field(default=5, sa_column_kwargs={"server_default": "5"})
    reminder_working_days: int = Field(default=2, sa_column_kwargs={"server_default": "2"})
    # How long training in a skill counts for matching after the date trained.
    training_valid_years: int = Field(default=3, sa_column_kwargs={"server_default": "3"})
    # Retention: what is past these is deleted or anonymised by the worker's retention job.
    retain_closed_years: int = Field(default=6, sa_column_kwargs={"server_default": "6"})
    retain_outbox_days: int = Field(default=90, sa_column_kwargs={"server_default": "90"})
    retain_audit_years: int = Field(default=6, sa_column_kwargs={"server_default": "6"})
    retain_leavers_years: int = Field(default=1, sa_column_kwargs={"server_default": "1"})


class Partnership(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("region_id", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    region_id: int = Field(foreign_key="region.id", index=True)
    code: str = Field(max_length=40)
    name: str = Field(max_length=120)
    # Reciprocity carried in from before PeerMatch (or from earlier years).
    opening_lent: int = 0
    opening_received: int = 0


class Organisation(SQLModel, table=True):
    """An employer (a police force, an integrated care board, a council's children's services).
    One may serve several partnerships of its region; independence is by organisation."""

    __table_args__ = (UniqueConstraint("region_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    region_id: int = Field(foreign_key="region.id", index=True)
    name: str = Field(max_length=120)
    agency: str = Field(max_length=40)  # its agency type, a vocabulary code
    created_at: NaiveDatetime = Field(default_factory=utcnow)


class OrganisationPartnership(SQLModel, table=True):
    """The partnerships an organisation serves (many to many)."""

    organisation_id: int = Field(
        foreign_key="organisation.id", primary_key=True, ondelete="CASCADE"
    )
    partnership_id: int = Field(foreign_key="partnership.id", primary_key=True)


class Reviewer(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    partnership_id: int = Field(foreign_key="partnership.id", index=True)
    # The reviewer's employer; the services always set it (NULL only in rows written before
    # migration 0006, which fills them).
    organisation_id: int | None = Field(default=None, foreign_key="organisation.id", index=True)
    name: str = Field(max_length=120)
    # Stored lower-cased; unique across the whole service.
    email: str = Field(sa_column=Column(String(254), unique=True, nullable=False))
    agency: str = Field(max_length=40, index=True)
    job_role: str = Field(default="", max_length=120)
    capacity: int = 1  # maximum concurrent reviews
    active: bool = True
    accredited_on: dt.date | None = None  # training/accreditation date
    # Peer reviews completed before PeerMatch (or elsewhere), and the end date of the last one;
    # reviews completed through PeerMatch are counted from their assignments on top of this.
    prior_reviews: int = 0
    last_review_on: dt.date | None = None
    created_at: NaiveDatetime = Field(default_factory=utcnow)
    updated_at: NaiveDatetime = Field(default_factory=utcnow)


class ReviewerSkill(SQLModel, table=True):
    reviewer_id: int = Field(foreign_key="reviewer.id", primary_key=True, ondelete="CASCADE")
    skill: str = Field(max_length=40, primary_key=True)


class Unavailability(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    reviewer_id: int = Field(foreign_key="reviewer.id", index=True, ondelete="CASCADE")
    starts_on: dt.date
    ends_on: dt.date  # inclusive


class ReviewerConflict(SQLModel, table=True):
    """A declared conflict of interest with a whole partnership."""

    reviewer_id: int = Field(foreign_key="reviewer.id", primary_key=True, ondelete="CASCADE")
    partnership_id: int = Field(foreign_key="partnership.id", primary_key=True)


class ReviewRequest(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("partnership_id", "reference"),)

    id: int | None = Field(default=None, primary_key=True)
    partnership_id: int = Field(foreign_key="partnership.id", index=True)
    reference: str = Field(max_length=40)  # never a child's name
    methodology: str = Field(max_length=40)
    high_profile: bool = False
    agencies_involved: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    # Ids of the organisations involved in the case (migration 0006); their agency types are
    # always among ``agencies_involved`` too.
    organisations_involved: list[int] = Field(default_factory=list, sa_column=Column(JSON))
    required_skills: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    peers: int = 2
    window_start: dt.date
    window_end: dt.date
    notified_on: dt.date | None = None
    statutory_deadline: dt.date | None = None
    # True when a coordinator typed the deadline instead of taking the computed one.
    deadline_overridden: bool = False
    needs_experienced: bool = False
    source: RequestSource = Field(
        default=RequestSource.coordinator,
        sa_column=Column(_enum(RequestSource), nullable=False, server_default="coordinator"),
    )
    # A coordinator may pause automatic re-matching of this request's declined seats.
    rematch_paused: bool = False
    # Set when a decline or an expiry freed a seat; the worker re-matches the request and
    # clears it (the page meanwhile says "finding a replacement"). ``rematch_claimed_until``:
    # the worker that claimed it, until then (another may take it over after).
    rematch_wanted_at: NaiveDatetime | None = Field(default=None, index=True)
    rematch_claimed_until: NaiveDatetime | None = None
    status: RequestStatus = Field(
        default=RequestStatus.draft, sa_column=Column(_enum(RequestStatus), nullable=False)
    )
    created_at: NaiveDatetime = Field(default_factory=utcnow)
    updated_at: NaiveDatetime = Field(default_factory=utcnow)


class RequestConflict(SQLModel, table=True):
    """A reviewer declared conflicted with one particular request."""

    reviewer_id: int = Field(foreign_key="reviewer.id", primary_key=True, ondelete="CASCADE")
    request_id: int = Field(foreign_key="reviewrequest.id", primary_key=True, ondelete="CASCADE")


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(sa_column=Column(String(254), unique=True, nullable=False))
    name: str = Field(max_length=120)
    password_hash: str = Field(max_length=255)
    role: Role = Field(default=Role.coordinator, sa_column=Column(_enum(Role), nullable=False))
    region_id: int = Field(foreign_key="region.id", index=True)
    active: bool = True
    created_at: NaiveDatetime = Field(default_factory=utcnow)


class ApiKey(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    partnership_id: int = Field(foreign_key="partnership.id", index=True)
    name: str = Field(max_length=120)
    prefix: str = Field(sa_column=Column(String(16), unique=True, nullable=False))
    key_hash: str = Field(max_length=128)  # sha256 of the secret part; the key is shown once
    created_at: NaiveDatetime = Field(default_factory=utcnow)
    revoked_at: NaiveDatetime | None = None
    expires_at: NaiveDatetime | None = None
    last_used_at: NaiveDatetime | None = None


class AuditEvent(SQLModel, table=True):
    """Append-only: who did what to which thing, when. No personal data in ``detail``."""

    id: int | None = Field(default=None, primary_key=True)
    at: NaiveDatetime = Field(default_factory=utcnow, index=True)
    actor: str = Field(max_length=120)  # "user:12", "apikey:3", "cli", "system"
    region_id: int | None = Field(default=None, foreign_key="region.id", index=True)
    action: str = Field(max_length=60)  # "reviewer.create", "request.view", ...
    entity: str = Field(max_length=40)
    entity_id: str | None = Field(default=None, max_length=40)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))


class WebSession(SQLModel, table=True):
    """A coordinator's signed-in session. The cookie holds a random token; only its hash is
    stored. Idle and absolute timeouts are computed from the two timestamps."""

    token_hash: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    created_at: NaiveDatetime = Field(default_factory=utcnow)
    last_seen_at: NaiveDatetime = Field(default_factory=utcnow)


# --- Issue 6-9 tables: requests lifecycle, matching runs, invitations, outbox, ledger, API ------
#
# Added together (migration 0002) so that the features built on them can land in any order.


class MatchRun(SQLModel, table=True):
    """One solve of a region's open requests: its inputs, outputs and who asked for it.

    ``active_region_id`` equals ``region_id`` while the run is queued or running and is NULL
    otherwise; its unique constraint is what lets only one run per region be under way, on
    SQLite and PostgreSQL alike (NULLs never clash)."""

    id: int | None = Field(default=None, primary_key=True)
    region_id: int = Field(foreign_key="region.id", index=True)
    active_region_id: int | None = Field(
        default=None, sa_column=Column(Integer, unique=True, nullable=True)
    )
    started_by: str = Field(max_length=120)  # audit actor: "user:12", "cli", "system"
    started_at: NaiveDatetime = Field(default_factory=utcnow)
    # Touched every few seconds by the process supervising the solver; a queued or running run
    # whose heartbeat stops was orphaned (its server died) and is marked failed.
    heartbeat_at: NaiveDatetime | None = None
    finished_at: NaiveDatetime | None = None
    status: RunStatus = Field(
        default=RunStatus.queued, sa_column=Column(_enum(RunStatus), nullable=False)
    )
    time_limit: float = 30.0
    problem: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    solution: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    seats: int = 0  # seats asked for across the run's requests
    filled: int | None = None
    imbalance: int | None = None
    seconds: float | None = None
    error: str | None = Field(default=None, max_length=500)  # plain words, no personal data
    approved_at: NaiveDatetime | None = None
    approved_by: str | None = Field(default=None, max_length=120)
    # Why the run was started: "coordinator", "rematch" (a decline or expiry), "cli".
    purpose: str = Field(default="coordinator", max_length=20)


class PairDecision(SQLModel, table=True):
    """A coordinator's lock or exclusion of one reviewer on one request; every later run of the
    region honours it until it is removed."""

    request_id: int = Field(foreign_key="reviewrequest.id", primary_key=True, ondelete="CASCADE")
    reviewer_id: int = Field(foreign_key="reviewer.id", primary_key=True, ondelete="CASCADE")
    kind: PairDecisionKind = Field(sa_column=Column(_enum(PairDecisionKind), nullable=False))
    decided_by: str = Field(max_length=120)
    decided_at: NaiveDatetime = Field(default_factory=utcnow)


class Assignment(SQLModel, table=True):
    """A reviewer placed on a request: invited on approval (or re-match), then accepted,
    declined, expired or withdrawn. Declined and expired pairs are never proposed again."""

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="reviewrequest.id", index=True)
    reviewer_id: int = Field(foreign_key="reviewer.id", index=True)
    run_id: int | None = Field(default=None, foreign_key="matchrun.id", index=True)
    status: AssignmentStatus = Field(
        default=AssignmentStatus.invited, sa_column=Column(_enum(AssignmentStatus), nullable=False)
    )
    invited_at: NaiveDatetime = Field(default_factory=utcnow)
    expires_at: NaiveDatetime | None = None
    reminded_at: NaiveDatetime | None = None
    responded_at: NaiveDatetime | None = None
    # A short reason the reviewer may give when declining (a choice code, not narrative).
    decline_reason: str | None = Field(default=None, max_length=200)
    # Single-use answer links: the nonce signed into the link; cleared once used or withdrawn.
    link_nonce: str | None = Field(default=None, max_length=64)
    # Calendar invitation: stable UID, SEQUENCE raised on every change.
    ics_uid: str = Field(default="", max_length=120)
    ics_sequence: int = 0
    updated_at: NaiveDatetime = Field(default_factory=utcnow)


class RequestEvent(SQLModel, table=True):
    """The timeline a coordinator reads on a request: what happened, in plain words built from
    ``kind`` and ``detail`` (ids and codes only, names are joined in when shown)."""

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="reviewrequest.id", index=True, ondelete="CASCADE")
    at: NaiveDatetime = Field(default_factory=utcnow)
    actor: str = Field(max_length=120)
    kind: str = Field(max_length=40)  # "submitted", "invited", "declined", "rematched", ...
    reviewer_id: int | None = Field(default=None, foreign_key="reviewer.id")
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))


class OutboxMessage(SQLModel, table=True):
    """An email written in the same transaction as the change that causes it; the relay
    delivers it. ``message_id`` stays the same across retries."""

    id: int | None = Field(default=None, primary_key=True)
    region_id: int | None = Field(default=None, foreign_key="region.id", index=True)
    assignment_id: int | None = Field(default=None, foreign_key="assignment.id", index=True)
    kind: str = Field(max_length=40)  # "invitation", "reminder", "cancellation", ...
    message_id: str = Field(sa_column=Column(String(255), unique=True, nullable=False))
    to_address: str = Field(max_length=254)
    subject: str = Field(max_length=255)
    text_body: str = Field(sa_column=Column(Text, nullable=False))
    html_body: str = Field(sa_column=Column(Text, nullable=False))
    ics: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    status: OutboxStatus = Field(
        default=OutboxStatus.pending, sa_column=Column(_enum(OutboxStatus), nullable=False)
    )
    attempts: int = 0
    created_at: NaiveDatetime = Field(default_factory=utcnow, index=True)
    next_attempt_at: NaiveDatetime = Field(default_factory=utcnow, index=True)
    claimed_until: NaiveDatetime | None = None
    sent_at: NaiveDatetime | None = None
    last_error: str | None = Field(default=None, max_length=500)  # SMTP code and words only
    # When a coordinator last put this dead letter back in the queue: the give-up period
    # starts again from here (migration 0003_invite).
    retried_at: NaiveDatetime | None = None


class LedgerEntry(SQLModel, table=True):
    """One peer lent by ``lender`` to ``receiver`` for a review, written when the peer accepts.
    A reversal (the request cancelled before the review ran) is an entry with ``amount`` -1."""

    id: int | None = Field(default=None, primary_key=True)
    region_id: int = Field(foreign_key="region.id", index=True)
    lender_partnership_id: int = Field(foreign_key="partnership.id", index=True)
    receiver_partnership_id: int = Field(foreign_key="partnership.id", index=True)
    request_id: int = Field(foreign_key="reviewrequest.id", index=True)
    assignment_id: int | None = Field(default=None, foreign_key="assignment.id")
    lent_on: dt.date
    amount: int = 1
    created_at: NaiveDatetime = Field(default_factory=utcnow)


class IdempotencyRecord(SQLModel, table=True):
    """The first response to a POST with an ``Idempotency-Key``, replayed for repeats."""

    api_key_id: int = Field(foreign_key="apikey.id", primary_key=True)
    key: str = Field(max_length=255, primary_key=True)
    method: str = Field(max_length=10)
    path: str = Field(max_length=255)
    body_hash: str = Field(max_length=64)
    status_code: int | None = None  # NULL while the first request is still being handled
    response_body: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: NaiveDatetime = Field(default_factory=utcnow)


class SignInThrottle(SQLModel, table=True):
    """Failed sign-ins counted per client address and per (email, client address), so that
    several app processes slow an attacker together. ``key`` holds no email in clear (a hash)."""

    key: str = Field(primary_key=True, max_length=120)
    failures: int = 0
    last_failure_at: NaiveDatetime = Field(default_factory=utcnow)
    blocked_until: NaiveDatetime | None = None


class ApiRateWindow(SQLModel, table=True):
    """Calls one API key made in one fixed window (a minute), counted in the database so that
    every app process shares the key's limit. ``key`` is the API key's public prefix."""

    key: str = Field(primary_key=True, max_length=120)
    window_start: NaiveDatetime = Field(primary_key=True)
    calls: int = 0
