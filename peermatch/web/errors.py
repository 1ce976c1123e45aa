"""The one place that turns errors into what a coordinator sees: pages for HTTP and domain
errors, redirects to sign-in, and form messages for validation failures."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from litestar import MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
)
from litestar.response import Redirect, Template
from litestar.status_codes import (
    HTTP_400_BAD_REQUEST,
    HTTP_403_FORBIDDEN,
    HTTP_404_NOT_FOUND,
    HTTP_409_CONFLICT,
    HTTP_500_INTERNAL_SERVER_ERROR,
)
from sqlmodel import Session

from peermatch.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationFailed

log = logging.getLogger("peermatch.web")

_PAGES: dict[int, tuple[str, str]] = {
    400: ("Sorry, there is a problem with your request", "Check what you entered and try again."),
    403: (
        "This form has expired",
        "For your security, PeerMatch only accepts forms it has just shown you. Go back, "
        "reload the page and try again.",
    ),
    404: (
        "Page not found",
        "If you typed the web address, check it is correct. If you pasted the web address, "
        "check you copied the entire address.",
    ),
    405: ("Sorry, you cannot do that here", "Go back and try again."),
    409: ("Sorry, that change clashes with existing data", "Go back, check and try again."),
    429: (
        "Too many requests",
        "You have made too many requests in a short time. Wait a minute and try again.",
    ),
    500: (
        "Sorry, there is a problem with the service",
        "Try again later. Nothing you entered has been saved.",
    ),
}


def form_errors(db: Session, exc: ValidationFailed) -> dict[str, str]:
    """Messages for a form from a validation failure; the failed write is discarded first so
    the request never commits half of it."""
    db.rollback()
    return dict(exc.errors)


def safe_next(target: str | None, default: str = "/") -> str:
    """Only ever redirect within this site after sign-in."""
    if (
        not target
        or not target.startswith("/")
        or target.startswith(("//", "/\\"))
        or any(c in target for c in "\r\n\\")
    ):
        return default
    return target


def error_page(request: Request, status_code: int, message: str | None = None) -> Response:
    if not _wants_html(request):
        title, _ = _PAGES.get(status_code, _PAGES[500])
        return Response(
            {"status_code": status_code, "detail": message or title},
            status_code=status_code,
            media_type=MediaType.JSON,
        )
    title, body = _PAGES.get(status_code, _PAGES[500])
    return Template(
        "errors/error.html",
        context={"title": title, "body": body, "message": message, "status_code": status_code},
        status_code=status_code,
    )


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/")


def _on_http_exception(request: Request, exc: HTTPException) -> Response:
    if exc.status_code >= HTTP_500_INTERNAL_SERVER_ERROR:
        return _on_unexpected(request, exc)
    return error_page(request, exc.status_code)


def _on_not_signed_in(request: Request, _: NotAuthorizedException) -> Response:
    if request.method == "GET":
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if here != "/":
            return Redirect(f"/sign-in?next={quote(here, safe='')}", status_code=303)
    return Redirect("/sign-in", status_code=303)


def _on_domain_error(request: Request, exc: DomainError) -> Response:
    if isinstance(exc, NotFound):
        return error_page(request, HTTP_404_NOT_FOUND)
    if isinstance(exc, PermissionDenied):
        return error_page(request, HTTP_403_FORBIDDEN, exc.message)
    if isinstance(exc, Conflict):
        return error_page(request, HTTP_409_CONFLICT, exc.message)
    return error_page(request, HTTP_400_BAD_REQUEST, exc.message)


def _on_unexpected(request: Request, exc: Exception) -> Response:
    # The exception type and the route only: a message may carry personal data.
    log.error(
        "unhandled %s on %s %s",
        type(exc).__name__,
        request.method,
        request.scope.get("path_template", request.url.path),
    )
    return error_page(request, HTTP_500_INTERNAL_SERVER_ERROR)


HANDLERS: dict[Any, Any] = {
    NotAuthorizedException: _on_not_signed_in,
    NotFoundException: _on_http_exception,
    PermissionDeniedException: _on_http_exception,
    HTTPException: _on_http_exception,
    DomainError: _on_domain_error,
    Exception: _on_unexpected,
}
