"""Shared fixtures: a real database (SQLite file, or PostgreSQL when
PEERMATCH_TEST_DATABASE_URL is set), empty at the start of each test.

The schema is made once per session (once per pytest-xdist worker, each with a database of its
own) and every table is emptied, ids restarted, after each test that used it: the same clean
database as a fresh create_all, without paying for one per test. A test that changes the schema
itself (migrations) gets it rebuilt afterwards.

Passwords are hashed with argon2 at its cheapest in tests; a test marked ``real_password_cost``
gets the production cost (equal-time failure paths).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, SQLModel

import peermatch.models  # noqa: F401  (registers the tables)
from peermatch import accounts, registry
from peermatch.accounts import create_user
from peermatch.db import make_engine
from peermatch.models import Partnership, Region, User
from peermatch.registry import ReviewerInput, ReviewerView

PG_URL = os.environ.get("PEERMATCH_TEST_DATABASE_URL")
WORKER = os.environ.get("PYTEST_XDIST_WORKER")  # gw0, gw1, ... under pytest-xdist
TABLES = [t.name for t in SQLModel.metadata.sorted_tables]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--database-only",
        action="store_true",
        help="run only the tests that use the test database (the database_url fixture); CI's "
        "PostgreSQL pass, since the others already ran on SQLite",
    )


def pytest_collection_modifyitems(config, items):
    skip_pg = pytest.mark.skip(reason="PEERMATCH_TEST_DATABASE_URL is not set")
    for item in items:
        if "postgres" in item.keywords and not PG_URL:
            item.add_marker(skip_pg)
    if config.getoption("--database-only"):
        keep = [i for i in items if "database_url" in getattr(i, "fixturenames", ())]
        dropped = [i for i in items if "database_url" not in getattr(i, "fixturenames", ())]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            items[:] = keep


# --- the database: one per session (per xdist worker), emptied between tests -----------------


def _worker_postgres_url(url: str) -> str:
    """The configured database itself, or under xdist one database per worker beside it
    (``test_gw0``...), created on first use."""
    if not WORKER:
        return url
    base = make_url(url)
    name = f"{base.database}_{WORKER}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).first()
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


@dataclass
class SharedDatabase:
    url: str
    engine: Engine
    dirty: bool = True  # the schema may not be exactly the models' tables

    @property
    def postgres(self) -> bool:
        return self.url.startswith("postgresql")

    def rebuild(self) -> None:
        """Drop everything and create the models' tables (what every test used to get)."""
        self.engine.dispose()
        if self.postgres:
            with self.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        else:
            path = Path(make_url(self.url).database or "")
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        SQLModel.metadata.create_all(self.engine)
        self.dirty = False

    def empty(self) -> None:
        """Delete every row and restart the ids; rebuild if the schema is not the models'."""
        self.engine.dispose()  # connections a test left open hold no locks
        if set(inspect(self.engine).get_table_names()) != set(TABLES):
            self.rebuild()
            return
        if self.postgres:
            self._delete_postgres()
        else:
            with self.engine.begin() as conn:
                for table in reversed(TABLES):
                    conn.execute(text(f'DELETE FROM "{table}"'))
                has_sequences = conn.execute(
                    text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'")
                ).first()
                if has_sequences:
                    conn.execute(text("DELETE FROM sqlite_sequence"))

    def _delete_postgres(self) -> None:
        # DELETE, not TRUNCATE: on tables this small it takes milliseconds, TRUNCATE ~0.4 s.
        def delete(conn: Connection) -> None:
            conn.execute(text("SET LOCAL lock_timeout = '10s'"))
            for table in reversed(TABLES):
                conn.execute(text(f'DELETE FROM "{table}"'))
            sequences = conn.execute(
                text("SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'")
            ).scalars()
            for sequence in list(sequences):
                conn.execute(text(f'ALTER SEQUENCE "{sequence}" RESTART'))

        try:
            with self.engine.begin() as conn:
                delete(conn)
        except OperationalError:
            # A connection left idle in a transaction (a thread the test did not stop) holds
            # a lock: end it, as dropping the schema would have, and try again.
            with self.engine.begin() as conn:
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                )
            with self.engine.begin() as conn:
                delete(conn)


@pytest.fixture(scope="session")
def shared_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SharedDatabase]:
    if PG_URL:
        url = _worker_postgres_url(PG_URL)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    shared = SharedDatabase(url, make_engine(url))
    yield shared
    shared.engine.dispose()


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL tests run against: PostgreSQL if configured, else a SQLite file.

    With the ``engine`` fixture it is the shared database, tables made and empty. Without it
    the test gets the database as it is, to do what it likes with (on SQLite a fresh empty
    file; on PostgreSQL the shared database, rebuilt before the next test that uses it)."""
    if "engine" in request.fixturenames:
        shared: SharedDatabase = request.getfixturevalue("shared_database")
        return shared.url
    if PG_URL:
        shared = request.getfixturevalue("shared_database")
        shared.dirty = True
        return shared.url
    return f"sqlite:///{tmp_path / 'test.sqlite3'}"


def _wait_for_run_supervisors() -> None:
    """Runs started in the background finish (or fail) before their tables are emptied, so
    that none writes into the next test's data."""
    for thread in threading.enumerate():
        if thread.name.startswith("peermatch-run-") and thread is not threading.current_thread():
            thread.join(timeout=60)


@pytest.fixture
def engine(database_url: str, shared_database: SharedDatabase) -> Iterator[Engine]:
    if shared_database.dirty:
        shared_database.rebuild()
    yield shared_database.engine
    _wait_for_run_supervisors()
    try:
        shared_database.empty()
    except Exception:
        shared_database.dirty = True
        raise


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as s:
        yield s


# --- passwords: argon2 at its cheapest unless a test needs the real cost ----------------------

_CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture(autouse=True)
def _password_cost(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    if request.node.get_closest_marker("real_password_cost") is None:
        monkeypatch.setattr(accounts, "_hasher", _CHEAP_HASHER)
    accounts._dummy_hash.cache_clear()
    yield
    accounts._dummy_hash.cache_clear()


# --- named fixtures: two regions, one partnership and one coordinator in each -----------------

PASSWORD = "correct horse battery staple"


def _region(session: Session, code: str, name: str) -> Region:
    region = Region(code=code, name=name)
    session.add(region)
    session.commit()
    return region


def _partnership(session: Session, region: Region, code: str, name: str) -> Partnership:
    partnership = Partnership(region_id=region.id, code=code, name=name)
    session.add(partnership)
    session.commit()
    return partnership


@pytest.fixture
def region_a(session: Session) -> Region:
    return _region(session, "north-a", "Region A")


@pytest.fixture
def region_b(session: Session) -> Region:
    return _region(session, "south-b", "Region B")


@pytest.fixture
def partnership_a(session: Session, region_a: Region) -> Partnership:
    return _partnership(session, region_a, "ALPHA", "Alphaton Safeguarding Children Partnership")


@pytest.fixture
def partnership_b(session: Session, region_b: Region) -> Partnership:
    return _partnership(session, region_b, "BETA", "Betaford Safeguarding Children Partnership")


@pytest.fixture
def alice(session: Session, region_a: Region) -> User:
    user = create_user(
        session, email="alice@example.org", name="Alice", password=PASSWORD, region_id=region_a.id
    )
    session.commit()
    return user


@pytest.fixture
def bob(session: Session, region_b: Region) -> User:
    user = create_user(
        session, email="bob@example.org", name="Bob", password=PASSWORD, region_id=region_b.id
    )
    session.commit()
    return user


@pytest.fixture
def add_reviewer(session):
    """Add a reviewer through the registry service, committed, as another coordinator would."""

    def add(partnership, name: str = "Priya Shah", **overrides) -> ReviewerView:
        email = overrides.pop("email", name.lower().replace(" ", ".") + "@example.org")
        data = ReviewerInput(
            name=name,
            email=email,
            partnership_id=partnership.id,
            agency=overrides.pop("agency", "police"),
            **overrides,
        )
        reviewer = registry.create_reviewer(session, partnership.region_id, data, actor="test")
        session.commit()
        return reviewer

    return add
