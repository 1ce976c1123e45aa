"""``peermatch outbox relay [--once]``: deliver the outbox, send reminders, expire invitations.

Several relay processes may run at once: each message is claimed by one of them. ``--once``
does one round (every message due now) and exits 0, even if some messages were deferred.
Exit codes: 2 with a one-line message when the settings are unsafe or malformed.
"""

from __future__ import annotations

import logging

import click

from peermatch.cli.errors import InputError, OneLineGroup
from peermatch.settings import SettingsError, load_settings


def register(main: click.Group) -> None:
    main.add_command(outbox)


@click.group(cls=OneLineGroup)
def outbox() -> None:
    """The email outbox."""


@outbox.command()
@click.option("--once", is_flag=True, help="Deliver every message due now, then exit.")
def relay(once: bool) -> None:
    """Deliver outbox messages by SMTP; also send reminders and expire invitations."""
    try:
        settings = load_settings()
    except SettingsError as exc:
        raise InputError(str(exc)) from None
    from peermatch.db import make_engine
    from peermatch.worker import Worker, run_round

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if settings.smtp_url is None:
        click.echo("PEERMATCH_SMTP_URL is not set: messages stay in the outbox.", err=True)
    engine = make_engine(settings.database_url)
    try:
        if once:
            report = run_round(engine, settings)
            click.echo(
                f"{report.sent} sent, {report.deferred} deferred, {report.dead} dead letters"
            )
            return
        Worker(engine, settings).run()  # until interrupted
    except KeyboardInterrupt:
        return
    finally:
        engine.dispose()
