"""Stable re-runs from the service: a run's problem carries the teams of the region's latest
coordinator proposal as ``previous``, so that re-running after one exclusion changes only the
pair it must."""

from __future__ import annotations

import pytest
from runs_world import build_world, request

from peermatch.models import MatchRun, PairDecisionKind, RunStatus
from peermatch.staffing import match_runs


@pytest.fixture
def world(session, region_a, partnership_a):
    return build_world(session, region_a, partnership_a)


def _run(engine, session, world, *, purpose: str = "coordinator") -> MatchRun:
    run, created = match_runs.start_run(
        session, world.region_id, actor="user:1", time_limit=10, purpose=purpose
    )
    session.commit()
    assert created
    match_runs.execute_here(engine, run.id)
    session.expire_all()
    found = session.get(MatchRun, run.id)
    assert found is not None and found.status in (RunStatus.optimal, RunStatus.feasible)
    return found


def _pairs(run: MatchRun) -> set[tuple[str, str]]:
    assert run.solution is not None
    return {(p["request"], p["reviewer"]) for p in run.solution["assignments"]}


def test_the_first_run_has_no_previous_and_a_rerun_carries_the_last_proposal(
    engine, session, world
):
    request(session, world, "ALPHA", "AL-2027-101")
    first = _run(engine, session, world)
    assert "previous" not in first.problem
    assert "kept" not in first.solution

    second = _run(engine, session, world)
    assert {(p["request"], p["reviewer"]) for p in second.problem["previous"]} == _pairs(first)
    assert second.solution["kept"] == len(_pairs(first))


def test_a_rematch_run_is_not_the_proposal_a_rerun_keeps(engine, session, world):
    request(session, world, "ALPHA", "AL-2027-102")
    first = _run(engine, session, world)
    _run(engine, session, world, purpose="rematch")
    assert match_runs.previous_proposal(session, world.region_id).id == first.id


def test_excluding_one_proposed_reviewer_changes_exactly_one_pair(engine, session, world):
    # Three requests of two peers each, nine reviewers of capacity one: the proposal fills the
    # six seats; three reviewers are left free, so one excluded reviewer can be replaced
    # without touching any other team.
    requests = [
        request(session, world, code, f"{code[:2]}-2027-2{n}")
        for n, code in enumerate(("ALPHA", "BRAVO", "CHARLIE"))
    ]
    first = _run(engine, session, world)
    before = _pairs(first)
    assert len(before) == 6

    target = requests[1]
    key, reviewer = next(p for p in sorted(before) if match_runs.request_id_of(p[0]) == target.id)
    match_runs.decide_pair(
        session,
        world.region_id,
        target.id,
        match_runs.reviewer_id_of(reviewer),
        PairDecisionKind.excluded,
        actor="user:1",
    )
    session.commit()

    second = _run(engine, session, world)
    after = _pairs(second)
    assert len(after) == 6
    assert before - after == {(key, reviewer)}  # only the excluded pair left
    assert len(after - before) == 1  # and one reviewer took the seat
    (added,) = after - before
    assert added[0] == key
    assert second.solution["kept"] == 5
