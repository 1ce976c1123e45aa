"""Invitations in real headless Chromium: a coordinator approves a proposal, opens the
invitation from the outbox, the reviewer follows its link and declines, the request says it is
finding a replacement until the worker invites one, who accepts, and the ledger shows the peer
lent. Every page checked with axe.

Set PEERMATCH_SCREENSHOTS=1 to refresh the README's screenshots in docs/screenshots/."""

from __future__ import annotations

import os
import re
from dataclasses import replace
from pathlib import Path

import pytest
from axe import assert_accessible
from runs_world import build_world, request

from peermatch.settings import Settings
from peermatch.staffing import rematch

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture
def world(session, region_a, partnership_a, alice):
    world = build_world(session, region_a, partnership_a)
    # High-profile: nobody from Bravo itself, so every acceptance lends a peer to Bravo.
    request(session, world, "BRAVO", "BR-2027-201", high_profile=True, peers=2)
    return world


def _shots(artifacts: Path) -> Path:
    if os.environ.get("PEERMATCH_SCREENSHOTS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        return DOCS
    return artifacts


def _sign_in(page, live_url: str) -> None:
    page.goto(f"{live_url}/runs")
    page.get_by_label("Email address").fill("alice@example.org")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_url}/runs")


def _approve_a_proposal(page) -> None:
    page.get_by_role("button", name="Run matching").click()
    page.wait_for_url("**/runs/*")
    page.get_by_role("heading", name="Proposed teams").wait_for(timeout=90_000)
    page.get_by_role("button", name="Approve this proposal").click()
    page.get_by_text("Proposal approved").wait_for()


def _answer_link(page, live_url: str) -> str:
    """The answer link in the email on screen. The email names the configured base URL; the
    live server listens on a port of its own."""
    href = page.locator(".pm-email-text a").get_attribute("href")
    assert href and "/answer/" in href
    return live_url + "/answer/" + href.split("/answer/", 1)[1]


def _open_message_to(page, live_url: str, address: str) -> None:
    page.goto(f"{live_url}/outbox")
    row = page.locator("tr", has=page.get_by_text(address, exact=True))
    row.get_by_role("link").click()
    page.get_by_role("heading", name=re.compile("Peer review invitation")).wait_for()


def _ledger_row(page, name: str) -> list[str]:
    row = page.locator("tbody tr", has=page.get_by_role("rowheader", name=name))
    return [c.strip() for c in row.locator("td").all_inner_texts()]


def test_a_decline_is_replaced_and_the_replacement_accepts(
    browser, live_url, world, artifacts, session, engine
):
    shots = _shots(artifacts)
    coordinator = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="en-GB", bypass_csp=True
    )
    reviewer = browser.new_context(  # the reviewer's own browser: no session, no cookies
        viewport={"width": 1024, "height": 900}, locale="en-GB", bypass_csp=True
    )
    page = coordinator.new_page()
    _sign_in(page, live_url)
    _approve_a_proposal(page)

    page.get_by_role("link", name="Outbox").click()
    page.get_by_role("link", name="Waiting to send (2)").wait_for()
    assert_accessible(page)
    rows = page.locator("tbody tr")
    first_to = rows.nth(0).locator("td").nth(1).inner_text().strip()
    other_to = rows.nth(1).locator("td").nth(1).inner_text().strip()
    rows.nth(0).get_by_role("link").click()
    assert_accessible(page)
    link = _answer_link(page, live_url)
    page.get_by_role("link", name="View the email as the reviewer sees it").click()
    page.get_by_text("Answer this invitation").wait_for()
    page.screenshot(path=str(shots / "email.png"), full_page=True)

    answer = reviewer.new_page()
    answer.goto(link)
    answer.get_by_role("heading", name="Will you join the peer review BR-2027-201?").wait_for()
    assert_accessible(answer)
    answer.screenshot(path=str(shots / "answer.png"), full_page=True)
    answer.get_by_label("My workload does not allow it").check()
    answer.get_by_role("button", name="Decline this invitation").click()
    answer.get_by_role("heading", name="Invitation declined").wait_for()
    assert_accessible(answer)
    answer.goto(link)  # the link worked once
    answer.get_by_role("heading", name="You have already answered this invitation").wait_for()

    # The decline returned at once; the seat waits for the worker, and the page says so.
    page.goto(f"{live_url}/requests")
    page.get_by_role("link", name="BR-2027-201").click()
    page.get_by_text("Finding a replacement.").wait_for()
    assert_accessible(page)
    assert rematch.run_due(engine, replace(Settings(), mode="test")) == 1  # the worker's round

    page.goto(f"{live_url}/outbox")
    page.get_by_role("link", name="Waiting to send (3)").wait_for()
    addresses = page.locator("tbody tr td:nth-child(2)").all_inner_texts()
    [replacement_to] = {a.strip() for a in addresses} - {first_to, other_to}

    page.goto(f"{live_url}/requests")
    page.get_by_role("link", name="BR-2027-201").click()
    page.get_by_role("link", name=re.compile("Invitations and answers")).click()
    timeline = page.locator("#timeline").inner_text()
    assert "declined: “My workload does not allow it”" in timeline
    assert "The free seat was re-matched automatically" in timeline
    assert_accessible(page)

    page.goto(f"{live_url}/ledger")
    assert _ledger_row(page, "Bravoton")[2] == "0"  # received before
    _open_message_to(page, live_url, replacement_to)
    link = _answer_link(page, live_url)
    answer.goto(link)
    answer.get_by_role("button", name="Accept this invitation").click()
    answer.get_by_role("heading", name="Invitation accepted").wait_for()
    assert_accessible(answer)

    page.goto(f"{live_url}/ledger")
    assert _ledger_row(page, "Bravoton")[2] == "1"  # Bravo received the replacement
    assert_accessible(page)
    page.screenshot(path=str(shots / "ledger.png"), full_page=True)
    coordinator.close()
    reviewer.close()
