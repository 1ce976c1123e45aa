"""API keys: ``Authorization: Bearer pm_<prefix>_<secret>``, one partnership per key.

Only the header authenticates: a coordinator's session cookie is ignored under /api/. Failed
checks are counted per client address; past ``api_auth_failures`` a minute, further attempts
from that address are refused with 429 for a time that doubles with each refusal (up to 15
minutes), before the key is even looked at. Logs name the key's prefix at most, never the key.

The rate limit per key is counted in the database (table ``apiratewindow``, one row per key per
minute), so every app process shares it. The failure throttle lives in the process's memory:
with several app processes each counts on its own, which bounds a guessing address at
(processes × limit) failures a minute before its lockout.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import anyio.to_thread
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.params import HeaderParameter, ParameterKwarg
from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from peermatch.accounts import ApiKeyRejected, verify_api_key
from peermatch.addresses import client_address
from peermatch.api.problems import ApiProblem, FieldError
from peermatch.models import ApiRateWindow, Partnership
from peermatch.settings import Settings

log = logging.getLogger("peermatch.api")

CLIENT_SCOPE_KEY = "peermatch_api_client"
WINDOW = 60.0  # seconds
MAX_LOCKOUT = 15 * 60.0


@dataclass(frozen=True)
class ApiClient:
    """The partnership an API call acts for, detached from any database session."""

    key_id: int
    prefix: str
    partnership_id: int
    partnership_code: str
    region_id: int

    @property
    def actor(self) -> str:
        return f"apikey:{self.key_id}"


_EPOCH = dt.datetime(1970, 1, 1)


@dataclass
class RateLimiter:
    """At most ``limit`` calls per ``window`` seconds for each name: a fixed window counted in
    the database, one row per name and window, so every process sharing the database shares the
    limit. Each call is counted by one atomic upsert (``INSERT … ON CONFLICT DO UPDATE SET
    calls = calls + 1 … RETURNING calls`` on SQLite and PostgreSQL alike), so parallel calls
    never lose a count; the first call of a new window deletes the name's older windows."""

    limit: int
    window: float = WINDOW
    clock: Callable[[], dt.datetime] = field(default_factory=lambda: _utcnow)

    def hit(self, session: Session, name: str) -> int | None:
        """Count one call in the caller's transaction; None if allowed, else the seconds to
        wait until the window ends. Calls refused are counted too (they change nothing: the
        window is full until it ends)."""
        now = self.clock()
        elapsed = (now - _EPOCH).total_seconds()
        start_seconds = elapsed // self.window * self.window
        start = _EPOCH + dt.timedelta(seconds=start_seconds)
        calls = _count_call(session, name, start)
        if calls == 1:  # a new window: the earlier ones of this name are done with
            session.execute(
                delete(ApiRateWindow).where(
                    col(ApiRateWindow.key) == name, col(ApiRateWindow.window_start) < start
                )
            )
        if calls > self.limit:
            return max(1, math.ceil(start_seconds + self.window - elapsed))
        return None


def _count_call(session: Session, name: str, start: dt.datetime) -> int:
    """Add one call to (name, window) and return the window's count, in one statement."""
    dialect = session.get_bind().dialect.name
    insert: Callable[..., Any]
    if dialect == "postgresql":
        insert = postgresql_insert
    elif dialect == "sqlite":
        insert = sqlite_insert
    else:  # pragma: no cover - PeerMatch runs on SQLite and PostgreSQL only
        raise RuntimeError(f"no rate-limit upsert for the {dialect} database")
    table = ApiRateWindow.metadata.tables["apiratewindow"]
    statement = (
        insert(table)
        .values(key=name, window_start=start, calls=1)
        .on_conflict_do_update(
            index_elements=[table.c.key, table.c.window_start],
            set_={"calls": table.c.calls + 1},
        )
        .returning(table.c.calls)
    )
    return int(session.execute(statement).scalar_one())


@dataclass
class FailureThrottle:
    """Failed key checks per client address; locks an address out for a growing time."""

    limit: int
    window: float = WINDOW
    clock: Callable[[], float] = time.monotonic
    _failures: dict[str, list[float]] = field(default_factory=dict)
    _locked: dict[str, tuple[float, float]] = field(default_factory=dict)  # until, last length
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def locked_for(self, address: str) -> int | None:
        now = self.clock()
        with self._lock:
            locked = self._locked.get(address)
            if locked and locked[0] > now:
                return max(1, math.ceil(locked[0] - now))
            return None

    def failed(self, address: str) -> int | None:
        """Count a failure; the lockout in seconds if this one crosses the limit."""
        now = self.clock()
        with self._lock:
            if len(self._failures) > 10_000:  # forget quiet addresses rather than grow forever
                self._failures = {
                    a: ts for a, ts in self._failures.items() if ts and now - ts[-1] < self.window
                }
                self._locked = {a: v for a, v in self._locked.items() if v[0] > now}
            recent = [t for t in self._failures.get(address, []) if now - t < self.window]
            recent.append(now)
            self._failures[address] = recent
            if len(recent) < self.limit:
                return None
            _, last = self._locked.get(address, (0.0, 0.0))
            length = min(MAX_LOCKOUT, last * 2 if last else self.window)
            self._locked[address] = (now + length, length)
            self._failures[address] = []
            return math.ceil(length)


class ApiGate:
    """What every API call passes: the key check, the failure throttle and the rate limit.
    (A plain class: handlers receive it as a dependency, which must not look like data.)"""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self.limiter = RateLimiter(settings.api_rate_limit)
        self.throttle = FailureThrottle(settings.api_auth_failures)

    def check_key(self, presented: str) -> tuple[ApiClient, int | None]:
        """Verify a key, note its use and count the call against its rate limit, in a short
        transaction of its own. The client, and None or the seconds to wait if the key is over
        its limit."""
        with Session(self.engine, expire_on_commit=False) as db:
            key = verify_api_key(db, presented, now=_utcnow())
            partnership = db.get(Partnership, key.partnership_id)
            assert partnership is not None and key.id is not None
            wait = self.limiter.hit(db, key.prefix)
            db.commit()
            client = ApiClient(
                key_id=key.id,
                prefix=key.prefix,
                partnership_id=key.partnership_id,
                partnership_code=partnership.code,
                region_id=partnership.region_id,
            )
            return client, wait

    async def guard(
        self, connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
    ) -> None:
        """The guard on every /api/v1 route."""
        address = client_address(connection, self.settings.trusted_proxies)
        if wait := self.throttle.locked_for(address):
            raise _too_many(wait, "Too many failed API key checks from this address")
        scheme, _sep, presented = connection.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not presented.strip():
            raise ApiProblem(
                401,
                "Send your API key as: Authorization: Bearer <key>",
                headers={"WWW-Authenticate": 'Bearer realm="peermatch"'},
            )
        try:
            client, wait = await anyio.to_thread.run_sync(self.check_key, presented.strip())
        except ApiKeyRejected as exc:
            log.warning("API key rejected (%s), prefix %s", exc.reason, exc.prefix or "-")
            if wait := self.throttle.failed(address):
                log.warning("API key checks throttled for %d seconds", wait)
            raise ApiProblem(
                401,
                "The API key is not valid: it may be mistyped, revoked or expired",
                headers={"WWW-Authenticate": 'Bearer realm="peermatch", error="invalid_token"'},
            ) from None
        if wait:
            raise _too_many(wait, f"This key may make {self.limiter.limit} requests a minute")
        if unknown := sorted(
            set(connection.query_params) - _query_names(handler, set(connection.path_params))
        ):
            raise ApiProblem(
                400,
                f"Unknown query parameter: {', '.join(unknown)}",
                [
                    FieldError(pointer=name, message="Not a parameter of this operation")
                    for name in unknown
                ],
            )
        connection.scope[CLIENT_SCOPE_KEY] = client  # type: ignore[literal-required]


_NOT_QUERY = frozenset({"request", "data", "db", "client", "gate", "raw_body", "headers"})


def _query_names(handler: BaseRouteHandler, path_names: set[str]) -> frozenset[str]:
    """The query parameters a route handler declares, by the names clients send."""
    names = set()
    for name, field_definition in handler.parsed_fn_signature.parameters.items():
        definition = field_definition.kwarg_definition
        if name in _NOT_QUERY or name in path_names:
            continue
        if isinstance(definition, ParameterKwarg):
            if definition.header or definition.cookie or isinstance(definition, HeaderParameter):
                continue
            names.add(getattr(definition, "name", None) or definition.query or name)
        else:
            names.add(name)
    return frozenset(names)


def _too_many(wait: int, detail: str) -> ApiProblem:
    return ApiProblem(
        429, f"{detail}; try again in {wait} seconds", headers={"Retry-After": str(wait)}
    )


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def provide_client(request: Request[Any, Any, Any]) -> ApiClient:
    """The dependency handlers name ``client``: set by the guard, which runs first."""
    client = request.scope.get(CLIENT_SCOPE_KEY)
    if not isinstance(client, ApiClient):  # a route outside the guard: refuse, never guess
        raise ApiProblem(401, "A valid API key is needed")
    return client
