"""Email addresses as a class (issue 18.1): every way in (reviewer form, CSV import, API,
coordinator accounts, sign-in) refuses what is not one plain address, stores one normal form,
and the mailer sends only to that stored form. A migration and ``peermatch emails check``
report rows stored before."""

from __future__ import annotations

import re
from dataclasses import replace
from email.message import EmailMessage

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlmodel import select

from peermatch import accounts, email_address, mailer, outbox, registry
from peermatch.cli import main
from peermatch.db import make_engine, upgrade
from peermatch.errors import ValidationFailed
from peermatch.models import OutboxMessage, OutboxStatus, Reviewer
from peermatch.outbox import Email
from peermatch.registry import ReviewerInput

# Each passes the old pattern ^[^@\s]+@[^@\s]+\.[^@\s]+$; a header parser reads another
# recipient, several, or a comment out of each.
HOSTILE = [
    "x<priya.shah@example.org>",
    "priya.shah@example.org,eve@evil.example",
    "a,b@c.d",
    "(c)priya.shah@example.org",
    "priya.shah@example.org;",
    "priya.shah@example.org (Priya)",
    '"priya shah"@example.org',
    "priya.shah@[192.0.2.1]",
    "priya..shah@example.org",
    "=cmd@example.org",
    "priya\u200b.shah@example.org",
]
MESSAGE = "Enter an email address in the correct format, like name@example.org"


@pytest.mark.parametrize("address", HOSTILE)
def test_the_normal_form_refuses_what_is_not_one_plain_address(address):
    assert email_address.normalised(address) is None
    assert not email_address.is_valid(email_address.normalise(address))
    assert email_address.problem(address) == MESSAGE


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("  Priya.Shah@Example.ORG ", "priya.shah@example.org"),
        ("priya@B\u00fccher.example", "priya@xn--bcher-kva.example"),
        ("priya@xn--bcher-kva.example", "priya@xn--bcher-kva.example"),
    ],
)
def test_one_normal_form_whatever_the_spelling(typed, stored):
    assert email_address.normalised(typed) == stored
    assert email_address.is_valid(stored)


def _reviewer(partnership, email: str) -> ReviewerInput:
    return ReviewerInput(
        name="Priya Shah", email=email, partnership_id=partnership.id, agency="police"
    )


@pytest.mark.parametrize("address", HOSTILE)
def test_the_registry_refuses_each_form(session, partnership_a, address):
    with pytest.raises(ValidationFailed) as caught:
        registry.create_reviewer(
            session, partnership_a.region_id, _reviewer(partnership_a, address), actor="test"
        )
    assert caught.value.errors["email"] in {
        MESSAGE,
        "Email address must not start with =, +, -, @ or a tab",
    }


def test_one_person_cannot_be_registered_twice_under_two_spellings(session, partnership_a):
    registry.create_reviewer(
        session,
        partnership_a.region_id,
        _reviewer(partnership_a, "priya@b\u00fccher.example"),
        actor="test",
    )
    session.commit()
    with pytest.raises(ValidationFailed) as caught:
        registry.create_reviewer(
            session,
            partnership_a.region_id,
            _reviewer(partnership_a, "Priya@XN--BCHER-KVA.example"),
            actor="test",
        )
    assert "already" in caught.value.errors["email"]
    assert session.exec(select(Reviewer.email)).all() == ["priya@xn--bcher-kva.example"]


def test_the_reviewer_form_says_what_to_type(alice_client, partnership_a, post_form, session):
    response = post_form(
        alice_client,
        "/reviewers/new",
        {
            "name": "Priya Shah",
            "email": "x<priya.shah@example.org>",
            "partnership_id": str(partnership_a.id),
            "agency": "police",
            "capacity": "1",
            "active": "yes",
        },
    )
    assert response.status_code == 400
    assert MESSAGE in response.text
    assert session.exec(select(Reviewer)).all() == []


def test_the_csv_import_refuses_each_form(alice_client, partnership_a, post_form):
    header = "name,email,partnership,agency,job_role,skills,capacity,active,accredited_on,unavailable,conflicts\n"  # noqa: E501
    rows = "".join(
        f'Person {i},"{a.replace(chr(34), chr(34) * 2)}",ALPHA,police,,,1,yes,,,\n'
        for i, a in enumerate(HOSTILE)
    )
    response = post_form(
        alice_client,
        "/reviewers/import",
        {},
        files={"file": ("r.csv", (header + rows).encode(), "text/csv")},
    )
    assert response.status_code == 400
    page = re.sub(r"\s+", " ", response.text)
    assert page.count(MESSAGE) + page.count("must not start with") >= len(HOSTILE)


def test_the_csv_import_sees_a_second_spelling_of_a_registered_address(
    alice_client, partnership_a, post_form, add_reviewer
):
    add_reviewer(partnership_a, "Priya Shah", email="priya@b\u00fccher.example")
    header = "name,email,partnership,agency,job_role,skills,capacity,active,accredited_on,unavailable,conflicts\n"  # noqa: E501
    content = header + "Priya Again,PRIYA@xn--bcher-kva.example,ALPHA,police,,,1,yes,,,\n"
    response = post_form(
        alice_client,
        "/reviewers/import",
        {},
        files={"file": ("r.csv", content.encode(), "text/csv")},
    )
    assert response.status_code == 400
    assert "already" in response.text


@pytest.mark.parametrize("address", HOSTILE[:5])
def test_coordinator_accounts_refuse_each_form(session, region_a, address):
    with pytest.raises(ValidationFailed) as caught:
        accounts.create_user(
            session,
            email=address,
            name="Eve",
            password="correct horse battery staple",
            region_id=region_a.id,
        )
    assert caught.value.errors["email"] == MESSAGE


def test_signing_in_with_a_display_name_form_does_not_sign_in(client, alice, sign_in):
    response = sign_in(client, "Alice <alice@example.org>")
    assert response.status_code == 400
    response = sign_in(client, " ALICE@Example.org ")
    assert response.status_code == 303


@pytest.fixture
def api_key(session, partnership_a):
    _, plaintext = accounts.create_api_key(
        session, partnership_id=partnership_a.id, name="case system", actor="test"
    )
    session.commit()
    return plaintext


@pytest.mark.parametrize("address", HOSTILE[:5])
def test_the_api_refuses_each_form_with_a_pointer(client, api_key, address, session):
    response = client.post(
        "/api/v1/reviewers/",
        json={"name": "Priya Shah", "email": address, "agency": "police"},
        headers={"Authorization": f"Bearer {api_key}"},
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert {"pointer": "/email", "message": MESSAGE} in response.json()["errors"]
    assert session.exec(select(Reviewer)).all() == []


# --- the mailer sends to the stored address only ------------------------------------------------


class FakeSmtp:
    sent: list[tuple[EmailMessage, list[str] | None]] = []

    def __init__(self, *args, **kwargs) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass

    def send_message(self, message, from_addr=None, to_addrs=None):
        FakeSmtp.sent.append((message, to_addrs))
        return {}


@pytest.fixture
def fake_smtp(monkeypatch):
    FakeSmtp.sent = []
    monkeypatch.setattr(mailer.smtplib, "SMTP", FakeSmtp)
    return FakeSmtp


def _enqueue(session, settings, to_address: str) -> OutboxMessage:
    message = outbox.enqueue(
        session,
        settings=settings,
        kind="invitation",
        to_address=to_address,
        email=Email(subject="Hello", text="Hello", html="<p>Hello</p>"),
        region_id=None,
    )
    session.commit()
    return message


def test_the_envelope_names_only_the_stored_address(session, engine, settings, fake_smtp):
    mail = replace(settings, smtp_url="smtp://127.0.0.1:2525")
    _enqueue(session, mail, "priya.shah@example.org")
    report = outbox.relay_once(engine, mail)
    assert report.sent == 1
    [(message, recipients)] = fake_smtp.sent
    assert recipients == ["priya.shah@example.org"]
    assert message["To"] == "priya.shah@example.org"


@pytest.mark.parametrize("address", HOSTILE[:5])
def test_a_stored_address_not_in_normal_form_is_never_sent(
    session, engine, settings, fake_smtp, address
):
    mail = replace(settings, smtp_url="smtp://127.0.0.1:2525")
    message = _enqueue(session, mail, address)
    report = outbox.relay_once(engine, mail)
    assert (report.sent, report.dead) == (0, 1)
    assert fake_smtp.sent == []
    session.expire_all()
    assert session.get(OutboxMessage, message.id).status == OutboxStatus.dead


# --- rows stored before: the migration reports, the command lists --------------------------------


def _legacy_database(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'legacy.sqlite3'}"
    upgrade(url, "0004_api_rate")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO region (id, code, name) VALUES (1, 'r', 'R')"))
        conn.execute(
            text(
                "INSERT INTO partnership (id, region_id, code, name, opening_lent, "
                "opening_received) VALUES (1, 1, 'P', 'P', 0, 0)"
            )
        )
        for i, address in enumerate(
            [
                "priya.shah@example.org",  # clean
                "x<a@b.example>",  # not valid
                "priya@b\u00fccher.example",  # valid, another form: fixed
                "tom@xn--bcher-kva.example",  # clean
                "tom@b\u00fccher.example",  # normal form taken by the row above
            ],
            start=1,
        ):
            conn.execute(
                text(
                    "INSERT INTO reviewer (id, partnership_id, name, email, agency, job_role, "
                    "capacity, active, prior_reviews, created_at, updated_at) VALUES "
                    "(:id, 1, 'N', :email, 'police', '', 1, 1, 0, '2027-01-01', '2027-01-01')"
                ),
                {"id": i, "email": address},
            )
    engine.dispose()
    return url


def test_the_migration_fixes_only_what_is_safe_and_reports_the_rest(tmp_path, capsys):
    url = _legacy_database(tmp_path)
    upgrade(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        stored = dict(conn.execute(text("SELECT id, email FROM reviewer")).all())
    engine.dispose()
    assert stored == {
        1: "priya.shah@example.org",
        2: "x<a@b.example>",
        3: "priya@xn--bcher-kva.example",
        4: "tom@xn--bcher-kva.example",
        5: "tom@b\u00fccher.example",
    }
    assert "reviewer.email: 1 put in normal form, 2 left for a person" in capsys.readouterr().out


def test_the_check_command_lists_what_is_left(tmp_path):
    url = _legacy_database(tmp_path)
    upgrade(url)
    result = CliRunner().invoke(main, ["emails", "check"], env={"PEERMATCH_DATABASE_URL": url})
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert lines == [
        "reviewers 2: 'x<a@b.example>': not a valid address",
        "reviewers 5: 'tom@bücher.example': normalises to tom@xn--bcher-kva.example, "
        "already another row's address",
    ]


def test_the_check_command_names_a_bad_option(tmp_path):
    result = CliRunner().invoke(
        main,
        ["emails", "check", "--only", "everything"],
        env={"PEERMATCH_DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}"},
    )
    assert result.exit_code == 2
    assert result.stderr.strip().startswith("Error: --only: must be one of")
    assert "Traceback" not in result.output


def test_the_check_command_is_quiet_about_a_clean_database(database_url, engine, alice):
    result = CliRunner().invoke(
        main, ["emails", "check"], env={"PEERMATCH_DATABASE_URL": database_url}
    )
    assert result.exit_code == 0, result.output
    assert "Every stored address is in its normal form (reviewers, users, outbox)" in result.stdout
