"""The request lifecycle: legal moves are recorded, illegal ones refused with the reason."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import select

from peermatch.models import AuditEvent, RequestEvent, RequestStatus
from peermatch.staffing.lifecycle import IllegalTransition, transition
from peermatch.staffing.requests import RequestInput, create_request


@pytest.fixture
def draft(session, partnership_a):
    return create_request(
        session,
        partnership_a.region_id,
        RequestInput(
            partnership_id=partnership_a.id,
            reference="ALPHA-2027-100",
            methodology="peer-review",
            window_start=dt.date(2027, 4, 1),
            window_end=dt.date(2027, 4, 30),
        ),
        actor="user:1",
    )


def test_a_legal_move_changes_the_status_and_is_audited_and_on_the_timeline(session, draft):
    transition(session, draft, RequestStatus.submitted, actor="user:1")
    assert draft.status == RequestStatus.submitted
    audit = session.exec(select(AuditEvent).where(AuditEvent.action == "request.status")).one()
    assert audit.detail == {"from": "draft", "to": "submitted"}
    events = session.exec(select(RequestEvent).where(RequestEvent.request_id == draft.id)).all()
    assert [e.kind for e in events] == ["created", "submitted"]


def test_a_draft_cannot_jump_to_inviting_and_the_message_says_what_it_can_become(session, draft):
    with pytest.raises(IllegalTransition) as refused:
        transition(session, draft, RequestStatus.inviting, actor="user:1")
    assert "cannot become inviting" in refused.value.message
    assert "submitted or cancelled" in refused.value.message
    assert draft.status == RequestStatus.draft


def test_a_cancelled_request_never_changes_again(session, draft):
    transition(session, draft, RequestStatus.cancelled, actor="user:1")
    for status in RequestStatus:
        with pytest.raises(IllegalTransition, match="it is cancelled"):
            transition(session, draft, status, actor="user:1")
