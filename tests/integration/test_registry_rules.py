"""The registry's rules, on a real database."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from sqlalchemy import event
from sqlmodel import select

from peermatch import registry
from peermatch.errors import NotFound, ValidationFailed
from peermatch.models import AuditEvent, Partnership, Reviewer
from peermatch.registry import ReviewerFilter, ReviewerInput

D = dt.date


@pytest.fixture
def partnership_a2(session, region_a) -> Partnership:
    p = Partnership(region_id=region_a.id, code="GAMMA", name="Gammaton Partnership")
    session.add(p)
    session.commit()
    return p


def _input(partnership, **changes) -> ReviewerInput:
    data = ReviewerInput(
        name="Priya Shah",
        email="priya.shah@example.org",
        partnership_id=partnership.id,
        agency="health",
        job_role="Designated nurse",
        skills=["rca", "peer-review"],
        capacity=2,
        unavailable=[(D(2027, 2, 1), D(2027, 2, 14))],
    )
    return replace(data, **changes)


def _add(session, region, partnership, **changes):
    view = registry.create_reviewer(session, region.id, _input(partnership, **changes), actor="t")
    session.commit()
    return view


def test_it_creates_a_reviewer_with_skills_gaps_and_conflicts(
    session, region_a, partnership_a, partnership_a2
):
    view = _add(
        session,
        region_a,
        partnership_a,
        email=" Priya.Shah@EXAMPLE.org ",
        conflict_partnership_ids=[partnership_a2.id],
    )
    assert view.email == "priya.shah@example.org"
    assert view.skills == ["peer-review", "rca"]
    assert view.unavailable == [(D(2027, 2, 1), D(2027, 2, 14))]
    assert view.conflict_partnership_ids == [partnership_a2.id]
    assert view.partnership_code == "ALPHA"


def test_it_reports_every_problem_at_once(session, region_a, partnership_a):
    bad = ReviewerInput(
        name=" ",
        email="not-an-email",
        partnership_id=None,
        agency="wizards",
        skills=["rca", "juggling"],
        capacity=-1,
        accredited_on=dt.date.today() + dt.timedelta(days=3),
        unavailable=[(D(2027, 3, 2), D(2027, 3, 1))],
        conflict_partnership_ids=[987654],
    )
    with pytest.raises(ValidationFailed) as caught:
        registry.create_reviewer(session, region_a.id, bad, actor="t")
    assert set(caught.value.errors) == {
        "name",
        "email",
        "partnership_id",
        "agency",
        "skills",
        "capacity",
        "accredited_on",
        "unavailable",
        "conflict_partnership_ids",
    }
    assert session.exec(select(Reviewer)).all() == []


def test_it_bounds_capacity(session, region_a, partnership_a):
    for capacity in (None, 11):
        with pytest.raises(ValidationFailed) as caught:
            registry.create_reviewer(
                session, region_a.id, _input(partnership_a, capacity=capacity), actor="t"
            )
        assert set(caught.value.errors) == {"capacity"}
    assert _add(session, region_a, partnership_a, capacity=0).capacity == 0


def test_an_email_is_unique_service_wide_ignoring_case(
    session, region_a, region_b, partnership_a, partnership_b
):
    _add(session, region_a, partnership_a)
    with pytest.raises(ValidationFailed) as caught:
        registry.create_reviewer(
            session,
            region_b.id,
            _input(partnership_b, email="PRIYA.SHAH@example.org"),
            actor="t",
        )
    assert set(caught.value.errors) == {"email"}


def test_a_partnership_and_conflicts_must_be_in_the_callers_region(
    session, region_a, partnership_a, partnership_b
):
    with pytest.raises(ValidationFailed) as caught:
        registry.create_reviewer(
            session,
            region_a.id,
            _input(partnership_b, conflict_partnership_ids=[partnership_b.id]),
            actor="t",
        )
    assert set(caught.value.errors) == {"partnership_id", "conflict_partnership_ids"}


def test_another_regions_reviewer_is_not_found(session, region_a, region_b, partnership_a):
    view = _add(session, region_a, partnership_a)
    with pytest.raises(NotFound):
        registry.get_reviewer(session, region_b.id, view.id)
    with pytest.raises(NotFound):
        registry.update_reviewer(session, region_b.id, view.id, view.as_input(), actor="t")
    assert registry.list_reviewers(session, region_b.id, ReviewerFilter()).total == 0


def test_an_update_audits_changed_field_names_only(
    session, region_a, partnership_a, partnership_a2
):
    view = _add(session, region_a, partnership_a)
    changed = replace(
        view.as_input(),
        job_role="Named nurse",
        skills=["rca"],
        conflict_partnership_ids=[partnership_a2.id],
    )
    after = registry.update_reviewer(session, region_a.id, view.id, changed, actor="user:1")
    session.commit()
    assert after.job_role == "Named nurse" and after.skills == ["rca"]
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "reviewer.update")).one()
    assert event.actor == "user:1"
    assert event.detail == {"fields": ["job_role", "skills", "conflict_partnership_ids"]}
    assert "Priya" not in str(event.detail) and "example.org" not in str(event.detail)


def test_an_update_may_keep_its_own_email(session, region_a, partnership_a):
    view = _add(session, region_a, partnership_a)
    data = replace(view.as_input(), email="PRIYA.SHAH@example.org", capacity=3)
    assert registry.update_reviewer(session, region_a.id, view.id, data, actor="t").capacity == 3


def test_a_failed_update_writes_nothing(session, region_a, partnership_a):
    view = _add(session, region_a, partnership_a)
    with pytest.raises(ValidationFailed):
        registry.update_reviewer(
            session, region_a.id, view.id, replace(view.as_input(), capacity=99), actor="t"
        )
    session.rollback()
    assert registry.get_reviewer(session, region_a.id, view.id).capacity == 2


def test_it_filters_searches_and_pages(session, region_a, partnership_a, partnership_a2):
    _add(session, region_a, partnership_a, name="Ann Archer", email="ann@example.org")
    _add(
        session,
        region_a,
        partnership_a2,
        name="Ben Brook",
        email="ben@example.org",
        agency="police",
        skills=["lead-reviewer"],
        unavailable=[],
    )
    _add(
        session,
        region_a,
        partnership_a,
        name="carla O'Brien",
        email="carla@example.org",
        active=False,
        unavailable=[(D(2027, 1, 1), D(2027, 1, 31))],
    )

    def names(**filters):
        page = registry.list_reviewers(session, region_a.id, ReviewerFilter(**filters))
        return [r.name for r in page.items]

    assert names() == ["Ann Archer", "Ben Brook", "carla O'Brien"]
    assert names(q="BRIE") == ["carla O'Brien"]
    assert names(q="%") == []
    assert names(partnership_id=partnership_a2.id) == ["Ben Brook"]
    assert names(agency="police") == ["Ben Brook"]
    assert names(skill="rca") == ["Ann Archer", "carla O'Brien"]
    assert names(available_on=D(2027, 2, 14)) == ["Ben Brook", "carla O'Brien"]
    assert names(available_on=D(2027, 1, 1)) == ["Ann Archer", "Ben Brook"]
    assert names(available_on=D(2027, 2, 15)) == ["Ann Archer", "Ben Brook", "carla O'Brien"]
    assert names(active=False) == ["carla O'Brien"]
    page = registry.list_reviewers(session, region_a.id, ReviewerFilter(), page=2, per_page=2)
    assert [r.name for r in page.items] == ["carla O'Brien"]
    assert (page.total, page.pages) == (3, 2)


def test_it_summarises_partnerships(session, region_a, partnership_a, partnership_a2):
    _add(session, region_a, partnership_a)
    _add(session, region_a, partnership_a, email="x@example.org", active=False)
    summary = {p.code: p for p in registry.list_partnerships(session, region_a.id)}
    assert (summary["ALPHA"].reviewers, summary["ALPHA"].active_reviewers) == (2, 1)
    assert (summary["GAMMA"].reviewers, summary["GAMMA"].active_reviewers) == (0, 0)


def test_an_email_taken_by_a_parallel_transaction_is_a_field_error(
    session, region_a, partnership_a, monkeypatch
):
    _add(session, region_a, partnership_a)
    # As if another transaction had committed the same email after our check ran.
    monkeypatch.setattr(registry, "_email_problem", lambda *args: None)
    with pytest.raises(ValidationFailed) as caught:
        registry.create_reviewer(session, region_a.id, _input(partnership_a), actor="t")
    assert set(caught.value.errors) == {"email"}
    assert len(registry.list_reviewers(session, region_a.id).items) == 1


def test_a_page_of_reviewers_costs_a_fixed_number_of_queries(
    session, engine, region_a, partnership_a, partnership_a2
):
    for i in range(30):
        _add(
            session,
            region_a,
            partnership_a,
            name=f"Reviewer {i:02d}",
            email=f"r{i}@example.org",
            conflict_partnership_ids=[partnership_a2.id],
        )
    region_id = region_a.id
    session.expire_all()
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        page = registry.list_reviewers(session, region_id, ReviewerFilter(skill="rca"))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(page.items) == 25 and all(r.skills for r in page.items)
    # count, page, skills, gaps, conflicts, and the organisations named (one query each)
    assert len(statements) <= 6, statements
