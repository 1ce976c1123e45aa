"""Shared fixtures: a real database (SQLite file, or PostgreSQL when
PEERMATCH_TEST_DATABASE_URL is set), created fresh for each test."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

import peermatch.models  # noqa: F401  (registers the tables)
from peermatch import registry
from peermatch.accounts import create_user
from peermatch.db import make_engine
from peermatch.models import Partnership, Region, User
from peermatch.registry import ReviewerInput, ReviewerView

PG_URL = os.environ.get("PEERMATCH_TEST_DATABASE_URL")


def _reset_postgres(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))


@pytest.fixture
def database_url(tmp_path) -> str:
    """The URL tests run against: PostgreSQL if configured, else a fresh SQLite file."""
    return PG_URL or f"sqlite:///{tmp_path / 'test.sqlite3'}"


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    eng = make_engine(database_url)
    if database_url.startswith("postgresql"):
        _reset_postgres(eng)
    SQLModel.metadata.create_all(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as s:
        yield s


def pytest_collection_modifyitems(config, items):
    skip_pg = pytest.mark.skip(reason="PEERMATCH_TEST_DATABASE_URL is not set")
    for item in items:
        if "postgres" in item.keywords and not PG_URL:
            item.add_marker(skip_pg)


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
