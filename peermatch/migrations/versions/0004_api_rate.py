"""API rate limits in the database (shared by every app process): calls per key per window.

Revision ID: 0004_api_rate
Revises: 0003_harden
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_api_rate"
down_revision = "0003_harden"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "apiratewindow",
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("window_start", sa.DateTime(), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", "window_start", name=op.f("pk_apiratewindow")),
    )


def downgrade() -> None:
    op.drop_table("apiratewindow")
