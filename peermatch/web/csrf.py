"""CSRF tokens bound to the session they were shown in, and the body read only within bounds.

Litestar's ``CSRFConfig`` is a plain double submit: any token the server ever signed is good
with a matching cookie, so a token minted for a signed-out visitor (or planted by a sibling
site, which can set cookies for this one) stays good after the victim signs in. Here a token is
``nonce.mac`` where ``mac = HMAC(secret, nonce | binding)`` and the binding is the session
cookie the request carries (a hash of it; "" when there is none, or more than one, which
:func:`peermatch.web.auth.session_token` treats as signed out). A state-changing request is
accepted only when its form field (or ``X-CSRFToken`` header) equals its CSRF cookie *and* that
token's MAC is good for the session cookie sent with it. So a token is worthless in any other
session: after sign-in, after sign-out, and in someone else's browser.

The form is read here, before any handler, so its size is bounded here too: every route has
its own ``request_max_body_size`` (app.py), a body over it gets the 413 page, and a body that is
not a form (or is not UTF-8) gets the 415 or 400 page instead of a silent empty form.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import Any

from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.enums import RequestEncodingType, ScopeType
from litestar.exceptions import HTTPException, PermissionDeniedException
from litestar.status_codes import HTTP_415_UNSUPPORTED_MEDIA_TYPE
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

from peermatch.web.auth import CSRF_COOKIE, cookie_values, session_token

FIELD = "_csrf_token"
HEADER = "x-csrftoken"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
FORM_TYPES = frozenset({RequestEncodingType.URL_ENCODED, RequestEncodingType.MULTI_PART})
_TOKEN = re.compile(r"[0-9a-f]{32}\.[0-9a-f]{64}")


class UnsupportedMediaType(HTTPException):
    status_code = HTTP_415_UNSUPPORTED_MEDIA_TYPE


def binding(session: str | None) -> str:
    """What a token is bound to: a hash of the one session cookie, or "" without one."""
    return hashlib.sha256(session.encode("latin-1", "replace")).hexdigest() if session else ""


def mint(secret: str, session: str | None) -> str:
    nonce = secrets.token_hex(16)
    return f"{nonce}.{_mac(secret, nonce, binding(session))}"


def valid(secret: str, token: str, session: str | None) -> bool:
    """True when ``token`` was minted by this server for this session cookie (or none)."""
    if not _TOKEN.fullmatch(token):
        return False
    nonce, _, mac = token.partition(".")
    return hmac.compare_digest(mac, _mac(secret, nonce, binding(session)))


def _mac(secret: str, nonce: str, bound_to: str) -> str:
    message = f"peermatch-csrf|{nonce}|{bound_to}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


class CsrfMiddleware:
    """Runs for every routed request except the paths in ``exclude`` (the API, which uses keys;
    the reviewers' answer pages, authenticated by the signed token in their address)."""

    def __init__(
        self, app: ASGIApp, *, secret: str, secure: bool, exclude: tuple[str, ...]
    ) -> None:
        self.app = app
        self.secret = secret
        self.secure = secure
        self.exclude = re.compile("|".join(exclude)) if exclude else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or (
            self.exclude is not None and self.exclude.search(scope["path"])
        ):
            await self.app(scope, receive, send)
            return
        session = session_token(scope)
        cookies = cookie_values(scope, CSRF_COOKIE)
        # Two CSRF cookies (one planted for a narrower path, say) are as good as none.
        cookie = cookies[0] if len(cookies) == 1 else None
        state = ScopeState.from_scope(scope)
        if scope["method"] in SAFE_METHODS:
            if cookie is not None and valid(self.secret, cookie, session):
                state.csrf_token = cookie
                await self.app(scope, receive, send)
                return
            token = state.csrf_token = mint(self.secret, session)
            await self.app(scope, receive, self._setting_cookie(send, token))
            return
        request: Any = scope["litestar_app"].request_class(scope=scope, receive=receive)
        presented = request.headers.get(HEADER)
        content_type, _ = request.content_type
        if content_type in FORM_TYPES:
            form = await request.form()  # bounded by the route's request_max_body_size
            presented = presented or form.get(FIELD)
        elif await request.body():  # something sent that no PeerMatch page could have sent
            raise UnsupportedMediaType("Send the form as a web page would")
        if (
            isinstance(presented, str)
            and cookie is not None
            and hmac.compare_digest(presented.encode("latin-1", "replace"), cookie.encode())
            and valid(self.secret, cookie, session)
        ):
            state.csrf_token = cookie
            await self.app(scope, receive, send)
            return
        raise PermissionDeniedException("CSRF token verification failed")

    def _setting_cookie(self, send: Send, token: str) -> Send:
        cookie = Cookie(
            key=CSRF_COOKIE,
            value=token,
            path="/",
            secure=self.secure,
            httponly=True,  # forms carry the token; no script needs to read it
            samesite="lax",
        )

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders.from_message(message)
                # A handler that ends the CSRF cookie (sign-in, sign-out) has the last word.
                ending = any(
                    value.startswith(f"{CSRF_COOKIE}=")
                    for value in headers.getall("set-cookie", [])
                )
                if not ending:
                    headers.add("set-cookie", cookie.to_header(header=""))
            await send(message)

        return wrapped
