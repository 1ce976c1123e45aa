"""``peermatch match`` and ``peermatch runs``: the same runs as the button, one-line refusals."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from runs_world import build_world, request
from sqlmodel import select

from peermatch.cli import main
from peermatch.models import Assignment, MatchRun, RequestStatus, RunStatus


@pytest.fixture
def world(session, region_a, partnership_a):
    return build_world(session, region_a, partnership_a)


@pytest.fixture
def run(database_url, engine):
    def invoke(*args: str):
        env = {"PEERMATCH_DATABASE_URL": database_url, "PEERMATCH_MODE": "development"}
        return CliRunner().invoke(main, list(args), env=env)

    return invoke


def _refused(result, code: int = 2) -> str:
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1, message
    return message


def test_match_stores_a_run_prints_its_id_first_and_writes_the_documents(
    run, session, world, tmp_path
):
    q = request(session, world, "ALPHA", "AL-2027-001")
    result = run("match", "--region", "north-a", "--time-limit", "5", "--out", str(tmp_path / "o"))
    assert result.exit_code == 0, result.output
    first = result.stdout.splitlines()[0]
    stored = session.exec(select(MatchRun)).one()
    assert first.startswith(f"run {stored.id}: status {stored.status}")
    assert stored.started_by == "cli" and stored.status in (RunStatus.optimal, RunStatus.feasible)
    assert json.loads((tmp_path / "o" / "problem.json").read_text()) == stored.problem
    assert json.loads((tmp_path / "o" / "solution.json").read_text()) == stored.solution
    session.refresh(q)
    assert q.status == RequestStatus.proposed


def test_match_names_an_unknown_region(run, world):
    assert "'nowhere'" in _refused(run("match", "--region", "nowhere"))


def test_match_with_nothing_to_match_says_so(run, world):
    assert "no requests to match" in _refused(run("match", "--region", "north-a"))


def test_runs_list_shows_the_newest_first(run, session, world):
    request(session, world, "ALPHA", "AL-2027-002")
    for _ in range(2):
        assert run("match", "--region", "north-a", "--time-limit", "5").exit_code == 0
    ids = [r.id for r in session.exec(select(MatchRun).order_by(MatchRun.id.desc())).all()]
    listed = run("runs", "list", "--region", "north-a")
    assert listed.exit_code == 0
    assert [int(line.split("\t")[0]) for line in listed.stdout.splitlines()] == ids


def test_runs_approve_invites_the_latest_run_and_refuses_it_twice(run, session, world):
    request(session, world, "ALPHA", "AL-2027-003")
    run("match", "--region", "north-a", "--time-limit", "5")
    run_id = session.exec(select(MatchRun.id)).one()
    approved = run("runs", "approve", str(run_id))
    assert approved.exit_code == 0, approved.output
    assert f"run {run_id}: approved" in approved.stdout
    assert len(session.exec(select(Assignment)).all()) == 2
    assert "already approved" in _refused(run("runs", "approve", str(run_id)))


def test_runs_approve_refuses_a_run_that_is_not_the_latest(run, session, world):
    request(session, world, "ALPHA", "AL-2027-004")
    run("match", "--region", "north-a", "--time-limit", "5")
    run("match", "--region", "north-a", "--time-limit", "5")
    first = session.exec(select(MatchRun.id).order_by(MatchRun.id)).first()
    assert "not the region's latest run" in _refused(run("runs", "approve", str(first)))


def test_runs_approve_refuses_an_unknown_run(run, world):
    assert "999" in _refused(run("runs", "approve", "999"))
