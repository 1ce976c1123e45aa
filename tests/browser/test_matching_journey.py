"""A coordinator's matching journey in real headless Chromium: a high-profile request, Run
matching, no internal peer proposed, why a seat is empty, exclude a reviewer, re-run, approve;
every page checked with axe (WCAG 2.2 AA)."""

from __future__ import annotations

import pytest
from axe import assert_accessible
from runs_world import build_world, request

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple"
ALPHA_PEOPLE = ("Ava Alpha", "Ali Alpha", "Aki Alpha")


@pytest.fixture
def world(session, region_a, partnership_a, alice):
    world = build_world(session, region_a, partnership_a)
    # Six seats, and outside Alpha only four agencies: two seats must stay empty.
    request(session, world, "ALPHA", "AL-2027-777", high_profile=True, peers=6, skills=["rca"])
    request(session, world, "BRAVO", "BR-2027-101", peers=2)
    return world


def _sign_in(page, live_url: str) -> None:
    page.goto(f"{live_url}/runs")
    page.get_by_label("Email address").fill("alice@example.org")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_url}/runs")


def _wait_for_proposal(page) -> None:
    # The progress panel polls every 2 s and reloads the page when the run ends.
    page.get_by_role("heading", name="Proposed teams").wait_for(timeout=90_000)


def _team_names(section) -> list[str]:
    table = section.locator("table")
    if table.count() == 0:
        return []
    return [n.strip() for n in table.locator("tbody tr td:first-child a").all_inner_texts()]


def test_a_coordinator_runs_matching_adjusts_and_approves(browser, live_url, world, artifacts):
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="en-GB", bypass_csp=True
    )
    page = context.new_page()
    _sign_in(page, live_url)
    page.get_by_role("link", name="Matching").click()
    assert page.get_by_text("2 requests have seats to fill").is_visible()
    assert_accessible(page)

    page.get_by_role("button", name="Run matching").click()
    page.wait_for_url("**/runs/*")
    assert_accessible(page)  # the run page, under way or finished
    _wait_for_proposal(page)
    assert_accessible(page)

    section = page.locator("section", has=page.get_by_role("heading", name="AL-2027-777"))
    team = _team_names(section)
    assert team, "the high-profile request got nobody"
    assert not set(team) & set(ALPHA_PEOPLE)  # no internal peer on a high-profile review
    why = section.locator(".pm-empty-seats").inner_text()
    assert "seats are empty" in why
    assert "from Alpha" in why and "high-profile review" in why
    page.screenshot(path=str(artifacts / "proposal-first.png"), full_page=True)

    dropped = team[0]
    section.get_by_role("button", name=f"Exclude {dropped} on AL-2027-777").click()
    page.get_by_text("Reviewer excluded from the request").wait_for()
    page.get_by_role("button", name="Run matching again").click()
    _wait_for_proposal(page)
    section = page.locator("section", has=page.get_by_role("heading", name="AL-2027-777"))
    assert dropped not in _team_names(section)
    assert dropped in section.get_by_text("Excluded from this request").locator("..").inner_text()
    changes = page.locator("#changes")  # what changed since the first run: that seat alone
    assert changes.get_by_role("heading", name="What changed since run").is_visible()
    assert f"A coordinator excluded {dropped} from this request" in changes.inner_text()
    assert_accessible(page)
    changes.screenshot(path=str(artifacts / "proposal-changes.png"))

    page.get_by_role("button", name="Approve this proposal").click()
    page.get_by_text("Proposal approved").wait_for()
    assert_accessible(page)
    page.screenshot(path=str(artifacts / "proposal-approved.png"), full_page=True)
    context.close()
