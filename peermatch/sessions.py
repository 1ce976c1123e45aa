"""Coordinator sign-in sessions, the service: a random token for the cookie, only its sha256 in
the database. A session ends at sign-out, after ``idle`` without a request, or ``absolute``
after sign-in, whichever comes first. The web layer (peermatch/web/auth.py) owns the cookie."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable

from sqlalchemy import delete
from sqlmodel import Session, col

from peermatch.models import User, WebSession, utcnow

# Refreshing last_seen_at on every request would write on every page view; once a minute is
# plenty for a timeout measured in tens of minutes.
TOUCH_EVERY = dt.timedelta(minutes=1)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def start(session: Session, user: User, previous_tokens: Iterable[str] = ()) -> str:
    """A new session for ``user``; any previous ones presented are deleted, so a token planted
    before sign-in is worthless after it. Returns the token for the cookie."""
    end(session, previous_tokens)
    token = secrets.token_urlsafe(32)
    assert user.id is not None
    session.add(WebSession(token_hash=digest(token), user_id=user.id))
    session.flush()
    return token


def end(session: Session, tokens: Iterable[str]) -> None:
    """End every session among ``tokens`` (a request may carry several cookies)."""
    hashes = {digest(t) for t in tokens if t}
    if hashes:
        session.execute(delete(WebSession).where(col(WebSession.token_hash).in_(hashes)))


def find_user(
    session: Session,
    token: str,
    *,
    idle: dt.timedelta,
    absolute: dt.timedelta,
    now: dt.datetime | None = None,
) -> User | None:
    """The active user a session token belongs to, or None if it is unknown or has timed out
    (a timed-out session is deleted). Commits its own small writes."""
    now = now or utcnow()
    web_session = session.get(WebSession, digest(token))
    if web_session is None:
        return None
    user = session.get(User, web_session.user_id)
    if (
        user is None
        or not user.active
        or now - web_session.last_seen_at > idle
        or now - web_session.created_at > absolute
    ):
        session.delete(web_session)
        session.commit()
        return None
    if now - web_session.last_seen_at > TOUCH_EVERY:
        web_session.last_seen_at = now
        session.commit()
    return user
