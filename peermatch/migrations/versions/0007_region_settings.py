"""A region's own settings: time limits, reminder days, training validity and retention.

Revision ID: 0007_region_settings
Revises: 0006_organisations
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_region_settings"
down_revision = "0006_organisations"
branch_labels = None
depends_on = None

COLUMNS = {
    "solver_time_limit_seconds": "30",
    "invitation_working_days": "5",
    "reminder_working_days": "2",
    "training_valid_years": "3",
    "retain_closed_years": "6",
    "retain_outbox_days": "90",
    "retain_audit_years": "6",
    "retain_leavers_years": "1",
}


def upgrade() -> None:
    for name, default in COLUMNS.items():
        op.add_column(
            "region", sa.Column(name, sa.Integer(), nullable=False, server_default=default)
        )


def downgrade() -> None:
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+): a batch copy of ``region`` would trip
    # the foreign keys of every table that refers to it.
    for name in reversed(COLUMNS):
        op.drop_column("region", name)
