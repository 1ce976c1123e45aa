"""Work email addresses: one normal form, checked by the ``email-validator`` library.

An address is stored, compared for uniqueness and mailed to in exactly one form, the one
:func:`normalised` returns: what ``email-validator`` makes of it (no display name, comment,
quoted or bracketed part, no second address; the domain lower-cased and in its ASCII (IDNA)
form), then lower-cased as a whole, as PeerMatch has always compared addresses. Anything that
does not come out of the library unchanged in meaning is refused, never guessed at: ``x<a@b.c>``,
``a,b@c.d``, ``(c)a@b.c`` and ``a@b.c;`` are not addresses here, because the mailer would read
another recipient (or none) out of them than the one stored.

Nothing here looks anything up on the network (``check_deliverability=False``); delivery
proves the rest.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from sqlalchemy.engine import Connection

from peermatch import text

MAX_LENGTH = 254
# GOV.UK's pattern for an address that is not one.
FORMAT_MESSAGE = "Enter an email address in the correct format, like name@example.org"


def normalised(email: str) -> str | None:
    """The one form ``email`` is stored, compared and mailed in, or None if it is not an
    address PeerMatch accepts. Surrounding spaces are forgiven; nothing else is."""
    candidate = email.strip()
    if (
        not candidate
        or len(candidate) > MAX_LENGTH
        or text.has_control_characters(candidate)
        or text.starts_like_formula(candidate)
    ):
        return None
    try:
        checked = validate_email(
            candidate,
            check_deliverability=False,  # no DNS: nothing here touches the network
            allow_smtputf8=False,  # the relay may not speak SMTPUTF8: ASCII local parts only
            allow_quoted_local=False,
            allow_domain_literal=False,
            allow_display_name=False,
        )
    except EmailNotValidError:
        return None
    address = (checked.ascii_email or checked.normalized).lower()
    return address if len(address) <= MAX_LENGTH and address.isascii() else None


def normalise(email: str) -> str:
    """The normal form of a valid address; otherwise what was typed, trimmed and lower-cased
    (for the form to show back and :func:`is_valid` to refuse)."""
    return normalised(email) or email.strip().lower()


def is_valid(email: str) -> bool:
    """True when ``email`` is an address PeerMatch accepts *and* already in its normal form:
    what is stored, compared and sent is exactly this string."""
    return normalised(email) == email


def problem(email: str) -> str | None:
    """The GOV.UK message for an address that is not valid (None when it is)."""
    return None if normalised(email) is not None else FORMAT_MESSAGE


# --- stored addresses that predate this check ---------------------------------------------------

# (table, id column, address column): every column that holds an address PeerMatch mails or
# compares. Plain table names, so the migration can use this without the current models.
ADDRESS_COLUMNS = (
    ("reviewer", "id", "email"),
    ("user", "id", "email"),
    ("outboxmessage", "id", "to_address"),
)


@dataclass(frozen=True)
class UncleanAddress:
    """A stored address that is not in its normal form. ``normal`` is None when the address is
    not valid at all; ``clash`` when its normal form is already another row's address."""

    table: str
    row_id: int
    stored: str
    normal: str | None
    clash: bool = False

    @property
    def reason(self) -> str:
        if self.normal is None:
            return "not a valid address"
        if self.clash:
            return f"normalises to {self.normal}, already another row's address"
        return f"normalises to {self.normal}"


def unclean_addresses(connection: Connection) -> list[UncleanAddress]:
    """Every stored address that does not normalise cleanly (to itself), table by table."""
    found: list[UncleanAddress] = []
    for table_name, id_name, column_name in ADDRESS_COLUMNS:
        table = sa.table(table_name, sa.column(id_name), sa.column(column_name))
        rows = connection.execute(
            sa.select(table.c[id_name], table.c[column_name]).order_by(table.c[id_name])
        ).all()
        normals = {int(i): normalised(str(address)) for i, address in rows}
        taken = Counter(normals[int(i)] or str(address) for i, address in rows)
        # The outbox may hold many messages to one person; registries hold one row a person.
        unique = table_name != "outboxmessage"
        for row_id, address in rows:
            normal = normals[int(row_id)]
            if normal == address:
                continue
            clash = unique and normal is not None and taken[normal] > 1
            found.append(UncleanAddress(table_name, int(row_id), str(address), normal, clash))
    return found
