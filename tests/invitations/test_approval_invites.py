"""Approving a proposal invites its team in the same transaction; the home page counts what
invitations need."""

from __future__ import annotations

from invitation_helpers import find_replacements, link_of, token_of
from runs_world import build_world, request
from sqlmodel import select

from peermatch.models import MatchRun, OutboxMessage, RequestEvent, RequestStatus, utcnow
from peermatch.staffing import invitations, match_runs
from peermatch.web.pages import home


def _approved(engine, session, settings, world, reference: str):
    q = request(session, world, "ALPHA", reference)
    run, _ = match_runs.start_run(session, world.region_id, actor="user:1", time_limit=10)
    session.commit()
    match_runs.execute_run(engine, run.id)
    session.expire_all()
    created = match_runs.approve_run(
        session, run.id, actor="user:1", region_id=world.region_id, settings=settings
    ).invited
    session.commit()
    return q, session.get(MatchRun, run.id), created


def test_approving_a_proposal_writes_each_invitation_to_the_outbox(
    engine, session, settings, region_a, partnership_a
):
    world = build_world(session, region_a, partnership_a)
    q, _, created = _approved(engine, session, settings, world, "AL-2027-501")
    assert len(created) == 2
    messages = session.exec(select(OutboxMessage)).all()
    assert sorted(m.assignment_id for m in messages) == sorted(a.id for a in created)
    assert {m.kind for m in messages} == {"invitation"}
    for assignment in created:
        session.refresh(assignment)
        assert assignment.expires_at is not None and assignment.link_nonce and assignment.ics_uid
    session.refresh(q)
    assert q.status == RequestStatus.inviting
    kinds = session.exec(select(RequestEvent.kind).where(RequestEvent.request_id == q.id)).all()
    assert kinds.count("invited") == 2 and kinds.count("inviting") == 1


def test_a_failed_approval_writes_no_email(engine, session, settings, region_a, partnership_a):
    world = build_world(session, region_a, partnership_a)
    _approved(engine, session, settings, world, "AL-2027-502")
    before = len(session.exec(select(OutboxMessage)).all())
    run = session.exec(select(MatchRun)).first()
    try:
        match_runs.approve_run(session, run.id, actor="user:1", settings=settings)
    except match_runs.RunRefused:
        session.rollback()
    assert len(session.exec(select(OutboxMessage)).all()) == before


def test_the_home_page_counts_open_invitations_dead_letters_and_rematches(
    engine, session, settings, region_a, partnership_a, alice_client
):
    world = build_world(session, region_a, partnership_a)
    _, _, created = _approved(engine, session, settings, world, "AL-2027-503")
    invitations.decline(session, settings, token_of(link_of(session, created[0])), None)
    find_replacements(session, settings, now=utcnow())
    message = session.exec(select(OutboxMessage)).first()
    message.status = "dead"
    session.add(message)
    session.commit()
    tiles = home.invitation_tiles(session, world.region_id)
    assert (tiles.awaiting_answer, tiles.dead_letters, tiles.rematched_last_30_days) == (2, 1, 1)
    page = alice_client.get("/").text
    assert "Awaiting an answer" in page and "Seats re-matched automatically" in page
    assert 'href="/outbox?status=dead"' in page


def test_the_request_page_links_to_its_invitations(
    engine, session, settings, region_a, partnership_a, alice_client
):
    world = build_world(session, region_a, partnership_a)
    q, _, _ = _approved(engine, session, settings, world, "AL-2027-504")
    page = alice_client.get(f"/requests/{q.id}").text
    assert f'href="/requests/{q.id}/invitations"' in page
    invites = alice_client.get(f"/requests/{q.id}/invitations").text
    assert invites.count("govuk-tag--blue") == 2  # two invited
