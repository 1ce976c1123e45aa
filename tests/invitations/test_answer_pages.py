"""The answer pages a reviewer reaches from their email, with no account and no cookies."""

from __future__ import annotations

from invitation_helpers import link_of, team, token_of
from sqlmodel import select

from peermatch.models import AssignmentStatus, AuditEvent


def _path(session, assignment) -> str:
    return "/answer/" + token_of(link_of(session, assignment))


def test_opening_the_link_shows_the_invitation_and_changes_nothing(
    session, reviewer_client, pool, make_request, place
):
    request = make_request()
    [ann] = place(request, pool["ann"])
    for _ in range(2):
        page = reviewer_client.get(_path(session, ann))
        assert page.status_code == 200
    assert "Will you join the peer review LSCP-2027-001?" in page.text
    assert "Accept this invitation" in page.text and "Decline this invitation" in page.text
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert team(session, request) == {pool["ann"]: "invited"}


def test_a_reviewer_without_cookies_can_accept(session, reviewer_client, pool, make_request, place):
    request = make_request()
    [ann] = place(request, pool["ann"])
    path = _path(session, ann)
    reviewer_client.cookies.clear()
    response = reviewer_client.post(f"{path}/accept")
    assert response.status_code == 200, response.text
    assert "Invitation accepted" in response.text
    assert team(session, request) == {pool["ann"]: "accepted"}
    again = reviewer_client.post(f"{path}/accept")
    assert again.status_code == 410
    assert "You have already answered this invitation" in again.text


def test_a_reviewer_can_decline_with_a_reason_from_the_list(
    session, reviewer_client, pool, make_request, place
):
    request = make_request(peers=1)
    [ann] = place(request, pool["ann"])
    page = reviewer_client.get(_path(session, ann))
    assert 'type="radio"' in page.text and 'value="workload"' in page.text
    response = reviewer_client.post(f"{_path(session, ann)}/decline", data={"reason": "workload"})
    assert response.status_code == 200
    assert "Invitation declined" in response.text
    session.expire_all()
    session.refresh(ann)
    assert (ann.status, ann.decline_reason) == (AssignmentStatus.declined, "workload")


def test_a_decline_with_a_made_up_reason_shows_the_form_again_and_changes_nothing(
    session, reviewer_client, pool, make_request, place
):
    request = make_request(peers=1)
    [ann] = place(request, pool["ann"])
    response = reviewer_client.post(
        f"{_path(session, ann)}/decline", data={"reason": "<script>alert(1)</script>"}
    )
    assert response.status_code == 400
    assert "There is a problem" in response.text
    assert "<script>alert(1)</script>" not in response.text
    assert team(session, request) == {pool["ann"]: "invited"}


def test_a_tampered_link_gets_a_clear_page(session, reviewer_client, pool, make_request, place):
    request = make_request()
    [ann] = place(request, pool["ann"])
    path = _path(session, ann)
    for bad in (path[:-3] + "xyz", "/answer/nonsense", path + "tail"):
        response = reviewer_client.get(bad)
        assert response.status_code == 404
        assert "This link does not work" in response.text
        assert reviewer_client.post(bad + "/accept").status_code == 404
    assert team(session, request) == {pool["ann"]: "invited"}


def test_a_withdrawn_invitation_gets_a_clear_page(
    session, reviewer_client, alice_client, pool, make_request, place
):
    request = make_request()
    [ann] = place(request, pool["ann"])
    path = _path(session, ann)
    from invitation_helpers import csrf_token

    page = f"/requests/{request.id}/invitations"
    token = csrf_token(alice_client, page)
    response = alice_client.post(
        f"{page}/{ann.id}/withdraw", data={"_csrf_token": token}, follow_redirects=False
    )
    assert response.status_code == 303
    shown = reviewer_client.get(path)
    assert shown.status_code == 410
    assert "This invitation has been withdrawn" in shown.text
    assert reviewer_client.post(f"{path}/accept").status_code == 410
    assert team(session, request) == {pool["ann"]: "withdrawn"}


def test_the_coordinator_sees_the_timeline_and_can_pause_rematching(
    session, settings, reviewer_client, alice_client, pool, make_request, place
):
    from invitation_helpers import csrf_token, find_replacements

    request = make_request(peers=1)
    [ann] = place(request, pool["ann"])
    reviewer_client.post(f"{_path(session, ann)}/decline", data={"reason": "unavailable"})
    page = alice_client.get(f"/requests/{request.id}/invitations")
    assert page.status_code == 200
    assert "Ann Police declined: “I am not available on these dates”" in page.text
    assert "Finding a replacement" in page.text  # the worker has not run yet
    assert "Finding a replacement" in alice_client.get(f"/requests/{request.id}").text
    find_replacements(session, settings)
    page = alice_client.get(f"/requests/{request.id}/invitations")
    assert "The free seat was re-matched automatically" in page.text
    assert "Finding a replacement" not in page.text
    token = csrf_token(alice_client, f"/requests/{request.id}/invitations")
    response = alice_client.post(
        f"/requests/{request.id}/invitations/pause",
        data={"_csrf_token": token},
        follow_redirects=True,
    )
    assert "Automatic re-matching is paused for this request." in response.text
    actions = session.exec(select(AuditEvent.action)).all()
    assert "request.rematch_paused" in actions


def test_an_expired_invitation_gets_a_clear_page_and_nothing_changes(
    session, reviewer_client, pool, make_request, place
):
    import datetime as dt

    request = make_request()
    [ann] = place(request, pool["ann"])
    path = _path(session, ann)
    ann.expires_at = dt.datetime(2026, 1, 1)
    session.add(ann)
    session.commit()
    shown = reviewer_client.get(path)
    assert shown.status_code == 410
    assert "This invitation has expired" in shown.text
    assert reviewer_client.post(f"{path}/decline", data={"reason": "other"}).status_code == 410
    assert team(session, request) == {pool["ann"]: "invited"}
