"""The one place that turns errors into what a coordinator sees: pages for HTTP and domain
errors, redirects to sign-in, and form messages for validation failures."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from litestar import MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    ImproperlyConfiguredException,
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
from sqlalchemy.exc import DataError

from peermatch import reviewer_csv
from peermatch.api.problems import problem_for
from peermatch.errors import Conflict, DomainError, NotFound, PermissionDenied
from peermatch.web.auth import resolve_coordinator
from peermatch.web.security import CrossSiteRead

CONTROL_OR_BREAK = re.compile(r"[\x00-\x1f\x7f]")

log = logging.getLogger("peermatch.web")

# The request body limit of every page (app.py); the CSV import and the API set their own.
# The largest form, a reviewer with 100 unavailable periods, is under 8 KB.
MAX_FORM_BYTES = 32 * 1024
# A route whose limit is at least this takes file uploads: its 413 page speaks of files.
_UPLOAD_ROUTE_BYTES = 1_000_000

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
    413: (
        "What you sent is too large",
        "It is larger than any PeerMatch form can send. Go back, check what you entered and "
        "try again.",
    ),
    415: (
        "Sorry, PeerMatch cannot read what was sent",
        "Send the form from its page in PeerMatch. Go back, reload the page and try again.",
    ),
    429: (
        "Too many requests",
        "You have made too many requests in a short time. Wait a minute and try again.",
    ),
    500: (
        "Sorry, there is a problem with the service",
        "Try again later. Nothing you entered has been saved.",
    ),
}


def safe_next(target: str | None, default: str = "/") -> str:
    """Only ever redirect within this site after sign-in."""
    if (
        not target
        or not target.startswith("/")
        or target.startswith(("//", "/\\"))
        # Browsers drop tabs and line breaks from a URL ("/\t/evil" becomes "//evil") and read
        # a backslash as a slash: nothing of the kind, nor any other control character or space.
        or any(c in target for c in "\\ ")
        or CONTROL_OR_BREAK.search(target)
        or len(target) > 2000
    ):
        return default
    return target


def error_page(
    request: Request[Any, Any, Any], status_code: int, message: str | None = None
) -> Response[Any]:
    if not _wants_html(request):
        title, _ = _PAGES.get(status_code, _PAGES[500])
        return Response(
            {"status_code": status_code, "detail": message or title},
            status_code=status_code,
            media_type=MediaType.JSON,
        )
    title, body = _PAGES.get(status_code, _PAGES[500])
    if status_code == 413 and _route_limit(request) >= _UPLOAD_ROUTE_BYTES:
        title = "The file is too large"
        body = (
            f"PeerMatch accepts CSV files of up to {reviewer_csv.MAX_BYTES // 1_000_000} MB. "
            "Go back and choose a smaller file, or split it into several."
        )
    # A path that matches no route ran no middleware: find the session here, so a signed-in
    # coordinator still sees the signed-in header on a 404 or 405.
    try:
        resolve_coordinator(request.scope)
    except Exception:  # the database may be what failed; the page shows signed out
        request.scope["user"] = None
    return Template(
        "errors/error.html",
        context={"title": title, "body": body, "message": message, "status_code": status_code},
        status_code=status_code,
    )


def _route_limit(request: Request[Any, Any, Any]) -> int:
    try:
        return request.route_handler.resolve_request_max_body_size() or 0
    except (AttributeError, KeyError, ImproperlyConfiguredException):  # no route matched
        return 0


def _wants_html(request: Request[Any, Any, Any]) -> bool:
    return not request.url.path.startswith("/api/")


def _on_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    if exc.status_code >= HTTP_500_INTERNAL_SERVER_ERROR:
        return _on_unexpected(request, exc)
    return error_page(request, exc.status_code)


def _on_cross_site_read(request: Request[Any, Any, Any], _: CrossSiteRead) -> Response[Any]:
    here = safe_next(request.url.path + (f"?{request.url.query}" if request.url.query else ""), "/")
    resolve_coordinator(request.scope)
    return Template(
        "errors/error.html",
        context={
            "title": "Open this page from PeerMatch",
            "body": "You followed a link from another website. For your security, PeerMatch "
            "only shows this page when you open it from PeerMatch itself.",
            "status_code": HTTP_403_FORBIDDEN,
            "continue_to": here,
        },
        status_code=HTTP_403_FORBIDDEN,
    )


def _on_not_signed_in(request: Request[Any, Any, Any], _: NotAuthorizedException) -> Response[Any]:
    if request.method == "GET":
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if here != "/":
            return Redirect(f"/sign-in?next={quote(here, safe='')}", status_code=303)
    return Redirect("/sign-in", status_code=303)


def _on_domain_error(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    if isinstance(exc, NotFound):
        return error_page(request, HTTP_404_NOT_FOUND)
    if isinstance(exc, PermissionDenied):
        return error_page(request, HTTP_403_FORBIDDEN, exc.message)
    if isinstance(exc, Conflict):
        return error_page(request, HTTP_409_CONFLICT, exc.message)
    return error_page(request, HTTP_400_BAD_REQUEST, exc.message)


def _on_data_error(
    request: Request[Any, Any, Any], exc: DataError | OverflowError
) -> Response[Any]:
    # The database refused a value it was given (out of range, unstorable): the request's
    # fault, so 400. Every input should be validated before this; the log names the route.
    log.warning(
        "database refused a value on %s %s",
        request.method,
        request.scope.get("path_template", request.url.path),
    )
    return error_page(request, HTTP_400_BAD_REQUEST)


def _on_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    # The exception type and the route only: a message may carry personal data.
    log.error(
        "unhandled %s on %s %s",
        type(exc).__name__,
        request.method,
        request.scope.get("path_template", request.url.path),
    )
    return error_page(request, HTTP_500_INTERNAL_SERVER_ERROR)


def _or_api_problem(
    handler: Callable[..., Response[Any]],
) -> Callable[[Request[Any, Any, Any], Exception], Response[Any]]:
    """/api/ paths answer RFC 9457 problem details instead of pages or redirects."""

    def handle(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
        if not _wants_html(request):
            return problem_for(request, exc)
        return handler(request, exc)

    return handle


_PAGE_HANDLERS: dict[type[Exception], Callable[..., Response[Any]]] = {
    NotAuthorizedException: _on_not_signed_in,
    CrossSiteRead: _on_cross_site_read,
    NotFoundException: _on_http_exception,
    PermissionDeniedException: _on_http_exception,
    HTTPException: _on_http_exception,
    DomainError: _on_domain_error,
    DataError: _on_data_error,
    OverflowError: _on_data_error,  # SQLite's "int too large", a date out of range
    Exception: _on_unexpected,
}
HANDLERS: dict[Any, Any] = {exc: _or_api_problem(h) for exc, h in _PAGE_HANDLERS.items()}
