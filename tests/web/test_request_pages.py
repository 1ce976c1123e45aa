"""The request pages: the form with GOV.UK date inputs, the lifecycle through its buttons, the
list and the home page."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlmodel import select

from peermatch.models import AuditEvent, RequestStatus, ReviewRequest
from peermatch.staffing.requests import RequestInput, create_request


def _form(partnership, **changes) -> dict:
    data = {
        "partnership_id": str(partnership.id),
        "reference": "ALPHA-2027-041",
        "methodology": "peer-review",
        "high_profile": "yes",
        "agencies_involved": ["police", "health"],
        "required_skills": ["lead-reviewer"],
        "peers": "3",
        "window_start-day": "4",
        "window_start-month": "1",
        "window_start-year": "2027",
        "window_end-day": "29",
        "window_end-month": "January",
        "window_end-year": "2027",
        "notified_on-day": "18",
        "notified_on-month": "12",
        "notified_on-year": "2026",
    }
    data.update(changes)
    return data


def _create(alice_client, post_form, partnership, **changes):
    return post_form(alice_client, "/requests/new", _form(partnership, **changes))


def _request(session) -> ReviewRequest:
    session.expire_all()
    return session.exec(select(ReviewRequest)).one()


def test_it_opens_a_request_from_day_month_year_fields(
    alice_client, post_form, partnership_a, session
):
    response = _create(alice_client, post_form, partnership_a)
    assert response.status_code == 303, response.text
    request = _request(session)
    assert (request.status, request.high_profile, request.peers) == ("draft", True, 3)
    assert str(request.window_end) == "2027-01-29"
    # 15 working days from Friday 18 December 2026, skipping 25 and 28 December and 1 January.
    assert str(request.statutory_deadline) == "2027-01-13"
    assert request.deadline_overridden is False
    assert request.needs_experienced is True  # the default for three peers
    page = alice_client.get(response.headers["location"]).text
    assert "Request saved as a draft." in page
    assert "13 January 2027" in page
    assert "28 December (Boxing Day, substitute day)" in page


@pytest.mark.parametrize(
    ("day", "month", "year", "message"),
    [
        ("31", "2", "2027", "Review window start must be a real date"),
        ("3l", "2", "2027", "Review window start must be a real date"),
        ("1", "2", "9" * 30, "Review window start must be a real date"),
        ("9" * 30, "9" * 30, "2027", "Review window start must be a real date"),
        ("1", "2", "27", "Review window start year must include 4 numbers"),
        ("", "2", "2027", "Review window start must include a day"),
        ("", "", "", "Enter the review window start"),
    ],
)
def test_a_date_that_is_not_a_date_comes_back_with_a_field_message(
    alice_client, post_form, partnership_a, session, day, month, year, message
):
    changes = {"window_start-day": day, "window_start-month": month, "window_start-year": year}
    response = _create(alice_client, post_form, partnership_a, **changes)
    assert response.status_code == 400
    assert message in response.text
    assert 'href="#window_start-' in response.text  # the summary links to the field
    assert "govuk-input--error" in response.text
    assert f'value="{year}"' in response.text or not year  # what was typed is kept
    assert session.exec(select(ReviewRequest)).first() is None


def test_every_problem_is_reported_at_once_and_what_was_typed_is_kept(
    alice_client, post_form, partnership_a, session
):
    changes = {"reference": "Jayden Smith", "peers": "12", "notified_on-day": "x"}
    response = _create(alice_client, post_form, partnership_a, **changes)
    assert response.status_code == 400
    text = response.text
    assert "There is a problem" in text
    for message in ("Never a child", "from 1 to 6 peers", "Notification date must be a real date"):
        assert message in text
    assert 'value="Jayden Smith"' in text
    assert re.search(r'value="health"\s+checked', text)


def test_a_typed_deadline_overrides_the_computed_one(
    alice_client, post_form, partnership_a, session
):
    changes = {
        "statutory_deadline-day": "20",
        "statutory_deadline-month": "1",
        "statutory_deadline-year": "2027",
    }
    response = _create(alice_client, post_form, partnership_a, **changes)
    assert response.status_code == 303
    request = _request(session)
    assert (str(request.statutory_deadline), request.deadline_overridden) == ("2027-01-20", True)
    page = alice_client.get(f"/requests/{request.id}").text
    assert "A coordinator set this deadline to 20 January 2027" in page
    assert "PeerMatch would have worked out 13 January 2027" in page


def test_a_request_goes_through_submit_send_back_and_cancel_by_its_buttons(
    alice_client, post_form, partnership_a, session
):
    _create(alice_client, post_form, partnership_a)
    rid = _request(session).id
    page = f"/requests/{rid}"
    assert post_form(alice_client, f"{page}/submit", {}, page=page).status_code == 303
    assert _request(session).status == RequestStatus.submitted
    refused = post_form(alice_client, f"{page}/send-back", {"reason": "made-up"}, page=page)
    assert refused.status_code == 400
    assert "Choose why the request is going back" in refused.text
    sent = post_form(alice_client, f"{page}/send-back", {"reason": "dates"}, page=page)
    assert sent.status_code == 303
    assert _request(session).status == RequestStatus.draft
    timeline = alice_client.get(page).text
    assert "Sent back to the partnership as a draft: the review window" in timeline
    assert "Are you sure" in alice_client.get(f"{page}/cancel").text
    assert post_form(alice_client, f"{page}/cancel", {}, page=page).status_code == 303
    assert _request(session).status == RequestStatus.cancelled


def test_an_illegal_move_re_renders_the_page_with_the_reason(
    alice_client, post_form, partnership_a, session
):
    _create(alice_client, post_form, partnership_a)
    rid = _request(session).id
    page = f"/requests/{rid}"
    post_form(alice_client, f"{page}/cancel", {}, page=page)
    response = post_form(alice_client, f"{page}/submit", {}, page=page)
    assert response.status_code == 409
    assert "There is a problem" in response.text
    assert "cannot be submitted: it is cancelled, so it can no longer change" in response.text
    assert "only draft or submitted" in alice_client.get(f"{page}/edit").text
    edit = post_form(alice_client, f"{page}/edit", _form(partnership_a), page=page)
    assert edit.status_code == 409
    assert "only draft or submitted requests can be changed" in edit.text
    assert _request(session).status == RequestStatus.cancelled


def test_editing_keeps_the_request_and_records_what_changed(
    alice_client, post_form, partnership_a, session
):
    _create(alice_client, post_form, partnership_a)
    rid = _request(session).id
    edit_page = alice_client.get(f"/requests/{rid}/edit").text
    assert 'name="window_end-month" type="text" value="1"' in edit_page
    response = post_form(
        alice_client,
        f"/requests/{rid}/edit",
        _form(partnership_a, peers="1"),
        page=f"/requests/{rid}",
    )
    assert response.status_code == 303
    assert _request(session).peers == 1
    assert "Details changed: peers" in alice_client.get(f"/requests/{rid}").text


def test_every_view_of_a_request_page_is_audited(alice_client, post_form, partnership_a, session):
    _create(alice_client, post_form, partnership_a)
    rid = _request(session).id
    alice_client.get(f"/requests/{rid}")
    alice_client.get(f"/requests/{rid}")
    views = session.exec(select(AuditEvent).where(AuditEvent.action == "request.view")).all()
    assert len(views) >= 2
    assert {v.entity_id for v in views} == {str(rid)}


def test_another_regions_request_is_not_found(bob_client, post_form, partnership_a, session):
    request = create_request(
        session,
        partnership_a.region_id,
        RequestInput(
            partnership_id=partnership_a.id,
            reference="ALPHA-2027-041",
            methodology="peer-review",
            window_start=dt.date(2027, 1, 4),
            window_end=dt.date(2027, 1, 29),
        ),
        actor="test",
    )
    session.commit()
    rid = request.id
    assert bob_client.get(f"/requests/{rid}").status_code == 404
    assert bob_client.get(f"/requests/{rid}/edit").status_code == 404
    response = post_form(bob_client, f"/requests/{rid}/cancel", {}, page="/requests")
    assert response.status_code == 404
    assert _request(session).status == RequestStatus.draft
    assert "ALPHA-2027-041" not in bob_client.get("/requests").text


def test_the_list_filters_by_status_and_has_an_empty_state(
    alice_client, post_form, partnership_a, session
):
    assert "no review requests in your region yet" in alice_client.get("/requests").text
    _create(alice_client, post_form, partnership_a)
    assert "ALPHA-2027-041" in alice_client.get("/requests?status=draft").text
    listed = session.exec(select(AuditEvent).where(AuditEvent.action == "request.list")).all()
    assert listed[-1].detail == {"ids": [_request(session).id]}
    submitted = alice_client.get("/requests?status=submitted").text
    assert "ALPHA-2027-041" not in submitted
    assert "No requests match" in submitted
    assert alice_client.get("/requests?status=nonsense&page=-4").status_code == 200


def test_the_home_page_counts_requests_and_lists_what_needs_doing(
    alice_client, post_form, partnership_a, session
):
    assert "Nothing needs you right now" in alice_client.get("/").text
    _create(alice_client, post_form, partnership_a)
    rid = _request(session).id
    post_form(alice_client, f"/requests/{rid}/submit", {}, page=f"/requests/{rid}")
    home = alice_client.get("/").text
    assert "1</span> submitted request to triage" in home
    assert "ALPHA-2027-041" in home  # its deadline is among the nearest
    post_form(alice_client, f"/requests/{rid}/accept", {}, page=f"/requests/{rid}")
    home = alice_client.get("/").text
    assert "1</span> request accepted and ready to match" in home
    assert "to triage" not in home


def test_markup_typed_in_the_reference_comes_back_escaped(
    alice_client, post_form, partnership_a, session
):
    response = _create(
        alice_client, post_form, partnership_a, reference='<script>alert("x")</script>'
    )
    assert response.status_code == 400
    assert '<script>alert("x")' not in response.text
    assert "&lt;script&gt;" in response.text


def test_a_partnership_of_another_region_or_unknown_choices_are_refused(
    alice_client, post_form, partnership_a, partnership_b, session
):
    changes = {
        "partnership_id": str(partnership_b.id),
        "methodology": "guesswork",
        "agencies_involved": ["wizards"],
        "peers": "1e9",
    }
    response = _create(alice_client, post_form, partnership_a, **changes)
    assert response.status_code == 400
    for message in (
        "Choose a partnership in your region",
        "Methodology must be one of",
        "Unknown agency wizards",
        "from 1 to 6 peers",
    ):
        assert message in response.text
    assert session.exec(select(ReviewRequest)).first() is None


def test_a_year_far_away_is_refused_not_computed(alice_client, post_form, partnership_a, session):
    changes = {"notified_on-year": "9999", "notified_on-month": "12", "notified_on-day": "31"}
    response = _create(alice_client, post_form, partnership_a, **changes)
    assert response.status_code == 400
    assert "Notification date must be between 2000 and 2099" in response.text
    assert session.exec(select(ReviewRequest)).first() is None
