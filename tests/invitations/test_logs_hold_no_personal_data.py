"""A full invitation flow logs no reviewer's name or address and no answer link or token."""

from __future__ import annotations

import logging
from dataclasses import replace

from invitation_helpers import csrf_token, find_replacements, link_of, token_of
from smtp_server import SmtpServer
from sqlmodel import select

from peermatch import outbox
from peermatch.models import Assignment, AssignmentStatus, Reviewer

# Loggers of the test's own tools, not of the service: the test SMTP server logs envelopes and
# the test HTTP client logs the URLs it requests (a real server's access log is filtered by
# `peermatch serve`).
TEST_SIDE = ("mail.log", "httpx", "httpcore")


def test_a_full_flow_logs_no_names_addresses_or_tokens(
    session, engine, settings, client, alice_client, pool, make_request, place, caplog
):
    caplog.set_level(logging.DEBUG)
    server = SmtpServer()
    server.start()
    mail = replace(settings, smtp_url=server.url, smtp_timeout_seconds=5)
    secrets: set[str] = set()
    try:
        request = make_request(peers=2)
        ann, dee = place(request, pool["ann"], pool["dee"])
        outbox.relay_once(engine, mail)
        for assignment in (ann, dee):
            secrets |= {link_of(session, assignment), token_of(link_of(session, assignment))}
            session.refresh(assignment)
            secrets.add(assignment.link_nonce)
        client.get("/answer/" + token_of(link_of(session, ann)))
        client.post("/answer/" + token_of(link_of(session, ann)) + "/accept")
        client.post("/answer/" + token_of(link_of(session, dee)) + "/decline", data={"reason": ""})
        find_replacements(session, settings)
        [replacement] = session.exec(
            select(Assignment).where(
                Assignment.request_id == request.id,
                Assignment.status == AssignmentStatus.invited,
            )
        ).all()
        secrets |= {link_of(session, replacement), token_of(link_of(session, replacement))}
        secrets.add(replacement.link_nonce)
        client.post("/answer/" + token_of(link_of(session, replacement)) + "/accept")
        client.post("/answer/not-a-token/accept")
        outbox.relay_once(engine, mail)
        alice_client.get("/outbox")
        alice_client.get(f"/requests/{request.id}/invitations")
        alice_client.get("/ledger")
        token = csrf_token(alice_client, f"/requests/{request.id}/invitations")
        alice_client.post(
            f"/requests/{request.id}/invitations/{ann.id}/withdraw", data={"_csrf_token": token}
        )
        outbox.relay_once(engine, mail)
    finally:
        server.stop()
    assert len(server.handler.received) == 4  # 2 invitations, the replacement, a cancellation
    personal = set()
    for reviewer in session.exec(select(Reviewer)).all():
        personal |= {reviewer.name, reviewer.email, reviewer.email.split("@")[0]}
    records = [r for r in caplog.records if not r.name.startswith(TEST_SIDE)]
    assert any(r.name.startswith("peermatch") for r in records)  # the flow did log
    for record in records:
        text = record.getMessage() + (record.exc_text or "")
        for secret in secrets | personal:
            assert secret not in text, f"{record.name} logged a name, address or token: {text}"


def test_the_access_log_of_serve_hides_answer_tokens():
    from peermatch.cli.service import _NoPersonalDataInAccessLog

    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("10.0.0.1:5555", "POST", "/answer/eyJhbGciOi.secret-part/accept?x=1", "1.1", 200),
        None,
    )
    assert _NoPersonalDataInAccessLog().filter(record)
    assert record.getMessage() == '- - "POST /answer/… HTTP/1.1" 200'
