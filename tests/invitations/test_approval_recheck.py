"""Approval is a fresh check: a proposed team is checked against the registry and the requests
as they are at the moment of approval, with the independent validator. A team that no longer
holds is not invited; its request says which reviewer broke which rule; the other teams go
ahead. (Before, approval re-checked only newer locks and exclusions, so a reviewer made
inactive, away, or moved into an involved agency after the run was still invited.)"""

from __future__ import annotations

import pytest
from invitation_helpers import csrf_token
from runs_world import WINDOW, build_world, request
from sqlmodel import select

from peermatch.models import (
    Assignment,
    MatchRun,
    OutboxMessage,
    RequestStatus,
    Reviewer,
    ReviewRequest,
    Unavailability,
)
from peermatch.staffing import match_runs
from peermatch.web.pages import timeline


def _solved(engine, session, world):
    # ALPHA's review involves the police; BRAVO's is independent of it.
    q1 = request(session, world, "ALPHA", "AL-2027-701", peers=1, agencies=["police"])
    q2 = request(session, world, "BRAVO", "BR-2027-702", peers=1)
    run, _ = match_runs.start_run(session, world.region_id, actor="user:1", time_limit=10)
    session.commit()
    match_runs.execute_run(engine, run.id)
    session.expire_all()
    run = session.get(MatchRun, run.id)
    assert run.status == "optimal"
    team = {
        match_runs.request_id_of(p["request"]): match_runs.reviewer_id_of(p["reviewer"])
        for p in run.solution["assignments"]
    }
    return run, q1, q2, team


def _make_inactive(session, world, reviewer: Reviewer) -> None:
    reviewer.active = False


def _make_away(session, world, reviewer: Reviewer) -> None:
    session.add(Unavailability(reviewer_id=reviewer.id, starts_on=WINDOW[0], ends_on=WINDOW[1]))


def _move_into_the_involved_agency(session, world, reviewer: Reviewer) -> None:
    # A new job: the police of the partnership whose case it is.
    reviewer.partnership_id = world.partnerships["ALPHA"].id
    reviewer.agency = "police"


CHANGES = {
    "inactive": _make_inactive,
    "unavailable": _make_away,
    "involved_agency": _move_into_the_involved_agency,
}


@pytest.mark.parametrize("rule", sorted(CHANGES))
def test_a_team_that_no_longer_holds_is_not_invited_and_says_why(
    engine, session, settings, region_a, partnership_a, rule
):
    world = build_world(session, region_a, partnership_a)
    run, q1, q2, team = _solved(engine, session, world)
    changed = session.get(Reviewer, team[q1.id])
    CHANGES[rule](session, world, changed)
    session.add(changed)
    session.commit()

    approval = match_runs.approve_run(
        session, run.id, actor="user:1", region_id=world.region_id, settings=settings
    )
    session.commit()

    breaches = approval.held_back[q1.id]
    assert (changed.id, rule) in {(b.reviewer_id, b.rule) for b in breaches}
    assert q2.id not in approval.held_back
    invited = session.exec(select(Assignment)).all()
    assert [(a.request_id, a.reviewer_id) for a in invited] == [(q2.id, team[q2.id])]
    assert {m.assignment_id for m in session.exec(select(OutboxMessage))} == {invited[0].id}
    assert session.get(ReviewRequest, q1.id).status == RequestStatus.proposed
    assert session.get(ReviewRequest, q2.id).status == RequestStatus.inviting
    newest = timeline.for_request(session, session.get(ReviewRequest, q1.id))[0].text
    assert newest.startswith("Not invited when the proposal was approved")
    assert changed.name in newest and "Run matching again" in newest


def test_the_run_page_names_the_reviewer_and_the_rule_and_offers_a_new_run(
    engine, session, settings, region_a, partnership_a, alice_client
):
    world = build_world(session, region_a, partnership_a)
    run, q1, _, team = _solved(engine, session, world)
    away = session.get(Reviewer, team[q1.id])
    _make_away(session, world, away)
    session.commit()
    token = csrf_token(alice_client, f"/runs/{run.id}")
    response = alice_client.post(f"/runs/{run.id}/approve", data={"_csrf_token": token})
    assert response.status_code == 200
    page = response.text
    assert f"{away.name} is away during the review window" in page
    assert "AL-2027-701" in page
    assert 'action="/runs"' in page  # the "Run matching again" button


def test_a_proposal_still_valid_is_invited_whole(
    engine, session, settings, region_a, partnership_a
):
    world = build_world(session, region_a, partnership_a)
    run, _, _, team = _solved(engine, session, world)
    approval = match_runs.approve_run(session, run.id, actor="user:1", settings=settings)
    session.commit()
    assert approval.held_back == {}
    assert sorted((a.request_id, a.reviewer_id) for a in approval.invited) == sorted(team.items())


def test_a_reviewer_locked_by_a_coordinator_is_invited_on_approval(
    engine, session, settings, region_a, partnership_a
):
    world = build_world(session, region_a, partnership_a)
    q = request(session, world, "ALPHA", "AL-2027-703", peers=1)
    cy = world.reviewers["Cy Charlie"]
    match_runs.decide_pair(
        session, world.region_id, q.id, cy, match_runs.PairDecisionKind.locked, actor="user:1"
    )
    session.commit()
    run, _ = match_runs.start_run(session, world.region_id, actor="user:1", time_limit=10)
    session.commit()
    match_runs.execute_run(engine, run.id)
    session.expire_all()
    approval = match_runs.approve_run(session, run.id, actor="user:1", settings=settings)
    session.commit()
    assert [(a.request_id, a.reviewer_id) for a in approval.invited] == [(q.id, cy)]
    assert approval.held_back == {}
