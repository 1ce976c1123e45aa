"""Sign-out and sign-in against planted cookies, tried as an attacker would."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient
from sqlmodel import select

from peermatch.models import WebSession
from peermatch.web.auth import CSRF_COOKIE, SESSION_COOKIE


def _live_tokens(session) -> set[str]:
    session.expire_all()
    return {s.token_hash for s in session.exec(select(WebSession)).all()}


def _token_of(app, sign_in, email: str) -> str:
    with TestClient(app, base_url="http://127.0.0.1:8000") as other:
        assert sign_in(other, email).status_code == 303
        return other.cookies[SESSION_COOKIE]


def test_sign_out_ends_every_session_cookie_the_request_carries(
    app, alice, session, sign_in, csrf_token
):
    first = _token_of(app, sign_in, alice.email)
    second = _token_of(app, sign_in, alice.email)
    assert len(_live_tokens(session)) == 2
    with TestClient(app, base_url="http://127.0.0.1:8000") as browser:
        token = csrf_token(browser, "/sign-in")
        csrf = browser.cookies[CSRF_COOKIE]
        browser.cookies.clear()
        # A duplicate cookie (planted for a narrower path, say) comes first in the header.
        response = browser.post(
            "/sign-out",
            data={"_csrf_token": token},
            headers={
                "Cookie": f"{SESSION_COOKIE}={first}; {SESSION_COOKIE}={second}; "
                f"{CSRF_COOKIE}={csrf}"
            },
            follow_redirects=False,
        )
    assert response.status_code == 303
    assert _live_tokens(session) == set()


def test_sign_in_starts_a_fresh_csrf_token(client, alice, sign_in, csrf_token):
    before = csrf_token(client, "/sign-in")
    response = sign_in(client, alice.email)
    assert response.status_code == 303
    expired = [
        h for h in response.headers.get_list("set-cookie") if h.startswith(f"{CSRF_COOKIE}=")
    ]
    assert expired and "max-age=0" in expired[0].lower()
    after = csrf_token(client, "/reviewers/new")
    assert after != before


@pytest.mark.parametrize(
    "target",
    [
        "/\t/evil.example",
        "/\n/evil.example",
        "/\r\n/evil.example",
        "/\\evil.example",
        "/%0a/x\x00",
        " //evil.example",
        "https:/\\evil.example",
        "/\x0b/evil.example",
    ],
)
def test_sign_in_never_sends_a_browser_off_site(client, alice, sign_in, target):
    response = sign_in(client, alice.email, next=target)
    assert response.status_code == 303
    assert response.headers["location"] == "/"
