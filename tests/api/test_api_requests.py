"""POST/GET /api/v1/requests, GET /api/v1/requests/{id}, POST /api/v1/requests/{id}/cancel."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from api_payloads import PASSWORD, REQUEST
from sqlmodel import select

from peermatch import ledger
from peermatch.models import (
    Assignment,
    AssignmentStatus,
    AuditEvent,
    LedgerEntry,
    RequestSource,
    RequestStatus,
    ReviewRequest,
)
from peermatch.staffing.lifecycle import transition


def _create(client, **changes):
    response = client.post("/api/v1/requests", json={**REQUEST, **changes})
    assert response.status_code == 201, response.text
    return response.json()


def test_it_creates_a_submitted_request_marked_as_from_the_api(alpha, session, partnership_a):
    response = alpha.post("/api/v1/requests", json=REQUEST)
    assert response.status_code == 201, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["reference"] == "ALPHA-2027-001"
    assert body["status"] == "submitted"
    assert body["source"] == "api"
    assert body["seats_filled"] == 0 and body["accepted_peers"] == []
    stored = session.exec(select(ReviewRequest)).one()
    assert stored.id == body["id"]
    assert stored.partnership_id == partnership_a.id
    assert stored.source == RequestSource.api
    assert stored.status == RequestStatus.submitted
    assert stored.required_skills == ["lead-reviewer", "rca"]
    assert stored.notified_on == dt.date(2027, 3, 1)


def test_the_creation_is_audited_as_the_key(alpha, session, alpha_key):
    body = _create(alpha)
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "request.create")).one()
    assert event.entity_id == str(body["id"])
    assert event.actor.startswith("apikey:")


def test_only_the_required_fields_are_needed(alpha):
    body = _create(
        alpha,
        **{k: v for k, v in REQUEST.items() if k in ("reference", "methodology")},
    )
    assert body["peers"] == 2


def test_it_lists_its_requests_a_page_at_a_time_following_next(alpha):
    ids = [_create(alpha, reference=f"ALPHA-2027-{n:03}")["id"] for n in range(5)]
    seen = []
    url = "/api/v1/requests?limit=2"
    while url:
        response = alpha.get(url)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= 2
        seen += [item["id"] for item in page["items"]]
        url = page["next"]
    assert seen == ids


def test_it_filters_the_list_by_status(alpha):
    first = _create(alpha, reference="ALPHA-2027-001")
    _create(alpha, reference="ALPHA-2027-002")
    assert alpha.post(f"/api/v1/requests/{first['id']}/cancel").status_code == 200
    cancelled = alpha.get("/api/v1/requests?status=cancelled").json()
    assert [r["id"] for r in cancelled["items"]] == [first["id"]]
    assert cancelled["next"] is None
    submitted = alpha.get("/api/v1/requests?status=submitted").json()
    assert [r["reference"] for r in submitted["items"]] == ["ALPHA-2027-002"]


def test_an_unknown_status_filter_is_a_problem(alpha):
    response = alpha.get("/api/v1/requests?status=lost")
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["pointer"] == "status"


def test_it_reads_one_request_with_the_peers_who_accepted(
    alpha, session, partnership_a2, add_reviewer
):
    created = _create(alpha)
    reviewer = add_reviewer(partnership_a2, "Sam Okafor", agency="health")
    session.add(
        Assignment(
            request_id=created["id"], reviewer_id=reviewer.id, status=AssignmentStatus.accepted
        )
    )
    other = add_reviewer(partnership_a2, "Jo Bloggs", agency="police")
    session.add(
        Assignment(request_id=created["id"], reviewer_id=other.id, status=AssignmentStatus.invited)
    )
    session.commit()
    response = alpha.get(f"/api/v1/requests/{created['id']}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["seats_filled"] == 1
    assert body["accepted_peers"] == [
        {
            "name": "Sam Okafor",
            "agency": "health",
            "partnership_code": "GAMMA",
            "partnership_name": "Gammaville Safeguarding Children Partnership",
        }
    ]
    viewed = session.exec(select(AuditEvent).where(AuditEvent.action == "request.view")).one()
    assert viewed.entity_id == str(created["id"])


def test_a_missing_request_is_a_404_problem(alpha):
    response = alpha.get("/api/v1/requests/999999")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 404


def test_cancelling_cancels_and_reverses_the_ledger(
    alpha, session, partnership_a, partnership_a2, add_reviewer
):
    created = _create(alpha)
    reviewer = add_reviewer(partnership_a2, "Sam Okafor", agency="health")
    request = session.get(ReviewRequest, created["id"])
    for status in (RequestStatus.matching, RequestStatus.proposed, RequestStatus.inviting):
        transition(session, request, status, actor="t")  # as a run and its approval do
    assignment = Assignment(
        request_id=created["id"], reviewer_id=reviewer.id, status=AssignmentStatus.accepted
    )
    session.add(assignment)
    session.flush()
    ledger.record_acceptance(session, assignment)
    session.commit()
    response = alpha.post(f"/api/v1/requests/{created['id']}/cancel")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"
    session.expire_all()
    assert session.get(ReviewRequest, created["id"]).status == RequestStatus.cancelled
    amounts = session.exec(select(LedgerEntry.amount)).all()
    assert sorted(amounts) == [-1, 1]


def test_a_cancelled_request_cannot_be_cancelled_again(alpha):
    created = _create(alpha)
    assert alpha.post(f"/api/v1/requests/{created['id']}/cancel").status_code == 200
    again = alpha.post(f"/api/v1/requests/{created['id']}/cancel")
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    assert "cancelled" in again.json()["detail"]


# --- validation: strict, pointed, and nothing written ------------------------------------------


@pytest.mark.parametrize(
    ("changes", "pointer"),
    [
        ({"colour": "red"}, "/colour"),
        ({"peers": "2"}, "/peers"),
        ({"peers": 7}, "/peers"),
        ({"peers": 0}, "/peers"),
        ({"high_profile": "yes"}, "/high_profile"),
        ({"reference": "A" * 41}, "/reference"),
        ({"reference": "Jane Smith"}, "/reference"),
        ({"methodology": "astrology"}, "/methodology"),
        ({"window_start": "31/03/2027"}, "/window_start"),
        ({"window_start": "2027-02-30"}, "/window_start"),
        ({"required_skills": ["rca", "juggling"]}, "/required_skills/1"),
        ({"agencies_involved": ["police", "fire"]}, "/agencies_involved/1"),
        ({"window_end": "2027-03-01"}, "/window_end"),
        ({"notified_on": 20270301}, "/notified_on"),
    ],
)
def test_it_refuses_a_bad_field_pointing_at_it_and_writes_nothing(alpha, session, changes, pointer):
    response = alpha.post("/api/v1/requests", json={**REQUEST, **changes})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 422 and problem["type"] and problem["title"] and problem["detail"]
    assert pointer in [e["pointer"] for e in problem["errors"]]
    assert all(e["message"] for e in problem["errors"])
    assert session.exec(select(ReviewRequest)).all() == []


def test_a_missing_required_field_is_pointed_at(alpha):
    body = {k: v for k, v in REQUEST.items() if k != "methodology"}
    response = alpha.post("/api/v1/requests", json=body)
    assert response.status_code == 422
    assert "methodology" in response.json()["errors"][0]["message"]


def test_a_reference_used_twice_is_refused(alpha, session):
    _create(alpha)
    response = alpha.post("/api/v1/requests", json=REQUEST)
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/reference"
    assert len(session.exec(select(ReviewRequest)).all()) == 1


def test_the_regions_coordinator_sees_it_at_once_marked_as_from_the_partnership(
    alpha, client, alice
):
    created = _create(alpha)
    client.headers.pop("Authorization")
    page = client.get("/sign-in").text
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page)
    assert token
    form = {"email": alice.email, "password": PASSWORD, "_csrf_token": token.group(1)}
    assert client.post("/sign-in", data=form, follow_redirects=False).status_code == 303
    listing = client.get("/requests")
    assert listing.status_code == 200
    assert "ALPHA-2027-001" in listing.text
    shown = client.get(f"/requests/{created['id']}")
    assert shown.status_code == 200
    assert "The partnership, through the API" in shown.text
