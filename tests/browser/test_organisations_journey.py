"""Independence by employer, in real headless Chromium (issue 15): a coordinator adds Northshire
Police (serving three partnerships), puts two officers of different partnerships in it, opens a
case with Northshire Police involved and runs matching: no Northshire Police officer is proposed,
from any partnership, while a police officer of another force can be. Every new page is checked
with axe (WCAG 2.2 AA)."""

from __future__ import annotations

import pytest
from axe import assert_accessible
from runs_world import WINDOW, add, build_world

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple"
REFERENCE = "AL-2027-515"
NORTHSHIRE_OFFICERS = ("Bea Bravo", "Kim Kestrel")


@pytest.fixture
def world(session, region_a, partnership_a, alice):
    world = build_world(session, region_a, partnership_a)
    # A second CHARLIE officer, to be moved into Northshire Police with Bea (BRAVO); Cal Charlie
    # stays in CHARLIE's own police organisation, not involved in the case.
    add(session, world, "Kim Kestrel", "CHARLIE", "police", ["peer-review"])
    session.commit()
    return world


def _sign_in(page, live_url: str) -> None:
    page.goto(f"{live_url}/organisations")
    page.get_by_label("Email address").fill("alice@example.org")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_url}/organisations")


def _date(page, legend: str, day: int, month: int, year: int) -> None:
    group = page.get_by_role("group", name=legend)
    group.get_by_label("Day").fill(str(day))
    group.get_by_label("Month").fill(str(month))
    group.get_by_label("Year").fill(str(year))


def _employ(page, live_url: str, reviewer_id: int) -> None:
    page.goto(f"{live_url}/reviewers/{reviewer_id}/edit")
    page.get_by_label("Organisation").select_option(label="Northshire Police (Police)")
    assert_accessible(page)
    page.get_by_role("button", name="Save changes").click()
    page.get_by_text("Northshire Police").first.wait_for()


def test_a_case_with_northshire_police_involved_never_gets_a_northshire_officer(
    browser, live_url, world, artifacts
):
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="en-GB", bypass_csp=True
    )
    page = context.new_page()
    _sign_in(page, live_url)
    assert page.get_by_role("heading", name="Organisations").is_visible()
    assert_accessible(page)

    # Add the force; a first try with nothing filled in shows the problems.
    page.get_by_role("button", name="Add an organisation").click()
    assert_accessible(page)
    page.get_by_role("button", name="Save organisation").click()
    page.get_by_role("alert").get_by_text("There is a problem").wait_for()
    assert_accessible(page)
    page.get_by_label("Name").fill("Northshire Police")
    page.get_by_label("Agency type").select_option(label="Police")
    for name in ("Alphaton", "Bravoton", "Charlford"):
        page.get_by_role("checkbox", name=name).check()
    page.get_by_role("button", name="Save organisation").click()
    page.get_by_text("Northshire Police saved").wait_for()
    assert_accessible(page)

    # Its change page (rename, partnerships served).
    page.get_by_role("link", name="Change Northshire Police").click()
    assert page.get_by_role("heading", name="Change organisation").is_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Save organisation").click()
    page.get_by_text("Northshire Police saved").wait_for()

    # Two officers of two partnerships work for it.
    for name in NORTHSHIRE_OFFICERS:
        _employ(page, live_url, world.reviewers[name])

    # ALPHA's case names Northshire Police as involved.
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Requests").click()
    page.get_by_role("button", name="Open a request").click()
    page.get_by_label("Partnership asking for peers").select_option(
        label="Alphaton Safeguarding Children Partnership"
    )
    page.get_by_label("Case reference").fill(REFERENCE)
    page.get_by_role("radio", name="Peer review").check()
    hint = page.get_by_text(
        "No one employed by these organisations will review it, whatever their partnership."
    )
    assert hint.is_visible()
    assert page.get_by_text(
        "No one from the requesting partnership's agencies of these types either."
    ).is_visible()
    page.get_by_role("group", name="Organisations involved in the case (optional)").get_by_label(
        "Northshire Police", exact=True
    ).check()
    page.get_by_label("Peers needed").fill("6")
    page.get_by_role("group", name="Does the team need an experienced reviewer?").get_by_label(
        "No"
    ).check()
    _date(page, "Review window start", WINDOW[0].day, WINDOW[0].month, WINDOW[0].year)
    _date(page, "Review window end", WINDOW[1].day, WINDOW[1].month, WINDOW[1].year)
    assert_accessible(page)
    page.get_by_role("button", name="Save as draft").click()
    page.get_by_text("Request saved as a draft.").wait_for()
    assert "Northshire Police" in page.locator("main").inner_text()
    assert_accessible(page)
    page.get_by_role("button", name="Submit for matching").click()
    page.get_by_text("Request submitted for matching.").wait_for()

    # Matching: the police seat goes to Cal Charlie (another force), never to Bea or Kim.
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Matching").click()
    page.get_by_role("button", name="Run matching").click()
    page.wait_for_url("**/runs/*")
    page.get_by_role("heading", name="Proposed teams").wait_for(timeout=90_000)
    assert_accessible(page)
    section = page.locator("section", has=page.get_by_role("heading", name=REFERENCE))
    team = [n.strip() for n in section.locator("table tbody tr td:first-child a").all_inner_texts()]
    assert team, "the request got nobody"
    assert not set(team) & set(NORTHSHIRE_OFFICERS)
    assert "Ava Alpha" not in team  # ALPHA's own police: the agency type is involved too
    assert "Cal Charlie" in team  # police, but of a force not involved
    why = section.locator(".pm-empty-seats").inner_text()
    assert "2 work for an organisation involved in the case" in why
    page.screenshot(path=str(artifacts / "organisations-proposal.png"), full_page=True)
    context.close()
