"""The staffing lifecycle refuses what must be impossible: completing a review before it has
begun, changing a completed or cancelled request, and answering for a request that has closed.
Each test here failed on the service before the lifecycle owned every state change."""

from __future__ import annotations

import datetime as dt

import pytest
from invitation_helpers import NOW, csrf_token, find_replacements, link_of, team, token_of
from sqlmodel import select

from peermatch.models import (
    Assignment,
    LedgerEntry,
    MatchRun,
    OutboxMessage,
    RequestStatus,
    ReviewRequest,
)
from peermatch.staffing import invitations, requests
from peermatch.staffing.lifecycle import IllegalTransition

BEFORE_WINDOW = dt.date(2027, 4, 4)  # make_request's window is 5 to 23 April 2027
IN_WINDOW = dt.date(2027, 4, 5)


def _staffed(session, settings, pool, make_request, place) -> tuple[ReviewRequest, Assignment]:
    request = make_request(peers=1)
    [ann] = place(request, pool["ann"])
    invitations.accept(session, settings, token_of(link_of(session, ann)), now=NOW)
    session.commit()
    assert session.get(ReviewRequest, request.id).status == RequestStatus.staffed
    return request, ann


def test_a_review_cannot_be_completed_before_its_window_starts(
    session, settings, pool, make_request, place, region_a
):
    request, _ = _staffed(session, settings, pool, make_request, place)
    with pytest.raises(IllegalTransition, match="only starts on 5 April 2027"):
        requests.complete(session, region_a.id, request.id, actor="user:1", today=BEFORE_WINDOW)
    session.rollback()
    assert session.get(ReviewRequest, request.id).status == RequestStatus.staffed
    requests.complete(session, region_a.id, request.id, actor="user:1", today=IN_WINDOW)
    session.commit()
    assert session.get(ReviewRequest, request.id).status == RequestStatus.completed


def test_the_page_offers_completion_only_once_the_window_has_started_and_asks_to_confirm(
    session, settings, pool, make_request, place, alice_client
):
    # Today (the real date) is before April 2027: the page neither offers nor allows it.
    request, _ = _staffed(session, settings, pool, make_request, place)
    page = alice_client.get(f"/requests/{request.id}")
    assert "Mark the review as completed" not in page.text
    refused = alice_client.get(f"/requests/{request.id}/complete")
    assert refused.status_code == 409
    assert "only starts on 5 April 2027" in refused.text
    token = csrf_token(alice_client, f"/requests/{request.id}")
    posted = alice_client.post(
        f"/requests/{request.id}/complete", data={"_csrf_token": token}, follow_redirects=False
    )
    assert posted.status_code == 409
    session.expire_all()
    assert session.get(ReviewRequest, request.id).status == RequestStatus.staffed
    # The old one-click route is gone.
    assert alice_client.post(
        f"/requests/{request.id}/invitations/complete", data={"_csrf_token": token}
    ).status_code in (404, 405)


def test_the_confirmation_page_completes_a_review_that_has_begun(
    session, settings, pool, make_request, place, alice_client, region_a
):
    request = make_request(peers=1, reference="LSCP-2026-777")
    # A window that began yesterday.
    request.window_start = dt.date.today() - dt.timedelta(days=1)
    request.window_end = dt.date.today() + dt.timedelta(days=10)
    session.add(request)
    session.commit()
    [ann] = place(request, pool["ann"])
    invitations.accept(session, settings, token_of(link_of(session, ann)), now=NOW)
    session.commit()
    page = alice_client.get(f"/requests/{request.id}")
    assert f'href="/requests/{request.id}/complete"' in page.text
    confirm = alice_client.get(f"/requests/{request.id}/complete")
    assert confirm.status_code == 200 and "Has this review taken place?" in confirm.text
    token = csrf_token(alice_client, f"/requests/{request.id}/complete")
    done = alice_client.post(
        f"/requests/{request.id}/complete", data={"_csrf_token": token}, follow_redirects=False
    )
    assert done.status_code == 303
    session.expire_all()
    assert session.get(ReviewRequest, request.id).status == RequestStatus.completed


@pytest.mark.parametrize("close", ["complete", "cancel"])
def test_a_closed_request_refuses_withdrawal_and_keeps_its_team_and_ledger(
    session, settings, pool, make_request, place, region_a, close
):
    request, ann = _staffed(session, settings, pool, make_request, place)
    if close == "complete":
        requests.complete(session, region_a.id, request.id, actor="user:1", today=IN_WINDOW)
    else:
        requests.cancel(session, region_a.id, request.id, actor="user:1", settings=settings)
    session.commit()
    before = (
        team(session, request),
        sorted(e.amount for e in session.exec(select(LedgerEntry))),
        len(session.exec(select(OutboxMessage)).all()),
    )
    with pytest.raises(IllegalTransition, match="so it can no longer change"):
        invitations.withdraw(session, settings, region_a.id, ann.id, actor="user:1")
    session.rollback()
    for attempt in (
        lambda: requests.cancel(session, region_a.id, request.id, actor="user:1"),
        lambda: requests.complete(
            session, region_a.id, request.id, actor="user:1", today=IN_WINDOW
        ),
        lambda: requests.set_rematch_paused(session, region_a.id, request.id, True, actor="u"),
    ):
        with pytest.raises(IllegalTransition, match="so it can no longer change"):
            attempt()
        session.rollback()
    after = (
        team(session, request),
        sorted(e.amount for e in session.exec(select(LedgerEntry))),
        len(session.exec(select(OutboxMessage)).all()),
    )
    assert after == before


def test_withdrawing_on_a_completed_request_through_the_page_is_refused(
    session, settings, pool, make_request, place, region_a, alice_client
):
    request, ann = _staffed(session, settings, pool, make_request, place)
    requests.complete(session, region_a.id, request.id, actor="user:1", today=IN_WINDOW)
    session.commit()
    page = f"/requests/{request.id}/invitations"
    assert "/withdraw" not in alice_client.get(page).text  # no longer offered
    token = csrf_token(alice_client, page)
    response = alice_client.post(f"{page}/{ann.id}/withdraw", data={"_csrf_token": token})
    assert response.status_code == 409
    assert "it is completed, so it can no longer change" in response.text
    assert team(session, request) == {pool["ann"]: "accepted"}
    session.expire_all()
    assert session.get(ReviewRequest, request.id).status == RequestStatus.completed


def test_a_decline_returns_without_solving_and_the_worker_invites_the_replacement(
    session, settings, pool, make_request, place
):
    request = make_request(peers=1)
    [ann] = place(request, pool["ann"])
    invitations.decline(session, settings, token_of(link_of(session, ann)), None, now=NOW)
    session.commit()
    # The answer only recorded the freed seat: no solve, no new invitation yet.
    assert session.exec(select(MatchRun)).all() == []
    assert session.get(ReviewRequest, request.id).rematch_wanted_at == NOW
    assert list(team(session, request).values()) == ["declined"]
    assert find_replacements(session, settings) == 1
    assert sorted(team(session, request).values()) == ["declined", "invited"]
    assert session.get(ReviewRequest, request.id).rematch_wanted_at is None
    assert find_replacements(session, settings) == 0  # nothing left to do


def test_a_replacement_wanted_for_a_request_cancelled_meanwhile_invites_no_one(
    session, settings, pool, make_request, place, region_a
):
    request = make_request(peers=2)
    _, dee = place(request, pool["ann"], pool["dee"])
    invitations.decline(session, settings, token_of(link_of(session, dee)), None, now=NOW)
    requests.cancel(session, region_a.id, request.id, actor="user:1", settings=settings)
    session.commit()
    find_replacements(session, settings)
    assert team(session, request) == {pool["ann"]: "withdrawn", pool["dee"]: "declined"}
    assert session.exec(select(MatchRun)).all() == []
