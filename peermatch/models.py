"""Tables. Rules over them live in the services (registry, requests, ...), not here.

No child's name or case narrative is ever stored: a review request carries a reference and the
characteristics the matching needs.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from pydantic import NaiveDatetime
from sqlalchemy import Column, String, UniqueConstraint
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


class Partnership(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("region_id", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    region_id: int = Field(foreign_key="region.id", index=True)
    code: str = Field(max_length=40)
    name: str = Field(max_length=120)
    # Reciprocity carried in from before PeerMatch (or from earlier years).
    opening_lent: int = 0
    opening_received: int = 0


class Reviewer(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    partnership_id: int = Field(foreign_key="partnership.id", index=True)
    name: str = Field(max_length=120)
    # Stored lower-cased; unique across the whole service.
    email: str = Field(sa_column=Column(String(254), unique=True, nullable=False))
    agency: str = Field(max_length=40, index=True)
    job_role: str = Field(default="", max_length=120)
    capacity: int = 1  # maximum concurrent reviews
    active: bool = True
    accredited_on: dt.date | None = None  # training/accreditation date
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
    required_skills: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    peers: int = 2
    window_start: dt.date
    window_end: dt.date
    notified_on: dt.date | None = None
    statutory_deadline: dt.date | None = None
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


class SignInThrottle(SQLModel, table=True):
    """Failed sign-ins counted per client address and per (email, client address), so that
    several app processes slow an attacker together. ``key`` holds no email in clear (a hash)."""

    key: str = Field(primary_key=True, max_length=120)
    failures: int = 0
    last_failure_at: NaiveDatetime = Field(default_factory=utcnow)
    blocked_until: NaiveDatetime | None = None
