"""A partnership never reads or changes another's data: 404 exactly as for a missing id, and
the attempt is in the audit log."""

from __future__ import annotations

import pytest
from api_payloads import REQUEST
from sqlmodel import select

from peermatch.models import AuditEvent, RequestStatus, Reviewer, ReviewRequest

MISSING = 987654


def _same_as_missing(client, method: str, path: str, missing_path: str, **kwargs):
    foreign = client.request(method, path, **kwargs)
    missing = client.request(method, missing_path, **kwargs)
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()
    assert foreign.headers["content-type"] == missing.headers["content-type"]
    return foreign


def _audited(session, entity: str, entity_id: int, method: str) -> AuditEvent:
    session.expire_all()
    event = session.exec(
        select(AuditEvent).where(AuditEvent.action == "api.foreign_resource")
    ).one()
    assert (event.entity, event.entity_id, event.detail["method"]) == (
        entity,
        str(entity_id),
        method,
    )
    assert event.actor.startswith("apikey:")
    return event


def test_reading_a_neighbours_request_is_a_404_like_a_missing_one_and_audited(
    alpha, session, gamma_request, partnership_a
):
    _same_as_missing(
        alpha, "GET", f"/api/v1/requests/{gamma_request}", f"/api/v1/requests/{MISSING}"
    )
    event = _audited(session, "reviewrequest", gamma_request, "GET")
    assert event.detail["partnership_id"] == partnership_a.id


def test_cancelling_a_neighbours_request_changes_nothing_and_is_audited(
    alpha, session, gamma_request
):
    _same_as_missing(
        alpha,
        "POST",
        f"/api/v1/requests/{gamma_request}/cancel",
        f"/api/v1/requests/{MISSING}/cancel",
    )
    _audited(session, "reviewrequest", gamma_request, "POST")
    assert session.get(ReviewRequest, gamma_request).status == RequestStatus.draft


def test_a_neighbours_reviewer_cannot_be_read_or_changed(
    alpha, session, add_reviewer, partnership_a2
):
    theirs = add_reviewer(partnership_a2, "Sam Okafor")
    _same_as_missing(
        alpha,
        "PATCH",
        f"/api/v1/reviewers/{theirs.id}",
        f"/api/v1/reviewers/{MISSING}",
        json={"active": False},
    )
    _audited(session, "reviewer", theirs.id, "PATCH")
    session.expire_all()
    assert session.get(Reviewer, theirs.id).active is True
    response = alpha.get(f"/api/v1/reviewers/{theirs.id}")
    assert response.status_code == 404


def test_another_regions_request_is_just_as_unreachable(
    alpha, session, make_key, partnership_b, client
):
    beta = {"Authorization": f"Bearer {make_key(partnership_b)}"}
    created = client.post("/api/v1/requests", json=REQUEST, headers=beta).json()
    response = alpha.get(f"/api/v1/requests/{created['id']}")
    assert response.status_code == 404
    event = _audited(session, "reviewrequest", created["id"], "GET")
    assert event.region_id == partnership_b.region_id  # in the owner's log, where it matters


@pytest.mark.parametrize("path", ["/api/v1/requests", "/api/v1/reviewers"])
def test_lists_hold_only_the_partnerships_own(
    alpha, client, gamma_key, add_reviewer, partnership_a2, path
):
    client.post("/api/v1/requests", json=REQUEST, headers={"Authorization": f"Bearer {gamma_key}"})
    add_reviewer(partnership_a2, "Sam Okafor")
    assert alpha.get(path).json() == {"items": [], "next": None}
