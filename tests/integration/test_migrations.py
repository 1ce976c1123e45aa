"""Migrations build the schema from empty, and agree with the models."""

from __future__ import annotations

import subprocess
import sys

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlmodel import SQLModel

import peermatch.models  # noqa: F401  (registers the tables)
from peermatch.db import alembic_config, make_engine, upgrade


@pytest.fixture
def empty_database_url(database_url):
    """The test database with nothing in it (not even the conftest's create_all)."""
    engine = make_engine(database_url)
    if database_url.startswith("postgresql"):
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return database_url


def test_upgrade_from_empty_creates_every_table(empty_database_url):
    upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert set(SQLModel.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_upgrade_twice_is_harmless(empty_database_url):
    upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO region (code, name) VALUES ('kept', 'Kept')"))
    upgrade(empty_database_url)
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [
            head
        ]
        assert conn.execute(text("SELECT code FROM region")).scalars().all() == ["kept"]
    engine.dispose()


def test_the_models_and_the_migrations_agree(empty_database_url):
    upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    engine.dispose()
    assert differences == []


def test_processes_starting_together_migrate_once(empty_database_url):
    # Separate processes, as when several app containers start at once (alembic's context is
    # global, so threads would not be a fair test). On PostgreSQL an advisory lock serialises them.
    script = "import sys; from peermatch.db import upgrade; upgrade(sys.argv[1])"
    processes = [
        subprocess.Popen([sys.executable, "-c", script, empty_database_url], stderr=subprocess.PIPE)
        for _ in range(3)
    ]
    for process in processes:
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr.decode()
    engine = make_engine(empty_database_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    engine.dispose()


def test_0006_gives_every_existing_reviewer_a_default_organisation(empty_database_url):
    from alembic import command

    upgrade(empty_database_url, "0005_email_normal")
    engine = make_engine(empty_database_url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO region (id, code, name) VALUES (1, 'r', 'R')"))
        conn.execute(
            text(
                "INSERT INTO partnership (id, region_id, code, name, opening_lent, "
                "opening_received) VALUES (1, 1, 'nor', 'Northam', 0, 0), "
                "(2, 1, 'sou', 'Southam', 0, 0)"
            )
        )
        for rid, pid, agency in [(1, 1, "police"), (2, 1, "police"), (3, 2, "police")]:
            conn.execute(
                text(
                    "INSERT INTO reviewer (id, partnership_id, name, email, agency, job_role, "
                    "capacity, active, prior_reviews, created_at, updated_at) VALUES "
                    "(:id, :p, 'A', :email, :agency, '', 1, true, 0, '2026-01-01', '2026-01-01')"
                ),
                {"id": rid, "p": pid, "email": f"r{rid}@example.org", "agency": agency},
            )
    upgrade(empty_database_url)
    with engine.connect() as conn:
        orgs = dict(conn.execute(text("SELECT name, id FROM organisation")).all())
        assigned = dict(conn.execute(text("SELECT id, organisation_id FROM reviewer")).all())
        served = conn.execute(
            text("SELECT organisation_id, partnership_id FROM organisationpartnership")
        ).all()
    assert set(orgs) == {"Northam Police", "Southam Police"}
    assert assigned == {
        1: orgs["Northam Police"],
        2: orgs["Northam Police"],
        3: orgs["Southam Police"],
    }
    assert sorted(served) == sorted([(orgs["Northam Police"], 1), (orgs["Southam Police"], 2)])
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0005_email_normal")
    with engine.connect() as conn:
        assert "organisation" not in inspect(conn).get_table_names()
        assert "organisation_id" not in {c["name"] for c in inspect(conn).get_columns("reviewer")}
    engine.dispose()
