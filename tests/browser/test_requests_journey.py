"""A coordinator opens a high-profile request in real headless Chromium, with the GOV.UK
day/month/year date fields, submits it and finds it on the home page; every page on the way
passes an automated WCAG 2.2 AA check."""

from __future__ import annotations

import pytest
from axe import assert_accessible

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple"


def _sign_in(page, live_url: str) -> None:
    page.goto(f"{live_url}/")
    assert "/sign-in" in page.url
    page.get_by_label("Email address").fill("alice@example.org")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_url}/")


def _date(page, legend: str, day: str, month: str, year: str) -> None:
    group = page.get_by_role("group", name=legend)
    group.get_by_label("Day").fill(day)
    group.get_by_label("Month").fill(month)
    group.get_by_label("Year").fill(year)


def test_a_coordinator_opens_a_high_profile_request_and_submits_it(
    browser, live_url, alice, partnership_a, artifacts
):
    context = browser.new_context(bypass_csp=True, locale="en-US")  # dates still read the UK way
    page = context.new_page()
    _sign_in(page, live_url)
    assert page.get_by_text("Nothing needs you right now").is_visible()
    assert_accessible(page)

    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Requests").click()
    page.get_by_text("no review requests in your region yet").wait_for()
    assert_accessible(page)

    page.get_by_role("button", name="Open a request").click()
    assert_accessible(page)
    page.get_by_role("button", name="Save as draft").click()
    page.get_by_role("alert").get_by_text("There is a problem").wait_for()
    assert page.get_by_role("link", name="Enter the review window start").is_visible()
    assert_accessible(page)

    page.get_by_label("Partnership asking for peers").select_option(
        label="Alphaton Safeguarding Children Partnership"
    )
    page.get_by_label("Case reference").fill("ALPHA-2027-041")
    page.get_by_role("radio", name="Peer review").check()
    page.get_by_role("group", name="Is this a high-profile or political case?").get_by_label(
        "Yes"
    ).check()
    page.get_by_label("Police").check()
    page.get_by_label("Lead reviewer").check()
    page.get_by_label("Peers needed").fill("3")
    _date(page, "Review window start", "4", "1", "2027")
    _date(page, "Review window end", "29", "1", "2027")
    _date(page, "Notification date (optional)", "18", "12", "2026")
    page.get_by_role("button", name="Save as draft").click()

    page.get_by_text("Request saved as a draft.").wait_for()
    assert page.get_by_text("High profile", exact=True).first.is_visible()
    assert page.get_by_text("13 January 2027").first.is_visible()
    assert page.get_by_text("28 December (Boxing Day, substitute day)").is_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Submit for matching").click()
    page.get_by_text("Request submitted for matching.").wait_for()
    assert_accessible(page)

    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Home").click()
    deadlines = page.locator("table", has=page.get_by_text("ALPHA-2027-041"))
    assert "13 January 2027" in deadlines.inner_text()
    assert page.get_by_role("link", name="1 submitted request to triage").is_visible()
    assert_accessible(page)
    page.screenshot(path=str(artifacts / "requests-journey-home.png"), full_page=True)
    context.close()


def test_an_illegal_move_shows_the_reason_without_javascript(
    browser, live_url, alice, partnership_a
):
    context = browser.new_context(java_script_enabled=False, locale="en-GB")
    page = context.new_page()
    _sign_in(page, live_url)
    page.goto(f"{live_url}/requests/new")
    page.get_by_label("Partnership asking for peers").select_option(
        label="Alphaton Safeguarding Children Partnership"
    )
    page.get_by_label("Case reference").fill("ALPHA-2027-042")
    page.get_by_role("radio", name="Root cause analysis").check()
    _date(page, "Review window start", "1", "Feb", "2027")
    _date(page, "Review window end", "26", "Feb", "2027")
    page.get_by_role("button", name="Save as draft").click()
    page.get_by_text("Request saved as a draft.").wait_for()
    # A second tab shows the draft, with its submit button, while the first cancels it.
    other = context.new_page()
    other.goto(page.url.split("?")[0])
    page.get_by_role("button", name="Cancel request").click()
    page.get_by_role("button", name="Yes, cancel the request").click()
    page.get_by_text("Request cancelled.").wait_for()
    other.get_by_role("button", name="Submit for matching").click()
    other.get_by_text("There is a problem").wait_for()
    assert other.get_by_text("cannot be submitted: it is cancelled").first.is_visible()
    context.close()
