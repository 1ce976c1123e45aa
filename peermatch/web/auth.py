"""Coordinator sessions: a random token in an HttpOnly cookie, only its sha256 in the database.

A session ends when the coordinator signs out, after ``session_idle_minutes`` without a request,
or ``session_absolute_hours`` after sign-in, whichever comes first.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.exceptions import NotAuthorizedException
from litestar.handlers.base import BaseRouteHandler
from litestar.types import ASGIApp, Receive, Scope, Send
from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlmodel import Session

from peermatch.models import User, WebSession, utcnow
from peermatch.settings import Settings

SESSION_COOKIE = "peermatch_session"
# Refreshing last_seen_at on every request would write on every page view; once a minute is
# plenty for a timeout measured in tens of minutes.
_TOUCH_EVERY = dt.timedelta(minutes=1)


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


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def start_session(db: Session, user: User, previous_token: str | None) -> str:
    """A new session for ``user``; the previous one (if any) is deleted, so a token planted
    before sign-in is worthless after it. Returns the token for the cookie."""
    if previous_token:
        end_session(db, previous_token)
    token = secrets.token_urlsafe(32)
    assert user.id is not None
    db.add(WebSession(token_hash=_digest(token), user_id=user.id))
    db.flush()
    return token


def end_session(db: Session, token: str) -> None:
    db.execute(delete(WebSession).where(WebSession.token_hash == _digest(token)))  # type: ignore[arg-type]


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


def expired_session_cookie(settings: Settings) -> Cookie:
    return Cookie(
        key=SESSION_COOKIE,
        value="",
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        max_age=0,
    )


def find_coordinator(
    engine: Engine, settings: Settings, token: str, *, now: dt.datetime | None = None
) -> Coordinator | None:
    """The coordinator a session token belongs to, or None if it is unknown or has timed out
    (a timed-out session is deleted)."""
    now = now or utcnow()
    with Session(engine, expire_on_commit=False) as db:
        web_session = db.get(WebSession, _digest(token))
        if web_session is None:
            return None
        user = db.get(User, web_session.user_id)
        idle = dt.timedelta(minutes=settings.session_idle_minutes)
        absolute = dt.timedelta(hours=settings.session_absolute_hours)
        if (
            user is None
            or not user.active
            or now - web_session.last_seen_at > idle
            or now - web_session.created_at > absolute
        ):
            db.delete(web_session)
            db.commit()
            return None
        if now - web_session.last_seen_at > _TOUCH_EVERY:
            web_session.last_seen_at = now
            db.commit()
        assert user.id is not None
        return Coordinator(id=user.id, name=user.name, region_id=user.region_id, role=user.role)


class SessionMiddleware:
    """Puts the signed-in coordinator (or None) in ``scope["user"]`` for every HTTP request."""

    def __init__(self, app: ASGIApp, engine: Engine, settings: Settings) -> None:
        self.app = app
        self.engine = engine
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            token = _cookie(scope, SESSION_COOKIE)
            coordinator = None
            # Static files need no session, and would otherwise cost a query each.
            if token and not scope["path"].startswith("/static/"):
                coordinator = await anyio.to_thread.run_sync(
                    find_coordinator, self.engine, self.settings, token
                )
            scope["user"] = coordinator
            scope["auth"] = token if coordinator else None
        await self.app(scope, receive, send)


def _cookie(scope: Scope, name: str) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            for part in value.decode("latin-1").split(";"):
                k, _, v = part.strip().partition("=")
                if k == name and v:
                    return v
    return None


def requires_sign_in(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard for every coordinator page; the error handler turns this into a redirect."""
    if not isinstance(connection.scope.get("user"), Coordinator):
        raise NotAuthorizedException("Sign in to continue")
