"""Automatic re-matching: a decline or an expiry frees a seat, and the next eligible reviewer
is invited at once, with the accepted teammates untouched and every team rule kept."""

from __future__ import annotations

import datetime as dt

from invitation_helpers import NOW, find_replacements, link_of, team, token_of
from sqlmodel import col, select

from peermatch.matching.io import parse_problem, parse_solution
from peermatch.matching.validate import validate
from peermatch.models import (
    Assignment,
    MatchRun,
    OutboxMessage,
    RequestEvent,
    Reviewer,
)
from peermatch.staffing import invitations, match_runs, requests
from peermatch.web.pages import timeline


def _events(session, request) -> list[str]:
    return list(
        session.exec(
            select(RequestEvent.kind)
            .where(RequestEvent.request_id == request.id)
            .order_by(col(RequestEvent.id))
        ).all()
    )


def _rematch_runs(session) -> list[MatchRun]:
    return list(session.exec(select(MatchRun).where(MatchRun.purpose == "rematch")).all())


def test_a_decline_invites_the_next_eligible_reviewer_and_keeps_the_accepted_one(
    session, settings, pool, make_request, place
):
    request = make_request(peers=2)
    ann, dee = place(request, pool["ann"], pool["dee"])
    invitations.accept(session, settings, token_of(link_of(session, ann)), now=NOW)
    session.commit()
    accepted_before = session.get(Assignment, ann.id).model_dump()

    invitations.decline(session, settings, token_of(link_of(session, dee)), None, now=NOW)
    find_replacements(session, settings)

    now_team = team(session, request)
    assert now_team[pool["ann"]] == "accepted"
    assert now_team[pool["dee"]] == "declined"
    [replacement] = [r for r, s in now_team.items() if s == "invited"]
    # Police is taken by Ann: one reviewer per agency leaves the two health reviewers.
    assert replacement in {pool["bea"], pool["eve"]}
    assert session.get(Assignment, ann.id).model_dump() == accepted_before
    new = session.exec(select(Assignment).where(Assignment.reviewer_id == replacement)).one()
    assert link_of(session, new).startswith(f"{settings.base_url}/answer/")
    assert _events(session, request)[-2:] == ["invited", "rematched"]


def test_the_rematch_run_is_stored_and_passes_the_validator(
    session, settings, pool, make_request, place
):
    request = make_request(peers=2, required_skills=[])
    ann, dee = place(request, pool["ann"], pool["dee"])
    invitations.accept(session, settings, token_of(link_of(session, ann)), now=NOW)
    invitations.decline(session, settings, token_of(link_of(session, dee)), "workload", now=NOW)
    find_replacements(session, settings)
    [run] = _rematch_runs(session)
    problem = parse_problem(run.problem)
    solution = parse_solution(run.solution)
    assert validate(problem, solution) == []
    locked = {(p.request, p.reviewer) for p in problem.locked}
    excluded = {(p.request, p.reviewer) for p in problem.excluded}
    key = match_runs.request_key("ALPHA", request.reference, request.id)
    assert locked == {(key, match_runs.reviewer_key(pool["ann"]))}
    assert excluded == {(key, match_runs.reviewer_key(pool["dee"]))}
    agencies = [
        session.get(Reviewer, r).agency
        for r, s in team(session, request).items()
        if s in {"accepted", "invited"}
    ]
    assert len(agencies) == 2 and len(set(agencies)) == 2


def test_a_declined_reviewer_is_never_invited_again_to_that_request(
    session, settings, pool, make_request, place
):
    request = make_request(peers=1)
    [bea] = place(request, pool["bea"])
    invitations.decline(session, settings, token_of(link_of(session, bea)), None, now=NOW)
    find_replacements(session, settings)
    for _ in range(4):  # decline every replacement in turn
        invited = [r for r, s in team(session, request).items() if s == "invited"]
        if not invited:
            break
        assignment = session.exec(
            select(Assignment).where(
                Assignment.request_id == request.id, Assignment.reviewer_id == invited[0]
            )
        ).one()
        invitations.decline(
            session, settings, token_of(link_of(session, assignment)), None, now=NOW
        )
        find_replacements(session, settings)
    rows = session.exec(select(Assignment).where(Assignment.request_id == request.id)).all()
    reviewers = [a.reviewer_id for a in rows]
    assert len(reviewers) == len(set(reviewers)) == 5  # each of the pool asked exactly once
    assert _events(session, request)[-1] == "rematch_failed"


def test_when_no_one_eligible_is_left_the_coordinator_is_told_why(
    session, settings, pool, make_request, place, region_a
):
    request = make_request(peers=1, high_profile=False, agencies_involved=[])
    for name in ("bea", "cal", "dee", "eve"):
        reviewer = session.get(Reviewer, pool[name])
        reviewer.active = False
        session.add(reviewer)
    session.commit()
    [ann] = place(request, pool["ann"])
    invitations.decline(session, settings, token_of(link_of(session, ann)), None, now=NOW)
    find_replacements(session, settings)
    line = timeline.for_request(session, request)[0].text
    # The proposal page's words for the same explanation.
    assert line == (
        "The free seat could not be re-matched automatically: "
        "1 was excluded by a coordinator or declined before"
    )


def test_an_expired_invitation_is_rematched_by_the_clock(
    session, settings, pool, make_request, place
):
    request = make_request(peers=1)
    [ann] = place(request, pool["ann"])
    invitations.tick(session, settings, now=ann.expires_at + dt.timedelta(seconds=1))
    find_replacements(session, settings)
    now_team = team(session, request)
    assert now_team[pool["ann"]] == "expired"
    assert list(now_team.values()).count("invited") == 1
    assert "invitation_expired" in _events(session, request)
    assert _events(session, request)[-1] == "rematched"


def test_a_paused_request_is_not_rematched(session, settings, pool, make_request, place, region_a):
    request = make_request(peers=1)
    requests.set_rematch_paused(session, region_a.id, request.id, True, actor="user:1")
    [ann] = place(request, pool["ann"])
    invitations.decline(session, settings, token_of(link_of(session, ann)), None, now=NOW)
    find_replacements(session, settings)
    assert team(session, request) == {pool["ann"]: "declined"}
    assert _events(session, request)[-1] == "rematch_skipped"
    assert _rematch_runs(session) == []


def test_a_rematch_respects_the_high_profile_and_involved_agency_rules(
    session, settings, pool, make_request, place, partnership_a, add_reviewer
):
    # Reviewers of the requesting partnership itself: never on its high-profile review.
    add_reviewer(partnership_a, "Hal Home", agency="probation")
    request = make_request(peers=1, high_profile=True, agencies_involved=["police"])
    [bea] = place(request, pool["bea"])
    invitations.decline(session, settings, token_of(link_of(session, bea)), None, now=NOW)
    find_replacements(session, settings)
    [invited] = [r for r, s in team(session, request).items() if s == "invited"]
    reviewer = session.get(Reviewer, invited)
    assert reviewer.partnership_id != partnership_a.id


def test_a_rematch_does_not_overbook_a_reviewer_busy_elsewhere(
    session, settings, pool, make_request, place
):
    other = make_request(reference="LSCP-2027-002", peers=2)
    place(other, pool["bea"], pool["cal"])  # capacity 1 each: both now busy
    request = make_request(peers=1)
    [eve] = place(request, pool["eve"])
    invitations.decline(session, settings, token_of(link_of(session, eve)), None, now=NOW)
    find_replacements(session, settings)
    [invited] = [r for r, s in team(session, request).items() if s == "invited"]
    assert invited in {pool["ann"], pool["dee"]}
    mails = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "invitation")).all()
    assert len(mails) == 4  # Bea, Cal, Eve, and the replacement


def test_two_relays_ticking_at_once_expire_and_rematch_a_seat_once(
    engine, session, settings, pool, make_request, place
):
    from sqlmodel import Session

    from peermatch.models import AssignmentStatus
    from peermatch.staffing.invitations import _claim

    request = make_request(peers=1)
    [ann] = place(request, pool["ann"])
    later = ann.expires_at + dt.timedelta(seconds=1)
    with Session(engine) as other:
        stale = other.get(Assignment, ann.id)  # the other relay has read it as invited
        assert invitations.tick(session, settings, now=later).expired == 1
        session.commit()
        assert not _claim(other, stale, status=AssignmentStatus.expired)
    find_replacements(session, settings)
    assert find_replacements(session, settings) == 0  # the seat is re-matched once
    assert list(team(session, request).values()).count("invited") == 1
    assert len(_rematch_runs(session)) == 1


def test_a_decline_still_counts_when_the_rest_of_the_team_can_no_longer_be_kept(
    session, settings, pool, make_request, place, region_a
):
    from peermatch.models import Unavailability

    request = make_request(peers=2)
    ann, dee = place(request, pool["ann"], pool["dee"])
    invitations.accept(session, settings, token_of(link_of(session, ann)), now=NOW)
    session.commit()
    # Ann is away during the review since accepting: the locked team breaks a rule.
    session.add(
        Unavailability(
            reviewer_id=pool["ann"],
            starts_on=request.window_start,
            ends_on=request.window_end,
        )
    )
    session.commit()
    invitations.decline(session, settings, token_of(link_of(session, dee)), None, now=NOW)
    find_replacements(session, settings)
    assert team(session, request) == {pool["ann"]: "accepted", pool["dee"]: "declined"}
    line = timeline.for_request(session, request)[0].text
    assert line.startswith("The free seat could not be re-matched automatically")
