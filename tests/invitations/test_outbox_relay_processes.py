"""Several relay processes at once: each message is delivered exactly once."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from smtp_server import SmtpServer
from sqlmodel import select

from peermatch import outbox
from peermatch.models import OutboxMessage, OutboxStatus
from peermatch.outbox import Email

PEERMATCH = Path(sys.executable).parent / "peermatch"


def _two_relays_deliver_each_message_once(session, settings, database_url, count: int) -> None:
    for n in range(count):
        outbox.enqueue(
            session,
            settings=settings,
            kind="test",
            to_address=f"reviewer{n}@example.org",
            email=Email(f"Message {n}", "Text", "<p>HTML</p>"),
            region_id=None,
        )
    session.commit()
    server = SmtpServer()
    server.start()
    env = {
        **os.environ,
        "PEERMATCH_DATABASE_URL": database_url,
        "PEERMATCH_SMTP_URL": server.url,
        "PEERMATCH_MODE": "development",
    }
    try:
        relays = [
            subprocess.Popen(
                [str(PEERMATCH), "outbox", "relay", "--once"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        results = [relay.communicate(timeout=300) for relay in relays]
    finally:
        server.stop()
    for relay, (out, err) in zip(relays, results, strict=True):
        assert relay.returncode == 0, err
        assert "sent" in out
    sent_by = [int(out.split(" sent", 1)[0]) for out, _ in results]
    assert sum(sent_by) == count
    ids = Counter(server.message_ids())
    expected = {m.message_id for m in session.exec(select(OutboxMessage)).all()}
    assert set(ids) == expected
    assert set(ids.values()) == {1}
    session.expire_all()
    statuses = {m.status for m in session.exec(select(OutboxMessage)).all()}
    assert statuses == {OutboxStatus.sent}


@pytest.mark.postgres
@pytest.mark.slow
def test_two_relay_processes_on_postgresql_deliver_each_of_200_messages_exactly_once(
    session, settings, database_url
):
    assert database_url.startswith("postgresql")
    _two_relays_deliver_each_message_once(session, settings, database_url, 200)


@pytest.mark.slow
def test_two_relay_processes_deliver_each_message_exactly_once_on_this_database(
    session, settings, database_url
):
    _two_relays_deliver_each_message_once(session, settings, database_url, 60)
