"""A coordinator's journey in real headless Chromium: sign in, add a reviewer who is away for two
weeks, then find them by availability, with JavaScript on and off."""

from __future__ import annotations

import pytest
from axe import assert_accessible

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple"


def _sign_in(page, live_url: str) -> None:
    page.goto(f"{live_url}/reviewers")
    assert "/sign-in?next=" in page.url
    page.get_by_label("Email address").fill("alice@example.org")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_url}/reviewers")


def _add_reviewer_away_in_march(page) -> None:
    page.get_by_role("button", name="Add a reviewer").click()
    page.get_by_label("Full name").fill("Zara Okoye")
    page.get_by_label("Work email address").fill("zara.okoye@example.org")
    page.get_by_label("Partnership", exact=True).select_option(
        label="Alphaton Safeguarding Children Partnership"
    )
    page.get_by_label("Agency", exact=True).select_option(label="Police")
    page.get_by_label("Root cause analysis").check()
    page.get_by_label("Capacity", exact=True).fill("2")
    page.locator("#unavailable-0-from").fill("2027-03-01")
    page.locator("#unavailable-0-to").fill("2027-03-14")
    page.get_by_role("button", name="Add reviewer").click()
    page.get_by_text("Reviewer added.").wait_for()
    assert page.get_by_text("1 March 2027 to 14 March 2027").is_visible()


def _filter_available_on(page, live_url: str, day: str) -> str:
    page.goto(f"{live_url}/reviewers")
    page.get_by_label("Available on").fill(day)
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(f"**available_on={day}**")
    results = page.locator("#reviewer-results")
    results.get_by_role("status").get_by_text("your filters").wait_for()
    return results.inner_text()


def test_a_coordinator_adds_a_reviewer_and_finds_them_by_availability(
    browser, live_url, alice, partnership_a, artifacts
):
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="en-GB")
    _sign_in(page, live_url)
    _add_reviewer_away_in_march(page)

    assert "Zara Okoye" in _filter_available_on(page, live_url, "2027-02-28")
    away = _filter_available_on(page, live_url, "2027-03-07")
    assert "Zara Okoye" not in away
    assert "No reviewers match your filters" in away
    assert "Zara Okoye" in _filter_available_on(page, live_url, "2027-03-15")

    page.screenshot(path=str(artifacts / "reviewer-journey.png"), full_page=True)


def test_the_core_flow_works_without_javascript(browser, live_url, alice, partnership_a, artifacts):
    context = browser.new_context(java_script_enabled=False, locale="en-GB")
    page = context.new_page()
    _sign_in(page, live_url)
    _add_reviewer_away_in_march(page)
    assert "Zara Okoye" not in _filter_available_on(page, live_url, "2027-03-07")
    assert "Zara Okoye" in _filter_available_on(page, live_url, "2027-04-01")
    page.screenshot(path=str(artifacts / "reviewer-journey-no-js.png"), full_page=True)
    context.close()


def test_the_registry_pages_pass_an_automated_wcag_check(
    browser, live_url, alice, partnership_a, add_reviewer
):
    add_reviewer(partnership_a, "Priya Shah")
    context = browser.new_context(bypass_csp=True, locale="en-GB")
    page = context.new_page()
    _sign_in(page, live_url)
    for path in ["/reviewers", "/reviewers/new", "/reviewers/import", "/partnerships"]:
        page.goto(f"{live_url}{path}")
        assert_accessible(page)
    page.goto(f"{live_url}/reviewers")
    page.get_by_role("link", name="Priya Shah").click()
    assert_accessible(page)
    context.close()
