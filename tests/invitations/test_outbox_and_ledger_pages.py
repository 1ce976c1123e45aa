"""The coordinator's outbox and ledger pages, and the CSV export."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import replace

import pytest
from invitation_helpers import NOW, csrf_token, link_of, token_of
from litestar.testing import TestClient
from sqlmodel import col, select

from peermatch.models import AuditEvent, OutboxMessage, OutboxStatus, Partnership
from peermatch.outbox import HIDDEN_LINK, hide_answer_links
from peermatch.staffing import invitations
from peermatch.web import create_app
from peermatch.web.controllers.ledger import csv_cell

PASSWORD = "correct horse battery staple"  # the fixtures' coordinators' password


@pytest.fixture
def alice_mail_client(settings, engine, alice) -> Iterator[TestClient]:
    """Alice signed in to a PeerMatch whose emails a mail server delivers."""
    # Nothing is sent while the pages are read (no relay runs in test mode): the setting alone
    # decides what the outbox shows.
    mail = replace(settings, smtp_url="smtp://127.0.0.1:2525")
    with TestClient(create_app(mail, engine), base_url="http://127.0.0.1:8000") as c:
        token = csrf_token(c, "/sign-in")
        response = c.post(
            "/sign-in",
            data={"email": alice.email, "password": PASSWORD, "_csrf_token": token},
            follow_redirects=False,
        )
        assert response.status_code == 303
        yield c


def _views(session) -> list[tuple[str | None, dict]]:
    session.expire_all()
    events = session.exec(
        select(AuditEvent).where(AuditEvent.action == "outbox.view").order_by(col(AuditEvent.id))
    ).all()
    return [(e.entity_id, e.detail) for e in events]


def test_with_a_mail_server_the_outbox_never_shows_an_answer_token(
    session, alice_mail_client, pool, make_request, place
):
    [ann] = place(make_request(), pool["ann"])
    token = token_of(link_of(session, ann)).encode()
    [message] = session.exec(select(OutboxMessage)).all()
    assert message.ics is not None and b"/answer/" in message.ics.replace("\r\n ", "").encode()
    index = alice_mail_client.get("/outbox")
    assert "No mail server is set up" not in index.text
    assert "answer links are hidden" in index.text
    shown = alice_mail_client.get(f"/outbox/{message.id}")
    html = alice_mail_client.get(f"/outbox/{message.id}/html")
    for page in (index, shown, html):
        assert page.status_code == 200
        assert token not in page.content
        assert b"/answer/" not in page.content
    assert HIDDEN_LINK in shown.text and HIDDEN_LINK in html.text
    assert "Dear Ann Police" in shown.text and "LSCP-2027-001" in html.text
    # The stored email is untouched: the reviewer still gets their link.
    session.refresh(message)
    assert token.decode() in message.text_body and token.decode() in message.html_body
    assert _views(session) == [
        (str(message.id), {"kind": "invitation", "part": "text", "links_hidden": True}),
        (str(message.id), {"kind": "invitation", "part": "html", "links_hidden": True}),
    ]


def test_without_a_mail_server_the_outbox_shows_the_answer_link_to_forward(
    session, alice_client, pool, make_request, place
):
    [ann] = place(make_request(), pool["ann"])
    link = link_of(session, ann)
    [message] = session.exec(select(OutboxMessage)).all()
    shown = alice_client.get(f"/outbox/{message.id}")
    html = alice_client.get(f"/outbox/{message.id}/html")
    for page in (shown, html):
        assert token_of(link).encode() in page.content
        assert HIDDEN_LINK not in page.text
    assert f'href="{link}"' in shown.text
    assert _views(session) == [
        (str(message.id), {"kind": "invitation", "part": "text", "links_hidden": False}),
        (str(message.id), {"kind": "invitation", "part": "html", "links_hidden": False}),
    ]


def test_hiding_answer_links_takes_the_whole_anchor_and_any_bare_link():
    link = "https://peermatch.example.org/answer/WzEsImFiYyJd.Zq8v1w.s1gNatuRe-_x"
    html = f'<p>Answer:</p><p><a style="x" href="{link}">Answer this invitation</a></p>'
    assert hide_answer_links(html) == f"<p>Answer:</p><p><strong>{HIDDEN_LINK}</strong></p>"
    text = f"Please accept or decline by 8 March 2027:\n{link}\n(old: http://old/answer/Ab.c)"
    assert hide_answer_links(text) == (
        f"Please accept or decline by 8 March 2027:\n{HIDDEN_LINK}\n(old: {HIDDEN_LINK})"
    )
    assert hide_answer_links("See /answers for help") == "See /answers for help"


def test_the_outbox_lists_waiting_messages_and_shows_one_with_its_answer_link(
    session, alice_client, pool, make_request, place
):
    request = make_request()
    [ann] = place(request, pool["ann"])
    page = alice_client.get("/outbox")
    assert page.status_code == 200
    assert "No mail server is set up" in page.text
    assert "Waiting to send (1)" in page.text
    [message] = session.exec(select(OutboxMessage)).all()
    shown = alice_client.get(f"/outbox/{message.id}")
    link = link_of(session, ann)
    assert f'href="{link}"' in shown.text
    html = alice_client.get(f"/outbox/{message.id}/html")
    assert html.headers["content-type"].startswith("text/html")
    assert "sandbox" in html.headers["content-security-policy"]
    assert "LSCP-2027-001" in html.text


def test_a_dead_letter_can_be_retried_from_its_page(
    session, alice_client, pool, make_request, place
):
    place(make_request(), pool["ann"])
    [message] = session.exec(select(OutboxMessage)).all()
    message.status = OutboxStatus.dead
    message.last_error = "550 SMTPDataError"
    session.add(message)
    session.commit()
    assert "Could not be delivered (1)" in alice_client.get("/outbox?status=dead").text
    token = csrf_token(alice_client, f"/outbox/{message.id}")
    response = alice_client.post(
        f"/outbox/{message.id}/retry", data={"_csrf_token": token}, follow_redirects=True
    )
    assert "The message will be sent again." in response.text
    session.refresh(message)
    assert message.status == OutboxStatus.pending and message.retried_at is not None


def test_a_coordinator_of_another_region_cannot_read_the_outbox_message(
    session, bob_client, pool, make_request, place
):
    place(make_request(), pool["ann"])
    [message] = session.exec(select(OutboxMessage)).all()
    assert bob_client.get(f"/outbox/{message.id}").status_code == 404
    assert bob_client.get(f"/outbox/{message.id}/html").status_code == 404
    assert "Waiting to send (0)" in bob_client.get("/outbox").text


def test_the_ledger_shows_the_period_chart_table_and_csv(
    session, settings, alice_client, pool, make_request, place
):
    request = make_request(peers=1)
    [ann] = place(request, pool["ann"])
    invitations.accept(session, settings, token_of(link_of(session, ann)), now=NOW)
    session.commit()
    period = "from-day=1&from-month=1&from-year=2027&to-day=31&to-month=12&to-year=2027"
    page = alice_client.get(f"/ledger?{period}")
    assert page.status_code == 200
    assert 'role="img"' in page.text and '<title id="ledger-chart-title">' in page.text
    assert "style=" not in page.text.split("<svg", 1)[1].split("</svg>", 1)[0]
    exported = alice_client.get(f"/ledger/export.csv?{period}")
    assert exported.headers["content-type"].startswith("text/csv")
    rows = {r["partnership_code"]: r for r in csv.DictReader(io.StringIO(exported.text))}
    assert (rows["ALPHA"]["received"], rows["BRAVO"]["lent"]) == ("1", "1")
    assert rows["BRAVO"]["closing_balance"] == "1"


def test_the_ledger_refuses_a_date_that_does_not_exist_and_keeps_what_was_typed(alice_client):
    page = alice_client.get("/ledger?from-day=31&from-month=2&from-year=2027")
    assert page.status_code == 400
    assert "There is a problem" in page.text
    assert "The start of the period must be a real date" in page.text
    assert 'value="31"' in page.text


def test_the_csv_export_defuses_spreadsheet_formulas(session, alice_client, region_a):
    session.add(Partnership(region_id=region_a.id, code="EVIL", name='=HYPERLINK("x")'))
    session.commit()
    exported = alice_client.get("/ledger/export.csv")
    assert "'=HYPERLINK" in exported.text
    for raw in ("=1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert csv_cell(raw) == "'" + raw
    assert csv_cell("Alpha") == "Alpha"


def test_the_ledger_and_outbox_survive_hostile_query_strings(alice_client):
    for query in (
        "from-day=1&from-month=1&from-year=" + "9" * 100,
        "from-day=-1&from-month=13&from-year=2027",
        "to-day=x&to-month=y&to-year=z",
        "from-day=1&from-month=1&from-year=2028&to-day=1&to-month=1&to-year=2027",
    ):
        page = alice_client.get(f"/ledger?{query}")
        assert page.status_code == 400, query
        assert "There is a problem" in page.text
        assert alice_client.get(f"/ledger/export.csv?{query}").status_code == 400
    page = alice_client.get("/outbox?status=<script>alert(9)</script>")
    assert page.status_code == 200 and "alert(9)" not in page.text
    assert alice_client.get("/outbox/999999").status_code == 404
    assert alice_client.get("/requests/999999/invitations").status_code == 404
