"""The Organisations pages: list, add, rename; CSRF-protected, audited, region-isolated; and
the reviewer and request forms offering organisations (issue 15)."""

from __future__ import annotations

from sqlmodel import select

from peermatch import organisations
from peermatch.models import AuditEvent, Organisation, Partnership, ReviewRequest


def _second(session, region_a):
    p = Partnership(region_id=region_a.id, code="GAMMA", name="Gammaville Partnership")
    session.add(p)
    session.commit()
    return p


def test_a_coordinator_adds_and_renames_an_organisation(
    alice_client, post_form, session, region_a, partnership_a
):
    gamma = _second(session, region_a)
    page = alice_client.get("/organisations")
    assert page.status_code == 200 and "Add an organisation" in page.text
    response = post_form(
        alice_client,
        "/organisations/new",
        {
            "name": "Northshire Police",
            "agency": "police",
            "partnership_ids": [str(partnership_a.id), str(gamma.id)],
        },
    )
    assert response.status_code == 303, response.text
    org = session.exec(select(Organisation)).one()
    listed = alice_client.get(response.headers["location"]).text
    assert "Northshire Police saved" in listed
    assert "Alphaton Safeguarding Children Partnership, Gammaville Partnership" in listed
    response = post_form(
        alice_client,
        f"/organisations/{org.id}/edit",
        {"name": "Northshire Constabulary", "partnership_ids": [str(partnership_a.id)]},
    )
    assert response.status_code == 303, response.text
    session.expire_all()
    assert session.get(Organisation, org.id).name == "Northshire Constabulary"
    actions = session.exec(
        select(AuditEvent.action).where(AuditEvent.entity == "organisation")
    ).all()
    assert actions == ["organisation.create", "organisation.update"]


def test_mistakes_are_shown_on_the_form(alice_client, post_form, session, partnership_a):
    response = post_form(alice_client, "/organisations/new", {"name": "", "agency": "spies"})
    assert response.status_code == 400
    assert "There is a problem" in response.text
    assert "Enter the organisation&#39;s name" in response.text
    assert session.exec(select(Organisation)).first() is None


def test_a_post_without_its_csrf_token_is_refused(alice_client, session, partnership_a):
    response = alice_client.post(
        "/organisations/new",
        data={"name": "X Police", "agency": "police", "partnership_ids": [str(partnership_a.id)]},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert session.exec(select(Organisation)).first() is None


def test_another_regions_organisation_is_not_found(
    bob_client, post_form, session, region_a, partnership_a
):
    org = organisations.create_organisation(
        session,
        region_a.id,
        name="Northshire Police",
        agency="police",
        partnership_ids=[partnership_a.id],
        actor="test",
    )
    session.commit()
    assert "Northshire" not in bob_client.get("/organisations").text
    assert bob_client.get(f"/organisations/{org.id}/edit").status_code == 404
    response = post_form(
        bob_client,
        f"/organisations/{org.id}/edit",
        {"name": "Mine now", "partnership_ids": []},
        page="/organisations/new",
    )
    assert response.status_code == 404
    session.expire_all()
    assert session.get(Organisation, org.id).name == "Northshire Police"


def test_the_request_form_offers_organisations_and_says_what_the_rule_does(
    alice_client, post_form, session, region_a, partnership_a
):
    org = organisations.create_organisation(
        session,
        region_a.id,
        name="Northshire Police",
        agency="police",
        partnership_ids=[partnership_a.id],
        actor="test",
    )
    session.commit()
    form = alice_client.get("/requests/new").text
    assert "Northshire Police" in form
    assert (
        "No one employed by these organisations will review it, whatever their partnership." in form
    )
    assert "No one from the requesting partnership&#39;s agencies of these types either." in form
    response = post_form(
        alice_client,
        "/requests/new",
        {
            "partnership_id": str(partnership_a.id),
            "reference": "ALPHA-2027-9",
            "methodology": "peer-review",
            "organisations_involved": [str(org.id)],
            "peers": "2",
            "high_profile": "no",
            "window_start-day": "1",
            "window_start-month": "3",
            "window_start-year": "2027",
            "window_end-day": "19",
            "window_end-month": "3",
            "window_end-year": "2027",
        },
    )
    assert response.status_code == 303, response.text
    stored = session.exec(select(ReviewRequest)).one()
    assert stored.organisations_involved == [org.id] and stored.agencies_involved == ["police"]
    shown = alice_client.get(f"/requests/{stored.id}").text
    assert "Organisations involved" in shown and "Northshire Police" in shown
