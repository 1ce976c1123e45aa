"""The matching pages: Run matching, progress, the proposal, decisions, approval; refusals as
messages on the page, never a 500; another region's runs are not found."""

from __future__ import annotations

import re
import time

import pytest
from runs_world import build_world, request
from sqlmodel import select

from peermatch.models import Assignment, MatchRun, PairDecision, RequestStatus, RunStatus


@pytest.fixture
def world(session, region_a, partnership_a):
    return build_world(session, region_a, partnership_a)


def _wait(session, run_id: int) -> MatchRun:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        session.expire_all()
        run = session.get(MatchRun, run_id)
        if run.status not in (RunStatus.queued, RunStatus.running):
            return run
        time.sleep(0.2)
    raise AssertionError("the run did not finish")


def _start(client, post_form) -> int:
    response = post_form(client, "/runs", {}, page="/runs")
    assert response.status_code == 303, response.text
    match = re.match(r"/runs/(\d+)\?done=(started|already)", response.headers["location"])
    assert match
    return int(match.group(1))


def test_run_matching_shows_progress_then_the_proposal(alice_client, post_form, session, world):
    request(session, world, "ALPHA", "AL-2027-001", high_profile=True)
    run_id = _start(alice_client, post_form)
    page = alice_client.get(f"/runs/{run_id}?done=started")
    assert page.status_code == 200
    assert "Matching has started" in page.text
    run = _wait(session, run_id)
    assert run.status in (RunStatus.optimal, RunStatus.feasible)

    progress = alice_client.get(f"/runs/{run_id}/progress")
    assert progress.headers.get("hx-refresh") == "true"  # HTMX reloads to show the result
    proposal = alice_client.get(f"/runs/{run_id}")
    assert "Proposed teams" in proposal.text and "AL-2027-001" in proposal.text
    assert "Approve this proposal" in proposal.text
    assert 'role="img"' in proposal.text and "Reciprocity balance" in proposal.text
    assert "Ava Alpha" not in proposal.text.split("Alternates")[0]  # no internal peer
    listing = alice_client.get("/runs")
    assert f'href="/runs/{run_id}"' in listing.text and "Alice" in listing.text


def test_a_run_under_way_polls_and_can_be_cancelled(alice_client, post_form, session, world):
    q = request(session, world, "ALPHA", "AL-2027-002")
    run = MatchRun(region_id=world.region_id, started_by="user:1", time_limit=30)
    session.add(run)
    session.commit()
    page = alice_client.get(f"/runs/{run.id}")
    assert 'hx-trigger="every 2s"' in page.text and ">Refresh</a>" in page.text
    cancelled = post_form(alice_client, f"/runs/{run.id}/cancel", {}, page=f"/runs/{run.id}")
    assert cancelled.status_code == 303
    session.refresh(run)
    assert run.status == RunStatus.cancelled
    session.refresh(q)
    again = post_form(alice_client, f"/runs/{run.id}/cancel", {}, page=f"/runs/{run.id}")
    assert again.status_code == 400 and "already finished" in again.text
    assert "There is a problem" in again.text


def test_lock_exclude_and_approve_from_the_proposal(alice_client, post_form, session, world):
    q = request(session, world, "ALPHA", "AL-2027-003")
    run_id = _start(alice_client, post_form)
    run = _wait(session, run_id)
    reviewer = int(run.solution["assignments"][0]["reviewer"][2:])
    form = {"request_id": str(q.id), "reviewer_id": str(reviewer), "action": "excluded"}
    excluded = post_form(alice_client, f"/runs/{run_id}/decisions", form, page=f"/runs/{run_id}")
    assert excluded.status_code == 303
    assert session.exec(select(PairDecision)).one().kind == "excluded"

    stale = post_form(alice_client, f"/runs/{run_id}/approve", {}, page="/runs")
    assert stale.status_code == 400 and "out of date" in stale.text

    rerun = _wait(session, _start(alice_client, post_form))
    assert all(int(p["reviewer"][2:]) != reviewer for p in rerun.solution["assignments"])
    approved = post_form(alice_client, f"/runs/{rerun.id}/approve", {}, page="/runs")
    assert approved.status_code == 303
    assert len(session.exec(select(Assignment)).all()) == 2
    session.refresh(q)
    assert q.status == RequestStatus.inviting


def test_a_bad_decision_form_is_a_message_not_a_crash(alice_client, post_form, session, world):
    request(session, world, "ALPHA", "AL-2027-004")
    run = MatchRun(region_id=world.region_id, started_by="user:1", status=RunStatus.failed)
    session.add(run)
    session.commit()
    bad = post_form(
        alice_client,
        f"/runs/{run.id}/decisions",
        {"request_id": "x", "reviewer_id": "1", "action": "delete"},
        page="/runs",
    )
    assert bad.status_code == 400 and "Choose a reviewer" in bad.text
    refused = post_form(alice_client, f"/runs/{run.id}/approve", {}, page="/runs")
    assert refused.status_code == 400 and "its status is failed" in refused.text


def test_run_matching_with_nothing_to_match_says_so(alice_client, post_form, world):
    response = post_form(alice_client, "/runs", {}, page="/runs")
    assert response.status_code == 400
    assert "There is a problem" in response.text and "no requests to match" in response.text


def test_another_regions_run_is_not_found(bob_client, session, world):
    run = MatchRun(region_id=world.region_id, started_by="user:1", status=RunStatus.failed)
    session.add(run)
    session.commit()
    assert bob_client.get(f"/runs/{run.id}").status_code == 404
    assert bob_client.get(f"/runs/{run.id}/progress").status_code == 404


def test_hostile_addresses_are_answered_plainly(alice_client, world):
    assert alice_client.get("/runs/not-a-number").status_code == 404
    assert alice_client.get("/runs/999999").status_code == 404
    for page in ("-5", "abc", "99999"):
        response = alice_client.get(f"/runs?page={page}")
        assert response.status_code == 200 and "Run matching" in response.text
