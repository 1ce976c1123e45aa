"""Re-matching off the web path: a request whose seat was freed waits for the worker.

Revision ID: 0005_rematch_queue
Revises: 0004_api_rate
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_rematch_queue"
down_revision = "0004_api_rate"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reviewrequest") as batch:
        batch.add_column(sa.Column("rematch_wanted_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("rematch_claimed_until", sa.DateTime(), nullable=True))
        batch.create_index(
            batch.f("ix_reviewrequest_rematch_wanted_at"), ["rematch_wanted_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("reviewrequest") as batch:
        batch.drop_index(batch.f("ix_reviewrequest_rematch_wanted_at"))
        batch.drop_column("rematch_claimed_until")
        batch.drop_column("rematch_wanted_at")
