"""Signing in and out."""

from __future__ import annotations

from sqlmodel import select

from peermatch.models import WebSession
from peermatch.web.auth import SESSION_COOKIE


def test_it_shows_the_sign_in_page(client):
    response = client.get("/sign-in")
    assert response.status_code == 200
    assert "Sign in to PeerMatch" in response.text
    assert 'name="_csrf_token"' in response.text


def test_it_signs_in_and_redirects_to_the_reviewers_list(client, alice, sign_in):
    response = sign_in(client, "alice@example.org")
    assert response.status_code == 303
    assert response.headers["location"] == "/reviewers"
    assert client.get("/reviewers").status_code == 200
