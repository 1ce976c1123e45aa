"""Matching runs on a real database: the problem built from the registry, runs solved in their
own process and validated, locks and exclusions honoured, approval and its refusals."""

from __future__ import annotations

import datetime as dt
import sys

import pytest
from runs_world import WINDOW, add, build_world, request
from sqlmodel import select

from peermatch.matching.io import parse_problem, parse_solution
from peermatch.matching.problem import DateRange, Partnership
from peermatch.matching.validate import validate
from peermatch.models import (
    Assignment,
    AssignmentStatus,
    AuditEvent,
    LedgerEntry,
    MatchRun,
    PairDecision,
    PairDecisionKind,
    RequestConflict,
    RequestStatus,
    ReviewerConflict,
    RunStatus,
)
from peermatch.staffing import match_runs


@pytest.fixture
def world(session, region_a, partnership_a):
    return build_world(session, region_a, partnership_a)


def _by_id(items):
    return {item.id: item for item in items}


def _run(engine, session, world, **kwargs):
    run, created = match_runs.start_run(
        session, world.region_id, actor="user:1", time_limit=kwargs.pop("time_limit", 10)
    )
    session.commit()
    assert created
    match_runs.execute_run(engine, run.id)
    session.expire_all()
    return session.get(MatchRun, run.id)


def _team(run, reference):
    return sorted(
        match_runs.reviewer_id_of(p["reviewer"])
        for p in run.solution["assignments"]
        if p["request"].split("/")[1].startswith(reference + "#")
    )


def test_ids_trace_back_to_the_database():
    key = match_runs.request_key("DUN", "DUN-2027-041", 12)
    assert key == "DUN/DUN-2027-041#12"
    assert match_runs.parse_id(key) == ("request", 12)
    assert match_runs.parse_id(match_runs.reviewer_key(123)) == ("reviewer", 123)
    for bad in ("r-", "r-x1", "DUN/X#", "salford", "DUN/X#1a"):
        with pytest.raises(ValueError):
            match_runs.parse_id(bad)


def test_the_problem_carries_the_registry_the_ledger_and_the_decisions(session, world):
    rv = world.reviewers
    # Ben is away over the window and conflicted with CHARLIE; Bo has capacity 2.
    ben = add(
        session,
        world,
        "Ben Away",
        "BRAVO",
        "education",
        ["rca"],
        unavailable=[(dt.date(2027, 3, 10), dt.date(2027, 3, 12))],
        conflict_partnership_ids=[world.partnerships["CHARLIE"].id],
        capacity=2,
    )
    add(session, world, "Ina Inactive", "BRAVO", "voluntary", [], active=False)
    session.commit()
    open_q = request(session, world, "CHARLIE", "CH-2027-001", skills=["rca"], high_profile=True)
    proposed_q = request(session, world, "ALPHA", "AL-2027-002", status=RequestStatus.proposed)
    # A request outside the run: inviting, its only seat held by Ben (accepted).
    full_q = request(session, world, "ALPHA", "AL-2027-003", status=RequestStatus.inviting, peers=1)
    session.add(Assignment(request_id=full_q.id, reviewer_id=ben, status=AssignmentStatus.accepted))
    # An inviting request with a free seat: Bea's invitation is held, a decline is not retried.
    part_q = request(session, world, "BRAVO", "BR-2027-004", status=RequestStatus.inviting)
    session.add(Assignment(request_id=part_q.id, reviewer_id=rv["Cal Charlie"]))
    session.add(
        Assignment(
            request_id=part_q.id, reviewer_id=rv["Ava Alpha"], status=AssignmentStatus.declined
        )
    )
    request(session, world, "BRAVO", "BR-2027-005", status=RequestStatus.draft)
    request(session, world, "BRAVO", "BR-2027-006", status=RequestStatus.completed)
    session.add(
        PairDecision(
            request_id=open_q.id,
            reviewer_id=rv["Cy Charlie"],
            kind=PairDecisionKind.excluded,
            decided_by="user:1",
        )
    )
    session.add(
        PairDecision(
            request_id=proposed_q.id,
            reviewer_id=rv["Bo Bravo"],
            kind=PairDecisionKind.locked,
            decided_by="user:1",
        )
    )
    session.add(RequestConflict(reviewer_id=rv["Cleo Charlie"], request_id=proposed_q.id))
    session.add(
        LedgerEntry(
            region_id=world.region_id,
            lender_partnership_id=world.partnerships["BRAVO"].id,
            receiver_partnership_id=world.partnerships["ALPHA"].id,
            request_id=full_q.id,
            lent_on=dt.date(2026, 5, 1),
            amount=1,
        )
    )
    session.commit()

    problem = match_runs.build_problem(session, world.region_id)
    # What is stored reads back with the contract's parser as the same problem.
    assert parse_problem(match_runs.problem_to_json(problem)) == problem

    requests = _by_id(problem.requests)
    key = {
        q: match_runs.request_key(c, q, i.id)
        for q, c, i in (
            ("CH-2027-001", "CHARLIE", open_q),
            ("AL-2027-002", "ALPHA", proposed_q),
            ("BR-2027-004", "BRAVO", part_q),
        )
    }
    assert set(requests) == set(key.values())  # no draft, completed or fully held request
    charlie = requests[key["CH-2027-001"]]
    assert (charlie.partnership, charlie.peers, charlie.high_profile) == ("CHARLIE", 2, True)
    assert charlie.required_skills == ("rca",)
    assert (charlie.window.start, charlie.window.end) == WINDOW
    reviewers = _by_id(problem.reviewers)
    assert match_runs.reviewer_key(world.reviewers["Ina Inactive"]) not in reviewers
    away = reviewers[match_runs.reviewer_key(ben)]
    assert away.capacity == 1  # 2, less the accepted seat outside this run
    assert away.unavailable == (DateRange(dt.date(2027, 3, 10), dt.date(2027, 3, 12)),)
    assert away.conflicts == {"CHARLIE"}
    assert away.skills == {"rca"} and away.agency == "education"
    assert reviewers[match_runs.reviewer_key(rv["Cleo Charlie"])].conflicts == {key["AL-2027-002"]}
    # Cal's held invitation is inside the run: locked, and his capacity still counts it.
    assert reviewers[match_runs.reviewer_key(rv["Cal Charlie"])].capacity == 1
    pairs = lambda name: {(p.request, p.reviewer) for p in getattr(problem, name)}  # noqa: E731
    assert pairs("locked") == {
        (key["BR-2027-004"], match_runs.reviewer_key(rv["Cal Charlie"])),
        (key["AL-2027-002"], match_runs.reviewer_key(rv["Bo Bravo"])),
    }
    assert pairs("excluded") == {
        (key["BR-2027-004"], match_runs.reviewer_key(rv["Ava Alpha"])),
        (key["CH-2027-001"], match_runs.reviewer_key(rv["Cy Charlie"])),
    }
    ledger = _by_id(problem.partnerships)
    assert ledger["BRAVO"] == Partnership("BRAVO", lent=1, received=0)
    assert ledger["ALPHA"] == Partnership("ALPHA", lent=0, received=1)
    assert ledger["CHARLIE"] == Partnership("CHARLIE", lent=0, received=0)


def test_a_run_is_solved_in_its_own_process_validated_and_its_requests_proposed(
    engine, session, world
):
    q1 = request(session, world, "ALPHA", "AL-2027-010", skills=["rca"])
    q2 = request(session, world, "BRAVO", "BR-2027-011", high_profile=True, peers=3)
    run = _run(engine, session, world)

    assert run.status in (RunStatus.optimal, RunStatus.feasible)
    assert run.active_region_id is None and run.finished_at is not None
    assert run.filled == len(run.solution["assignments"]) and run.seats == 5
    assert validate(parse_problem(run.problem), parse_solution(run.solution)) == []
    for q in (q1, q2):
        session.refresh(q)
        assert q.status == RequestStatus.proposed
    bravo = {world.reviewers[n] for n in ("Bea Bravo", "Ben Bravo", "Bo Bravo")}
    assert not bravo & set(_team(run, "BR-2027-011"))  # high profile: no internal peer
    actions = session.exec(select(AuditEvent.action).where(AuditEvent.entity == "matchrun")).all()
    assert actions == ["matchrun.start", "matchrun.finish"]


def test_a_lock_and_an_exclusion_change_the_next_run(engine, session, world):
    q = request(session, world, "ALPHA", "AL-2027-020", peers=2)
    first = _run(engine, session, world)
    team = _team(first, "AL-2027-020")
    assert len(team) == 2
    dropped = team[0]
    outsiders = [
        world.reviewers[n]
        for n in ("Bea Bravo", "Ben Bravo", "Bo Bravo", "Cal Charlie", "Cy Charlie")
        if world.reviewers[n] not in team
    ]
    kept = next(r for r in outsiders if r != dropped)
    match_runs.decide_pair(
        session, world.region_id, q.id, dropped, PairDecisionKind.excluded, actor="user:1"
    )
    match_runs.decide_pair(
        session, world.region_id, q.id, kept, PairDecisionKind.locked, actor="user:1"
    )
    session.commit()

    second = _run(engine, session, world)
    new_team = _team(second, "AL-2027-020")
    assert dropped not in new_team
    assert kept in new_team

    match_runs.remove_decision(session, world.region_id, q.id, dropped, actor="user:1")
    session.commit()
    problem = match_runs.build_problem(session, world.region_id)
    assert problem.excluded == ()


def test_a_lock_that_breaks_a_rule_is_refused_with_the_reason(session, world):
    q = request(session, world, "ALPHA", "AL-2027-021", high_profile=True)
    with pytest.raises(match_runs.RunRefused, match="eligibility rule high_profile_internal"):
        match_runs.decide_pair(
            session,
            world.region_id,
            q.id,
            world.reviewers["Ava Alpha"],
            PairDecisionKind.locked,
            actor="user:1",
        )


def test_approval_invites_the_team_and_moves_the_requests_to_inviting(engine, session, world):
    q = request(session, world, "ALPHA", "AL-2027-030")
    run = _run(engine, session, world)
    created = match_runs.approve_run(session, run.id, actor="user:1").invited
    session.commit()

    assert sorted(a.reviewer_id for a in created) == _team(run, "AL-2027-030")
    assert all(a.status == AssignmentStatus.invited and a.run_id == run.id for a in created)
    session.refresh(q)
    assert q.status == RequestStatus.inviting
    session.refresh(run)
    assert run.approved_at is not None and run.approved_by == "user:1"
    with pytest.raises(match_runs.RunRefused, match="already approved"):
        match_runs.approve_run(session, run.id, actor="user:1")


def test_approval_of_an_old_a_stale_or_a_failed_run_is_refused(engine, session, world):
    q = request(session, world, "ALPHA", "AL-2027-040")
    first = _run(engine, session, world)
    second = _run(engine, session, world)
    with pytest.raises(match_runs.RunRefused, match="not the region's latest run"):
        match_runs.approve_run(session, first.id, actor="user:1")

    match_runs.decide_pair(
        session,
        world.region_id,
        q.id,
        _team(second, "AL-2027-040")[0],
        PairDecisionKind.excluded,
        actor="user:1",
    )
    session.commit()
    with pytest.raises(match_runs.RunRefused, match="out of date"):
        match_runs.approve_run(session, second.id, actor="user:1")

    failed = MatchRun(region_id=world.region_id, started_by="cli", status=RunStatus.failed)
    session.add(failed)
    session.commit()
    with pytest.raises(match_runs.RunRefused, match="its status is failed"):
        match_runs.approve_run(session, failed.id, actor="user:1")
    assert session.exec(select(Assignment)).all() == []


def test_removing_a_decision_after_a_run_also_makes_it_out_of_date(engine, session, world):
    q = request(session, world, "ALPHA", "AL-2027-041")
    ben = world.reviewers["Ben Bravo"]
    match_runs.decide_pair(
        session, world.region_id, q.id, ben, PairDecisionKind.excluded, actor="user:1"
    )
    session.commit()
    run = _run(engine, session, world)
    assert match_runs.approval_problem(session, run) is None
    match_runs.remove_decision(session, world.region_id, q.id, ben, actor="user:1")
    session.commit()
    with pytest.raises(match_runs.RunRefused, match="out of date"):
        match_runs.approve_run(session, run.id, actor="user:1")


def test_a_solution_the_validator_faults_fails_the_run_and_proposes_nothing(engine, session, world):
    q = request(session, world, "ALPHA", "AL-2027-050")
    run, _ = match_runs.start_run(session, world.region_id, actor="cli", time_limit=5)
    session.commit()
    match_runs._claim(engine, run.id)
    broken = {"solution": {"status": "optimal", "assignments": []}, "violations": ["x: broken"]}
    assert match_runs._store(engine, run.id, broken, None, actor="system") == RunStatus.failed
    session.expire_all()
    assert "broke 1 matching rule" in session.get(MatchRun, run.id).error
    assert session.get(MatchRun, run.id).solution is None
    session.refresh(q)
    assert q.status == RequestStatus.submitted


def test_cancelling_stops_the_run_and_frees_its_requests(engine, session, world):
    q = request(session, world, "ALPHA", "AL-2027-060")
    run, _ = match_runs.start_run(session, world.region_id, actor="cli", time_limit=5)
    session.commit()
    match_runs.cancel_run(session, world.region_id, run.id, actor="user:1")
    session.commit()
    assert match_runs.execute_run(engine, run.id) is None  # the supervisor finds it cancelled
    session.expire_all()
    assert session.get(MatchRun, run.id).status == RunStatus.cancelled
    session.refresh(q)
    assert q.status == RequestStatus.submitted
    with pytest.raises(match_runs.RunRefused, match="already finished"):
        match_runs.cancel_run(session, world.region_id, run.id, actor="user:1")


def test_a_run_whose_server_died_is_marked_failed(session, world):
    q = request(session, world, "ALPHA", "AL-2027-070")
    run, _ = match_runs.start_run(session, world.region_id, actor="cli", time_limit=5)
    session.commit()
    later = run.heartbeat_at + match_runs.STALE_AFTER + dt.timedelta(seconds=1)
    assert match_runs.recover_stale(session, now=later) == [run.id]
    session.commit()
    session.refresh(run)
    assert run.status == RunStatus.failed and run.active_region_id is None
    assert "server stopped" in run.error
    session.refresh(q)
    assert q.status == RequestStatus.submitted


def test_a_region_with_nothing_to_match_gets_no_run(session, world):
    with pytest.raises(match_runs.RunRefused, match="no requests to match"):
        match_runs.start_run(session, world.region_id, actor="cli", time_limit=5)
    assert session.exec(select(MatchRun)).all() == []


def test_a_conflict_with_another_regions_partnership_is_left_out(session, world, partnership_b):
    q = request(session, world, "ALPHA", "AL-2027-080")
    session.add(
        ReviewerConflict(reviewer_id=world.reviewers["Bo Bravo"], partnership_id=partnership_b.id)
    )
    session.commit()
    problem = match_runs.build_problem(session, world.region_id)
    assert (
        _by_id(problem.reviewers)[match_runs.reviewer_key(world.reviewers["Bo Bravo"])].conflicts
        == frozenset()
    )
    assert q.id


def test_runs_are_listed_newest_first(engine, session, world):
    request(session, world, "ALPHA", "AL-2027-090")
    ids = [_run(engine, session, world).id for _ in range(3)]
    page = match_runs.list_runs(session, world.region_id, page=1, per_page=2)
    assert [r.id for r in page.items] == ids[::-1][:2]
    assert page.total == 3 and page.pages == 2


def test_a_solver_that_overruns_its_limit_is_killed_and_the_run_failed(
    engine, session, world, monkeypatch
):
    q = request(session, world, "ALPHA", "AL-2027-100")
    stuck = [sys.executable, "-c", "import time; time.sleep(60)"]  # a solver that never answers
    monkeypatch.setattr(match_runs, "WORKER", stuck)
    monkeypatch.setattr(match_runs, "GRACE_SECONDS", 1.0)
    run, _ = match_runs.start_run(session, world.region_id, actor="cli", time_limit=0.01)
    session.commit()
    assert match_runs.execute_run(engine, run.id) == RunStatus.failed
    session.refresh(run)
    assert "did not finish within 0.01 seconds" in run.error
    session.refresh(q)
    assert q.status == RequestStatus.submitted


def test_the_problem_carries_experience_and_practice(session, world):
    request(session, world, "ALPHA", "AL-2027-110")
    done = request(session, world, "BRAVO", "BR-2027-111", status=RequestStatus.completed)
    ava = world.reviewers["Ava Alpha"]
    session.add(Assignment(request_id=done.id, reviewer_id=ava, status=AssignmentStatus.accepted))
    session.commit()
    problem = match_runs.build_problem(session, world.region_id, today=dt.date(2027, 1, 5))
    assert problem.as_of == dt.date(2027, 1, 5)
    doc = _by_id(problem.reviewers)[match_runs.reviewer_key(ava)]
    assert doc.reviews_completed == 1
    assert doc.last_review_on == WINDOW[1]
    assert problem.requests[0].needs_experienced is False  # as the request says


def test_a_requests_team_shows_its_invitations_and_its_latest_proposal(engine, session, world):
    from peermatch.web.pages.proposal import request_team

    q = request(session, world, "ALPHA", "AL-2027-120")
    assert request_team(session, q.id).proposed is None
    run = _run(engine, session, world)
    team = request_team(session, q.id)
    assert team.run_id == run.id and team.held == []
    assert sorted(m.reviewer_id for m in team.proposed.members) == _team(run, "AL-2027-120")
    match_runs.approve_run(session, run.id, actor="user:1")
    session.commit()
    held = request_team(session, q.id).held
    assert sorted(m.reviewer_id for m, _ in held) == _team(run, "AL-2027-120")
    assert {status for _, status in held} == {"invited"}
