"""Answer links: every case a reviewer's link can meet. Only a POST changes anything."""

from __future__ import annotations

import datetime as dt

import pytest
from invitation_helpers import NOW, link_of, team, token_of
from sqlmodel import select

from peermatch import ledger
from peermatch.models import LedgerEntry, RequestEvent, RequestStatus, ReviewRequest
from peermatch.staffing import invitations, requests
from peermatch.staffing.invitations import InvitationUnavailable


def _reasons(exc: pytest.ExceptionInfo[InvitationUnavailable]) -> str:
    return exc.value.reason


def test_an_invitation_email_carries_a_link_that_shows_the_invitation(
    session, settings, pool, make_request, place
):
    request = make_request()
    [invited] = place(request, pool["ann"])
    link = link_of(session, invited)
    assert link.startswith("http://127.0.0.1:8000/answer/")
    view = invitations.show(session, settings, token_of(link), now=NOW)
    assert (view.reference, view.reviewer_name, view.status) == (
        "LSCP-2027-001",
        "Ann Police",
        "invited",
    )
    assert view.expires_on == dt.date(2027, 3, 8)  # 5 working days after Monday 1 March


def test_showing_an_invitation_changes_nothing(session, settings, pool, make_request, place):
    request = make_request()
    [invited] = place(request, pool["ann"])
    token = token_of(link_of(session, invited))
    for _ in range(3):  # a mail scanner, a preview, the reviewer
        invitations.show(session, settings, token, now=NOW)
    session.commit()
    assert team(session, request) == {pool["ann"]: "invited"}
    assert invitations.show(session, settings, token, now=NOW).status == "invited"


def test_accepting_writes_the_ledger_and_staffs_a_full_team(
    session, settings, pool, make_request, place
):
    request = make_request(peers=2)
    ann, eve = place(request, pool["ann"], pool["eve"])
    invitations.accept(session, settings, token_of(link_of(session, ann)), now=NOW)
    session.commit()
    assert session.get(ReviewRequest, request.id).status == RequestStatus.inviting
    invitations.accept(session, settings, token_of(link_of(session, eve)), now=NOW)
    session.commit()
    assert team(session, request) == {pool["ann"]: "accepted", pool["eve"]: "accepted"}
    assert session.get(ReviewRequest, request.id).status == RequestStatus.staffed
    received = {
        b.code: (b.lent, b.received)
        for b in ledger.balances(session, request_region(session, request))
    }
    assert received == {"ALPHA": (0, 2), "BRAVO": (1, 0), "CHARLIE": (1, 0)}


def request_region(session, request) -> int:
    from peermatch.models import Partnership

    return session.get(Partnership, request.partnership_id).region_id


def test_declining_records_the_reason_and_frees_the_seat(
    session, settings, pool, make_request, place
):
    request = make_request(peers=1)
    [ann] = place(request, pool["ann"])
    invitations.decline(session, settings, token_of(link_of(session, ann)), "workload", now=NOW)
    session.commit()
    session.refresh(ann)
    assert (ann.status, ann.decline_reason, ann.link_nonce) == ("declined", "workload", None)
    kinds = session.exec(
        select(RequestEvent.kind).where(RequestEvent.request_id == request.id)
    ).all()
    assert "invitation_declined" in kinds
    assert session.exec(select(LedgerEntry)).all() == []


def test_it_refuses_a_decline_reason_that_is_not_on_the_list(
    session, settings, pool, make_request, place
):
    from peermatch.errors import ValidationFailed

    request = make_request(peers=1)
    [ann] = place(request, pool["ann"])
    with pytest.raises(ValidationFailed):
        invitations.decline(
            session, settings, token_of(link_of(session, ann)), "my child's name", now=NOW
        )
    session.rollback()
    assert team(session, request) == {pool["ann"]: "invited"}


def test_a_used_link_cannot_answer_again(session, settings, pool, make_request, place):
    request = make_request(peers=2)
    [ann] = place(request, pool["ann"])
    token = token_of(link_of(session, ann))
    invitations.accept(session, settings, token, now=NOW)
    session.commit()
    for answer in (
        lambda: invitations.accept(session, settings, token, now=NOW),
        lambda: invitations.decline(session, settings, token, None, now=NOW),
        lambda: invitations.show(session, settings, token, now=NOW),
    ):
        with pytest.raises(InvitationUnavailable) as exc:
            answer()
        assert _reasons(exc) == "answered"
    session.rollback()
    assert team(session, request) == {pool["ann"]: "accepted"}
    assert len(session.exec(select(LedgerEntry)).all()) == 1


def test_a_tampered_link_changes_nothing(session, settings, pool, make_request, place):
    request = make_request(peers=2)
    ann, bea = place(request, pool["ann"], pool["cal"])
    token = token_of(link_of(session, ann))
    other = token_of(link_of(session, bea))
    forged = [
        token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        other.split(".")[0] + "." + ".".join(token.split(".")[1:]),  # payload swapped
        "not-a-token",
        "",
    ]
    for bad in forged:
        with pytest.raises(InvitationUnavailable) as exc:
            invitations.accept(session, settings, bad, now=NOW)
        assert _reasons(exc) == "invalid"
    session.rollback()
    assert set(team(session, request).values()) == {"invited"}


def test_a_link_signed_with_another_secret_is_refused(session, settings, pool, make_request, place):
    from dataclasses import replace

    request = make_request()
    [ann] = place(request, pool["ann"])
    token = token_of(link_of(session, ann))
    elsewhere = replace(settings, secret_key="another-secret-another-secret-1234")
    with pytest.raises(InvitationUnavailable) as exc:
        invitations.show(session, elsewhere, token, now=NOW)
    assert _reasons(exc) == "invalid"


def test_an_expired_invitation_cannot_be_answered(session, settings, pool, make_request, place):
    request = make_request()
    [ann] = place(request, pool["ann"])
    token = token_of(link_of(session, ann))
    later = ann.expires_at + dt.timedelta(minutes=1)
    with pytest.raises(InvitationUnavailable) as exc:
        invitations.accept(session, settings, token, now=later)
    assert _reasons(exc) == "expired"
    session.rollback()
    assert team(session, request) == {pool["ann"]: "invited"}


def test_a_withdrawn_invitation_cannot_be_answered_and_gets_a_cancellation(
    session, settings, pool, make_request, place, region_a
):
    from peermatch.models import OutboxMessage

    request = make_request()
    [ann] = place(request, pool["ann"])
    token = token_of(link_of(session, ann))
    invitations.withdraw(session, settings, region_a.id, ann.id, actor="user:1", now=NOW)
    session.commit()
    with pytest.raises(InvitationUnavailable) as exc:
        invitations.accept(session, settings, token, now=NOW)
    assert _reasons(exc) == "withdrawn"
    session.rollback()
    kinds = session.exec(
        select(OutboxMessage.kind).where(OutboxMessage.assignment_id == ann.id)
    ).all()
    assert sorted(kinds) == ["cancellation", "invitation"]
    assert team(session, request) == {pool["ann"]: "withdrawn"}


def test_withdrawing_an_accepted_reviewer_reverses_the_ledger_and_reopens_the_request(
    session, settings, pool, make_request, place, region_a
):
    request = make_request(peers=1)
    [ann] = place(request, pool["ann"])
    invitations.accept(session, settings, token_of(link_of(session, ann)), now=NOW)
    session.commit()
    assert session.get(ReviewRequest, request.id).status == RequestStatus.staffed
    invitations.withdraw(session, settings, region_a.id, ann.id, actor="user:1", now=NOW)
    session.commit()
    assert session.get(ReviewRequest, request.id).status == RequestStatus.inviting
    assert sum(e.amount for e in session.exec(select(LedgerEntry)).all()) == 0


def test_a_coordinator_of_another_region_cannot_withdraw(
    session, settings, pool, make_request, place, region_b
):
    from peermatch.errors import NotFound

    request = make_request()
    [ann] = place(request, pool["ann"])
    with pytest.raises(NotFound):
        invitations.withdraw(session, settings, region_b.id, ann.id, actor="user:2")


def test_cancelling_a_request_withdraws_its_team_and_reverses_the_ledger(
    session, settings, pool, make_request, place, region_a
):
    request = make_request(peers=2)
    ann, _eve = place(request, pool["ann"], pool["eve"])
    invitations.accept(session, settings, token_of(link_of(session, ann)), now=NOW)
    requests.cancel(session, region_a.id, request.id, actor="user:1")
    session.commit()
    assert session.get(ReviewRequest, request.id).status == RequestStatus.cancelled
    assert set(team(session, request).values()) == {"withdrawn"}
    assert sum(e.amount for e in session.exec(select(LedgerEntry)).all()) == 0


def test_completing_a_request_keeps_its_ledger_entries(
    session, settings, pool, make_request, place, region_a
):
    request = make_request(peers=1)
    [ann] = place(request, pool["ann"])
    invitations.accept(session, settings, token_of(link_of(session, ann)), now=NOW)
    requests.complete(session, region_a.id, request.id, actor="user:1", today=dt.date(2027, 4, 5))
    session.commit()
    assert session.get(ReviewRequest, request.id).status == RequestStatus.completed
    assert [e.amount for e in session.exec(select(LedgerEntry)).all()] == [1]


def test_it_sends_one_reminder_before_expiry_then_expires_the_invitation(
    session, settings, pool, make_request, place
):
    request = make_request(peers=1)
    requests.set_rematch_paused(
        session, request_region(session, request), request.id, True, actor="user:1"
    )
    [ann] = place(request, pool["ann"])
    # Invited Monday 1 March 2027; 5 working days: expires Monday 8 March; reminder 2 working
    # days earlier, on Thursday 4 March.
    assert invitations.tick(session, settings, now=dt.datetime(2027, 3, 4, 8, 0)).reminded == 0
    assert invitations.tick(session, settings, now=dt.datetime(2027, 3, 4, 9, 0)).reminded == 1
    assert invitations.tick(session, settings, now=dt.datetime(2027, 3, 5, 9, 0)).reminded == 0
    assert invitations.tick(session, settings, now=dt.datetime(2027, 3, 8, 8, 59)).expired == 0
    assert invitations.tick(session, settings, now=dt.datetime(2027, 3, 8, 9, 0)).expired == 1
    session.commit()
    assert team(session, request) == {pool["ann"]: "expired"}
    assert link_of(session, ann, "reminder") == link_of(session, ann)


def test_expiry_skips_weekends_and_bank_holidays():
    from peermatch.working_days import add_working_days

    # Good Friday 26 March 2027 and Easter Monday 29 March 2027 are bank holidays.
    assert add_working_days(dt.date(2027, 3, 24), 3).due_on == dt.date(2027, 3, 31)
    assert add_working_days(dt.date(2027, 3, 5), 1).due_on == dt.date(2027, 3, 8)
