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


# --- CSRF tokens are bound to the session (issue 18.4a) ----------------------------------------

NEW_REVIEWER = {
    "name": "Priya Shah",
    "email": "priya.shah@example.org",
    "agency": "police",
    "capacity": "1",
    "active": "yes",
}


def test_a_token_minted_signed_out_is_refused_once_signed_in(
    client, alice, sign_in, csrf_token, partnership_a, session
):
    from peermatch.models import Reviewer

    anonymous_token = csrf_token(client, "/sign-in")
    anonymous_cookie = client.cookies[CSRF_COOKIE]
    assert sign_in(client, alice.email).status_code == 303
    # The planted pair (as a sibling site could set it), sent with the real session.
    client.cookies.delete(CSRF_COOKIE)
    client.cookies.set(CSRF_COOKIE, anonymous_cookie)
    response = client.post(
        "/reviewers/new",
        data={
            **NEW_REVIEWER,
            "partnership_id": str(partnership_a.id),
            "_csrf_token": anonymous_token,
        },
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert session.exec(select(Reviewer)).all() == []
    # The page's own token, minted in this session, works.
    client.cookies.delete(CSRF_COOKIE)
    fresh = csrf_token(client, "/reviewers/new")
    assert fresh != anonymous_token
    response = client.post(
        "/reviewers/new",
        data={**NEW_REVIEWER, "partnership_id": str(partnership_a.id), "_csrf_token": fresh},
        follow_redirects=False,
    )
    assert response.status_code == 303


def test_a_token_from_one_session_is_refused_in_another(app, alice, sign_in, csrf_token):
    with TestClient(app, base_url="http://127.0.0.1:8000") as one:
        assert sign_in(one, alice.email).status_code == 303
        token = csrf_token(one, "/reviewers/new")
        cookie = one.cookies[CSRF_COOKIE]
    with TestClient(app, base_url="http://127.0.0.1:8000") as two:
        assert sign_in(two, alice.email).status_code == 303
        two.cookies.delete(CSRF_COOKIE)
        two.cookies.set(CSRF_COOKIE, cookie)
        response = two.post("/sign-out", data={"_csrf_token": token}, follow_redirects=False)
    assert response.status_code == 403


def test_a_token_from_before_sign_out_is_refused_after_it(client, alice, sign_in, csrf_token):
    assert sign_in(client, alice.email).status_code == 303
    token = csrf_token(client, "/reviewers/new")
    cookie = client.cookies[CSRF_COOKIE]
    assert client.post("/sign-out", data={"_csrf_token": token}).status_code == 200
    client.cookies.delete(CSRF_COOKIE)
    client.cookies.set(CSRF_COOKIE, cookie)
    response = client.post(
        "/sign-in",
        data={
            "email": alice.email,
            "password": "correct horse battery staple",
            "_csrf_token": token,
        },
        follow_redirects=False,
    )
    assert response.status_code == 403


# --- exactly one session cookie (issue 18.4b) --------------------------------------------------


@pytest.mark.parametrize("order", ["live first", "live last", "same twice"])
def test_two_session_cookies_are_signed_out(app, alice, sign_in, order):
    live = _token_of(app, sign_in, alice.email)
    other = {"live first": "planted", "live last": "planted", "same twice": live}[order]
    pair = [live, other] if order != "live last" else [other, live]
    with TestClient(app, base_url="http://127.0.0.1:8000") as browser:
        browser.cookies.clear()
        header = f"{SESSION_COOKIE}={pair[0]}; {SESSION_COOKIE}={pair[1]}"
        response = browser.get("/reviewers", headers={"Cookie": header}, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/sign-in")
        # Split over two Cookie headers, as HTTP/2 may send them: the same.
        response = browser.get(
            "/reviewers",
            headers=[
                ("Cookie", f"{SESSION_COOKIE}={pair[0]}"),
                ("Cookie", f"{SESSION_COOKIE}={pair[1]}"),
            ],
            follow_redirects=False,
        )
        assert response.status_code == 303
        # One of them alone is signed in.
        response = browser.get(
            "/reviewers", headers={"Cookie": f"{SESSION_COOKIE}={live}"}, follow_redirects=False
        )
        assert response.status_code == 200


# --- the base URL's scheme, whatever its case (issue 18.4c) --------------------------------------


@pytest.mark.parametrize("base_url", ["HTTPS://peermatch.example", "Https://peermatch.example"])
def test_an_https_base_url_in_any_case_means_secure_cookies_and_hsts(
    settings, engine, alice, base_url
):
    from dataclasses import replace

    from peermatch.settings import load_settings
    from peermatch.web import create_app

    assert load_settings({"PEERMATCH_BASE_URL": base_url}).secure_cookies
    app = create_app(replace(settings, base_url=base_url), engine)
    with TestClient(app, base_url="https://peermatch.example") as browser:
        page = browser.get("/sign-in")
        assert page.headers["strict-transport-security"].startswith("max-age=")
        set_cookie = page.headers["set-cookie"].lower()
        assert f"{CSRF_COOKIE}=" in set_cookie and "secure" in set_cookie
