"""The /api/v1 routes. Each parses its input strictly, calls one service, and answers JSON."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any, TypeAlias, TypeVar
from urllib.parse import urlencode

import msgspec
from litestar import Controller, Request, get, patch, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example
from litestar.params import Body, HeaderParameter, Parameter, QueryParameter
from litestar.response import Response
from sqlmodel import Session

from peermatch.api import bodies, idempotency, schemas, service
from peermatch.api.auth import ApiClient, ApiGate
from peermatch.api.problems import PROBLEM_JSON, ApiProblem, FieldError, Problem
from peermatch.models import RequestStatus

Db: TypeAlias = NamedDependency[Session]
Client: TypeAlias = NamedDependency[ApiClient]
Gate: TypeAlias = NamedDependency[ApiGate]
RawBody: TypeAlias = NamedDependency[bytes]

MAX_ID = 2_147_483_647
RequestId = Annotated[int, Parameter(ge=1, le=MAX_ID, description="The request's id")]
ReviewerId = Annotated[int, Parameter(ge=1, le=MAX_ID, description="The reviewer's id")]
Limit = Annotated[int, Parameter(ge=1, le=service.MAX_PAGE, description="Items per page")]
IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name=idempotency.HEADER,
        min_length=1,
        max_length=idempotency.MAX_KEY,
        pattern=idempotency.KEY_PATTERN,
        required=False,
        description="Any unique string (a UUID, say). A repeat with the same key and body "
        "gets the first answer and changes nothing; the same key with another body gets 422.",
    ),
]
T = TypeVar("T", bound=msgspec.Struct)

NewRequest = Annotated[
    schemas.RequestCreate,
    Body(
        media_type=RequestEncodingType.JSON,
        description="The review's reference and what the matching needs; no case narrative.",
        examples=[
            Example(
                summary="Two peers for a peer review",
                value={
                    "reference": "BRA-2027-101",
                    "methodology": "peer-review",
                    "window_start": "2027-06-01",
                    "window_end": "2027-06-30",
                    "peers": 2,
                    "high_profile": False,
                    "agencies_involved": ["police"],
                    "required_skills": ["lead-reviewer"],
                    "notified_on": "2027-05-02",
                },
            )
        ],
    ),
]
NewReviewer = Annotated[
    schemas.ReviewerCreate,
    Body(
        media_type=RequestEncodingType.JSON,
        examples=[
            Example(
                summary="A nurse who can lead root cause analyses",
                value={
                    "name": "Priya Shah",
                    "email": "priya.shah@example.org",
                    "agency": "health",
                    "job_role": "Designated nurse",
                    "skills": ["peer-review", "rca"],
                    "capacity": 2,
                    "unavailable": [{"starts_on": "2027-08-01", "ends_on": "2027-08-14"}],
                },
            )
        ],
    ),
]
ReviewerChanges = Annotated[
    schemas.ReviewerPatch,
    Body(
        media_type=RequestEncodingType.JSON,
        examples=[Example(summary="Deactivate", value={"active": False})],
    ),
]


def _problem(description: str) -> ResponseSpec:
    return ResponseSpec(
        data_container=Problem,
        description=description,
        media_type=PROBLEM_JSON,
        generate_examples=False,
    )


_COMMON = {
    400: _problem(
        "A malformed header, query or path parameter; a body that is not UTF-8 JSON, nests "
        f"more than {bodies.MAX_DEPTH} deep or names a field twice in one object"
    ),
    401: _problem("No API key, or one that is not valid (mistyped, revoked or expired)"),
    405: _problem("Method not allowed"),
    429: _problem("Too many requests: see Retry-After"),
}
_READ_ONE = {**_COMMON, 404: _problem("No such resource for this partnership")}
_WRITE = {
    **_COMMON,
    409: _problem("An Idempotency-Key still in use by a request in flight"),
    413: _problem("Body too large"),
    415: _problem("The body must be sent as application/json (UTF-8)"),
    422: _problem("The body is not valid; `errors` points at each bad field; nothing was saved"),
}
_WRITE_ONE = {**_WRITE, 404: _problem("No such resource for this partnership")}


def _idempotent(
    db: Session,
    gate: ApiGate,
    client: ApiClient,
    request: Request[Any, Any, Any],
    body: bytes,
    key: str | None,
    status: int,
    result_type: type[T],
    work: Callable[[], T],
) -> Response[T]:
    """Do ``work`` once per Idempotency-Key (see peermatch.api.idempotency)."""
    if key is None:
        return Response(work(), status_code=status)
    outcome = idempotency.begin(
        gate.engine,
        client.key_id,
        idempotency.check_key(key),
        method=request.method,
        path=request.url.path,
        body=body,
    )
    if isinstance(outcome, idempotency.Replay):
        replayed = msgspec.json.decode(outcome.body, type=result_type)
        return Response(
            replayed, status_code=outcome.status, headers={"Idempotent-Replayed": "true"}
        )
    try:
        result = work()
        idempotency.complete(db, outcome, status, msgspec.json.encode(result))
    except BaseException:
        db.rollback()  # first: on SQLite the release below needs the write lock
        idempotency.release(gate.engine, outcome)
        raise
    return Response(result, status_code=status)


def _next(path: str, **query: object) -> str:
    return f"/api/v1{path}?" + urlencode({k: v for k, v in query.items() if v is not None})


class RequestController(Controller):
    path = "/requests"
    tags = ["Requests"]

    @post(
        "/",
        status_code=201,
        sync_to_thread=True,
        request_max_body_size=bodies.REQUEST_BODY,
        summary="Request peers for a review",
        description="Submits the request to the region's coordinator at once, marked as coming "
        "from the API. Nothing is saved if any field is refused.",
        responses=_WRITE,
    )
    def create(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        client: Client,
        gate: Gate,
        raw_body: RawBody,
        data: NewRequest,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[schemas.RequestOut]:
        parsed = schemas.decode(raw_body, schemas.RequestCreate)
        return _idempotent(
            db,
            gate,
            client,
            request,
            raw_body,
            idempotency_key,
            201,
            schemas.RequestOut,
            lambda: service.create_api_request(db, client, parsed),
        )

    @get(
        "/",
        sync_to_thread=True,
        summary="List the partnership's requests",
        description="Oldest first. Follow `next` (a path with its query) for the next page; "
        "it is null on the last page.",
        responses=_COMMON,
    )
    def index(
        self,
        db: Db,
        client: Client,
        status: Annotated[
            RequestStatus | None, Parameter(description="Only requests with this status")
        ] = None,
        after: Annotated[
            int, Parameter(ge=0, le=MAX_ID, description="Cursor: requests after this id")
        ] = 0,
        limit: Limit = 25,
    ) -> schemas.RequestList:
        items, last = service.list_api_requests(db, client, status=status, after=after, limit=limit)
        more = _next("/requests", status=status, after=last, limit=limit) if last else None
        return schemas.RequestList(items=items, next=more)

    @get(
        "/{request_id:int}",
        sync_to_thread=True,
        summary="Read a request",
        description="Its status, seats filled, and the peers who have accepted: their names, "
        "agencies and partnerships.",
        responses=_READ_ONE,
    )
    def show(self, db: Db, client: Client, request_id: RequestId) -> schemas.RequestOut:
        return service.get_api_request(db, client, request_id)

    @post(
        "/{request_id:int}/cancel",
        status_code=200,
        sync_to_thread=True,
        request_max_body_size=bodies.EMPTY_BODY,
        summary="Cancel a request",
        description="Any peers lent to it are taken off the ledger. A completed or already "
        "cancelled request answers 409.",
        responses={**_WRITE_ONE, 409: _problem("The request can no longer be cancelled")},
    )
    def cancel(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        client: Client,
        gate: Gate,
        raw_body: RawBody,
        request_id: RequestId,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[schemas.RequestOut]:
        return _idempotent(
            db,
            gate,
            client,
            request,
            raw_body,
            idempotency_key,
            200,
            schemas.RequestOut,
            lambda: service.cancel_api_request(db, client, request_id),
        )


class ReviewerController(Controller):
    path = "/reviewers"
    tags = ["Reviewers"]

    @get(
        "/",
        sync_to_thread=True,
        summary="List the partnership's reviewers",
        description="In name order. Follow `next` for the next page; null on the last.",
        responses=_COMMON,
    )
    def index(
        self,
        db: Db,
        client: Client,
        active: Annotated[bool | None, Parameter(description="Only active (or inactive)")] = None,
        page: Annotated[int, Parameter(ge=1, le=100_000, description="Page number")] = 1,
        limit: Limit = 25,
    ) -> schemas.ReviewerList:
        items, following = service.list_api_reviewers(
            db, client, active=active, page=page, limit=limit
        )
        more = (
            _next("/reviewers", active=_flag(active), page=following, limit=limit)
            if following
            else None
        )
        return schemas.ReviewerList(items=items, next=more)

    @post(
        "/",
        status_code=201,
        sync_to_thread=True,
        request_max_body_size=bodies.REVIEWER_BODY,
        summary="Offer a reviewer",
        description="The reviewer joins the region's registry as one of this partnership's.",
        responses=_WRITE,
    )
    def create(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        client: Client,
        gate: Gate,
        raw_body: RawBody,
        data: NewReviewer,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[schemas.ReviewerOut]:
        parsed = schemas.decode(raw_body, schemas.ReviewerCreate)
        return _idempotent(
            db,
            gate,
            client,
            request,
            raw_body,
            idempotency_key,
            201,
            schemas.ReviewerOut,
            lambda: service.create_api_reviewer(db, client, parsed),
        )

    @get(
        "/{reviewer_id:int}",
        sync_to_thread=True,
        summary="Read a reviewer",
        responses=_READ_ONE,
    )
    def show(self, db: Db, client: Client, reviewer_id: ReviewerId) -> schemas.ReviewerOut:
        return service.get_api_reviewer(db, client, reviewer_id)

    @patch(
        "/{reviewer_id:int}",
        sync_to_thread=True,
        request_max_body_size=bodies.REVIEWER_BODY,
        summary="Change a reviewer",
        description='Only the fields sent change. Send `{"active": false}` to deactivate.',
        responses=_WRITE_ONE,
    )
    def update(
        self,
        db: Db,
        client: Client,
        raw_body: RawBody,
        reviewer_id: ReviewerId,
        data: ReviewerChanges,
    ) -> schemas.ReviewerOut:
        parsed = schemas.decode(raw_body, schemas.ReviewerPatch)
        return service.update_api_reviewer(db, client, reviewer_id, parsed)


def _flag(value: bool | None) -> str | None:
    return None if value is None else str(value).lower()


@get(
    "/ledger",
    sync_to_thread=True,
    tags=["Ledger"],
    summary="Read the partnership's ledger",
    description="Peers lent and received over a period (both dates included; either may be "
    "left out), the balance at its start (`opening`) and at its end (`balance`).",
    responses={**_COMMON, 422: _problem("The period ends before it starts")},
)
def read_ledger(
    db: Db,
    client: Client,
    from_date: Annotated[
        dt.date | None, QueryParameter(name="from", description="First day, YYYY-MM-DD")
    ] = None,
    to_date: Annotated[
        dt.date | None, QueryParameter(name="to", description="Last day, YYYY-MM-DD")
    ] = None,
) -> schemas.LedgerOut:
    for name, day in (("from", from_date), ("to", to_date)):
        if day is not None and not schemas.FIRST_DAY <= day <= schemas.LAST_DAY:
            raise ApiProblem(
                422,
                f"Dates must be from {schemas.FIRST_DAY} to {schemas.LAST_DAY}",
                [FieldError(pointer=name, message="Out of range")],
            )
    if from_date and to_date and from_date > to_date:
        raise ApiProblem(
            422,
            "The period must end on or after its start",
            [FieldError(pointer="to", message="Must be on or after from")],
        )
    return service.api_ledger(db, client, start=from_date, end=to_date)


@get(
    "/organisations",
    sync_to_thread=True,
    tags=["Organisations"],
    summary="List the organisations serving the partnership",
    description="Employers (a police force, an integrated care board...) that serve your "
    "partnership: their ids are what a request's `organisations_involved` names.",
    responses=_COMMON,
)
def read_organisations(db: Db, client: Client) -> schemas.OrganisationList:
    return service.api_organisations(db, client)


__all__ = ["RequestController", "ReviewerController", "read_ledger", "read_organisations"]
