"""Alembic environment, run programmatically by ``peermatch.db.upgrade`` (no alembic.ini).

Batch mode on SQLite, whose ALTER TABLE cannot change or drop most things in place.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import peermatch.models  # noqa: F401  (registers the tables on SQLModel.metadata)

target_metadata = SQLModel.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None or context.is_offline_mode():
        raise SystemExit("Run migrations with `peermatch db upgrade` (peermatch.db.upgrade)")
    _run(connection)


run()
