"""The API's JSON bodies, in the registry's own field names and vocabulary codes.

Input structs refuse unknown fields; their types, ranges and lengths are the contract shown in
the OpenAPI schema, and :func:`decode` enforces them strictly (no "2" for 2).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from peermatch.api.problems import from_msgspec, invalid
from peermatch.models import RequestSource, RequestStatus
from peermatch.registry import MAX_CAPACITY, MAX_JOB_ROLE, MAX_NAME
from peermatch.staffing.requests import MAX_PEERS, MAX_REFERENCE, MIN_PEERS
from peermatch.vocabulary import load as load_vocabulary

_vocab = load_vocabulary()

if TYPE_CHECKING:
    Agency = str
    Skill = str
    Methodology = str
else:  # the codes of data/vocabularies.json, as enums in the schema and enforced on decode
    Agency = Literal[tuple(_vocab.agencies)]
    Skill = Literal[tuple(_vocab.skills)]
    Methodology = Literal[tuple(_vocab.methodologies)]

Id = Annotated[int, Meta(ge=1, le=2_147_483_647, description="The resource's id")]
Reference = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=MAX_REFERENCE,
        pattern=r"^(?=.*\d)[A-Za-z0-9][A-Za-z0-9/-]*$",
        description="The partnership's case reference: letters, digits, - and /, with at least "
        "one digit. Never a child's or family member's name.",
        examples=["BRA-2027-014"],
    ),
]
Peers = Annotated[int, Meta(ge=MIN_PEERS, le=MAX_PEERS, description="Peers the review needs")]
# No control characters (a NUL cannot even be stored in PostgreSQL); line breaks and tabs are
# whitespace, which the registry folds into single spaces.
PLAIN_TEXT = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
Name = Annotated[
    str, Meta(min_length=1, max_length=MAX_NAME, pattern=PLAIN_TEXT, examples=["Priya Shah"])
]
Email = Annotated[
    str,
    Meta(
        min_length=3,
        max_length=254,
        pattern=PLAIN_TEXT,
        description="One plain work email address: no display name (`Priya <p@x.org>`), "
        "comment, quotes, brackets or second address. Stored, compared and mailed in one normal "
        "form (lower-case, the domain in ASCII); a reviewer's address is unique in the service.",
        examples=["priya.shah@example.org"],
    ),
]
JobRole = Annotated[
    str, Meta(max_length=MAX_JOB_ROLE, pattern=PLAIN_TEXT, examples=["Detective Inspector"])
]
# The ledger and the calendar work within these years; earlier or later dates are mistakes.
FIRST_DAY = dt.date(1900, 1, 1)
LAST_DAY = dt.date(2999, 12, 31)
Capacity = Annotated[
    int, Meta(ge=0, le=MAX_CAPACITY, description="Reviews the reviewer can take at once")
]
Skills = Annotated[list[Skill], Meta(max_length=len(_vocab.skills) * 2)]
Agencies = Annotated[list[Agency], Meta(max_length=len(_vocab.agencies) * 2)]
OrganisationIds = Annotated[
    list[Id],
    Meta(
        max_length=50,
        description="Ids of organisations serving your partnership (GET /api/v1/organisations) "
        "involved in the case: no one they employ will review it, whatever their partnership",
    ),
]


class Period(Struct, forbid_unknown_fields=True):
    """Dates a reviewer cannot review, both days included."""

    starts_on: dt.date
    ends_on: dt.date


Periods = Annotated[list[Period], Meta(max_length=100)]


# --- requests --------------------------------------------------------------------------------


class RequestCreate(Struct, forbid_unknown_fields=True):
    """A partnership's request for peers. It is submitted to the region's coordinator at once."""

    reference: Reference
    methodology: Methodology
    window_start: dt.date
    window_end: dt.date
    peers: Peers = 2
    high_profile: bool = False
    agencies_involved: Agencies = msgspec.field(default_factory=list)
    organisations_involved: OrganisationIds = msgspec.field(default_factory=list)
    required_skills: Skills = msgspec.field(default_factory=list)
    notified_on: dt.date | None = None


class Peer(Struct):
    """A reviewer who has accepted a seat on the request."""

    name: str
    agency: str
    partnership_code: str
    partnership_name: str


class RequestOut(Struct):
    id: int
    reference: str
    methodology: str
    high_profile: bool
    agencies_involved: list[str]
    organisations_involved: list[int]
    required_skills: list[str]
    peers: int
    window_start: dt.date
    window_end: dt.date
    notified_on: dt.date | None
    status: RequestStatus
    source: RequestSource
    seats_filled: int
    accepted_peers: list[Peer]
    created_at: dt.datetime
    updated_at: dt.datetime


class RequestList(Struct):
    items: list[RequestOut]
    next: str | None = msgspec.field(default=None)


class OrganisationOut(Struct):
    """An employer serving the partnership (a police force, an integrated care board...)."""

    id: int
    name: str
    agency: str


class OrganisationList(Struct):
    items: list[OrganisationOut]


# --- reviewers -------------------------------------------------------------------------------


class ReviewerCreate(Struct, forbid_unknown_fields=True):
    """A reviewer the partnership offers to the region."""

    name: Name
    email: Email
    agency: Agency
    job_role: JobRole = ""
    skills: Skills = msgspec.field(default_factory=list)
    capacity: Capacity = 1
    active: bool = True
    accredited_on: dt.date | None = None
    unavailable: Periods = msgspec.field(default_factory=list)


class ReviewerPatch(Struct, forbid_unknown_fields=True):
    """Only the fields sent change; ``active: false`` takes a reviewer out of matching."""

    name: Name | UnsetType = UNSET
    email: Email | UnsetType = UNSET
    agency: Agency | UnsetType = UNSET
    job_role: JobRole | UnsetType = UNSET
    skills: Skills | UnsetType = UNSET
    capacity: Capacity | UnsetType = UNSET
    active: bool | UnsetType = UNSET
    accredited_on: dt.date | UnsetType | None = UNSET
    unavailable: Periods | UnsetType = UNSET


class ReviewerOut(Struct):
    id: int
    name: str
    email: str
    agency: str
    job_role: str
    skills: list[str]
    capacity: int
    active: bool
    accredited_on: dt.date | None
    unavailable: list[Period]


class ReviewerList(Struct):
    items: list[ReviewerOut]
    next: str | None = msgspec.field(default=None)


# --- ledger ----------------------------------------------------------------------------------


class LedgerOut(Struct):
    """The partnership's exchange over the period: ``opening`` is its balance when the period
    starts, ``balance`` when it ends. Positive: the region owes it peers."""

    partnership_code: str
    from_date: dt.date | None = msgspec.field(name="from")
    to_date: dt.date | None = msgspec.field(name="to")
    opening: int
    lent: int
    received: int
    balance: int


S = TypeVar("S", bound=Struct)


def decode(body: bytes, type_: type[S]) -> S:
    """Strictly decode a JSON body, or a 422 problem pointing at the field at fault."""
    try:
        return msgspec.json.decode(body, type=type_, strict=True)
    except msgspec.ValidationError as exc:
        raise invalid([from_msgspec(exc)]) from None


def to_builtins(value: Any) -> Any:
    return msgspec.to_builtins(value)
