"""Throttling after failures (sign-in, and API key checks): growing delays, never a lockout.

Failures are counted in the database so that every app process shares them. Sign-in counts
them under two keys:

- per client address: slows password spraying across many accounts from one place;
- per (email, client address): slows guessing one account's password from one place, without
  touching the account's owner signing in from anywhere else.

Each key allows a few free failures, then blocks for 5, 10, 20, ... seconds up to 15 minutes
after each further failure. An attempt while blocked is refused without being counted, so a
block never lasts longer than 15 minutes after the last counted failure, and a quiet hour
forgets the count. A success clears its (email, client) count. Keys are the same for emails
with and without an account, so throttling says nothing about which emails exist.

Failed API key checks are counted per client address under an ``api:`` key, with the free
failures the service's setting allows (``api_rule``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from peermatch.models import SignInThrottle

FIRST_DELAY = dt.timedelta(seconds=5)
MAX_DELAY = dt.timedelta(minutes=15)
FORGET_AFTER = dt.timedelta(hours=1)


@dataclass(frozen=True)
class Rule:
    prefix: str
    free_failures: int


CLIENT = Rule("client", free_failures=20)
PAIR = Rule("pair", free_failures=3)


def api_rule(failures_allowed: int) -> Rule:
    """Failed API key checks: ``failures_allowed`` per client address, the last of them
    already delayed."""
    return Rule("api", free_failures=max(0, failures_allowed - 1))


def api_key(client: str) -> str:
    return f"api:{client[:60]}"


def keys(email: str, client: str) -> tuple[str, str]:
    """The (client, pair) keys for an attempt; the email is hashed, never stored."""
    email_hash = hashlib.sha256(email.encode("utf-8", "replace")).hexdigest()[:32]
    client_part = client[:60]
    return f"{CLIENT.prefix}:{client_part}", f"{PAIR.prefix}:{email_hash}:{client_part}"


def _rule(key: str) -> Rule:
    return CLIENT if key.startswith(CLIENT.prefix + ":") else PAIR


def delay_after(failures: int, rule: Rule) -> dt.timedelta:
    """How long to block after the ``failures``-th failure under ``rule``: nothing for the
    free ones, then 5 s, 10 s, 20 s, ... up to MAX_DELAY."""
    over = failures - rule.free_failures
    if over <= 0:
        return dt.timedelta(0)
    return min(FIRST_DELAY * (1 << min(over - 1, 20)), MAX_DELAY)


def wait_seconds(session: Session, attempt_keys: tuple[str, ...], now: dt.datetime) -> int:
    """Seconds until an attempt under these keys may be tried; 0 if it may be tried now."""
    wait = dt.timedelta(0)
    for key in attempt_keys:
        row = session.get(SignInThrottle, key)
        if row is not None and row.blocked_until is not None and row.blocked_until > now:
            wait = max(wait, row.blocked_until - now)
    return int(-(-wait.total_seconds() // 1))


def record_failure(
    session: Session, attempt_keys: tuple[str, ...], now: dt.datetime, rule: Rule | None = None
) -> int:
    """Count a failure under each key (atomically, so parallel attempts all count); ``rule``
    for keys other than sign-in's. Returns the longest block it set, in seconds (0: none)."""
    longest = dt.timedelta(0)
    for key in attempt_keys:
        row = session.get(SignInThrottle, key)
        if row is None:
            try:
                with session.begin_nested():
                    session.add(SignInThrottle(key=key, failures=0, last_failure_at=now))
            except IntegrityError:  # a parallel attempt created it first
                pass
            row = session.get(SignInThrottle, key)
            assert row is not None
        forget = now - row.last_failure_at > FORGET_AFTER
        session.execute(
            update(SignInThrottle)
            .where(col(SignInThrottle.key) == key)
            .values(
                failures=1 if forget else SignInThrottle.failures + 1,
                last_failure_at=now,
            )
        )
        session.refresh(row)
        pause = delay_after(row.failures, rule or _rule(key))
        row.blocked_until = now + pause if pause else None
        longest = max(longest, pause)
        session.flush()
    return int(-(-longest.total_seconds() // 1))


def clear(session: Session, key: str) -> None:
    row = session.get(SignInThrottle, key)
    if row is not None:
        session.delete(row)
        session.flush()
