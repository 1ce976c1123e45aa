"""GET/POST /api/v1/reviewers, GET/PATCH /api/v1/reviewers/{id}."""

from __future__ import annotations

import datetime as dt

import pytest
from api_payloads import REVIEWER
from sqlmodel import select

from peermatch.models import AuditEvent, Reviewer, Unavailability


def _create(client, **changes):
    response = client.post("/api/v1/reviewers", json={**REVIEWER, **changes})
    assert response.status_code == 201, response.text
    return response.json()


def test_it_offers_a_reviewer_to_its_own_partnership(alpha, session, partnership_a):
    body = _create(alpha)
    assert body["name"] == "Priya Shah"
    assert body["skills"] == ["peer-review", "rca"]
    assert body["unavailable"] == [{"starts_on": "2027-05-01", "ends_on": "2027-05-14"}]
    stored = session.get(Reviewer, body["id"])
    assert stored.partnership_id == partnership_a.id
    assert stored.capacity == 2
    gap = session.exec(select(Unavailability)).one()
    assert (gap.starts_on, gap.ends_on) == (dt.date(2027, 5, 1), dt.date(2027, 5, 14))
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "reviewer.create")).one()
    assert event.actor.startswith("apikey:")


def test_it_lists_only_its_own_reviewers_a_page_at_a_time(
    alpha, add_reviewer, partnership_a, partnership_a2
):
    for n in range(3):
        add_reviewer(partnership_a, f"Alpha Person {n}")
    add_reviewer(partnership_a2, "Gamma Person")
    first = alpha.get("/api/v1/reviewers?limit=2").json()
    assert [r["name"] for r in first["items"]] == ["Alpha Person 0", "Alpha Person 1"]
    second = alpha.get(first["next"]).json()
    assert [r["name"] for r in second["items"]] == ["Alpha Person 2"]
    assert second["next"] is None


def test_it_filters_the_list_by_active(alpha, add_reviewer, partnership_a):
    add_reviewer(partnership_a, "Still Here")
    add_reviewer(partnership_a, "Gone Away", active=False)
    names = [r["name"] for r in alpha.get("/api/v1/reviewers?active=false").json()["items"]]
    assert names == ["Gone Away"]


def test_it_reads_one_reviewer(alpha, add_reviewer, partnership_a):
    reviewer = add_reviewer(partnership_a, "Sam Okafor", skills=["lead-reviewer"])
    response = alpha.get(f"/api/v1/reviewers/{reviewer.id}")
    assert response.status_code == 200
    assert response.json()["skills"] == ["lead-reviewer"]
    assert response.json()["email"] == "sam.okafor@example.org"


def test_a_patch_changes_only_the_fields_sent(alpha, session, add_reviewer, partnership_a):
    reviewer = add_reviewer(partnership_a, "Sam Okafor", job_role="Inspector", capacity=3)
    response = alpha.patch(f"/api/v1/reviewers/{reviewer.id}", json={"skills": ["rca"]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["skills"] == ["rca"]
    assert (body["job_role"], body["capacity"], body["name"]) == ("Inspector", 3, "Sam Okafor")


def test_a_patch_with_active_false_deactivates(alpha, session, add_reviewer, partnership_a):
    reviewer = add_reviewer(partnership_a, "Sam Okafor")
    response = alpha.patch(f"/api/v1/reviewers/{reviewer.id}", json={"active": False})
    assert response.status_code == 200
    session.expire_all()
    assert session.get(Reviewer, reviewer.id).active is False


@pytest.mark.parametrize(
    ("changes", "pointer"),
    [
        ({"skills": ["rca", "juggling"]}, "/skills/1"),
        ({"agency": "fire"}, "/agency"),
        ({"capacity": 11}, "/capacity"),
        ({"capacity": -1}, "/capacity"),
        ({"capacity": 1.5}, "/capacity"),
        ({"name": "x" * 121}, "/name"),
        ({"name": "=HYPERLINK(1)"}, "/name"),
        ({"email": "not-an-address"}, "/email"),
        ({"accredited_on": "2999-01-01"}, "/accredited_on"),
        ({"unavailable": [{"starts_on": "2027-05-02", "ends_on": "2027-05-01"}]}, "/unavailable"),
        ({"unavailable": [{"starts_on": "2027-05-02"}]}, "/unavailable/0"),
        ({"partnership_id": 1}, "/partnership_id"),
        ({"name": "Priya\u0000Shah"}, "/name"),
        ({"job_role": "Nurse\u0007"}, "/job_role"),
        ({"email": "priya\u0000@example.org"}, "/email"),
    ],
)
def test_it_refuses_a_bad_reviewer_and_writes_nothing(alpha, session, changes, pointer):
    response = alpha.post("/api/v1/reviewers", json={**REVIEWER, **changes})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert pointer in [e["pointer"] for e in response.json()["errors"]]
    assert session.exec(select(Reviewer)).all() == []


def test_a_patch_with_a_bad_field_changes_nothing(alpha, session, add_reviewer, partnership_a):
    reviewer = add_reviewer(partnership_a, "Sam Okafor")
    response = alpha.patch(
        f"/api/v1/reviewers/{reviewer.id}", json={"active": False, "capacity": "many"}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/capacity"
    session.expire_all()
    assert session.get(Reviewer, reviewer.id).active is True


def test_an_email_another_reviewer_has_is_refused(alpha, add_reviewer, partnership_a2):
    add_reviewer(partnership_a2, "Priya Shah")
    response = alpha.post("/api/v1/reviewers", json=REVIEWER)
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/email"
