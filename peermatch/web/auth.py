"""Who is signing in and who is signed in: the session cookie, the middleware that resolves it,
and the ``coordinator`` dependency every coordinator page receives.

The session rules (tokens, timeouts) are the service's, in peermatch/sessions.py; this module
only moves tokens between cookies and that service.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.enums import ScopeType
from litestar.exceptions import NotAuthorizedException
from litestar.handlers.base import BaseRouteHandler
from litestar.types import ASGIApp, Receive, Scope, Send
from sqlalchemy.engine import Engine
from sqlmodel import Session

from peermatch import sessions
from peermatch.settings import Settings

SESSION_COOKIE = "peermatch_session"
CSRF_COOKIE = "peermatch_csrf"  # app.py's CSRFConfig cookie_name
_RESOLVED = "peermatch.session_resolved"


@dataclass(frozen=True)
class Coordinator:
    """The signed-in user, detached from any database session."""

    id: int
    name: str
    region_id: int
    role: str

    @property
    def actor(self) -> str:
        return f"user:{self.id}"


def session_cookie(token: str, settings: Settings) -> Cookie:
    return Cookie(
        key=SESSION_COOKIE,
        value=token,
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        max_age=settings.session_absolute_hours * 3600,
    )


def expired_cookies(settings: Settings) -> list[Cookie]:
    """Cookies that end the session cookie and the CSRF cookie in the browser: at sign-in (the
    CSRF token of the signed-out visitor is not carried into the session) and at sign-out.
    The next page sets a fresh CSRF cookie."""
    return [
        Cookie(
            key=name,
            value="",
            path="/",
            httponly=True,
            samesite="lax",
            secure=settings.secure_cookies,
            max_age=0,
        )
        for name in (SESSION_COOKIE, CSRF_COOKIE)
    ]


def cookie_values(scope: Scope | Any, name: str) -> list[str]:
    """Every value the request carries for cookie ``name``, in order, repeats included: a
    browser sends several cookies of one name when one was planted for a narrower path or a
    parent domain. Read from the raw headers, where nothing has picked a winner yet."""
    scope = getattr(scope, "scope", scope)
    values: list[str] = []
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            for part in value.decode("latin-1").split(";"):
                key_part, sign, found = part.strip().partition("=")
                if sign and key_part.strip() == name:
                    values.append(found.strip())
    return values


def presented_tokens(scope: Scope | Any) -> list[str]:
    """Every session token the request carries, each once: sign-in and sign-out end them all."""
    tokens: list[str] = []
    for token in cookie_values(scope, SESSION_COOKIE):
        if token and token not in tokens:
            tokens.append(token)
    return tokens


def session_token(scope: Scope | Any) -> str | None:
    """The session token the request is signed in with: its one session cookie. A request
    with two or more (however alike) is signed out: which one a browser, a proxy or a
    framework would pick is not something to rely on."""
    values = cookie_values(scope, SESSION_COOKIE)
    return values[0] if len(values) == 1 and values[0] else None


def find_coordinator(
    engine: Engine, settings: Settings, tokens: list[str], *, now: dt.datetime | None = None
) -> tuple[Coordinator, str] | None:
    """The coordinator of the live session among ``tokens`` (give one: see session_token),
    and its token."""
    idle = dt.timedelta(minutes=settings.session_idle_minutes)
    absolute = dt.timedelta(hours=settings.session_absolute_hours)
    with Session(engine, expire_on_commit=False) as db:
        for token in tokens:
            user = sessions.find_user(db, token, idle=idle, absolute=absolute, now=now)
            if user is not None:
                assert user.id is not None
                coordinator = Coordinator(
                    id=user.id, name=user.name, region_id=user.region_id, role=user.role
                )
                return coordinator, token
    return None


def _store(scope: Scope, found: tuple[Coordinator, str] | None) -> None:
    scope["user"] = found[0] if found else None
    scope["auth"] = found[1] if found else None
    scope.setdefault("state", {})[_RESOLVED] = True


class SessionMiddleware:
    """Puts the signed-in coordinator (or None) in ``scope["user"]`` for every routed request."""

    def __init__(self, app: ASGIApp, engine: Engine, settings: Settings) -> None:
        self.app = app
        self.engine = engine
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP:
            token = session_token(scope)
            tokens = [token] if token else []
            found = None
            # Static files need no session, and would otherwise cost a query each.
            if tokens and not scope["path"].startswith("/static/"):
                found = await anyio.to_thread.run_sync(
                    find_coordinator, self.engine, self.settings, tokens
                )
            _store(scope, found)
        await self.app(scope, receive, send)


def resolve_coordinator(scope: Scope) -> Coordinator | None:
    """The signed-in coordinator, also where no middleware ran (Litestar runs none for a path
    that matches no route): the error pages call this so a 404 shows the signed-in header."""
    state = scope.setdefault("state", {})
    if not state.get(_RESOLVED):
        token = session_token(scope)
        tokens = [token] if token else []
        app = scope.get("app")
        found = None
        if tokens and app is not None:
            found = find_coordinator(app.state.engine, app.state.settings, tokens)
        _store(scope, found)
    user = scope.get("user")
    return user if isinstance(user, Coordinator) else None


def requires_sign_in(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard for every coordinator page; the error handler turns this into a redirect."""
    if not isinstance(connection.scope.get("user"), Coordinator):
        raise NotAuthorizedException("Sign in to continue")


def provide_coordinator(request: Request[Any, Any, Any]) -> Coordinator:
    """The ``me`` dependency (params.Me): the signed-in coordinator of this request."""
    user = request.scope.get("user")
    if not isinstance(user, Coordinator):
        raise NotAuthorizedException("Sign in to continue")
    return user
