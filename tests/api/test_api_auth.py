"""API keys: bearer only, revocable, expiring; failures throttled and logged without the key;
each key rate-limited."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterator
from dataclasses import replace

import pytest
from click.testing import CliRunner
from litestar.testing import TestClient
from sqlmodel import Session, select

from peermatch import accounts
from peermatch.cli import main
from peermatch.models import ApiKey, SignInThrottle
from peermatch.web import create_app

PASSWORD = "correct horse battery staple"


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return response.json()


def test_a_call_without_a_key_is_a_401_problem(client):
    response = client.get("/api/v1/requests")
    problem = _problem(response, 401)
    assert "Bearer" in problem["detail"]
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer nonsense", "Bearer pm_abc_def", "pm_x_y"]
)
def test_a_malformed_or_unknown_key_is_a_401_problem(client, header):
    _problem(client.get("/api/v1/ledger", headers={"Authorization": header}), 401)


def test_a_coordinators_session_cookie_does_not_authenticate_the_api(client, alice):
    token = re.search(r'name="_csrf_token" value="([^"]+)"', client.get("/sign-in").text)
    assert token
    form = {"email": alice.email, "password": PASSWORD, "_csrf_token": token.group(1)}
    assert client.post("/sign-in", data=form, follow_redirects=False).status_code == 303
    assert client.get("/reviewers").status_code == 200  # signed in for pages
    _problem(client.get("/api/v1/requests"), 401)


def test_a_revoked_key_stops_working(client, session, alpha_key):
    headers = {"Authorization": f"Bearer {alpha_key}"}
    assert client.get("/api/v1/requests", headers=headers).status_code == 200
    accounts.revoke_api_key(session, alpha_key.split("_")[1], actor="test")
    session.commit()
    _problem(client.get("/api/v1/requests", headers=headers), 401)


def test_an_expired_key_stops_working(client, session, partnership_a):
    key, plaintext = accounts.create_api_key(
        session, partnership_id=partnership_a.id, name="short", actor="test", expires_in_days=1
    )
    session.commit()
    headers = {"Authorization": f"Bearer {plaintext}"}
    assert client.get("/api/v1/requests", headers=headers).status_code == 200
    key.expires_at = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(seconds=1)
    session.add(key)
    session.commit()
    _problem(client.get("/api/v1/requests", headers=headers), 401)


def test_the_cli_makes_a_key_that_expires(session, database_url, partnership_a, monkeypatch):
    monkeypatch.setenv("PEERMATCH_DATABASE_URL", database_url)
    result = CliRunner().invoke(
        main, ["apikeys", "create", "--partnership", "ALPHA", "--name", "x", "--expires-days", "30"]
    )
    assert result.exit_code == 0, result.output
    key = session.exec(select(ApiKey)).one()
    assert key.expires_at is not None
    assert dt.timedelta(days=29) < key.expires_at - key.created_at <= dt.timedelta(days=30)
    refused = CliRunner().invoke(
        main, ["apikeys", "create", "--partnership", "ALPHA", "--name", "x", "--expires-days", "0"]
    )
    assert refused.exit_code == 2


def test_a_key_is_used_as_it_was_made_and_its_use_noted(client, session, alpha_key):
    assert client.get(
        "/api/v1/requests", headers={"Authorization": f"Bearer {alpha_key}"}
    ).is_success
    session.expire_all()
    assert session.exec(select(ApiKey)).one().last_used_at is not None


@pytest.fixture
def strict_client(settings, engine) -> Iterator[TestClient]:
    """The app with three failed key checks a minute and three calls a minute per key.
    (Started in a fixture: starting the app configures logging, which caplog must follow.)"""
    app = create_app(replace(settings, api_auth_failures=3, api_rate_limit=3), engine)
    with TestClient(app) as c:
        yield c


def test_repeated_failures_from_one_address_are_throttled_and_logged_without_the_key(
    strict_client, alpha_key, caplog
):
    c = strict_client
    wrong = alpha_key[:-4] + "AAAA"
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            _problem(c.get("/api/v1/requests", headers={"Authorization": f"Bearer {wrong}"}), 401)
        # Now even the right key is refused from this address, for a while.
        response = c.get("/api/v1/requests", headers={"Authorization": f"Bearer {alpha_key}"})
        _problem(response, 429)
        assert int(response.headers["retry-after"]) > 0
    secret = alpha_key.split("_", 2)[2]
    assert "rejected (mismatch)" in caplog.text
    assert secret not in caplog.text and secret[:-4] not in caplog.text


def test_a_key_over_its_rate_limit_gets_429_with_retry_after(strict_client, alpha_key):
    c = strict_client
    c.headers["Authorization"] = f"Bearer {alpha_key}"
    assert [c.get("/api/v1/ledger").status_code for _ in range(3)] == [200, 200, 200]
    response = c.get("/api/v1/ledger")
    _problem(response, 429)
    assert 1 <= int(response.headers["retry-after"]) <= 60


def test_each_key_has_its_own_rate_limit(strict_client, alpha_key, gamma_key):
    c = strict_client
    for _ in range(3):
        assert c.get("/api/v1/ledger", headers={"Authorization": f"Bearer {alpha_key}"}).is_success
    assert (
        c.get("/api/v1/ledger", headers={"Authorization": f"Bearer {alpha_key}"}).status_code == 429
    )
    assert c.get("/api/v1/ledger", headers={"Authorization": f"Bearer {gamma_key}"}).is_success


def test_the_limits_come_from_the_environment():
    from peermatch.settings import SettingsError, load_settings

    loaded = load_settings({"PEERMATCH_API_RATE_LIMIT": "30", "PEERMATCH_API_AUTH_FAILURES": "5"})
    assert (loaded.api_rate_limit, loaded.api_auth_failures) == (30, 5)
    with pytest.raises(SettingsError, match="PEERMATCH_API_RATE_LIMIT"):
        load_settings({"PEERMATCH_API_RATE_LIMIT": "0"})


@pytest.mark.parametrize(
    ("trusted", "counted"), [((), "10.0.0.1"), (("10.0.0.0/8",), "203.0.113.9")]
)
async def test_failed_key_checks_count_against_the_client_the_proxy_settings_name(
    settings, engine, trusted, counted
):
    """The API's failure throttle believes X-Forwarded-For exactly when sign-in does: only from
    a trusted proxy (PEERMATCH_TRUSTED_PROXIES); a forged header from anyone else is ignored."""
    import ipaddress

    from litestar.connection import ASGIConnection

    from peermatch.api.auth import ApiGate
    from peermatch.api.problems import ApiProblem

    proxies = tuple(ipaddress.ip_network(n) for n in trusted)
    gate = ApiGate(engine, replace(settings, trusted_proxies=proxies))
    scope = {
        "type": "http",
        "client": ("10.0.0.1", 50000),
        "headers": [(b"x-forwarded-for", b"203.0.113.9"), (b"authorization", b"Bearer pm_x_y")],
        "path": "/api/v1/requests",
        "app": None,
    }
    with pytest.raises(ApiProblem):
        await gate.guard(ASGIConnection(scope), None)  # type: ignore[arg-type]
    with Session(engine) as session:
        rows = session.exec(select(SignInThrottle)).all()
        assert [(r.key, r.failures) for r in rows] == [(f"api:{counted}", 1)]
