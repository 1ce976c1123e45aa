"""Sign-in throttling in the database (shared by every app process); the per-account lockout
columns go.

Revision ID: 0003_harden
Revises: 0003_invite
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_harden"
down_revision = "0003_invite"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signinthrottle",
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(), nullable=False),
        sa.Column("blocked_until", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_signinthrottle")),
    )
    with op.batch_alter_table("user") as batch:
        batch.drop_column("failed_sign_ins")
        batch.drop_column("locked_until")


def downgrade() -> None:
    with op.batch_alter_table("user") as batch:
        batch.add_column(sa.Column("locked_until", sa.DateTime(), nullable=True))
        batch.add_column(
            sa.Column("failed_sign_ins", sa.Integer(), nullable=False, server_default="0")
        )
    op.drop_table("signinthrottle")
