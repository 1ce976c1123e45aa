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
from peermatch.db import make_engine

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


def pytest_collection_modifyitems(config, items):  # noqa: ARG001
    skip_pg = pytest.mark.skip(reason="PEERMATCH_TEST_DATABASE_URL is not set")
    for item in items:
        if "postgres" in item.keywords and not PG_URL:
            item.add_marker(skip_pg)
