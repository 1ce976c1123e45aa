"""The reviewer form's experience fields: reviews before PeerMatch and the date of the last one
as a GOV.UK date input."""

from __future__ import annotations

import datetime as dt

from sqlmodel import select

from peermatch.models import Reviewer


def _form(partnership, **overrides) -> dict:
    data = {
        "name": "Priya Shah",
        "email": "priya.shah@example.org",
        "partnership_id": str(partnership.id),
        "agency": "police",
        "capacity": "1",
        "active": "yes",
        "prior_reviews": "3",
        "last_review_on-day": "27",
        "last_review_on-month": "3",
        "last_review_on-year": "2026",
    }
    data.update(overrides)
    return data


def test_it_records_reviews_before_peermatch_and_shows_them(
    alice_client, partnership_a, session, post_form
):
    response = post_form(alice_client, "/reviewers/new", _form(partnership_a))
    assert response.status_code == 303, response.text
    reviewer = session.exec(select(Reviewer)).one()
    assert (reviewer.prior_reviews, reviewer.last_review_on) == (3, dt.date(2026, 3, 27))
    page = alice_client.get(response.headers["location"]).text
    assert "3 (3 before PeerMatch)" in page
    assert "27 March 2026" in page
    edit = alice_client.get(f"/reviewers/{reviewer.id}/edit").text
    assert 'name="last_review_on-day" type="text" value="27"' in edit


def test_a_last_review_that_is_not_a_date_comes_back_with_the_field_message(
    alice_client, partnership_a, session, post_form
):
    bad = _form(partnership_a, **{"last_review_on-day": "30", "last_review_on-month": "2"})
    response = post_form(alice_client, "/reviewers/new", {**bad, "prior_reviews": "lots"})
    assert response.status_code == 400
    assert "Date of the last peer review must be a real date" in response.text
    assert 'href="#last_review_on-day"' in response.text
    assert "Peer reviews before PeerMatch must be a whole number" not in response.text
    assert "Enter how many peer reviews they did before PeerMatch" in response.text
    assert 'value="lots"' in response.text
    assert session.exec(select(Reviewer)).first() is None


def test_leaving_the_experience_fields_blank_means_none(
    alice_client, partnership_a, session, post_form
):
    blank = {"prior_reviews": "", "last_review_on-day": "", "last_review_on-month": ""}
    response = post_form(
        alice_client, "/reviewers/new", _form(partnership_a, **blank, **{"last_review_on-year": ""})
    )
    assert response.status_code == 303, response.text
    reviewer = session.exec(select(Reviewer)).one()
    assert (reviewer.prior_reviews, reviewer.last_review_on) == (0, None)
