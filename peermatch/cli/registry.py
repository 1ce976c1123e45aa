"""``peermatch db|seed|users|apikeys|reviewers``: storage and registry from the command line.

Exit codes: 0 success, 2 bad arguments or input (one line on stderr, never a traceback),
1 when the database itself fails. Changes are audited with the actor "cli".
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, select

from peermatch import accounts, demo, registry, reviewer_csv
from peermatch.cli.errors import Failure, InputError, OneLineGroup
from peermatch.cli.files import check_writable, read_bytes, write_output
from peermatch.db import make_engine, session_scope, upgrade
from peermatch.errors import DomainError, ValidationFailed
from peermatch.models import Partnership, Region, Role
from peermatch.settings import Settings, SettingsError, load_settings

ACTOR = "cli"


# --- plumbing --------------------------------------------------------------------------------


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        raise InputError(str(exc)) from None


@contextmanager
def _database() -> Iterator[Session]:
    """One committed unit of work; domain errors become one-line input errors."""
    engine = make_engine(_settings().database_url)
    try:
        with session_scope(engine) as session:
            yield session
    except ValidationFailed as exc:
        raise InputError("; ".join(f"{f}: {m}" for f, m in exc.errors.items())) from None
    except DomainError as exc:
        raise InputError(exc.message) from None
    except SQLAlchemyError as exc:
        raise Failure(_database_problem(exc)) from None
    finally:
        engine.dispose()


def _database_problem(exc: SQLAlchemyError) -> str:
    # Never the statement or its parameters: they may hold personal data.
    cause = getattr(exc, "orig", None) or exc
    text = str(cause).lower()
    if "no such table" in text or ("does not exist" in text and "relation" in text):
        return "the database has no tables yet; run `peermatch db upgrade` first"
    return f"database error ({type(cause).__name__}); check PEERMATCH_DATABASE_URL"


def _region(session: Session, code: str) -> Region:
    return registry.find_region(session, code)


def _partnership(session: Session, code: str, region_code: str | None) -> Partnership:
    query = select(Partnership).where(Partnership.code == code.strip())
    if region_code:
        query = query.where(Partnership.region_id == _region(session, region_code).id)
    found = session.exec(query).all()
    if not found:
        raise InputError(f"no partnership has the code {code.strip()!r}")
    if len(found) > 1:
        raise InputError(f"several regions have a partnership {code.strip()!r}; add --region")
    return found[0]


# --- commands --------------------------------------------------------------------------------


@click.group(cls=OneLineGroup)
def db() -> None:
    """The database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration not yet applied (safe to repeat)."""
    try:
        upgrade(_settings().database_url)
    except SQLAlchemyError as exc:
        raise Failure(_database_problem(exc)) from None
    click.echo("Database is up to date.")


@click.group(cls=OneLineGroup)
def seed() -> None:
    """Load example data."""


@seed.command("demo")
def seed_demo() -> None:
    """Load the demo regions into an empty database (does nothing otherwise)."""
    if _settings().production:
        raise InputError("refusing to load demo accounts in production mode")
    with _database() as session:
        loaded = demo.seed_demo(session)
    if not loaded:
        click.echo("The database already holds data; the demo was not loaded.")
        return
    click.echo(
        f"Loaded the demo. Sign in as {demo.DEMO_COORDINATOR_EMAIL} "
        f"with the demo-only password {demo.DEMO_COORDINATOR_PASSWORD}"
    )


@click.group(cls=OneLineGroup)
def users() -> None:
    """Coordinator and admin accounts."""


@users.command("create")
@click.option("--email", required=True, help="Work email address; used to sign in.")
@click.option("--name", required=True, help="The person's name.")
@click.option("--region", "region_code", required=True, metavar="CODE", help="Region code.")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.coordinator.value)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def users_create(email: str, name: str, region_code: str, role: str, password_stdin: bool) -> None:
    """Create an account for a coordinator (or admin) of one region."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with _database() as session:
        region = _region(session, region_code)
        user = accounts.create_user(
            session,
            email=email,
            name=name,
            password=password,
            region_id=region.id or 0,
            role=Role(role),
            actor=ACTOR,
        )
        user_id = user.id
    click.echo(f"Created {role} account {user_id} in region {region_code}.")


@click.group(cls=OneLineGroup)
def apikeys() -> None:
    """Partnership API keys."""


@apikeys.command("create")
@click.option("--partnership", "code", required=True, metavar="CODE", help="Partnership code.")
@click.option("--name", required=True, help="What the key is for, e.g. 'case system'.")
@click.option("--region", "region_code", metavar="CODE", help="Needed if the code is ambiguous.")
@click.option(
    "--expires-days",
    type=click.IntRange(1, accounts.MAX_API_KEY_DAYS),
    default=None,
    help="The key stops working after this many days (default: never).",
)
def apikeys_create(code: str, name: str, region_code: str | None, expires_days: int | None) -> None:
    """Issue a key for a partnership. The key is printed once and cannot be shown again."""
    with _database() as session:
        partnership = _partnership(session, code, region_code)
        _, plaintext = accounts.create_api_key(
            session,
            partnership_id=partnership.id or 0,
            name=name,
            actor=ACTOR,
            expires_in_days=expires_days,
        )
    click.echo("Store this key now; it will not be shown again:", err=True)
    click.echo(plaintext)


@apikeys.command("revoke")
@click.argument("prefix")
def apikeys_revoke(prefix: str) -> None:
    """Revoke the key whose prefix (the part after ``pm_``) is PREFIX."""
    with _database() as session:
        accounts.revoke_api_key(session, prefix, actor=ACTOR)
    click.echo(f"Revoked key {prefix}.")


@click.group(cls=OneLineGroup)
def reviewers() -> None:
    """The reviewer registry as CSV."""


@reviewers.command("import")
@click.argument("path", metavar="FILE.csv")
@click.option("--region", "region_code", required=True, metavar="CODE", help="Region code.")
@click.option("--dry-run", is_flag=True, help="Check the file and write nothing.")
def reviewers_import(path: str, region_code: str, dry_run: bool) -> None:
    """Add every reviewer in FILE.csv, or none if any row is wrong."""
    content = read_bytes(path)
    with _database() as session:
        region_id = _region(session, region_code).id or 0
        if dry_run:
            preview = reviewer_csv.preview_import(session, region_id, content)
            _report(path, preview)
        else:
            try:  # checks and writes in one pass, as the web import does
                count = reviewer_csv.apply_import(session, region_id, content, actor=ACTOR)
            except reviewer_csv.ImportRejected as exc:
                _report(path, exc.preview)
                raise
    if dry_run:
        click.echo(f"{path}: {len(preview.rows)} reviewers can be imported (dry run).")
    else:
        click.echo(f"{path}: imported {count} reviewers.")


def _report(path: str, preview: reviewer_csv.ImportPreview) -> None:
    if preview.fatal:
        raise InputError(f"{path}: {preview.fatal}")
    for error in preview.errors:
        column = f", {error.field}" if error.field else ""
        click.echo(f"{path}: line {error.line}{column}: {error.message}", err=True)
    if preview.errors:
        n = len(preview.errors)
        raise InputError(f"{path}: {n} problem{'s' if n != 1 else ''}; nothing was imported")


@reviewers.command("export")
@click.option("--region", "region_code", required=True, metavar="CODE", help="Region code.")
@click.option("--out", "out", metavar="FILE.csv", help="Write here instead of stdout.")
def reviewers_export(region_code: str, out: str | None) -> None:
    """Write the region's reviewers as CSV (the import's columns)."""
    check_writable(out)
    with _database() as session:
        region_id = _region(session, region_code).id or 0
        text = reviewer_csv.export_reviewers(session, region_id, actor=ACTOR)
    write_output(out, text)


def register(main: click.Group) -> None:
    for group in (db, seed, users, apikeys, reviewers):
        main.add_command(group)
