"""The requests service: changing, triaging and cancelling requests, reading them (every view
audited, never across regions), and the numbers on the home page."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from sqlmodel import select

from peermatch import ledger
from peermatch.errors import NotFound, ValidationFailed
from peermatch.models import (
    Assignment,
    AssignmentStatus,
    AuditEvent,
    LedgerEntry,
    Partnership,
    RequestSource,
    RequestStatus,
)
from peermatch.staffing import requests
from peermatch.staffing.lifecycle import IllegalTransition, transition
from peermatch.staffing.requests import (
    NotEditable,
    RequestFilter,
    RequestInput,
    create_request,
)
from peermatch.web.pages import home

D = dt.date


def _input(partnership, **changes) -> RequestInput:
    data = RequestInput(
        partnership_id=partnership.id,
        reference="ALPHA-2027-014",
        methodology="peer-review",
        window_start=D(2027, 3, 1),
        window_end=D(2027, 3, 26),
        peers=2,
        notified_on=D(2027, 3, 22),
    )
    return replace(data, **changes)


@pytest.fixture
def draft(session, partnership_a):
    request = create_request(session, partnership_a.region_id, _input(partnership_a), actor="u:1")
    session.commit()
    return request


def test_a_new_request_gets_the_computed_deadline_and_the_experience_default(draft):
    # 15 working days from 22 March 2027, skipping Good Friday and Easter Monday.
    assert draft.statutory_deadline == D(2027, 4, 14)
    assert draft.deadline_overridden is False
    assert draft.needs_experienced is True
    assert draft.source == RequestSource.coordinator


def test_one_peer_needs_no_experienced_reviewer_unless_asked(session, partnership_a):
    one = create_request(
        session, partnership_a.region_id, _input(partnership_a, peers=1), actor="t"
    )
    asked = create_request(
        session,
        partnership_a.region_id,
        _input(partnership_a, reference="ALPHA-2027-015", peers=1, needs_experienced=True),
        actor="t",
    )
    assert (one.needs_experienced, asked.needs_experienced) == (False, True)


def test_a_request_from_the_api_records_its_source(session, partnership_a):
    request = create_request(
        session,
        partnership_a.region_id,
        _input(partnership_a),
        actor="apikey:1",
        source=RequestSource.api,
    )
    assert request.source == RequestSource.api


def test_a_typed_deadline_equal_to_the_computed_one_is_not_an_override(session, partnership_a):
    request = create_request(
        session,
        partnership_a.region_id,
        _input(partnership_a, statutory_deadline=D(2027, 4, 14)),
        actor="t",
    )
    assert request.deadline_overridden is False


def test_an_update_changes_a_draft_and_records_the_fields(session, partnership_a, draft):
    requests.update_request(
        session,
        partnership_a.region_id,
        draft.id,
        _input(partnership_a, peers=3, statutory_deadline=D(2027, 4, 30)),
        actor="u:1",
    )
    assert (draft.peers, draft.statutory_deadline, draft.deadline_overridden) == (
        3,
        D(2027, 4, 30),
        True,
    )
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "request.update")).one()
    assert event.detail == {"fields": ["peers", "statutory_deadline", "deadline_overridden"]}


def test_an_update_may_keep_its_own_reference(session, partnership_a, draft):
    requests.update_request(
        session, partnership_a.region_id, draft.id, _input(partnership_a), actor="u:1"
    )
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "request.update")).all() == []


@pytest.mark.parametrize("status", [RequestStatus.matching, RequestStatus.cancelled])
def test_an_update_is_refused_once_matching_has_begun_and_says_why(
    session, partnership_a, draft, status
):
    transition(session, draft, RequestStatus.submitted, actor="t")
    transition(session, draft, status, actor="t")
    with pytest.raises(NotEditable, match=f"it is {status}, and only draft or submitted"):
        requests.update_request(
            session, partnership_a.region_id, draft.id, _input(partnership_a, peers=4), actor="t"
        )
    assert draft.peers == 2


def test_submit_then_send_back_with_a_reason_code(session, partnership_a, draft):
    region = partnership_a.region_id
    requests.submit(session, region, draft.id, actor="u:1")
    with pytest.raises(ValidationFailed):
        requests.send_back(session, region, draft.id, "because I said so", actor="u:1")
    requests.send_back(session, region, draft.id, "incomplete", actor="u:1")
    assert draft.status == RequestStatus.draft
    audit = session.exec(
        select(AuditEvent).where(AuditEvent.action == "request.status").order_by(AuditEvent.id)
    ).all()
    assert audit[-1].detail == {"from": "submitted", "to": "draft", "reason": "incomplete"}


def test_a_draft_cannot_be_sent_back_or_accepted(session, partnership_a, draft):
    with pytest.raises(IllegalTransition, match="only a submitted request"):
        requests.send_back(session, partnership_a.region_id, draft.id, "dates", actor="t")
    with pytest.raises(IllegalTransition, match="only a submitted"):
        requests.accept(session, partnership_a.region_id, draft.id, actor="t")


def test_accepting_keeps_the_request_submitted_and_a_resubmission_needs_triage_again(
    session, partnership_a, draft
):
    region = partnership_a.region_id
    requests.submit(session, region, draft.id, actor="t")
    requests.accept(session, region, draft.id, actor="t")
    requests.accept(session, region, draft.id, actor="t")  # twice is once
    assert draft.status == RequestStatus.submitted
    assert home.dashboard(session, region, D(2027, 3, 1)).actions[0].text == (
        "request accepted and ready to match"
    )
    requests.send_back(session, region, draft.id, "dates", actor="t")
    requests.submit(session, region, draft.id, actor="t")
    detail = requests.request_detail(session, region, draft.id, actor="t", today=D(2027, 3, 1))
    assert not detail.triaged
    assert detail.actions == ["edit", "accept", "send_back", "cancel"]
    accepted = session.exec(select(AuditEvent).where(AuditEvent.action == "request.accept"))
    assert len(accepted.all()) == 1


def test_cancelling_gives_back_peers_already_lent(session, partnership_a, draft, add_reviewer):
    other = Partnership(region_id=partnership_a.region_id, code="GAMMA", name="Gamma")
    session.add(other)
    session.commit()
    lender = add_reviewer(other, "Ola Berg")
    requests.submit(session, partnership_a.region_id, draft.id, actor="t")
    for status in (RequestStatus.matching, RequestStatus.proposed, RequestStatus.inviting):
        transition(session, draft, status, actor="t")  # as a run and its approval do
    assignment = Assignment(
        request_id=draft.id, reviewer_id=lender.id, status=AssignmentStatus.accepted
    )
    session.add(assignment)
    session.flush()
    ledger.record_acceptance(session, assignment, on=D(2027, 3, 1))
    requests.cancel(session, partnership_a.region_id, draft.id, actor="u:1")
    assert draft.status == RequestStatus.cancelled
    amounts = session.exec(select(LedgerEntry.amount)).all()
    assert sorted(amounts) == [-1, 1]
    with pytest.raises(IllegalTransition, match="it is cancelled"):
        requests.cancel(session, partnership_a.region_id, draft.id, actor="u:1")


def test_every_view_is_audited_and_another_region_sees_nothing(
    session, partnership_a, region_b, draft
):
    requests.get_request(session, partnership_a.region_id, draft.id, actor="u:1")
    requests.request_detail(
        session, partnership_a.region_id, draft.id, actor="u:1", today=D(2027, 3, 1)
    )
    views = session.exec(select(AuditEvent).where(AuditEvent.action == "request.view")).all()
    assert [(v.actor, v.entity_id) for v in views] == [("u:1", str(draft.id))] * 2
    for call in (
        lambda: requests.get_request(session, region_b.id, draft.id, actor="u:2"),
        lambda: requests.submit(session, region_b.id, draft.id, actor="u:2"),
        lambda: requests.cancel(session, region_b.id, draft.id, actor="u:2"),
        lambda: requests.update_request(
            session, region_b.id, draft.id, _input(partnership_a), actor="u:2"
        ),
    ):
        with pytest.raises(NotFound):
            call()
    assert draft.status == RequestStatus.draft
    assert requests.list_requests(session, region_b.id).total == 0


def test_the_list_filters_pages_and_puts_the_nearest_deadline_first(session, partnership_a):
    region = partnership_a.region_id
    for n, notified in enumerate([D(2027, 3, 8), D(2027, 3, 1), None, D(2027, 3, 15)]):
        request = create_request(
            session,
            region,
            _input(partnership_a, reference=f"ALPHA-2027-{n:03d}", notified_on=notified),
            actor="t",
        )
        if n % 2:
            requests.submit(session, region, request.id, actor="t")
    first = requests.list_requests(session, region, page=1, per_page=3)
    second = requests.list_requests(session, region, page=2, per_page=3)
    assert (first.total, first.pages) == (4, 2)
    assert [r.reference for r in first.items + second.items] == [
        "ALPHA-2027-001",
        "ALPHA-2027-000",
        "ALPHA-2027-003",
        "ALPHA-2027-002",
    ]
    submitted = requests.list_requests(session, region, RequestFilter(RequestStatus.submitted))
    assert [r.reference for r in submitted.items] == ["ALPHA-2027-001", "ALPHA-2027-003"]
    assert requests.status_counts(session, region)[RequestStatus.draft] == 2


def test_the_home_page_numbers_come_from_statuses_assignments_and_deadlines(
    session, partnership_a, add_reviewer
):
    region = partnership_a.region_id
    people = [add_reviewer(partnership_a, f"Reviewer {c}") for c in "ABC"]
    inviting = create_request(
        session, region, _input(partnership_a, peers=3), actor="t", status=RequestStatus.inviting
    )
    session.add_all(
        [
            Assignment(
                request_id=inviting.id, reviewer_id=people[0].id, status=AssignmentStatus.accepted
            ),
            Assignment(
                request_id=inviting.id, reviewer_id=people[1].id, status=AssignmentStatus.invited
            ),
            Assignment(
                request_id=inviting.id, reviewer_id=people[2].id, status=AssignmentStatus.declined
            ),
        ]
    )
    create_request(
        session,
        region,
        _input(partnership_a, reference="ALPHA-2027-020", peers=2),
        actor="t",
        status=RequestStatus.submitted,
    )
    create_request(session, region, _input(partnership_a, reference="ALPHA-2027-021"), actor="t")
    session.flush()
    board = home.dashboard(session, region, today=D(2027, 4, 12))
    counts = {s.status: s.count for s in board.by_status}
    assert (counts["inviting"], counts["submitted"], counts["draft"], board.total) == (1, 1, 1, 3)
    assert (board.seats.peers, board.seats.accepted, board.seats.invited) == (5, 1, 1)
    assert board.seats.unfilled == 3
    # Both open requests are due 14 April 2027: two working days after 12 April.
    assert [d.working_days_left for d in board.deadlines] == [2, 2]
    texts = {a.text: a.count for a in board.actions}
    assert texts == {
        "submitted request to triage": 1,
        "request with seats still to fill": 1,
        "statutory deadlines within 5 working days or missed": 2,
        "draft not yet submitted": 1,
    }


def test_the_home_page_of_an_empty_region_has_nothing_to_do(session, region_b):
    board = home.dashboard(session, region_b.id, today=D(2027, 4, 12))
    assert (board.total, board.seats.peers, board.deadlines, board.actions) == (0, 0, [], [])


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"window_start": D(1, 1, 1)}, "window_start"),
        ({"window_end": D(9999, 12, 31)}, "window_end"),
        ({"notified_on": D(9999, 12, 31)}, "notified_on"),
        ({"statutory_deadline": D(2150, 1, 1)}, "statutory_deadline"),
        ({"statutory_deadline": D(2030, 1, 1)}, "statutory_deadline"),
        ({"statutory_deadline": D(2027, 3, 1)}, "statutory_deadline"),
        ({"window_start": None}, "window_start"),
        ({"window_end": None}, "window_end"),
    ],
)
def test_dates_out_of_any_sensible_range_are_refused_on_their_own_field(
    session, partnership_a, changes, field
):
    with pytest.raises(ValidationFailed) as caught:
        create_request(
            session, partnership_a.region_id, _input(partnership_a, **changes), actor="t"
        )
    assert set(caught.value.errors) == {field}
