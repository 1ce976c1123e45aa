"""A run's page says what changed since the region's previous solved run (or the run the
coordinator chose), a table per request; another region's run is not found."""

from __future__ import annotations

import pytest
from runs_world import build_world, request

from peermatch.models import MatchRun, PairDecisionKind, RunStatus
from peermatch.staffing import match_runs


@pytest.fixture
def world(session, region_a, partnership_a):
    return build_world(session, region_a, partnership_a)


def _run(engine, session, world) -> MatchRun:
    run, created = match_runs.start_run(session, world.region_id, actor="user:1", time_limit=10)
    session.commit()
    assert created
    match_runs.execute_here(engine, run.id)
    session.expire_all()
    found = session.get(MatchRun, run.id)
    assert found is not None and found.status in (RunStatus.optimal, RunStatus.feasible)
    return found


def test_a_rerun_after_an_exclusion_shows_the_one_change(alice_client, engine, session, world):
    q = request(session, world, "ALPHA", "AL-2027-301")
    request(session, world, "BRAVO", "BR-2027-302")
    first = _run(engine, session, world)
    page = alice_client.get(f"/runs/{first.id}")
    assert page.status_code == 200 and "What changed since" not in page.text

    pair = next(p for p in first.solution["assignments"] if p["request"].endswith(f"#{q.id}"))
    reviewer_id = match_runs.reviewer_id_of(pair["reviewer"])
    match_runs.decide_pair(
        session, world.region_id, q.id, reviewer_id, PairDecisionKind.excluded, actor="user:1"
    )
    session.commit()
    second = _run(engine, session, world)
    name = next(n for n, i in world.reviewers.items() if i == reviewer_id)

    page = alice_client.get(f"/runs/{second.id}")
    assert page.status_code == 200
    text = page.text
    assert f"What changed since run {first.id}" in text
    assert "1 reviewer added and 1 removed, on 1 request." in text
    section = text.split('id="changes-heading"')[1].split("Proposed teams")[0]
    assert '<caption class="govuk-table__caption govuk-table__caption--m">AL-2027-301' in section
    assert '<th scope="col" class="govuk-table__header">Why</th>' in section
    assert f"A coordinator excluded {name} from this request" in section
    assert ">Removed<" in section and ">Added<" in section
    assert "Takes a seat freed on this request" in section
    assert "BR-2027-302" not in section  # its team did not change
    # The select offers the earlier run; a GET form, so the address can be shared.
    assert 'name="compare"' in section and 'method="get"' in section
    assert f'<option value="{first.id}" selected>' in section

    third = _run(engine, session, world)
    page = alice_client.get(f"/runs/{third.id}")
    assert "No team changed" in page.text
    chosen = alice_client.get(f"/runs/{third.id}?compare={first.id}")
    assert chosen.status_code == 200
    assert f"What changed since run {first.id}" in chosen.text
    assert f"A coordinator excluded {name} from this request" in chosen.text


def test_comparing_with_another_regions_run_is_not_found(
    alice_client, engine, session, world, region_b
):
    request(session, world, "ALPHA", "AL-2027-303")
    run = _run(engine, session, world)
    theirs = MatchRun(
        region_id=region_b.id,
        started_by="user:2",
        status=RunStatus.optimal,
        problem=run.problem,
        solution=run.solution,
    )
    session.add(theirs)
    session.commit()
    assert alice_client.get(f"/runs/{run.id}?compare={theirs.id}").status_code == 404
    assert alice_client.get(f"/runs/{run.id}?compare=abc").status_code == 404
    assert alice_client.get(f"/runs/{run.id}?compare=99999999").status_code == 404
    same = alice_client.get(f"/runs/{run.id}?compare={run.id}")
    assert same.status_code == 200 and "Choose another run" in same.text
