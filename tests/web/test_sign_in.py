"""Signing in: the happy path, wrong details, throttling, and where it sends you next."""

from __future__ import annotations

import pytest
from sqlmodel import select

from peermatch.models import WebSession
from peermatch.web.auth import SESSION_COOKIE


def test_it_shows_the_sign_in_page(client):
    response = client.get("/sign-in")
    assert response.status_code == 200
    assert "Sign in to PeerMatch" in response.text
    assert 'name="_csrf_token"' in response.text


def test_it_signs_in_and_redirects_to_the_home_page(client, alice, sign_in):
    response = sign_in(client, "alice@example.org")
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert client.get("/").status_code == 200


def test_it_accepts_the_email_in_any_case(client, alice, sign_in):
    assert sign_in(client, "  Alice@Example.ORG ").status_code == 303


@pytest.mark.real_password_cost
def test_it_rejects_a_wrong_password_without_saying_which_detail_was_wrong(
    client, alice, session, sign_in
):
    response = sign_in(client, "alice@example.org", "not the password")
    assert response.status_code == 400
    assert "Enter a correct email address and password" in response.text
    assert "There is a problem" in response.text
    assert 'value="alice@example.org"' in response.text  # what was typed is kept
    assert SESSION_COOKIE not in client.cookies
    assert session.exec(select(WebSession)).all() == []


@pytest.mark.real_password_cost
def test_it_rejects_an_unknown_email_with_the_same_message(client, alice, sign_in):
    response = sign_in(client, "nobody@example.org")
    assert response.status_code == 400
    assert "Enter a correct email address and password" in response.text


def test_it_asks_for_missing_details(client, sign_in):
    response = sign_in(client, "", "")
    assert response.status_code == 400
    assert "Enter your email address" in response.text
    assert "Enter your password" in response.text
    assert 'href="#email"' in response.text  # the error summary links to the field


def test_it_slows_repeated_failures_without_saying_whether_the_account_exists(
    client, alice, sign_in
):
    answers = {}
    for email in ("alice@example.org", "nobody@example.org"):
        client.cookies.clear()
        statuses = [sign_in(client, email, "wrong password").status_code for _ in range(4)]
        throttled = sign_in(client, email, "wrong password")
        answers[email] = (statuses, throttled.status_code, _error_text(throttled.text))
    assert answers["alice@example.org"] == answers["nobody@example.org"]
    statuses, status, message = answers["alice@example.org"]
    assert statuses == [400] * 4
    assert status == 429
    assert "Too many failed sign-in attempts. Wait" in message


def test_a_forged_forwarded_for_does_not_reset_the_limit_per_address(client, alice, csrf_token):
    token = csrf_token(client)
    statuses = [
        client.post(
            "/sign-in",
            data={"email": f"x{i}@example.org", "password": "guess", "_csrf_token": token},
            headers={"X-Forwarded-For": f"10.0.{i}.1", "X-Real-IP": f"10.1.{i}.1"},
        ).status_code
        for i in range(22)
    ]
    assert statuses[:21] == [400] * 21
    assert statuses[21] == 429


def _error_text(page: str) -> str:
    start = page.index("govuk-error-summary__list")
    return page[start : page.index("</ul>", start)]


def test_it_returns_to_the_page_asked_for_after_sign_in(client, alice, sign_in):
    response = sign_in(client, "alice@example.org", next="/partnerships?x=1")
    assert response.headers["location"] == "/partnerships?x=1"


def test_it_never_redirects_off_site_after_sign_in(client, alice, sign_in):
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:x"):
        client.cookies.clear()
        response = sign_in(client, "alice@example.org", next=target)
        assert response.headers["location"] == "/", target


def test_it_sends_a_signed_in_coordinator_on_from_the_sign_in_page(alice_client):
    response = alice_client.get("/sign-in", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_it_limits_sign_in_attempts_from_one_address(client, alice, csrf_token):
    token = csrf_token(client)
    statuses = [
        client.post(
            "/sign-in",
            data={"email": f"x{i}@example.org", "password": "guess", "_csrf_token": token},
        ).status_code
        for i in range(22)
    ]
    assert statuses[:21] == [400] * 21  # 20 free failures, then a 5 s pause
    assert statuses[21] == 429
