"""Email addresses in one normal form (peermatch/email_address.py): report what is not.

Addresses are now checked by the email-validator library and stored in one normal form. Rows
written before may hold an address that is not valid (``x<a@b.c>``, ``a,b@c.d``) or not in
that form. This migration changes only what it can change safely: an address whose normal form
is a valid address that no other row of its table has (a registry's addresses stay unique). It
changes no outbox message and nothing that is not valid or would clash; it logs how many rows
of each table need a person to look at them. ``peermatch emails check`` lists them.

Revision ID: 0005_email_normal
Revises: 0005_rematch_queue
"""

from __future__ import annotations

import logging
from collections import Counter

import sqlalchemy as sa
from alembic import op

from peermatch.email_address import ADDRESS_COLUMNS, unclean_addresses

revision = "0005_email_normal"
down_revision = "0005_rematch_queue"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")


def upgrade() -> None:
    connection = op.get_bind()
    unclean = unclean_addresses(connection)
    fixed: Counter[str] = Counter()
    left: Counter[str] = Counter()
    columns = {table: (id_name, column) for table, id_name, column in ADDRESS_COLUMNS}
    for row in unclean:
        if row.normal is None or row.clash or row.table == "outboxmessage":
            left[row.table] += 1
            continue
        id_name, column = columns[row.table]
        target = sa.table(row.table, sa.column(id_name), sa.column(column))
        connection.execute(
            sa.update(target).where(target.c[id_name] == row.row_id).values({column: row.normal})
        )
        fixed[row.table] += 1
    for name, _, column in ADDRESS_COLUMNS:
        message = (
            f"0005_email_normal: {name}.{column}: {fixed[name]} put in normal form, "
            f"{left[name]} left for a person (peermatch emails check lists them)"
        )
        log.info(message)
        if left[name]:
            print(message)  # seen even where alembic's log is not shown


def downgrade() -> None:
    """Nothing to undo: the normal form is also a valid address under the old check."""
