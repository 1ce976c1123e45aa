"""Matching runs: a heartbeat, so that a run whose server died is found and marked failed

Revision ID: 0003_runs
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_runs"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("matchrun") as batch:
        batch.add_column(sa.Column("heartbeat_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("matchrun") as batch:
        batch.drop_column("heartbeat_at")
