"""API keys: ``Authorization: Bearer pm_<prefix>_<secret>``, one partnership per key.

Only the header authenticates: a coordinator's session cookie is ignored under /api/. Failed
checks are counted per client address (``peermatch.addresses.client_address``, which believes
forwarded headers only from trusted proxies): from the ``api_auth_failures``-th failure on,
further attempts from that address are refused with 429 for 5 s, then 10 s, 20 s, … up to 15
minutes after each failure, before the key is even looked at (``peermatch.throttle``; a quiet
hour forgets the count). Logs name the key's prefix at most, never the key.

Both counts live in the database, so every app process shares them: the failures in the
throttle table under ``api:<address>``, the rate limit per key in ``apiratewindow`` (one row per
key per minute).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
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

from peermatch import throttle
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


class ApiGate:
    """What every API call passes: the key check, the failure throttle and the rate limit.
    (A plain class: handlers receive it as a dependency, which must not look like data.)"""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self.limiter = RateLimiter(settings.api_rate_limit)
        self.failure_rule = throttle.api_rule(settings.api_auth_failures)

    def check_key(self, presented: str, address: str) -> tuple[ApiClient, int | None]:
        """Refuse a throttled address, verify the key, note its use and count the call against
        its rate limit, in a short transaction of its own. The client, and None or the seconds
        to wait if the key is over its limit. A rejected key is counted against ``address``."""
        now = _utcnow()
        failures = (throttle.api_key(address),)
        with Session(self.engine, expire_on_commit=False) as db:
            if blocked := throttle.wait_seconds(db, failures, now):
                raise _too_many(blocked, "Too many failed API key checks from this address")
            try:
                key = verify_api_key(db, presented, now=now)
            except ApiKeyRejected as exc:
                log.warning("API key rejected (%s), prefix %s", exc.reason, exc.prefix or "-")
                if pause := throttle.record_failure(db, failures, now, self.failure_rule):
                    log.warning("API key checks throttled for %d seconds", pause)
                db.commit()
                raise
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
        scheme, _sep, presented = connection.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not presented.strip():
            raise ApiProblem(
                401,
                "Send your API key as: Authorization: Bearer <key>",
                headers={"WWW-Authenticate": 'Bearer realm="peermatch"'},
            )
        try:
            client, wait = await anyio.to_thread.run_sync(
                self.check_key, presented.strip(), address
            )
        except ApiKeyRejected:
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
