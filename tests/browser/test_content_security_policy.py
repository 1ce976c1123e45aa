"""The strict Content-Security-Policy in real Chromium: the pages and the API reference work
under it (no violation reported), and a script planted in a page does not run."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.browser


def _watch_violations(page: Any) -> list[str]:
    violations: list[str] = []
    page.on(
        "console",
        lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    return violations


def test_the_sign_in_page_runs_its_scripts_under_the_policy(browser, live_url):
    page = browser.new_page()
    violations = _watch_violations(page)
    page.goto(f"{live_url}/sign-in")
    # The GOV.UK template's inline script carries the nonce, so it ran:
    assert "govuk-frontend-supported" in (page.locator("body").get_attribute("class") or "")
    assert violations == []


def test_the_api_reference_renders_from_local_assets_under_the_policy(browser, live_url):
    page = browser.new_page()
    violations = _watch_violations(page)
    other_origins: list[str] = []
    page.on(
        "request",
        lambda req: other_origins.append(req.url) if not req.url.startswith(live_url) else None,
    )
    page.goto(f"{live_url}/schema")
    page.locator(".swagger-ui .info .title").wait_for()
    assert "PeerMatch partnership API" in page.locator(".swagger-ui .info .title").inner_text()
    assert violations == []
    assert [u for u in other_origins if not u.startswith("data:")] == []


def test_an_injected_inline_script_is_refused(browser, live_url):
    page = browser.new_page()
    violations = _watch_violations(page)
    page.goto(f"{live_url}/sign-in")
    # As if an attacker had got markup into the page: the policy stops it running.
    page.evaluate(
        """() => { const s = document.createElement('script');
                   s.textContent = 'window.pwned = true'; document.body.appendChild(s); }"""
    )
    assert page.evaluate("() => window.pwned === true") is False
    assert any("script-src" in v for v in violations)
