"""Every form carries a CSRF token; a POST without a valid one is refused and changes nothing."""

from __future__ import annotations

from sqlmodel import select

from peermatch.models import Reviewer, WebSession

NEW_REVIEWER = {
    "name": "Priya Shah",
    "email": "priya.shah@example.org",
    "agency": "police",
    "capacity": "1",
    "active": "yes",
}


def test_it_rejects_a_post_without_csrf_token(alice_client, partnership_a, session):
    response = alice_client.post(
        "/reviewers/new",
        data={**NEW_REVIEWER, "partnership_id": str(partnership_a.id)},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert "This form has expired" in response.text
    assert session.exec(select(Reviewer)).all() == []


def test_it_rejects_a_post_with_a_forged_csrf_token(alice_client, partnership_a, session):
    response = alice_client.post(
        "/reviewers/new",
        data={
            **NEW_REVIEWER,
            "partnership_id": str(partnership_a.id),
            "_csrf_token": "0" * 128,
        },
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert session.exec(select(Reviewer)).all() == []


def test_it_rejects_a_sign_in_without_csrf_token(client, alice, session):
    response = client.post(
        "/sign-in",
        data={"email": "alice@example.org", "password": "correct horse battery staple"},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert session.exec(select(WebSession)).all() == []


def test_it_rejects_a_sign_out_without_csrf_token(alice_client, session):
    response = alice_client.post("/sign-out", follow_redirects=False)
    assert response.status_code == 403
    assert len(session.exec(select(WebSession)).all()) == 1


def test_it_accepts_the_same_post_with_the_token_from_the_form(
    alice_client, partnership_a, session, post_form
):
    response = post_form(
        alice_client, "/reviewers/new", {**NEW_REVIEWER, "partnership_id": str(partnership_a.id)}
    )
    assert response.status_code == 303
    assert len(session.exec(select(Reviewer)).all()) == 1
