"""Completing a review in real headless Chromium: offered only once its window has begun, asked
to confirm on a page of its own, and then the request can no longer change. Every page checked
with axe."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from axe import assert_accessible
from runs_world import build_world, request
from sqlmodel import select

from peermatch.models import Assignment
from peermatch.settings import Settings
from peermatch.staffing import invitations, lifecycle
from peermatch.staffing.lifecycle import Command

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple"


@pytest.fixture
def staffed(session, region_a, partnership_a, alice):
    """A one-peer request whose window began yesterday, its reviewer invited and accepted."""
    world = build_world(session, region_a, partnership_a)
    today = dt.date.today()
    q = request(
        session,
        world,
        "ALPHA",
        "AL-2026-950",
        peers=1,
        window=(today - dt.timedelta(days=1), today + dt.timedelta(days=12)),
        status=lifecycle.RequestStatus.proposed,
    )
    lifecycle.apply(session, q, Command.approve, actor="user:1")
    assignment = Assignment(request_id=q.id, reviewer_id=world.reviewers["Bea Bravo"])
    session.add(assignment)
    session.flush()
    settings = replace(Settings(), mode="test")
    invitations.invite(session, [assignment], actor="user:1", settings=settings)
    session.commit()
    invitations.accept(session, settings, invitations.answer_token(settings, assignment))
    session.commit()
    return q


def test_a_review_that_has_begun_is_completed_after_a_confirmation(
    browser, live_url, staffed, session
):
    context = browser.new_context(
        viewport={"width": 1280, "height": 900},
        locale="en-GB",
        bypass_csp=True,  # for axe
    )
    page = context.new_page()
    page.goto(f"{live_url}/requests/{staffed.id}")
    page.get_by_label("Email address").fill("alice@example.org")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Mark the review as completed").click()
    page.get_by_role("heading", name="Has this review taken place?").wait_for()
    assert_accessible(page)
    page.get_by_role("button", name="Yes, mark it as completed").click()
    page.get_by_text("The review is marked as completed.").wait_for()
    assert_accessible(page)
    # Nothing is offered any more: no change, no cancellation, no withdrawal.
    assert page.get_by_role("button", name="Cancel request").count() == 0
    assert page.get_by_role("button", name="Mark the review as completed").count() == 0
    page.goto(f"{live_url}/requests/{staffed.id}/invitations")
    assert page.get_by_role("button", name="Withdraw").count() == 0
    assert_accessible(page)
    session.expire_all()
    [held] = session.exec(select(Assignment).where(Assignment.request_id == staffed.id)).all()
    assert held.status == "accepted"
    context.close()
