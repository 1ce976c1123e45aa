"""Response hardening shared by every route: security headers with a per-response CSP nonce.

The headers are added by a ``before_send`` hook, which Litestar runs for every response it
sends: pages, error pages (including 404 and 405 for routes that do not exist, where no
middleware runs), static files, the API and its documentation. A page gets its nonce from
:func:`csp_nonce`; ``base.html`` passes it to the GOV.UK template as ``cspNonce``.
"""

from __future__ import annotations

import re
import secrets
from typing import Any
from urllib.parse import parse_qsl, unquote

from litestar.connection import ASGIConnection
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.exceptions import ClientException, HTTPException, NotFoundException
from litestar.handlers.base import BaseRouteHandler
from litestar.status_codes import HTTP_403_FORBIDDEN
from litestar.types import ASGIApp, Message, Receive, Scope, Send

_NONCE_KEY = "peermatch.csp_nonce"


def csp_nonce(scope: Scope | Any) -> str:
    """This response's nonce (made on first use). Accepts a scope or a request."""
    scope = getattr(scope, "scope", scope)
    state: dict[str, Any] = scope.setdefault("state", {})
    nonce = state.get(_NONCE_KEY)
    if not isinstance(nonce, str):
        nonce = secrets.token_urlsafe(18)
        state[_NONCE_KEY] = nonce
    return nonce


def content_security_policy(nonce: str) -> str:
    """Scripts only from this origin or carrying this response's nonce; nothing from another
    origin; no plugins, no <base>, no framing, forms post only here."""
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            "style-src 'self'",
            "img-src 'self' data:",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def security_headers(nonce: str, *, https: bool) -> dict[str, str]:
    headers = {
        "Content-Security-Policy": content_security_policy(nonce),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    }
    if https:
        headers["Strict-Transport-Security"] = "max-age=31536000"
    return headers


async def add_security_headers(message: Message, scope: Scope) -> None:
    """``before_send`` hook: the same headers on every HTTP response, whatever produced it."""
    if message["type"] != "http.response.start":
        return
    app = scope.get("app")
    settings = getattr(getattr(app, "state", None), "settings", None)
    https = bool(getattr(settings, "secure_cookies", False))
    headers = MutableScopeHeaders.from_message(message)
    # A handler may make the policy stricter, never looser. Kept: ``Referrer-Policy:
    # no-referrer`` (pages reached from a signed link), and a CSP that sandboxes the document
    # and loads nothing (``sandbox; default-src 'none'``: the email preview, whose inline styles
    # cannot run anything in a sandbox without scripts). Anything else a handler set is replaced.
    own_csp = headers.get("Content-Security-Policy") or ""
    sealed = own_csp.startswith("sandbox;") and "default-src 'none'" in own_csp
    no_referrer = headers.get("Referrer-Policy") == "no-referrer"
    for name, value in security_headers(csp_nonce(scope), https=https).items():
        headers[name] = value
    if sealed:
        headers["Content-Security-Policy"] = own_csp
    if no_referrer:
        headers["Referrer-Policy"] = "no-referrer"


# --- request shape -----------------------------------------------------------------------------

# Ids are INTEGER columns (32-bit on PostgreSQL): a path number outside 1..MAX_ID names nothing.
MAX_ID = 2**31 - 1
MAX_PATH, MAX_SEGMENT = 1024, 200
# C0 controls and DEL, except tab, line feed and carriage return. Nothing typed needs them.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# A whole number too long for any database column (a typed ``limit: int`` query parameter would
# otherwise carry it to the database). Long digit strings only: tokens are never this short.
_HUGE_NUMBER = re.compile(r"[+-]?0*[0-9]{19,40}")
INT64_MAX = 2**63 - 1


class RequestShapeMiddleware:
    """Refuses, before any handler runs, what no PeerMatch route can use: an int path parameter
    outside 1..MAX_ID, a control character in the path or an over-long path (404: no such
    page), and a control character or a number beyond 64 bits anywhere in the query string
    (400). Every route, present and future, gets this.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP:
            check_request_shape(scope)
        await self.app(scope, receive, send)


_ASCII_NUMBER = re.compile(r"[0-9]+")
# The API answers a negative id with its own 400 problem naming the parameter (the contract).
_API_NUMBER = re.compile(r"-?[0-9]+")


def int_segments_are_ascii(scope: Scope) -> bool:
    """True unless an int path parameter was read from anything but ASCII digits. Python's
    ``int()``, which parses them, also reads "١٢", "１２", "1_2", " 12" and "+12" as 12: one
    page would answer to many addresses, and a check that compares paths would be fooled."""
    params = scope.get("path_params") or {}
    numbers = {k for k, v in params.items() if isinstance(v, int) and not isinstance(v, bool)}
    if not numbers:
        return True
    template = str(scope.get("path_template") or "").split("/")
    path = str(scope.get("path", "")).split("/")
    number = _API_NUMBER if str(scope.get("path", "")).startswith("/api/") else _ASCII_NUMBER
    for index, part in enumerate(template):
        name = part[1:-1].partition(":")[0] if part.startswith("{") else None
        if name in numbers and (index >= len(path) or not number.fullmatch(path[index])):
            return False
    return True


def check_request_shape(scope: Scope) -> None:
    # Numbers in the path are ASCII digits, everywhere (the API included): 404 otherwise.
    if not int_segments_are_ascii(scope):
        raise NotFoundException()
    # The partnership API validates its own path and query parameters strictly and answers
    # with problem details that point at the bad parameter; only the path's shape is checked.
    api = str(scope.get("path", "")).startswith("/api/")
    for value in () if api else (scope.get("path_params") or {}).values():
        if isinstance(value, bool):
            continue
        if isinstance(value, int) and not 1 <= value <= MAX_ID:
            raise NotFoundException()
        if isinstance(value, str) and CONTROL_CHARACTERS.search(value):
            raise NotFoundException()
    path = unquote(scope.get("path", ""))
    if CONTROL_CHARACTERS.search(path):
        raise NotFoundException()
    # No page or file has a longer name; a filesystem would refuse one (and answer 500).
    if len(path) > MAX_PATH or any(len(part) > MAX_SEGMENT for part in path.split("/")):
        raise NotFoundException()
    query = "" if api else scope.get("query_string", b"").decode("latin-1")
    for key, value in parse_qsl(query, keep_blank_values=True, errors="replace"):
        if CONTROL_CHARACTERS.search(key) or CONTROL_CHARACTERS.search(value):
            raise ClientException("The address contains characters that are not allowed")
        if _HUGE_NUMBER.fullmatch(value.strip()) and abs(int(value)) > INT64_MAX:
            raise ClientException("A number in the address is too large")


# --- reads from another site ---------------------------------------------------------------------


class CrossSiteRead(HTTPException):
    """A coordinator page opened from another site (``Sec-Fetch-Site: cross-site``)."""

    status_code = HTTP_403_FORBIDDEN


def refuse_cross_site_reads(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """Guard for every coordinator page but home. Opening a request, a reviewer, an outbox
    message or an export writes an audit row; another site could otherwise open them in a
    coordinator's browser (the session cookie is SameSite=Lax, so it goes with a top-level
    navigation) and fill the audit log with reads no one made. Such a read gets a 403 page
    with a link to the same page, which, followed from PeerMatch, is audited as usual. Browsers
    without Fetch Metadata send no header and are not refused; nothing is written without a
    session either way."""
    if connection.scope.get("method") not in {"GET", "HEAD"} or connection.url.path == "/":
        return
    if connection.headers.get("sec-fetch-site", "").strip().lower() == "cross-site":
        raise CrossSiteRead()


# --- the client's address ---------------------------------------------------------------------
