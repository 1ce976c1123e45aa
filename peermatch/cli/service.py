"""``peermatch serve``: the coordinator web pages (and, later, the partnership API).

Exit codes: 2 with a one-line message when the settings are unsafe or malformed.
"""

from __future__ import annotations

import logging
from typing import Any

import click
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, select

from peermatch.cli.errors import InputError, OneLineCommand
from peermatch.settings import Settings, SettingsError, load_settings


class _NoPersonalDataInAccessLog(logging.Filter):
    """Access log lines keep method, path and status only: a query string can carry a
    reviewer's name (the search box), and a client address is personal data too."""

    def filter(self, record: logging.LogRecord) -> bool:
        args: Any = record.args
        if isinstance(args, tuple) and len(args) == 5:
            _client, method, path, version, status = args
            path = str(path).split("?", 1)[0]
            if path.startswith("/answer/"):  # the rest is a reviewer's secret answer link
                path = "/answer/…"
            record.args = ("-", method, path, version, status)
        return True


def register(main: click.Group) -> None:
    main.add_command(serve)


@click.command(cls=OneLineCommand)
@click.option("--host", default=None, help="Interface to listen on (default PEERMATCH_HOST).")
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=None,
    help="Port to listen on (default PEERMATCH_PORT).",
)
def serve(host: str | None, port: int | None) -> None:
    """Serve the coordinator pages."""
    try:
        settings = load_settings()
        settings.check()
    except SettingsError as exc:
        raise InputError(str(exc)) from None

    import uvicorn

    from peermatch.db import make_engine
    from peermatch.web import create_app

    host = host or settings.host
    port = port or settings.port
    engine = make_engine(settings.database_url)
    click.echo(f"PeerMatch is running at http://{host}:{port}/ (press Ctrl+C to stop)")
    if demo := _demo_sign_in(settings, engine):
        click.echo(f"Demo coordinator sign-in: {demo[0]} / password: {demo[1]}")
    logging.getLogger("uvicorn.access").addFilter(_NoPersonalDataInAccessLog())
    # The app reads X-Forwarded-For itself, and only from PEERMATCH_TRUSTED_PROXIES.
    uvicorn.run(create_app(settings, engine), host=host, port=port, proxy_headers=False)


def _demo_sign_in(settings: Settings, engine: Any) -> tuple[str, str] | None:
    """The demo coordinator's email and password, outside production, if that account exists."""
    if settings.production:
        return None
    try:
        from peermatch.demo import DEMO_COORDINATOR_EMAIL, DEMO_COORDINATOR_PASSWORD
        from peermatch.models import User

        with Session(engine) as db:
            found = db.exec(select(User.id).where(User.email == DEMO_COORDINATOR_EMAIL)).first()
    except (ImportError, SQLAlchemyError):  # no demo module yet, or an empty database
        return None
    return (DEMO_COORDINATOR_EMAIL, DEMO_COORDINATOR_PASSWORD) if found else None
