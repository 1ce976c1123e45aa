"""The reviewer registry: who can review, for which partnership, with which skills, when.

Services take a session and the caller's region, flush but never commit (the caller's
transaction decides), and raise domain errors. A reviewer outside the caller's region is
reported as not found, never as forbidden: a region must not learn what another one holds.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, Generic, TypeVar

from sqlalchemy import and_, case, delete, exists, func
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from peermatch import audit, email_address, organisations, text
from peermatch.errors import NotFound, ValidationFailed
from peermatch.models import (
    Assignment,
    AssignmentStatus,
    Organisation,
    Partnership,
    Region,
    RequestStatus,
    Reviewer,
    ReviewerConflict,
    ReviewerSkill,
    ReviewRequest,
    Unavailability,
    utcnow,
)
from peermatch.vocabulary import load as load_vocabulary

MAX_CAPACITY = 10  # concurrent reviews; more than this is a typing mistake, not a reviewer
MAX_PRIOR_REVIEWS = 500
MAX_NAME = 120
MAX_JOB_ROLE = 120
MAX_UNAVAILABLE = 100  # periods away per reviewer
# Emails are unique across the whole service (one person, one capacity, one inbox for
# invitations). The message is the same whichever region holds the address and names no
# reviewer, so it says nothing about another region beyond what uniqueness must.
DUPLICATE_EMAIL = (
    "This email address cannot be used: it is already registered for a reviewer. "
    "Check it is the reviewer's own work email address"
)

T = TypeVar("T")
_BLANKS = re.compile(r"[ \t\r\n]+")


@dataclass
class ReviewerInput:
    name: str
    email: str
    partnership_id: int | None
    agency: str
    job_role: str = ""
    skills: list[str] = field(default_factory=list)
    capacity: int | None = 1
    active: bool = True
    accredited_on: dt.date | None = None
    # Peer reviews completed before PeerMatch, and the end date of the last of them.
    prior_reviews: int | None = 0
    last_review_on: dt.date | None = None
    unavailable: list[tuple[dt.date, dt.date]] = field(default_factory=list)
    conflict_partnership_ids: list[int] = field(default_factory=list)
    # The employer; None: keep the reviewer's current one if it still fits, else the default
    # "<Partnership> <agency label>" organisation (created if missing).
    organisation_id: int | None = None


@dataclass
class ReviewerView:
    id: int
    name: str
    email: str
    partnership_id: int
    partnership_code: str
    partnership_name: str
    agency: str
    job_role: str
    skills: list[str]
    capacity: int
    active: bool
    accredited_on: dt.date | None
    unavailable: list[tuple[dt.date, dt.date]]
    conflict_partnership_ids: list[int]
    prior_reviews: int = 0
    last_review_on: dt.date | None = None
    organisation_id: int | None = None
    organisation_name: str = ""

    def as_input(self) -> ReviewerInput:
        """The form a coordinator would submit to leave this reviewer unchanged."""
        return ReviewerInput(
            name=self.name,
            email=self.email,
            partnership_id=self.partnership_id,
            agency=self.agency,
            job_role=self.job_role,
            skills=list(self.skills),
            capacity=self.capacity,
            active=self.active,
            accredited_on=self.accredited_on,
            prior_reviews=self.prior_reviews,
            last_review_on=self.last_review_on,
            unavailable=list(self.unavailable),
            conflict_partnership_ids=list(self.conflict_partnership_ids),
            organisation_id=self.organisation_id,
        )


@dataclass(frozen=True)
class ReviewerFilter:
    q: str | None = None
    partnership_id: int | None = None
    agency: str | None = None
    skill: str | None = None
    available_on: dt.date | None = None
    active: bool | None = None


@dataclass
class Page(Generic[T]):
    items: list[T]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


@dataclass
class PartnershipSummary:
    id: int
    code: str
    name: str
    reviewers: int
    active_reviewers: int
    opening_lent: int
    opening_received: int


# --- lookups ---------------------------------------------------------------------------------


def find_region(session: Session, code: str) -> Region:
    region = session.exec(select(Region).where(Region.code == code.strip())).first()
    if region is None:
        raise NotFound(f"No region has the code {code.strip()!r}")
    return region


def find_partnership(session: Session, region_id: int, code: str) -> Partnership:
    partnership = session.exec(
        select(Partnership).where(
            Partnership.region_id == region_id, Partnership.code == code.strip()
        )
    ).first()
    if partnership is None:
        raise NotFound(f"No partnership in this region has the code {code.strip()!r}")
    return partnership


def region_partnerships(session: Session, region_id: int) -> dict[int, Partnership]:
    rows = session.exec(select(Partnership).where(Partnership.region_id == region_id))
    return {p.id: p for p in rows if p.id is not None}


def list_partnerships(session: Session, region_id: int) -> list[PartnershipSummary]:
    active = func.coalesce(func.sum(case((col(Reviewer.active), 1), else_=0)), 0)
    rows = session.exec(
        select(Partnership, func.count(col(Reviewer.id)), active)
        .outerjoin(Reviewer, col(Reviewer.partnership_id) == col(Partnership.id))
        .where(Partnership.region_id == region_id)
        .group_by(col(Partnership.id))
        .order_by(col(Partnership.name), col(Partnership.id))
    ).all()
    return [
        PartnershipSummary(
            id=p.id or 0,
            code=p.code,
            name=p.name,
            reviewers=int(count),
            active_reviewers=int(n_active),
            opening_lent=p.opening_lent,
            opening_received=p.opening_received,
        )
        for p, count, n_active in rows
    ]


# --- reading reviewers -----------------------------------------------------------------------


def _conditions(region_id: int, filters: ReviewerFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [col(Partnership.region_id) == region_id]
    if filters.q and filters.q.strip():
        needle = filters.q.strip().lower()
        conditions.append(func.lower(col(Reviewer.name)).contains(needle, autoescape=True))
    if filters.partnership_id is not None:
        conditions.append(col(Reviewer.partnership_id) == filters.partnership_id)
    if filters.agency:
        conditions.append(col(Reviewer.agency) == filters.agency)
    if filters.skill:
        conditions.append(
            exists().where(
                col(ReviewerSkill.reviewer_id) == col(Reviewer.id),
                col(ReviewerSkill.skill) == filters.skill,
            )
        )
    if filters.available_on is not None:
        day = filters.available_on
        conditions.append(
            ~exists().where(
                col(Unavailability.reviewer_id) == col(Reviewer.id),
                col(Unavailability.starts_on) <= day,
                col(Unavailability.ends_on) >= day,
            )
        )
    if filters.active is not None:
        conditions.append(col(Reviewer.active).is_(filters.active))
    return conditions


def list_reviewers(
    session: Session,
    region_id: int,
    filters: ReviewerFilter = ReviewerFilter(),
    *,
    page: int = 1,
    per_page: int = 25,
) -> Page[ReviewerView]:
    per_page = max(1, min(per_page, 500))
    where = and_(*_conditions(region_id, filters))
    joined = col(Reviewer.partnership_id) == col(Partnership.id)
    total = session.exec(
        select(func.count(col(Reviewer.id))).join(Partnership, joined).where(where)
    ).one()
    # A page past the end shows the last one (and the offset always fits the database).
    page = max(1, min(page, -(-int(total) // per_page)))
    rows = session.exec(
        select(Reviewer, Partnership)
        .join(Partnership, joined)
        .where(where)
        .order_by(func.lower(col(Reviewer.name)), col(Reviewer.id))
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return Page(items=_views(session, rows), page=page, per_page=per_page, total=int(total))


def all_reviewers(session: Session, region_id: int) -> list[ReviewerView]:
    """Every reviewer of the region, in name order (export, matching input)."""
    rows = session.exec(
        select(Reviewer, Partnership)
        .join(Partnership, col(Reviewer.partnership_id) == col(Partnership.id))
        .where(Partnership.region_id == region_id)
        .order_by(func.lower(col(Reviewer.name)), col(Reviewer.id))
    ).all()
    return _views(session, rows)


def get_reviewer(session: Session, region_id: int, reviewer_id: int) -> ReviewerView:
    row = session.exec(
        select(Reviewer, Partnership)
        .join(Partnership, col(Reviewer.partnership_id) == col(Partnership.id))
        .where(Reviewer.id == reviewer_id, Partnership.region_id == region_id)
    ).first()
    if row is None:
        raise NotFound("No such reviewer")
    return _views(session, [row])[0]


def _views(session: Session, rows: Sequence[tuple[Reviewer, Partnership]]) -> list[ReviewerView]:
    # Three queries for the whole page rather than three per reviewer.
    ids = [r.id for r, _ in rows]
    skills: dict[int, list[str]] = defaultdict(list)
    gaps: dict[int, list[tuple[dt.date, dt.date]]] = defaultdict(list)
    conflicts: dict[int, list[int]] = defaultdict(list)
    employers: dict[int, str] = {}
    if ids:
        org_ids = sorted({r.organisation_id for r, _ in rows if r.organisation_id is not None})
        if org_ids:
            employers = {
                o.id or 0: o.name
                for o in session.exec(select(Organisation).where(col(Organisation.id).in_(org_ids)))
            }
        for s in session.exec(select(ReviewerSkill).where(col(ReviewerSkill.reviewer_id).in_(ids))):
            skills[s.reviewer_id].append(s.skill)
        for u in session.exec(
            select(Unavailability).where(col(Unavailability.reviewer_id).in_(ids))
        ):
            gaps[u.reviewer_id].append((u.starts_on, u.ends_on))
        for c in session.exec(
            select(ReviewerConflict).where(col(ReviewerConflict.reviewer_id).in_(ids))
        ):
            conflicts[c.reviewer_id].append(c.partnership_id)
    order = list(load_vocabulary().skills)
    return [
        ReviewerView(
            id=r.id or 0,
            name=r.name,
            email=r.email,
            partnership_id=p.id or 0,
            partnership_code=p.code,
            partnership_name=p.name,
            agency=r.agency,
            job_role=r.job_role,
            skills=sorted(skills[r.id or 0], key=lambda s: order.index(s) if s in order else 99),
            capacity=r.capacity,
            active=r.active,
            accredited_on=r.accredited_on,
            unavailable=sorted(gaps[r.id or 0]),
            conflict_partnership_ids=sorted(conflicts[r.id or 0]),
            prior_reviews=r.prior_reviews,
            last_review_on=r.last_review_on,
            organisation_id=r.organisation_id,
            organisation_name=employers.get(r.organisation_id or 0, ""),
        )
        for r, p in rows
    ]


# --- validating and writing ------------------------------------------------------------------


def clean_input(data: ReviewerInput) -> ReviewerInput:
    """One normal form: trimmed text, lower-case email, de-duplicated and sorted lists."""
    order = list(load_vocabulary().skills)
    skills = sorted(
        {s.strip() for s in data.skills if s.strip()},
        key=lambda s: (order.index(s) if s in order else len(order), s),
    )
    return ReviewerInput(
        name=_squeeze(data.name),
        email=email_address.normalise(data.email),
        partnership_id=data.partnership_id,
        agency=data.agency.strip(),
        job_role=_squeeze(data.job_role),
        skills=skills,
        capacity=data.capacity,
        active=bool(data.active),
        accredited_on=data.accredited_on,
        prior_reviews=data.prior_reviews,
        last_review_on=data.last_review_on,
        unavailable=sorted(set(data.unavailable)),
        conflict_partnership_ids=sorted(set(data.conflict_partnership_ids)),
        organisation_id=data.organisation_id,
    )


def _squeeze(value: str) -> str:
    """Runs of spaces, tabs and line breaks to one space; other control characters are kept,
    for the rules to refuse (str.split would quietly hide some of them)."""
    return _BLANKS.sub(" ", value).strip(" ")


def validation_errors(
    session: Session,
    region_id: int,
    data: ReviewerInput,
    *,
    reviewer_id: int | None = None,
    partnerships: dict[int, Partnership] | None = None,
    today: dt.date | None = None,
) -> dict[str, str]:
    """Every rule ``data`` (already cleaned) breaks, by field name; empty when valid."""
    vocab = load_vocabulary()
    partnerships = region_partnerships(session, region_id) if partnerships is None else partnerships
    today = today or dt.date.today()
    errors: dict[str, str] = {}
    if not data.name:
        errors["name"] = "Enter the reviewer's name"
    elif problem := text.text_problem(data.name, "Name", max_length=MAX_NAME):
        errors["name"] = problem
    if email_problem := _email_problem(session, data.email, reviewer_id):
        errors["email"] = email_problem
    if data.partnership_id is None:
        errors["partnership_id"] = "Choose the reviewer's partnership"
    elif data.partnership_id not in partnerships:
        errors["partnership_id"] = "Choose a partnership in your region"
    if not data.agency:
        errors["agency"] = "Choose the reviewer's agency"
    elif data.agency not in vocab.agencies:
        errors["agency"] = f"Agency must be one of: {', '.join(vocab.agencies)}"
    if problem := text.text_problem(data.job_role, "Job role", max_length=MAX_JOB_ROLE):
        errors["job_role"] = problem
    if unknown := [s for s in data.skills if s not in vocab.skills]:
        shown = ", ".join(repr(s) for s in unknown[:5])  # repr: a control character shows as \x..
        errors["skills"] = f"Unknown skill {shown}; skills must be from: {', '.join(vocab.skills)}"
    if data.capacity is None:
        errors["capacity"] = f"Enter how many reviews they can take at once (0 to {MAX_CAPACITY})"
    elif not 0 <= data.capacity <= MAX_CAPACITY:
        errors["capacity"] = f"Capacity must be a whole number from 0 to {MAX_CAPACITY}"
    if data.accredited_on is not None and data.accredited_on > today:
        errors["accredited_on"] = "Accreditation date must be today or in the past"
    if data.prior_reviews is None:
        errors["prior_reviews"] = (
            f"Enter how many peer reviews they did before PeerMatch (0 to {MAX_PRIOR_REVIEWS})"
        )
    elif not 0 <= data.prior_reviews <= MAX_PRIOR_REVIEWS:
        errors["prior_reviews"] = (
            f"Peer reviews before PeerMatch must be a whole number from 0 to {MAX_PRIOR_REVIEWS}"
        )
    if data.last_review_on is not None:
        if data.last_review_on > today:
            errors["last_review_on"] = "Date of the last peer review must be today or in the past"
        elif data.prior_reviews == 0:
            errors["last_review_on"] = (
                "Date of the last peer review needs at least one review before PeerMatch"
            )
    if len(data.unavailable) > MAX_UNAVAILABLE:
        errors["unavailable"] = (
            f"Enter no more than {MAX_UNAVAILABLE} unavailable periods; "
            f"merge periods that run into each other"
        )
    elif backwards := [(s, e) for s, e in data.unavailable if s > e]:
        start, end = backwards[0]
        errors["unavailable"] = (
            f"An unavailable period must start on or before its end ({start} is after {end})"
        )
    if any(pid not in partnerships for pid in data.conflict_partnership_ids):
        errors["conflict_partnership_ids"] = "Conflicts must name partnerships in your region"
    if data.organisation_id is not None:
        org = session.get(Organisation, data.organisation_id)
        if org is None or org.region_id != region_id:
            errors["organisation_id"] = "Choose an organisation in your region"
        elif "agency" not in errors and org.agency != data.agency:
            label = vocab.agency_label(org.agency)
            errors["organisation_id"] = (
                f"{org.name} is a {label} organisation; choose one of the reviewer's agency"
            )
        elif (
            "partnership_id" not in errors
            and data.partnership_id is not None
            and not organisations.serves(session, org.id or 0, data.partnership_id)
        ):
            errors["organisation_id"] = (
                f"{org.name} does not serve the reviewer's partnership; choose one that does"
            )
    return errors


def _with_organisation(
    session: Session, data: ReviewerInput, current: int | None = None
) -> ReviewerInput:
    """``data`` (valid) with its organisation filled in: the one named, else ``current`` if it
    still fits the reviewer's agency and partnership, else the default one."""
    if data.organisation_id is not None or data.partnership_id is None:
        return data
    if current is not None:
        org = session.get(Organisation, current)
        if (
            org is not None
            and org.agency == data.agency
            and organisations.serves(session, current, data.partnership_id)
        ):
            return replace(data, organisation_id=current)
    partnership = session.get(Partnership, data.partnership_id)
    assert partnership is not None  # validated
    return replace(
        data, organisation_id=organisations.default_organisation(session, partnership, data.agency)
    )


def _email_problem(session: Session, email: str, reviewer_id: int | None) -> str | None:
    if not email:
        return "Enter the reviewer's work email address"
    if problem := text.text_problem(email, "Email address"):
        return problem
    if not email_address.is_valid(email):
        return email_address.FORMAT_MESSAGE
    other = session.exec(select(Reviewer.id).where(Reviewer.email == email)).first()
    if other is not None and other != reviewer_id:
        return DUPLICATE_EMAIL
    return None


def create_reviewer(
    session: Session,
    region_id: int,
    data: ReviewerInput,
    *,
    actor: str,
    input_errors: Mapping[str, str] | None = None,
) -> ReviewerView:
    """Add a reviewer. ``input_errors`` are problems the caller met reading its input (a date
    that is not a date); with them nothing is written, and the ValidationFailed carries them
    together with every rule the rest of the input breaks, so all can be fixed in one go."""
    data = clean_input(data)
    if errors := {**validation_errors(session, region_id, data), **(input_errors or {})}:
        raise ValidationFailed(errors)
    data = _with_organisation(session, data)
    with _email_race_guard(session):
        reviewer = _insert(session, data)
    audit.record(
        session,
        actor=actor,
        action="reviewer.create",
        entity="reviewer",
        entity_id=reviewer.id,
        region_id=region_id,
        detail={"fields": _filled_fields(data)},
    )
    session.flush()
    return get_reviewer(session, region_id, reviewer.id or 0)


def create_reviewers(
    session: Session, region_id: int, rows: Iterable[ReviewerInput]
) -> list[Reviewer]:
    """Insert rows already validated together (the CSV import); no audit event per row."""
    cleaned = [_with_organisation(session, clean_input(data)) for data in rows]
    with _email_race_guard(session):
        return [_insert(session, data) for data in cleaned]


def update_reviewer(
    session: Session,
    region_id: int,
    reviewer_id: int,
    data: ReviewerInput,
    *,
    actor: str,
    input_errors: Mapping[str, str] | None = None,
) -> ReviewerView:
    """Change a reviewer of the region (NotFound outside it); ``input_errors`` as for
    :func:`create_reviewer`."""
    before = get_reviewer(session, region_id, reviewer_id)
    data = clean_input(data)
    rules = validation_errors(session, region_id, data, reviewer_id=reviewer_id)
    if errors := {**rules, **(input_errors or {})}:
        raise ValidationFailed(errors)
    data = _with_organisation(session, data, before.organisation_id)
    changed = _changed_fields(clean_input(before.as_input()), data)
    if not changed:
        return before
    reviewer = session.get(Reviewer, reviewer_id)
    assert reviewer is not None  # get_reviewer found it
    reviewer.updated_at = utcnow()
    with _email_race_guard(session):
        _write(session, reviewer, data)
    audit.record(
        session,
        actor=actor,
        action="reviewer.update",
        entity="reviewer",
        entity_id=reviewer_id,
        region_id=region_id,
        detail={"fields": changed},
    )
    session.flush()
    return get_reviewer(session, region_id, reviewer_id)


_SCALARS = (
    "name",
    "email",
    "partnership_id",
    "agency",
    "job_role",
    "capacity",
    "active",
    "accredited_on",
    "prior_reviews",
    "last_review_on",
    "organisation_id",
)
_LISTS = ("skills", "unavailable", "conflict_partnership_ids")


def _changed_fields(before: ReviewerInput, after: ReviewerInput) -> list[str]:
    return [f for f in (*_SCALARS, *_LISTS) if getattr(before, f) != getattr(after, f)]


def _filled_fields(data: ReviewerInput) -> list[str]:
    return [f for f in (*_SCALARS, *_LISTS) if getattr(data, f) not in ("", None, [])]


@contextmanager
def _email_race_guard(session: Session) -> Iterator[None]:
    """Another transaction may take the same email between our check and our write; the
    unique index then refuses it, and the coordinator sees the usual field error."""
    try:
        yield
    except IntegrityError:
        session.rollback()  # the transaction is unusable after a failed flush
        raise ValidationFailed({"email": DUPLICATE_EMAIL}) from None


def _insert(session: Session, data: ReviewerInput) -> Reviewer:
    reviewer = Reviewer(
        partnership_id=data.partnership_id or 0, name=data.name, email=data.email, agency=""
    )
    session.add(reviewer)
    _write(session, reviewer, data)
    return reviewer


def _write(session: Session, reviewer: Reviewer, data: ReviewerInput) -> None:
    values: dict[str, Any] = {f: getattr(data, f) for f in _SCALARS}
    for name, value in values.items():
        setattr(reviewer, name, value)
    session.flush()  # the reviewer needs an id before its skills, gaps and conflicts
    rid = reviewer.id
    assert rid is not None
    for table in (ReviewerSkill, Unavailability, ReviewerConflict):
        session.execute(delete(table).where(col(table.reviewer_id) == rid))
    session.add_all([ReviewerSkill(reviewer_id=rid, skill=s) for s in data.skills])
    session.add_all(
        [Unavailability(reviewer_id=rid, starts_on=s, ends_on=e) for s, e in data.unavailable]
    )
    session.add_all(
        [ReviewerConflict(reviewer_id=rid, partnership_id=p) for p in data.conflict_partnership_ids]
    )
    session.flush()


# --- experience --------------------------------------------------------------------------------


def reviews_completed(
    session: Session, reviewer_ids: Iterable[int]
) -> dict[int, tuple[int, dt.date | None]]:
    """Per reviewer: peer reviews completed (those before PeerMatch plus accepted seats on
    completed requests) and the date the last one ended. Fills ``reviews_completed`` and
    ``last_review_on`` of a matching problem."""
    ids = sorted(set(reviewer_ids))
    if not ids:
        return {}
    result: dict[int, tuple[int, dt.date | None]] = {
        r.id or 0: (r.prior_reviews, r.last_review_on)
        for r in session.exec(select(Reviewer).where(col(Reviewer.id).in_(ids)))
    }
    done = session.exec(
        select(
            Assignment.reviewer_id,
            func.count(col(Assignment.id)),
            func.max(col(ReviewRequest.window_end)),
        )
        .join(ReviewRequest, col(ReviewRequest.id) == col(Assignment.request_id))
        .where(
            col(Assignment.reviewer_id).in_(ids),
            col(Assignment.status) == AssignmentStatus.accepted,
            col(ReviewRequest.status) == RequestStatus.completed,
        )
        .group_by(col(Assignment.reviewer_id))
    ).all()
    for reviewer_id, count, last in done:
        prior, before = result.get(reviewer_id, (0, None))
        dates = [d for d in (before, last) if d is not None]
        result[reviewer_id] = (prior + int(count), max(dates) if dates else None)
    return result
