"""Two coordinators pressing "Run matching" at the same moment get one run, not two: the
unique ``active_region_id`` decides, on SQLite and on PostgreSQL alike."""

from __future__ import annotations

import threading

import pytest
from runs_world import build_world, request
from sqlmodel import Session, select

from peermatch.models import MatchRun, RequestEvent, RequestStatus
from peermatch.staffing import match_runs


@pytest.fixture
def world(session, region_a, partnership_a):
    return build_world(session, region_a, partnership_a)


def test_two_coordinators_starting_at_once_get_the_same_run(engine, session, world, monkeypatch):
    q = request(session, world, "ALPHA", "AL-2027-001")
    real_build = match_runs.build_problem
    both_checked = threading.Barrier(2, timeout=30)

    def build_after_both_checked(*args, **kwargs):
        # Both coordinators have looked for a run under way and found none: the race is on.
        both_checked.wait()
        return real_build(*args, **kwargs)

    monkeypatch.setattr(match_runs, "build_problem", build_after_both_checked)
    results: list[tuple[int, bool]] = []
    errors: list[BaseException] = []

    def coordinator(actor: str) -> None:
        try:
            with Session(engine, expire_on_commit=False) as db:
                run, created = match_runs.start_run(db, world.region_id, actor=actor, time_limit=5)
                db.commit()
                results.append((run.id, created))
        except BaseException as exc:  # reported below, with the thread's own traceback lost
            errors.append(exc)

    threads = [threading.Thread(target=coordinator, args=(f"user:{i}",)) for i in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert errors == []
    assert sorted(created for _, created in results) == [False, True]
    assert len({run_id for run_id, _ in results}) == 1
    assert len(session.exec(select(MatchRun)).all()) == 1
    session.refresh(q)
    assert q.status == RequestStatus.matching
    # The request moved once, by the run that was created.
    moves = session.exec(select(RequestEvent).where(RequestEvent.request_id == q.id)).all()
    assert [e.kind for e in moves if e.kind != "created"] == ["matching"]


def test_a_second_start_while_a_run_is_under_way_returns_that_run(session, world):
    request(session, world, "ALPHA", "AL-2027-002")
    first, created = match_runs.start_run(session, world.region_id, actor="user:1", time_limit=5)
    session.commit()
    again, created_again = match_runs.start_run(
        session, world.region_id, actor="user:2", time_limit=5
    )
    assert (created, created_again) == (True, False)
    assert again.id == first.id
