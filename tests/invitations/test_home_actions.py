"""The home page's actions lead where the work is: a proposal to approve opens the run that
proposes it (before, it listed proposed requests, one of which, seeded without a run, led to a
Matching page saying "No runs yet")."""

from __future__ import annotations

import datetime as dt

from runs_world import build_world, request
from sqlmodel import col, select

from peermatch import demo
from peermatch.db import session_scope
from peermatch.models import MatchRun, RequestStatus, ReviewRequest, RunStatus
from peermatch.staffing import match_runs
from peermatch.web.pages import home


def _proposed(engine, session, world) -> MatchRun:
    request(session, world, "ALPHA", "AL-2027-801", peers=1)
    run, _ = match_runs.start_run(session, world.region_id, actor="user:1", time_limit=10)
    session.commit()
    match_runs.execute_run(engine, run.id)
    session.expire_all()
    return session.get(MatchRun, run.id)


def test_the_proposal_to_approve_opens_its_run_with_the_approve_button(
    engine, session, region_a, partnership_a, alice_client
):
    world = build_world(session, region_a, partnership_a)
    run = _proposed(engine, session, world)
    board = home.dashboard(session, world.region_id, dt.date(2027, 1, 4))
    [action] = [a for a in board.actions if "proposal" in a.text]
    assert action.href == f"/runs/{run.id}"
    assert alice_client.get("/").text.count(f'href="/runs/{run.id}"') >= 1
    page = alice_client.get(action.href).text
    assert "Approve this proposal" in page and "No runs yet" not in page


def test_requests_left_proposed_by_an_earlier_run_ask_for_a_new_run(
    engine, session, region_a, partnership_a
):
    world = build_world(session, region_a, partnership_a)
    first = _proposed(engine, session, world)
    # A later run of the region fails: the proposal waiting is no longer the latest run.
    session.add(
        MatchRun(
            region_id=world.region_id,
            started_by="user:1",
            status=RunStatus.failed,
            problem=first.problem,
        )
    )
    session.commit()
    board = home.dashboard(session, world.region_id, dt.date(2027, 1, 4))
    [action] = [a for a in board.actions if "proposed" in a.text]
    assert action.href == "/runs" and "run matching again" in action.text


def test_the_demo_seeds_no_request_in_a_state_only_a_run_produces(engine):
    with session_scope(engine) as session:
        demo.seed_demo(session)
    with session_scope(engine) as session:
        left = session.exec(
            select(ReviewRequest.reference).where(
                col(ReviewRequest.status).in_([RequestStatus.matching, RequestStatus.proposed])
            )
        ).all()
    # The demo starts no run: nothing may wait on one.
    assert left == []
