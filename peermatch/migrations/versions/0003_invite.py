"""Outbox: when a dead letter was last retried by a coordinator

Revision ID: 0003_invite
Revises: 0003_runs
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_invite"
down_revision = "0003_runs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outboxmessage") as batch:
        batch.add_column(sa.Column("retried_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outboxmessage") as batch:
        batch.drop_column("retried_at")
