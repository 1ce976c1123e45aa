"""Adding and changing a reviewer through the form."""

from __future__ import annotations

import datetime as dt

from sqlmodel import select

from peermatch.models import AuditEvent, Reviewer, Unavailability


def _form(partnership, **overrides) -> dict:
    data = {
        "name": "Priya Shah",
        "email": "Priya.Shah@Example.org",
        "partnership_id": str(partnership.id),
        "agency": "police",
        "job_role": "Detective Inspector",
        "skills": ["peer-review", "rca"],
        "capacity": "2",
        "active": "yes",
        "accredited_on": "2025-03-31",
        "unavailable-0-from": "2026-12-01",
        "unavailable-0-to": "2026-12-14",
        "unavailable-1-from": "",
        "unavailable-1-to": "",
    }
    data.update(overrides)
    return data


def test_it_shows_an_empty_form_with_rows_for_dates_away(alice_client, partnership_a):
    page = alice_client.get("/reviewers/new").text
    assert "Add a reviewer" in page
    assert 'name="unavailable-2-from"' in page
    assert "Alphaton Safeguarding Children Partnership" in page


def test_it_adds_a_reviewer_and_shows_them(alice_client, partnership_a, session, post_form):
    response = post_form(alice_client, "/reviewers/new", _form(partnership_a))
    assert response.status_code == 303
    reviewer = session.exec(select(Reviewer)).one()
    assert response.headers["location"] == f"/reviewers/{reviewer.id}?saved=added"
    assert reviewer.email == "priya.shah@example.org"
    gaps = session.exec(select(Unavailability)).all()
    assert [(g.starts_on, g.ends_on) for g in gaps] == [
        (dt.date(2026, 12, 1), dt.date(2026, 12, 14))
    ]
    page = alice_client.get(response.headers["location"]).text
    assert "Reviewer added" in page
    assert "1 December 2026 to 14 December 2026" in page
    assert "Root cause analysis" in page
    audit = session.exec(select(AuditEvent).where(AuditEvent.action == "reviewer.create")).one()
    assert audit.actor.startswith("user:")


def test_it_shows_every_problem_keeps_what_was_typed_and_writes_nothing(
    alice_client, partnership_a, session, post_form
):
    response = post_form(
        alice_client,
        "/reviewers/new",
        _form(partnership_a, name="", email="not-an-email", agency="", capacity="99"),
    )
    assert response.status_code == 400
    page = response.text
    assert "There is a problem" in page
    assert "Enter the reviewer&#39;s name" in page or "Enter the reviewer's name" in page
    assert 'href="#email"' in page
    assert 'href="#capacity"' in page
    assert 'id="email-error"' in page  # the message sits next to the field too
    assert 'value="not-an-email"' in page
    assert 'value="99"' in page
    assert 'value="2026-12-01"' in page
    assert 'value="rca" checked' in page
    assert page.startswith("<!DOCTYPE html>") and "<title>Error: " in page
    assert session.exec(select(Reviewer)).all() == []
    assert session.exec(select(AuditEvent).where(AuditEvent.entity == "reviewer")).all() == []


def test_it_explains_a_date_that_is_not_a_date(alice_client, partnership_a, session, post_form):
    response = post_form(
        alice_client,
        "/reviewers/new",
        _form(partnership_a, **{"unavailable-1-from": "31/02/2027", "unavailable-1-to": "x"}),
    )
    assert response.status_code == 400
    assert "Enter real dates" in response.text
    assert 'href="#unavailable-1-from"' in response.text
    assert session.exec(select(Reviewer)).all() == []


def test_it_refuses_a_range_that_ends_before_it_starts(
    alice_client, partnership_a, session, post_form
):
    response = post_form(
        alice_client,
        "/reviewers/new",
        _form(
            partnership_a, **{"unavailable-0-from": "2026-12-14", "unavailable-0-to": "2026-12-01"}
        ),
    )
    assert response.status_code == 400
    assert "must start on or before its end" in response.text
    assert session.exec(select(Reviewer)).all() == []


def test_it_refuses_a_duplicate_email(alice_client, partnership_a, add_reviewer, post_form):
    add_reviewer(partnership_a, "Priya Shah")
    response = post_form(alice_client, "/reviewers/new", _form(partnership_a))
    assert response.status_code == 400
    assert "already registered for a reviewer" in response.text


def test_it_fills_the_edit_form_with_the_reviewers_details(
    alice_client, partnership_a, add_reviewer
):
    reviewer = add_reviewer(
        partnership_a, "Priya Shah", unavailable=[(dt.date(2026, 12, 1), dt.date(2026, 12, 14))]
    )
    page = alice_client.get(f"/reviewers/{reviewer.id}/edit").text
    assert "Change reviewer details" in page
    assert 'value="Priya Shah"' in page
    assert 'value="2026-12-14"' in page
    assert 'name="unavailable-3-from"' in page  # the existing range plus three empty rows


def test_it_saves_changes(alice_client, partnership_a, add_reviewer, session, post_form):
    reviewer = add_reviewer(partnership_a, "Priya Shah")
    response = post_form(
        alice_client,
        f"/reviewers/{reviewer.id}/edit",
        _form(partnership_a, name="Priya Shah-Jones", active="no"),
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/reviewers/{reviewer.id}?saved=updated"
    session.expire_all()
    saved = session.get(Reviewer, reviewer.id)
    assert saved.name == "Priya Shah-Jones"
    assert saved.active is False


def test_it_keeps_the_old_details_when_a_change_is_refused(
    alice_client, partnership_a, add_reviewer, session, post_form
):
    reviewer = add_reviewer(partnership_a, "Priya Shah")
    response = post_form(
        alice_client, f"/reviewers/{reviewer.id}/edit", _form(partnership_a, name="", capacity="-1")
    )
    assert response.status_code == 400
    session.expire_all()
    assert session.get(Reviewer, reviewer.id).capacity == 1


def test_it_answers_not_found_for_a_reviewer_that_does_not_exist(alice_client):
    assert alice_client.get("/reviewers/999").status_code == 404


def test_it_removes_a_range_whose_dates_are_cleared(
    alice_client, partnership_a, add_reviewer, session, post_form
):
    reviewer = add_reviewer(
        partnership_a, "Priya Shah", unavailable=[(dt.date(2026, 12, 1), dt.date(2026, 12, 14))]
    )
    response = post_form(
        alice_client,
        f"/reviewers/{reviewer.id}/edit",
        _form(partnership_a, **{"unavailable-0-from": "", "unavailable-0-to": ""}),
    )
    assert response.status_code == 303
    assert session.exec(select(Unavailability)).all() == []


def test_it_reads_dates_typed_the_british_way(alice_client, partnership_a, session, post_form):
    response = post_form(
        alice_client,
        "/reviewers/new",
        _form(
            partnership_a, **{"unavailable-0-from": "1/12/2026", "unavailable-0-to": "14/12/2026"}
        ),
    )
    assert response.status_code == 303
    (gap,) = session.exec(select(Unavailability)).all()
    assert (gap.starts_on, gap.ends_on) == (dt.date(2026, 12, 1), dt.date(2026, 12, 14))
