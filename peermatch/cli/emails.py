"""``peermatch emails check``: stored email addresses that are not in their normal form.

Lists every reviewer, coordinator account and outbox message whose address does not normalise
cleanly (peermatch/email_address.py): not valid at all, or in another form, or one whose normal
form another row already has. Migration 0005_email_normal fixed what it safely could; these
need a person. Exit codes: 0 when every address is clean, 1 when some are listed, 2 with a
one-line message naming the option at fault on bad input.
"""

from __future__ import annotations

import click
from sqlalchemy.exc import SQLAlchemyError

from peermatch.cli.errors import Failure, InputError, OneLineGroup
from peermatch.email_address import ADDRESS_COLUMNS, unclean_addresses
from peermatch.settings import SettingsError, load_settings

# What the option accepts: the tables' everyday names.
_TABLES = {"reviewers": "reviewer", "users": "user", "outbox": "outboxmessage"}


def register(main: click.Group) -> None:
    main.add_command(emails)


@click.group(cls=OneLineGroup)
def emails() -> None:
    """Stored email addresses."""


@emails.command()
@click.option(
    "--only",
    "only",
    default=None,
    metavar="reviewers|users|outbox",
    help="Check one kind of record only.",
)
def check(only: str | None) -> None:
    """List stored addresses that do not normalise cleanly."""
    if only is not None and only not in _TABLES:
        raise InputError(f"--only: must be one of {', '.join(_TABLES)}, got {only!r}")
    try:
        settings = load_settings()
    except SettingsError as exc:
        raise InputError(str(exc)) from None
    from peermatch.db import make_engine

    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as connection:
            found = unclean_addresses(connection)
    except SQLAlchemyError as exc:
        raise Failure(f"could not read the database ({type(exc).__name__})") from None
    finally:
        engine.dispose()
    labels = {table: label for label, table in _TABLES.items()}
    wanted = _TABLES[only] if only else None
    shown = [row for row in found if wanted is None or row.table == wanted]
    for row in shown:
        click.echo(f"{labels[row.table]} {row.row_id}: {row.stored!r}: {row.reason}")
    checked = [labels[t] for t, _, _ in ADDRESS_COLUMNS if wanted is None or t == wanted]
    if shown:
        click.echo(f"{len(shown)} stored addresses need a person to look at them", err=True)
        raise SystemExit(1)
    click.echo(f"Every stored address is in its normal form ({', '.join(checked)})")
