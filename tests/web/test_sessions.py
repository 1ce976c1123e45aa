"""Server-side sessions: rotation at sign-in, sign-out, idle and absolute timeouts, cookies."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import replace

from litestar.testing import TestClient
from sqlmodel import select

from peermatch.models import WebSession, utcnow
from peermatch.web import create_app
from peermatch.web.auth import SESSION_COOKIE


def _token(client: TestClient) -> str:
    return client.cookies[SESSION_COOKIE]


def _stored(session) -> list[WebSession]:
    session.expire_all()
    return list(session.exec(select(WebSession)).all())


def _signed_in(client: TestClient, token: str) -> bool:
    """Whether ``token`` alone opens a coordinator page (the client's own cookies unused)."""
    response = client.get(
        "/reviewers", headers={"Cookie": f"{SESSION_COOKIE}={token}"}, follow_redirects=False
    )
    return response.status_code == 200


def test_it_stores_only_a_hash_of_the_session_token(alice_client, session):
    token = _token(alice_client)
    (stored,) = _stored(session)
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in stored.token_hash


def test_it_issues_a_new_session_id_at_sign_in_and_kills_the_old_one(
    alice_client, session, sign_in
):
    old = _token(alice_client)
    assert sign_in(alice_client, "alice@example.org").status_code == 303
    new = _token(alice_client)
    assert new != old
    assert len(_stored(session)) == 1
    assert not _signed_in(alice_client, old)
    assert _signed_in(alice_client, new)


def test_it_ignores_a_session_id_planted_before_sign_in(client, alice, sign_in):
    client.cookies.set(SESSION_COOKIE, "planted-by-an-attacker", domain="127.0.0.1")
    sign_in(client, "alice@example.org")
    assert _token(client) != "planted-by-an-attacker"
    assert not _signed_in(client, "planted-by-an-attacker")


def test_it_signs_out_and_deletes_the_session(alice_client, session, post_form):
    token = _token(alice_client)
    response = post_form(alice_client, "/sign-out", {}, page="/reviewers")
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in?signed-out"
    assert _stored(session) == []
    assert not _signed_in(alice_client, token)
    assert "You have signed out" in alice_client.get("/sign-in?signed-out").text


def test_it_ends_a_session_left_idle_too_long(settings, alice_client, session):
    (stored,) = _stored(session)
    stored.last_seen_at = utcnow() - dt.timedelta(minutes=settings.session_idle_minutes + 1)
    session.add(stored)
    session.commit()
    response = alice_client.get("/reviewers", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/sign-in")
    assert _stored(session) == []


def test_it_keeps_an_active_session_alive(alice_client, settings, session):
    (stored,) = _stored(session)
    stored.last_seen_at = utcnow() - dt.timedelta(minutes=settings.session_idle_minutes - 1)
    session.add(stored)
    session.commit()
    assert alice_client.get("/reviewers").status_code == 200
    (stored,) = _stored(session)
    assert utcnow() - stored.last_seen_at < dt.timedelta(minutes=1)


def test_it_ends_a_session_after_the_absolute_limit_however_active(alice_client, settings, session):
    (stored,) = _stored(session)
    stored.created_at = utcnow() - dt.timedelta(hours=settings.session_absolute_hours, minutes=1)
    session.add(stored)
    session.commit()
    response = alice_client.get("/reviewers", follow_redirects=False)
    assert response.status_code == 303
    assert _stored(session) == []


def test_it_sets_an_httponly_samesite_cookie(client, alice, sign_in):
    cookie = sign_in(client, "alice@example.org").headers["set-cookie"]
    assert f"{SESSION_COOKIE}=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "SameSite=Lax" in cookie
    assert "Secure" not in cookie


def test_it_marks_the_cookie_secure_behind_https(settings, engine, alice, sign_in):
    app = create_app(replace(settings, base_url="https://peermatch.example"), engine)
    with TestClient(app, base_url="https://peermatch.example") as client:
        response = sign_in(client, "alice@example.org")
        cookies = response.headers.get_list("set-cookie")
        session_cookie = next(c for c in cookies if c.startswith(f"{SESSION_COOKIE}="))
        assert "Secure" in session_cookie


def test_it_sends_a_visitor_without_a_session_to_sign_in(client):
    response = client.get("/reviewers?q=smith", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in?next=%2Freviewers%3Fq%3Dsmith"
    page = client.get(response.headers["location"])
    assert 'name="next" value="/reviewers?q=smith"' in page.text


def test_it_guards_every_coordinator_page(client):
    for path in (
        "/",
        "/reviewers",
        "/reviewers/new",
        "/reviewers/1",
        "/reviewers/1/edit",
        "/reviewers/import",
        "/reviewers/export.csv",
        "/partnerships",
    ):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/sign-in"), path
