"""RFC 9457 problem details: every error under /api/ answers ``application/problem+json``.

The web layer's exception handlers hand /api/ paths to :func:`problem_for`, so unknown routes,
wrong methods, over-large or malformed bodies and bad path parameters are answered the same way
as the API's own refusals, and nothing under /api/ answers an HTML page or a traceback.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from peermatch.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationFailed

log = logging.getLogger("peermatch.api")

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "/api/v1/problems/"

_TITLES: dict[int, tuple[str, str]] = {
    400: ("bad-request", "The request is malformed"),
    401: ("unauthorised", "A valid API key is needed"),
    403: ("forbidden", "This key may not do that"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    406: ("not-acceptable", "Not acceptable"),
    409: ("conflict", "The change clashes with the resource's current state"),
    411: ("length-required", "Length required"),
    413: ("too-large", "The request body is too large"),
    415: ("unsupported-media-type", "Send the body as application/json"),
    422: ("invalid", "The request body is not valid"),
    429: ("too-many-requests", "Too many requests"),
    500: ("server-error", "Sorry, there is a problem with the service"),
}


class FieldError(msgspec.Struct, frozen=True):
    """One thing wrong with the input: a JSON pointer into the body (RFC 6901), or the name of
    a query or path parameter, and what is wrong with it."""

    pointer: str
    message: str


class Problem(msgspec.Struct, omit_defaults=True):
    """An RFC 9457 problem details object."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] = msgspec.field(default_factory=list)


class ApiProblem(Exception):
    """Raised by the API to answer a problem with a particular status, detail and field errors."""

    def __init__(
        self,
        status: int,
        detail: str,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors or []
        self.headers = headers or {}


def invalid(errors: list[FieldError], detail: str | None = None) -> ApiProblem:
    """422 with the field errors; nothing has been written."""
    n = len(errors)
    return ApiProblem(
        422,
        detail or f"{n} field{'s are' if n != 1 else ' is'} not valid; nothing was saved",
        errors,
    )


def problem_response(
    status: int,
    detail: str | None = None,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[bytes]:
    slug, title = _TITLES.get(status, _TITLES[400 if status < 500 else 500])
    body = Problem(
        type=TYPE_BASE + slug,
        title=title,
        status=status,
        detail=detail or title,
        errors=errors or [],
    )
    return Response(
        msgspec.json.encode(body),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers={"Cache-Control": "no-store", **(headers or {})},
    )


# Litestar's validation messages: "key" is "field", "list[1]" or "data" (the whole body).
_INDEX = re.compile(r"\[(\d+)\]")
_UNKNOWN_FIELD = re.compile(r"unknown field `([^`]*)`")


def pointer(path: str) -> str:
    """A JSON pointer from a msgspec path: ``$.skills[1]`` or ``skills[1]`` -> ``/skills/1``."""
    path = path.removeprefix("$").removeprefix(".")
    if path in ("", "data"):
        return ""
    parts = _INDEX.sub(r".\1", path).split(".")
    return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in parts if p != "")


def from_msgspec(exc: msgspec.ValidationError) -> FieldError:
    """msgspec says "Expected `int`, got `str` - at `$.peers`"; keep the message, point at
    the field."""
    text = str(exc)
    message, _, where = text.partition(" - at `")
    at = pointer(where.rstrip("`")) if where else ""
    if found := _UNKNOWN_FIELD.search(message):
        at = f"{at}/{found.group(1)}"
    return FieldError(pointer=at, message=message)


def _public_name(request: Request[Any, Any, Any], key: str) -> str:
    """The name a client sent a parameter under (``from``), not the handler's (``from_date``)."""
    try:
        fields = request.route_handler.parsed_fn_signature.parameters
    except (AttributeError, KeyError):  # no route matched
        return key
    definition = getattr(fields.get(key), "kwarg_definition", None)
    names = ("name", "query", "header")
    return next((str(n) for a in names if (n := getattr(definition, a, None))), key)


def _from_validation(request: Request[Any, Any, Any], exc: ValidationException) -> ApiProblem:
    errors: list[FieldError] = []
    body = False
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if not isinstance(item, dict):
            continue
        message = str(item.get("message", "Not valid"))
        key = str(item.get("key", ""))
        if item.get("source") == "body":
            body = True
            at = pointer(key)
            if found := _UNKNOWN_FIELD.search(message):
                at = f"{at}/{found.group(1)}"
        else:  # a query or path parameter: named, not pointed at
            at = _public_name(request, key)
        errors.append(FieldError(pointer=at, message=message))
    if body:
        return invalid(errors)
    detail = exc.detail if not exc.detail.startswith("Validation failed") else None
    return ApiProblem(400, detail or "A parameter is not valid", errors)


def problem_for(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    """The problem details answer for any exception raised while handling an /api/ request."""
    if isinstance(exc, ApiProblem):
        return problem_response(exc.status, exc.detail, exc.errors, exc.headers)
    if isinstance(exc, ValidationException):
        problem = _from_validation(request, exc)
        return problem_response(problem.status, problem.detail, problem.errors)
    if isinstance(exc, HTTPException) and exc.status_code < 500:
        headers = dict(exc.headers or {})
        detail = None
        if exc.status_code == 400 and "JSON" in exc.detail:
            detail = "The body is not valid JSON"
        if exc.status_code == 401:
            headers.setdefault("WWW-Authenticate", 'Bearer realm="peermatch"')
        return problem_response(exc.status_code, detail, headers=headers)
    if isinstance(exc, ValidationFailed):
        errors = [FieldError(pointer=f"/{k}", message=v) for k, v in exc.errors.items()]
        return problem_response(422, None, errors)
    if isinstance(exc, NotFound):
        return problem_response(404)
    if isinstance(exc, PermissionDenied):
        return problem_response(403, exc.message)
    if isinstance(exc, Conflict):
        return problem_response(409, exc.message)
    if isinstance(exc, DomainError):
        return problem_response(409, exc.message)
    # The exception type and route only: a message may carry personal data.
    log.error(
        "unhandled %s on %s %s",
        type(exc).__name__,
        request.method,
        request.scope.get("path_template", request.url.path),
    )
    return problem_response(500, "Try again later. Nothing you sent has been saved.")
