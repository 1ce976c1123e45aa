"""CSV import: a preview lists every bad row by line and column; nothing is written unless every
row is valid and the coordinator confirms."""

from __future__ import annotations

import re

from sqlmodel import select

from peermatch.models import AuditEvent, Reviewer

HEADER = (
    "name,email,partnership,agency,job_role,skills,capacity,active,accredited_on,unavailable,"
    "conflicts\n"
)
GOOD = HEADER + (
    "Priya Shah,priya.shah@example.org,ALPHA,police,DI,rca;peer-review,2,yes,2025-03-31,"
    "2026-12-01..2026-12-14,\n"
    "Tom Price,tom.price@example.org,ALPHA,health,,,1,yes,,,\n"
)
BAD = HEADER + (
    "Priya Shah,priya.shah@example.org,ALPHA,police,,,1,yes,,,\n"
    ",no-email,ALPHA,police,,,1,yes,,,\n"
    "Tom Price,tom.price@example.org,NOPE,health,,,twelve,yes,,,\n"
)


def _upload(client, post_form, content: bytes, filename: str = "reviewers.csv"):
    return post_form(
        client,
        "/reviewers/import",
        {},
        files={"file": (filename, content, "text/csv")},
    )


def test_it_shows_the_upload_form(alice_client):
    page = alice_client.get("/reviewers/import").text
    assert 'enctype="multipart/form-data"' in page
    assert 'type="file"' in page


def test_it_lists_every_bad_row_by_line_and_column_and_writes_nothing(
    alice_client, partnership_a, session, post_form
):
    response = _upload(alice_client, post_form, BAD.encode())
    assert response.status_code == 400
    page = response.text
    assert "2 rows have problems" in page
    rows = re.findall(r'numeric">(\d+)</td>\s*<td class="govuk-table__cell">([^<]+)</td>', page)
    assert ("3", "name") in rows
    assert ("3", "email") in rows
    assert ("4", "partnership") in rows
    assert ("4", "capacity") in rows
    assert not any(line == "2" for line, _ in rows)
    assert "Import " not in page
    assert session.exec(select(Reviewer)).all() == []


def test_it_refuses_a_file_that_is_not_csv(alice_client, partnership_a, session, post_form):
    response = _upload(alice_client, post_form, b"\x89PNG\r\n\x1a\n\x00\x00", "photo.png")
    assert response.status_code == 400
    assert "The file cannot be imported" in response.text
    assert session.exec(select(Reviewer)).all() == []


def test_it_asks_for_a_file_when_none_is_chosen(alice_client, post_form):
    response = post_form(
        alice_client, "/reviewers/import", {}, files={"file": ("", b"", "text/csv")}
    )
    assert response.status_code == 400
    assert "Select a CSV file of reviewers" in response.text
    assert 'href="#file"' in response.text


def test_it_previews_a_good_file_without_writing_anything(
    alice_client, partnership_a, session, post_form
):
    response = _upload(alice_client, post_form, GOOD.encode())
    assert response.status_code == 200
    assert "Import 2 reviewers" in response.text
    assert "priya.shah@example.org" in response.text
    assert session.exec(select(Reviewer)).all() == []


def test_it_imports_the_previewed_file_when_confirmed(
    alice_client, partnership_a, session, post_form
):
    preview = _upload(alice_client, post_form, GOOD.encode()).text
    content = re.search(r'name="content" value="([^"]+)"', preview).group(1)
    response = post_form(
        alice_client, "/reviewers/import/confirm", {"content": content}, page="/reviewers/import"
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/reviewers/import?imported=2"
    assert "2 reviewers imported" in alice_client.get(response.headers["location"]).text
    assert len(session.exec(select(Reviewer)).all()) == 2
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "reviewer.import")).one()


def test_it_checks_the_file_again_when_confirmed(
    alice_client, partnership_a, add_reviewer, session, post_form
):
    preview = _upload(alice_client, post_form, GOOD.encode()).text
    content = re.search(r'name="content" value="([^"]+)"', preview).group(1)
    add_reviewer(partnership_a, "Priya Shah")  # someone else adds her meanwhile
    response = post_form(
        alice_client, "/reviewers/import/confirm", {"content": content}, page="/reviewers/import"
    )
    assert response.status_code == 400
    assert "1 row has problems" in response.text
    assert len(session.exec(select(Reviewer)).all()) == 1


def test_it_refuses_a_tampered_confirmation(alice_client, partnership_a, session, post_form):
    response = post_form(
        alice_client, "/reviewers/import/confirm", {"content": "%%%"}, page="/reviewers/import"
    )
    assert response.status_code == 400
    assert session.exec(select(Reviewer)).all() == []
