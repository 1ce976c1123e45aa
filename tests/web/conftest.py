"""Web fixtures: the real app on the test database, and a client that can sign in."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy.engine import Engine

from peermatch.settings import Settings
from peermatch.web import create_app

PASSWORD = "correct horse battery staple"
_CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')


@pytest.fixture
def settings(database_url: str) -> Settings:
    return replace(Settings(), mode="test", database_url=database_url)


@pytest.fixture
def app(settings: Settings, engine: Engine) -> Litestar:
    return create_app(settings, engine)


@pytest.fixture
def client(app: Litestar) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://127.0.0.1:8000") as c:
        yield c


def _csrf_token(client: TestClient, path: str = "/sign-in") -> str:
    """The token a page's forms carry (and, as a side effect, the CSRF cookie)."""
    match = _CSRF.search(client.get(path).text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def _sign_in(client: TestClient, email: str, password: str = PASSWORD, **extra: str):
    token = _csrf_token(client)
    return client.post(
        "/sign-in",
        data={"email": email, "password": password, "_csrf_token": token, **extra},
        follow_redirects=False,
    )


def _post_form(client: TestClient, path: str, data: dict, *, page: str | None = None, **kwargs):
    """POST a form the way a browser would after showing ``page``: with its CSRF token."""
    token = _csrf_token(client, page or path)
    return client.post(path, data={**data, "_csrf_token": token}, follow_redirects=False, **kwargs)


@pytest.fixture
def csrf_token():
    return _csrf_token


@pytest.fixture
def sign_in():
    return _sign_in


@pytest.fixture
def post_form():
    return _post_form


@pytest.fixture
def alice_client(client: TestClient, alice) -> TestClient:
    response = _sign_in(client, alice.email)
    assert response.status_code == 303, response.text
    return client


@pytest.fixture
def bob_client(app: Litestar, bob) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://127.0.0.1:8000") as c:
        response = _sign_in(c, bob.email)
        assert response.status_code == 303, response.text
        yield c
