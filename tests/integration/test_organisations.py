"""Organisations (issue 15): the registry of employers, reviewers in them, requests naming the
ones involved, and the matching rule built from them: a reviewer of ANY partnership employed by
an involved organisation is never proposed; one of the same agency type from an organisation not
involved can be."""

from __future__ import annotations

import pytest
from runs_world import WINDOW, add, build_world
from sqlmodel import select

from peermatch import organisations, registry
from peermatch.errors import NotFound, ValidationFailed
from peermatch.matching.io import parse_problem
from peermatch.matching.solver import solve
from peermatch.models import AuditEvent, Partnership, RequestStatus
from peermatch.staffing import match_runs
from peermatch.staffing.requests import RequestInput, create_request, update_request


@pytest.fixture
def world(session, region_a, partnership_a):
    return build_world(session, region_a, partnership_a)


def _ids(world, *codes):
    return [world.partnerships[c].id for c in codes]


def _force(session, world, name="Northshire Police", codes=("ALPHA", "BRAVO", "CHARLIE")):
    org = organisations.create_organisation(
        session,
        world.region_id,
        name=name,
        agency="police",
        partnership_ids=_ids(world, *codes),
        actor="user:1",
    )
    session.commit()
    return org


def _request(session, world, code, reference, *, orgs=(), agencies=(), peers=2):
    created = create_request(
        session,
        world.region_id,
        RequestInput(
            partnership_id=world.partnerships[code].id,
            reference=reference,
            methodology="peer-review",
            window_start=WINDOW[0],
            window_end=WINDOW[1],
            peers=peers,
            agencies_involved=list(agencies),
            organisations_involved=list(orgs),
            needs_experienced=False,
        ),
        actor="test",
        status=RequestStatus.submitted,
    )
    session.commit()
    return created


def _proposed(session, world):
    problem = match_runs.build_problem(session, world.region_id)
    solution = solve(problem, time_limit=10)
    return problem, {
        (p.request, match_runs.reviewer_id_of(p.reviewer)) for p in solution.assignments
    }


# --- the registry ------------------------------------------------------------------------------


def test_every_reviewer_has_an_organisation_the_default_one_per_partnership_and_agency(
    session, world
):
    ava = registry.get_reviewer(session, world.region_id, world.reviewers["Ava Alpha"])
    assert ava.organisation_name == "Alphaton Safeguarding Children Partnership Police"
    again = add(session, world, "Amy Alpha", "ALPHA", "police", [])
    assert registry.get_reviewer(session, world.region_id, again).organisation_id == (
        ava.organisation_id
    )
    org = organisations.get_organisation(session, world.region_id, ava.organisation_id)
    assert org.agency == "police" and org.partnership_ids == [world.partnerships["ALPHA"].id]


def test_an_organisation_is_added_renamed_and_audited(session, world):
    org = _force(session, world, codes=("ALPHA", "BRAVO"))
    assert org.partnership_ids == sorted(_ids(world, "ALPHA", "BRAVO"))
    renamed = organisations.update_organisation(
        session,
        world.region_id,
        org.id,
        name="Northshire  Constabulary",
        partnership_ids=_ids(world, "ALPHA", "BRAVO", "CHARLIE"),
        actor="user:1",
    )
    assert renamed.name == "Northshire Constabulary" and len(renamed.partnership_ids) == 3
    actions = session.exec(
        select(AuditEvent.action).where(AuditEvent.entity == "organisation")
    ).all()
    assert actions == ["organisation.create", "organisation.update"]


def test_organisation_rules(session, world, region_b):
    _force(session, world)
    with pytest.raises(ValidationFailed) as failed:
        organisations.create_organisation(
            session,
            world.region_id,
            name="northshire police",
            agency="spies",
            partnership_ids=[],
            actor="user:1",
        )
    assert set(failed.value.errors) == {"name", "agency", "partnership_ids"}
    other = Partnership(region_id=region_b.id, code="ZED", name="Zed")
    session.add(other)
    session.flush()
    with pytest.raises(ValidationFailed) as failed:
        organisations.create_organisation(
            session,
            world.region_id,
            name="Elsewhere ICB",
            agency="health",
            partnership_ids=[other.id],
            actor="user:1",
        )
    assert "partnership_ids" in failed.value.errors


def test_another_region_cannot_see_or_change_an_organisation(session, world, region_b):
    org = _force(session, world)
    with pytest.raises(NotFound):
        organisations.get_organisation(session, region_b.id, org.id)
    with pytest.raises(NotFound):
        organisations.update_organisation(
            session, region_b.id, org.id, name="Mine", partnership_ids=[], actor="user:2"
        )
    assert organisations.list_organisations(session, region_b.id) == []


def test_a_reviewer_may_only_join_an_organisation_of_their_agency_serving_their_partnership(
    session, world
):
    org = _force(session, world, codes=("ALPHA", "BRAVO"))
    rid = world.reviewers["Ava Alpha"]
    view = registry.get_reviewer(session, world.region_id, rid)
    data = view.as_input()
    data.organisation_id = org.id
    moved = registry.update_reviewer(session, world.region_id, rid, data, actor="user:1")
    assert moved.organisation_name == "Northshire Police"
    data.agency = "health"
    with pytest.raises(ValidationFailed) as failed:
        registry.update_reviewer(session, world.region_id, rid, data, actor="user:1")
    assert "organisation_id" in failed.value.errors
    cal = registry.get_reviewer(session, world.region_id, world.reviewers["Cal Charlie"])
    data = cal.as_input()
    data.organisation_id = org.id  # does not serve CHARLIE
    with pytest.raises(ValidationFailed) as failed:
        registry.update_reviewer(session, world.region_id, cal.id, data, actor="user:1")
    assert "serve" in failed.value.errors["organisation_id"]
    # An update that names no organisation keeps the one they have.
    data = moved.as_input()
    data.organisation_id = None
    data.job_role = "DI"
    kept = registry.update_reviewer(session, world.region_id, rid, data, actor="user:1")
    assert kept.organisation_id == org.id


def test_a_served_partnership_with_reviewers_in_it_cannot_be_dropped(session, world):
    org = _force(session, world)
    add(session, world, "Pat Police", "BRAVO", "police", [], organisation_id=org.id)
    with pytest.raises(ValidationFailed) as failed:
        organisations.update_organisation(
            session,
            world.region_id,
            org.id,
            name=org.name,
            partnership_ids=_ids(world, "ALPHA"),
            actor="user:1",
        )
    assert "move those reviewers" in failed.value.errors["partnership_ids"]


# --- requests ------------------------------------------------------------------------------


def test_a_request_names_organisations_serving_it_and_their_agency_types_are_involved_too(
    session, world
):
    org = _force(session, world)
    created = _request(session, world, "ALPHA", "A-1", orgs=[org.id], agencies=["health"])
    assert created.organisations_involved == [org.id]
    assert created.agencies_involved == ["health", "police"]
    elsewhere = organisations.create_organisation(
        session,
        world.region_id,
        name="Bravoton ICB",
        agency="health",
        partnership_ids=_ids(world, "BRAVO"),
        actor="user:1",
    )
    with pytest.raises(ValidationFailed) as failed:
        _request(session, world, "ALPHA", "A-2", orgs=[elsewhere.id])
    assert "organisations_involved" in failed.value.errors
    data = RequestInput(
        partnership_id=world.partnerships["ALPHA"].id,
        reference="A-1",
        methodology="peer-review",
        window_start=WINDOW[0],
        window_end=WINDOW[1],
        organisations_involved=[],
        needs_experienced=False,
    )
    updated = update_request(session, world.region_id, created.id, data, actor="test")
    assert updated.organisations_involved == [] and updated.agencies_involved == []


# --- the matching problem and the rule --------------------------------------------------------


def test_the_problem_carries_each_reviewers_organisation_and_each_requests_involved_ones(
    session, world
):
    org = _force(session, world)
    pat = add(session, world, "Pat Police", "BRAVO", "police", [], organisation_id=org.id)
    q = _request(session, world, "ALPHA", "A-1", orgs=[org.id])
    problem = match_runs.build_problem(session, world.region_id)
    reviewers = {r.id: r for r in problem.reviewers}
    assert reviewers[match_runs.reviewer_key(pat)].organisation == f"o-{org.id}"
    assert all((r.organisation or "").startswith("o-") for r in reviewers.values())
    (doc,) = [d for d in problem.requests if d.id.endswith(f"#{q.id}")]
    assert doc.organisations_involved == {f"o-{org.id}"}
    # Stored, it reads back the same with the contract's parser.
    stored = parse_problem(match_runs.problem_to_json(problem))
    assert stored.requests[0].organisations_involved == frozenset({f"o-{org.id}"})


def _only(session, world, *keep):
    """Every other reviewer made inactive, so the team can only come from ``keep``."""
    for rid in list(world.reviewers.values()):
        if rid not in keep:
            data = registry.get_reviewer(session, world.region_id, rid).as_input()
            data.active = False
            registry.update_reviewer(session, world.region_id, rid, data, actor="test")
    session.commit()


def test_a_reviewer_of_another_partnership_employed_by_an_involved_organisation_is_never_proposed(
    session, world
):
    org = _force(session, world)
    bravo_officer = add(session, world, "Pat Police", "BRAVO", "police", [], organisation_id=org.id)
    charlie_officer = add(
        session, world, "Kim Police", "CHARLIE", "police", [], organisation_id=org.id
    )
    _only(session, world, bravo_officer, charlie_officer)
    q = _request(session, world, "ALPHA", "A-1", orgs=[org.id], peers=1)
    problem, pairs = _proposed(session, world)
    assert not [r for key, r in pairs if key.endswith(f"#{q.id}")]
    solution = solve(problem, time_limit=10)
    (outcome,) = solution.requests
    assert outcome.unfilled is not None
    assert outcome.unfilled.ineligible["involved_organisation"] == 2
    # Without the organisation named, the same officers of other partnerships are eligible.
    data = RequestInput(
        partnership_id=world.partnerships["ALPHA"].id,
        reference="A-1",
        methodology="peer-review",
        window_start=WINDOW[0],
        window_end=WINDOW[1],
        peers=1,
        agencies_involved=["police"],  # ALPHA's own police: still not theirs
        needs_experienced=False,
    )
    update_request(session, world.region_id, q.id, data, actor="test")
    session.commit()
    _, pairs = _proposed(session, world)
    assert {r for key, r in pairs if key.endswith(f"#{q.id}")} <= {bravo_officer, charlie_officer}
    assert len(pairs) == 1


def test_one_of_the_same_agency_type_from_an_uninvolved_organisation_can_be_proposed(
    session, world
):
    """Northshire Police is involved; Southshire Police serves CHARLIE too: its officer may
    review (the agency type alone excludes only the requesting partnership's own)."""
    northshire = _force(session, world, codes=("ALPHA", "BRAVO"))
    southshire = _force(session, world, name="Southshire Police", codes=("CHARLIE",))
    excluded = add(
        session, world, "Pat Police", "BRAVO", "police", [], organisation_id=northshire.id
    )
    kim = add(session, world, "Kim Police", "CHARLIE", "police", [], organisation_id=southshire.id)
    _only(session, world, excluded, kim)
    q = _request(session, world, "ALPHA", "A-1", orgs=[northshire.id], peers=1)
    problem, pairs = _proposed(session, world)
    assert {r for key, r in pairs if key.endswith(f"#{q.id}")} == {kim}
    # ALPHA's own police are out by agency type as well (their organisation is involved here,
    # and would be by type anyway).
    assert "police" in problem.requests[0].agencies_involved


# --- the CSV ---------------------------------------------------------------------------------

CSV_HEADER = "name,email,partnership,agency,job_role,skills,capacity,active,accredited_on,unavailable,conflicts,organisation\n"  # noqa: E501


def test_the_csv_names_each_reviewers_organisation_and_exports_it(session, world):
    from peermatch import reviewer_csv

    org = _force(session, world)
    content = (
        CSV_HEADER
        + "Pat Police,pat@example.org,BRAVO,police,,,1,yes,,,,northshire  POLICE\n"
        + "Hal Health,hal@example.org,BRAVO,health,,,1,yes,,,,\n"
    )
    assert reviewer_csv.apply_import(session, world.region_id, content.encode(), actor="t") == 2
    views = {v.name: v for v in registry.all_reviewers(session, world.region_id)}
    assert views["Pat Police"].organisation_id == org.id
    assert views["Hal Health"].organisation_name.startswith("Bravoton Partnership")
    exported = reviewer_csv.export_reviewers(session, world.region_id)
    assert '"Pat Police"' in exported and '"Northshire Police"' in exported


def test_an_unknown_or_unfitting_organisation_is_a_problem_on_its_row(session, world):
    from peermatch import reviewer_csv

    _force(session, world, codes=("ALPHA",))
    content = (
        CSV_HEADER
        + "Pat Police,pat@example.org,BRAVO,police,,,1,yes,,,,Northshire Police\n"
        + "Hal Health,hal@example.org,ALPHA,health,,,1,yes,,,,Northshire Police\n"
        + "Uma Unknown,uma@example.org,ALPHA,police,,,1,yes,,,,Southshire Police\n"
    )
    preview = reviewer_csv.preview_import(session, world.region_id, content.encode())
    problems = {(e.line, e.field): e.message for e in preview.errors}
    assert "does not serve" in problems[(2, "organisation")]
    assert "is a Police organisation" in problems[(3, "organisation")]
    assert "Unknown organisation" in problems[(4, "organisation")]
