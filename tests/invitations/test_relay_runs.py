"""Where the relay runs: inside `peermatch serve` by default, and as `peermatch outbox relay`."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
from click.testing import CliRunner
from invitation_helpers import NOW
from litestar.testing import TestClient
from smtp_server import SmtpServer
from sqlmodel import select

from peermatch.cli import main
from peermatch.mailer import SmtpConfigError, parse_smtp_url
from peermatch.models import OutboxMessage, OutboxStatus
from peermatch.settings import SettingsError, load_settings
from peermatch.web import create_app


@pytest.fixture
def smtp():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


def test_the_web_app_relays_the_outbox_in_the_background(
    session, engine, settings, smtp, pool, make_request, place
):
    place(make_request(), pool["ann"], now=NOW)
    served = replace(settings, mode="development", smtp_url=smtp.url, worker_interval_seconds=1)
    with TestClient(create_app(served, engine)):
        deadline = time.monotonic() + 60
        while not smtp.handler.received and time.monotonic() < deadline:
            time.sleep(0.2)
    assert len(smtp.handler.received) == 1
    session.expire_all()
    assert [m.status for m in session.exec(select(OutboxMessage))] == [OutboxStatus.sent]


def test_the_relay_can_be_turned_off_in_serve(
    session, engine, settings, smtp, pool, make_request, place
):
    place(make_request(), pool["ann"], now=NOW)
    served = replace(
        settings,
        mode="development",
        smtp_url=smtp.url,
        worker_interval_seconds=1,
        worker_in_serve=False,
    )
    with TestClient(create_app(served, engine)) as client:
        client.get("/healthz")
    assert smtp.handler.attempts == 0


def _relay_once(database_url: str, smtp_url: str):
    env = {"PEERMATCH_DATABASE_URL": database_url, "PEERMATCH_SMTP_URL": smtp_url}
    return CliRunner().invoke(main, ["outbox", "relay", "--once"], env=env)


def test_relay_once_exits_0_when_messages_were_only_deferred(
    session, database_url, smtp, pool, make_request, place
):
    place(make_request(), pool["ann"], pool["eve"])
    smtp.handler.mode = "refuse"
    result = _relay_once(database_url, smtp.url)
    assert result.exit_code == 0, result.output
    assert "0 sent, 2 deferred, 0 dead letters" in result.output


def test_relay_once_refuses_a_malformed_smtp_url_naming_the_setting(database_url):
    result = _relay_once(database_url, "http://mail.example.org")
    assert result.exit_code == 2
    assert "PEERMATCH_SMTP_URL" in result.output
    assert "Traceback" not in result.output


def test_smtp_urls_carry_starttls_and_percent_encoded_credentials():
    config = parse_smtp_url("smtp://jo%40example.org:p%3Ass%2Fw@mail.example.org:587?starttls=true")
    assert (config.host, config.port, config.starttls) == ("mail.example.org", 587, True)
    assert (config.username, config.password) == ("jo@example.org", "p:ss/w")
    assert "p:ss/w" not in repr(config)
    assert parse_smtp_url("smtp+starttls://mail.example.org").port == 587
    assert parse_smtp_url("smtps://mail.example.org").implicit_tls
    assert not parse_smtp_url("smtp://127.0.0.1:2525").starttls
    for bad in ("smtp://", "smtp://host:port", "smtp://host?starttls=maybe", "imap://host"):
        with pytest.raises(SmtpConfigError):
            parse_smtp_url(bad)


def test_settings_refuse_nonsense_for_the_invitation_clock():
    with pytest.raises(SettingsError, match="PEERMATCH_INVITATION_WORKING_DAYS"):
        load_settings({"PEERMATCH_INVITATION_WORKING_DAYS": "0"})
    with pytest.raises(SettingsError, match="PEERMATCH_REMINDER_WORKING_DAYS"):
        load_settings({"PEERMATCH_REMINDER_WORKING_DAYS": "5"})
    with pytest.raises(SettingsError, match="PEERMATCH_WORKER_IN_SERVE"):
        load_settings({"PEERMATCH_WORKER_IN_SERVE": "perhaps"})
