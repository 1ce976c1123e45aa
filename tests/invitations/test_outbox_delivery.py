"""The outbox against a real SMTP server on 127.0.0.1: what arrives, and that every message
arrives exactly once whatever the server does in between."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import replace

import icalendar
import pytest
from invitation_helpers import NOW, link_of
from smtp_server import SmtpServer
from sqlmodel import select

from peermatch import outbox
from peermatch.models import OutboxMessage, OutboxStatus
from peermatch.outbox import Email
from peermatch.staffing import invitations


@pytest.fixture
def smtp():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mail_settings(settings, smtp):
    return replace(settings, smtp_url=smtp.url, smtp_timeout_seconds=5)


def _calendar(message) -> icalendar.Calendar:
    [part] = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    return icalendar.Calendar.from_ical(part.get_payload(decode=True))


def _statuses(session) -> Counter:
    session.expire_all()
    return Counter(str(m.status) for m in session.exec(select(OutboxMessage)).all())


def test_an_invitation_arrives_with_text_html_and_a_calendar_request(
    session, engine, mail_settings, smtp, pool, make_request, place
):
    request = make_request()
    [ann] = place(request, pool["ann"])
    report = outbox.relay_once(engine, mail_settings, now=NOW)
    assert (report.sent, report.deferred, report.dead) == (1, 0, 0)
    [message] = smtp.handler.received
    assert message["To"] == "ann.police@example.org"
    assert (
        message["Subject"]
        == "Peer review invitation: LSCP-2027-001 (Alphaton Safeguarding Children Partnership)"
    )
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    link = link_of(session, ann)
    assert link in text and link in html.replace("&amp;", "&")
    assert "5 April 2027 to 23 April 2027" in text
    calendar = _calendar(message)
    assert str(calendar["METHOD"]) == "REQUEST"
    [event] = calendar.walk("VEVENT")
    session.refresh(ann)
    assert str(event["UID"]) == ann.ics_uid
    assert int(event["SEQUENCE"]) == 0
    assert event.decoded("DTSTART") == dt.date(2027, 4, 5)
    assert event.decoded("DTEND") == dt.date(2027, 4, 24)


def test_a_withdrawal_sends_a_cancellation_for_the_same_calendar_entry(
    session, engine, mail_settings, smtp, pool, make_request, place, region_a
):
    request = make_request()
    [ann] = place(request, pool["ann"])
    invitations.withdraw(session, mail_settings, region_a.id, ann.id, actor="user:1", now=NOW)
    session.commit()
    outbox.relay_once(engine, mail_settings, now=NOW)
    invitation, cancellation = (_calendar(m) for m in smtp.handler.received)
    [first], [second] = invitation.walk("VEVENT"), cancellation.walk("VEVENT")
    assert str(cancellation["METHOD"]) == "CANCEL"
    assert str(second["UID"]) == str(first["UID"])
    assert int(second["SEQUENCE"]) > int(first["SEQUENCE"])
    assert str(second["STATUS"]) == "CANCELLED"
    assert "/answer/" not in smtp.handler.received[1].get_body(("plain",)).get_content()


def test_refusals_drops_and_a_restart_lose_nothing_and_send_nothing_twice(
    session, engine, mail_settings, smtp, pool, make_request, place
):
    place(make_request("LSCP-2027-001"), pool["ann"], pool["eve"])
    place(make_request("LSCP-2027-002"), pool["bea"], pool["cal"])
    place(make_request("LSCP-2027-003", peers=1), pool["dee"])
    messages = session.exec(select(OutboxMessage)).all()
    written = {m.message_id for m in messages}
    assert len(written) == 5
    now = max(m.created_at for m in messages)  # the relay's clock, stepped by hand

    smtp.handler.mode = "refuse"  # 451 on every message
    report = outbox.relay_once(engine, mail_settings, now=now)
    assert (report.sent, report.deferred) == (0, 5)
    assert outbox.relay_once(engine, mail_settings, now=now).handled == 0  # none due yet

    now += dt.timedelta(minutes=2)  # past the first backoff (60 s)
    smtp.handler.mode = "drop"
    assert outbox.relay_once(engine, mail_settings, now=now).deferred == 5

    smtp.stop()  # the server goes away: connections are refused
    now += dt.timedelta(minutes=5)
    assert outbox.relay_once(engine, mail_settings, now=now).deferred == 5
    assert _statuses(session) == {"pending": 5}

    restarted = SmtpServer(port=smtp.port)
    restarted.start()
    try:
        now += dt.timedelta(minutes=1)  # not yet: the third backoff is 240 s
        assert outbox.relay_once(engine, mail_settings, now=now).handled == 0
        now += dt.timedelta(hours=1)
        report = outbox.relay_once(engine, mail_settings, now=now)
        assert (report.sent, report.deferred, report.dead) == (5, 0, 0)
        assert outbox.relay_once(engine, mail_settings, now=now + dt.timedelta(days=1)).handled == 0
    finally:
        restarted.stop()
    assert sorted(restarted.message_ids()) == sorted(written)
    assert smtp.handler.received == []
    assert _statuses(session) == {"sent": 5}
    attempts = {m.attempts for m in session.exec(select(OutboxMessage)).all()}
    assert attempts == {4}


def test_a_permanent_refusal_is_a_dead_letter_that_a_coordinator_can_retry(
    session, engine, mail_settings, smtp, pool, make_request, place, region_a
):
    place(make_request(), pool["ann"])
    smtp.handler.mode = "reject"
    report = outbox.relay_once(engine, mail_settings, now=NOW)
    assert (report.sent, report.dead) == (0, 1)
    [message] = session.exec(select(OutboxMessage)).all()
    session.refresh(message)
    assert message.status == OutboxStatus.dead
    assert message.last_error.startswith("550")
    assert "@" not in message.last_error

    from peermatch.models import Reviewer

    ann = session.get(Reviewer, pool["ann"])
    ann.email = "ann.police@corrected.example.org"  # the coordinator fixes a mistyped address
    session.add(ann)
    session.commit()
    outbox.retry(session, region_a.id, message.id, actor="user:1")
    session.commit()
    smtp.handler.mode = "accept"
    assert outbox.relay_once(engine, mail_settings).sent == 1
    assert smtp.message_ids() == [message.message_id]
    assert smtp.handler.received[0]["To"] == "ann.police@corrected.example.org"


def test_a_message_still_failing_after_the_give_up_period_is_a_dead_letter(
    session, engine, mail_settings, smtp, pool, make_request, place
):
    place(make_request(), pool["ann"])
    smtp.handler.mode = "refuse"
    [message] = session.exec(select(OutboxMessage)).all()
    assert outbox.relay_once(engine, mail_settings, now=message.created_at).deferred == 1
    later = message.created_at + dt.timedelta(hours=mail_settings.smtp_give_up_hours, minutes=1)
    assert outbox.relay_once(engine, mail_settings, now=later).dead == 1
    assert _statuses(session) == {"dead": 1}


def test_without_a_mail_server_messages_wait_in_the_outbox(
    session, engine, settings, pool, make_request, place
):
    place(make_request(), pool["ann"])
    assert settings.smtp_url is None
    assert outbox.relay_once(engine, settings, now=NOW).handled == 0
    assert _statuses(session) == {"pending": 1}


def test_a_claimed_message_is_not_claimed_again_until_its_lease_ends(session, engine, settings):
    outbox.enqueue(
        session,
        settings=settings,
        kind="test",
        to_address="someone@example.org",
        email=Email("Subject", "Text", "<p>HTML</p>"),
        region_id=None,
    )
    session.commit()
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    assert len(outbox.claim(engine, now=now)) == 1
    assert outbox.claim(engine, now=now) == []
    assert len(outbox.claim(engine, now=now + outbox.LEASE + dt.timedelta(seconds=1))) == 1


def test_the_html_email_escapes_what_it_shows(session, settings, pool, make_request, place):
    from peermatch.models import Partnership

    request = make_request()
    home = session.get(Partnership, request.partnership_id)
    home.name = 'Alphaton <script>alert("x")</script> & Co'
    session.add(home)
    session.commit()
    [ann] = place(request, pool["ann"])
    [message] = session.exec(
        select(OutboxMessage).where(OutboxMessage.assignment_id == ann.id)
    ).all()
    assert "<script>" not in message.html_body
    assert "&lt;script&gt;" in message.html_body
    assert "\n" not in message.subject


def test_a_message_the_email_library_cannot_build_is_a_dead_letter(
    session, engine, mail_settings, smtp
):
    outbox.enqueue(
        session,
        settings=mail_settings,
        kind="test",
        to_address="broken\r\nBcc: someone@example.org",
        email=Email("Subject", "Text", "<p>HTML</p>"),
        region_id=None,
    )
    session.commit()
    report = outbox.relay_once(engine, mail_settings)
    assert (report.sent, report.dead) == (0, 1)
    assert smtp.handler.received == []
