"""GET /api/v1/organisations and a request's organisations_involved (issue 15)."""

from __future__ import annotations

from api_payloads import REQUEST
from sqlmodel import select

from peermatch import organisations
from peermatch.models import ReviewRequest


def _org(session, region_id, name, agency, partnerships):
    org = organisations.create_organisation(
        session,
        region_id,
        name=name,
        agency=agency,
        partnership_ids=[p.id for p in partnerships],
        actor="test",
    )
    session.commit()
    return org


def test_a_partnership_lists_the_organisations_serving_it_and_names_them_on_a_request(
    alpha, session, region_a, partnership_a, partnership_a2
):
    force = _org(
        session, region_a.id, "Northshire Police", "police", [partnership_a, partnership_a2]
    )
    _org(session, region_a.id, "Gammaville ICB", "health", [partnership_a2])
    listed = alpha.get("/api/v1/organisations")
    assert listed.status_code == 200, listed.text
    assert listed.json() == {
        "items": [{"id": force.id, "name": "Northshire Police", "agency": "police"}]
    }
    response = alpha.post(
        "/api/v1/requests",
        json={**REQUEST, "agencies_involved": [], "organisations_involved": [force.id]},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["organisations_involved"] == [force.id]
    assert body["agencies_involved"] == ["police"]  # the force's type, added
    stored = session.exec(select(ReviewRequest)).one()
    assert stored.organisations_involved == [force.id]


def test_an_organisation_not_serving_the_partnership_is_refused(
    alpha, session, region_a, partnership_a2
):
    icb = _org(session, region_a.id, "Gammaville ICB", "health", [partnership_a2])
    for ids in ([icb.id], [999_999]):
        response = alpha.post("/api/v1/requests", json={**REQUEST, "organisations_involved": ids})
        assert response.status_code == 422, response.text
        assert "organisations_involved" in response.text
    assert session.exec(select(ReviewRequest)).first() is None


def test_organisations_involved_is_optional(alpha):
    response = alpha.post("/api/v1/requests", json=REQUEST)
    assert response.status_code == 201 and response.json()["organisations_involved"] == []


def test_changing_a_reviewers_agency_moves_them_to_their_partnerships_own_organisation(
    alpha, session, region_a
):
    from api_payloads import REVIEWER

    from peermatch import registry

    created = alpha.post("/api/v1/reviewers", json={**REVIEWER, "agency": "police"})
    assert created.status_code == 201, created.text
    rid = created.json()["id"]
    response = alpha.patch(f"/api/v1/reviewers/{rid}", json={"agency": "health"})
    assert response.status_code == 200, response.text
    session.expire_all()
    view = registry.get_reviewer(session, region_a.id, rid)
    org = organisations.get_organisation(session, region_a.id, view.organisation_id)
    assert org.agency == "health" and view.organisation_name.startswith("Alphaton")
