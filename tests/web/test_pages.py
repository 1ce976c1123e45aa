"""The frame every page shares: public health check, styling without GOV.UK branding, error
pages in the same style, the API reference."""

from __future__ import annotations

import logging

from peermatch import registry


def test_it_answers_the_health_check_without_sign_in(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_home_is_the_coordinators_dashboard(alice_client):
    response = alice_client.get("/", follow_redirects=False)
    assert response.status_code == 200
    assert "Requests by status" in response.text


def test_it_uses_govuk_frontend_without_govuk_branding(client):
    page = client.get("/sign-in").text
    assert "/static/vendor/govuk/govuk-frontend.min.css" in page
    assert "/static/peermatch.css" in page
    assert "govuk-frontend-supported" in page
    assert 'type="module" src="/static/peermatch.js"' in page
    assert 'href="#main-content"' in page  # skip link
    assert "PeerMatch" in page
    assert "govuk-logo" not in page and "GOV.UK" not in page
    assert "Crown copyright" not in page


def test_it_serves_its_own_styles_with_a_system_font(client):
    css = client.get("/static/peermatch.css")
    assert css.status_code == 200
    assert "system-ui" in css.text
    assert "initAll" in client.get("/static/peermatch.js").text


def test_it_shows_a_styled_not_found_page(alice_client):
    response = alice_client.get("/no-such-page")
    assert response.status_code == 404
    assert "Page not found" in response.text
    assert "govuk-frontend.min.css" in response.text


def test_it_shows_a_styled_error_page_and_logs_no_detail(alice_client, monkeypatch, caplog):
    def broken(*_args, **_kwargs):
        raise RuntimeError("alice@example.org leaked")

    monkeypatch.setattr(registry, "list_partnerships", broken)
    with caplog.at_level(logging.ERROR):
        response = alice_client.get("/partnerships")
    assert response.status_code == 500
    assert "Sorry, there is a problem with the service" in response.text
    assert "leaked" not in response.text
    assert "leaked" not in caplog.text
    assert "RuntimeError" in caplog.text


def test_it_publishes_the_openapi_schema(client):
    assert client.get("/schema/openapi.json").status_code == 200


def test_it_keeps_coordinator_pages_out_of_caches_and_frames(alice_client):
    response = alice_client.get("/reviewers")
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
