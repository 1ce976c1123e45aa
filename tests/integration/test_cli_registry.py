"""The registry commands: exit codes, one-line messages, never a traceback."""

from __future__ import annotations

import csv
import io

import pytest
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from sqlalchemy import text
from sqlmodel import select

from peermatch import accounts
from peermatch.cli import main
from peermatch.db import alembic_config, make_engine
from peermatch.models import ApiKey, AuditEvent, Reviewer, User

HEADER = "name,email,partnership,agency,job_role,skills,capacity,active,accredited_on,unavailable,conflicts\n"  # noqa: E501


@pytest.fixture
def run(database_url, engine):
    """Run ``peermatch ...`` against the test database (tables made by the engine fixture)."""

    def invoke(*args: str, input: str | None = None):
        runner = CliRunner()
        env = {"PEERMATCH_DATABASE_URL": database_url, "PEERMATCH_MODE": "development"}
        return runner.invoke(main, list(args), input=input, env=env)

    return invoke


def _failed_cleanly(result, code: int = 2) -> str:
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1, message
    assert message.startswith("Error: ")
    return message


def test_db_upgrade_migrates_an_empty_database_and_can_repeat(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    env = {"PEERMATCH_DATABASE_URL": url}
    for _ in range(2):
        result = CliRunner().invoke(main, ["db", "upgrade"], env=env)
        assert result.exit_code == 0, result.output
    engine = make_engine(url)
    with engine.connect() as conn:
        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == head
    engine.dispose()


def test_commands_before_db_upgrade_say_so_in_one_line(tmp_path):
    env = {"PEERMATCH_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}"}
    result = CliRunner().invoke(main, ["seed", "demo"], env=env)
    assert "db upgrade" in _failed_cleanly(result, code=1)


def test_seed_demo_loads_once_and_prints_the_sign_in(run, session):
    first = run("seed", "demo")
    assert first.exit_code == 0 and "coordinator@demo.peermatch.example" in first.output
    second = run("seed", "demo")
    assert second.exit_code == 0 and "not loaded" in second.output


def test_seed_demo_is_refused_in_production(database_url):
    env = {
        "PEERMATCH_DATABASE_URL": database_url,
        "PEERMATCH_MODE": "production",
        "PEERMATCH_SECRET_KEY": "x" * 40,
    }
    _failed_cleanly(CliRunner().invoke(main, ["seed", "demo"], env=env))


def test_users_create_reads_the_password_from_stdin(run, session, region_a):
    result = run(
        "users",
        "create",
        "--email",
        "Carol@Example.org",
        "--name",
        "Carol",
        "--region",
        region_a.code,
        "--password-stdin",
        input="a long enough password\n",
    )
    assert result.exit_code == 0, result.output
    user = session.exec(select(User)).one()
    assert accounts.verify_password(user.password_hash, "a long enough password")
    assert session.exec(select(AuditEvent.actor)).all() == ["cli"]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--email", "c@example.org", "--name", "C", "--region", "nowhere"], "nowhere"),
        (["--email", "bad", "--name", "C", "--region", "north-a"], "email"),
        (["--email", "c@example.org", "--region", "north-a"], "--name"),
        (["--email", "c@example.org", "--name", "C", "--region", "north-a", "--role", "x"], "role"),
    ],
)
def test_users_create_rejects_bad_input_in_one_line(run, region_a, args, says):
    result = run("users", "create", *args, "--password-stdin", input="a long enough password\n")
    assert says in _failed_cleanly(result)


def test_users_create_rejects_a_short_password(run, region_a):
    result = run(
        "users",
        "create",
        *("--email", "c@example.org", "--name", "C", "--region", "north-a", "--password-stdin"),
        input="short\n",
    )
    assert "12 characters" in _failed_cleanly(result)


def test_apikeys_create_prints_the_key_once_and_revoke_stops_it(run, session, partnership_a):
    created = run("apikeys", "create", "--partnership", "ALPHA", "--name", "case system")
    assert created.exit_code == 0, created.output
    plaintext = created.stdout.strip()
    assert accounts.find_api_key(session, plaintext) is not None
    prefix = session.exec(select(ApiKey)).one().prefix
    session.commit()  # find_api_key notes the use; release the write lock for the CLI
    assert run("apikeys", "revoke", prefix).exit_code == 0
    session.expire_all()
    assert accounts.find_api_key(session, plaintext) is None


def test_apikeys_reject_unknown_partnerships_and_prefixes(run, partnership_a):
    _failed_cleanly(run("apikeys", "create", "--partnership", "NOPE", "--name", "x"))
    _failed_cleanly(run("apikeys", "revoke", "nope"))
    _failed_cleanly(run("apikeys", "create", "--partnership", "ALPHA"))


def test_reviewers_import_dry_run_then_import_then_export(run, session, partnership_a, tmp_path):
    path = tmp_path / "reviewers.csv"
    header = HEADER.replace("conflicts", "conflicts,prior_reviews,last_review_on,organisation")
    # The partnership's own police organisation, by its default name: created on import.
    path.write_text(
        header + "Ann Archer,ann@example.org,ALPHA,police,,rca,2,yes,,,,3,2026-03-27,"
        "Alphaton Safeguarding Children Partnership Police\n"
    )
    dry = run("reviewers", "import", str(path), "--region", "north-a", "--dry-run")
    assert dry.exit_code == 0 and "1 reviewers can be imported" in dry.output
    assert session.exec(select(Reviewer)).all() == []
    real = run("reviewers", "import", str(path), "--region", "north-a")
    assert real.exit_code == 0 and "imported 1" in real.output
    out = tmp_path / "out.csv"
    assert run("reviewers", "export", "--region", "north-a", "--out", str(out)).exit_code == 0
    assert _rows(out.read_text()) == _rows(path.read_text())
    assert _rows(run("reviewers", "export", "--region", "north-a").stdout) == _rows(
        path.read_text()
    )


def _rows(content: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content, newline="")))


def test_reviewers_import_prints_every_bad_row_then_one_error_line(run, partnership_a, tmp_path):
    path = tmp_path / "reviewers.csv"
    path.write_text(
        HEADER
        + "Ann Archer,not-an-email,ALPHA,police,,,2,yes,,,\n"
        + "Ben,ben@example.org,ALPHA,wizards,,,2,yes,,,\n"
    )
    result = run("reviewers", "import", str(path), "--region", "north-a")
    assert result.exit_code == 2 and "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert lines[0].endswith("line 2, email: " + lines[0].split(": ", 2)[2])
    assert "line 3, agency" in lines[1]
    assert lines[-1] == f"Error: {path}: 2 problems; nothing was imported"


@pytest.mark.parametrize(
    ("content", "says"),
    [(b"", "empty"), (b"\x89PNG\r\n\x1a\n\x00\x00", "not a CSV"), (b"a,b\n1,2\n", "header")],
)
def test_reviewers_import_refuses_a_file_that_is_not_a_reviewer_csv(
    run, region_a, tmp_path, content, says
):
    path = tmp_path / "upload.csv"
    path.write_bytes(content)
    assert says in _failed_cleanly(run("reviewers", "import", str(path), "--region", "north-a"))


def test_reviewers_commands_refuse_unknown_regions_files_and_subcommands(run, region_a):
    _failed_cleanly(run("reviewers", "import", "/no/such/file.csv", "--region", "north-a"))
    _failed_cleanly(run("reviewers", "export", "--region", "nowhere"))
    _failed_cleanly(run("reviewers", "frobnicate"))
    _failed_cleanly(run("reviewers", "import"))


def test_reviewers_export_refuses_an_impossible_out_before_exporting(
    run, session, partnership_a, tmp_path
):
    missing = tmp_path / "no-such-folder" / "out.csv"
    result = run("reviewers", "export", "--region", "north-a", "--out", str(missing))
    assert "no such directory" in _failed_cleanly(result)
    # Nothing left the service, so nothing is audited.
    assert (
        session.exec(select(AuditEvent).where(AuditEvent.action == "reviewer.export")).all() == []
    )
