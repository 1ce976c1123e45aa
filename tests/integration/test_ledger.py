"""The reciprocity ledger: acceptances lend peers, reversals undo them, balances add up."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import Session

from peermatch import ledger
from peermatch.models import Assignment, AssignmentStatus, Partnership, Region, ReviewRequest
from peermatch.staffing.requests import RequestInput, create_request

DAY = dt.date(2027, 3, 1)


@pytest.fixture
def three(session: Session, region_a: Region, partnership_a: Partnership) -> list[Partnership]:
    others = [
        Partnership(region_id=region_a.id, code=code, name=f"{code} Partnership", opening_lent=n)
        for code, n in (("GAMMA", 2), ("DELTA", 0))
    ]
    session.add_all(others)
    session.commit()
    return [partnership_a, *others]


def _request(session: Session, partnership: Partnership, reference: str) -> int:
    request = create_request(
        session,
        partnership.region_id,
        RequestInput(
            partnership_id=partnership.id,
            reference=reference,
            methodology="peer-review",
            window_start=dt.date(2027, 3, 1),
            window_end=dt.date(2027, 3, 31),
        ),
        actor="test",
    )
    assert request.id is not None
    return request.id


def _accepted(session: Session, request_id: int, reviewer_id: int) -> Assignment:
    assignment = Assignment(
        request_id=request_id, reviewer_id=reviewer_id, status=AssignmentStatus.accepted
    )
    session.add(assignment)
    session.flush()
    return assignment


def test_an_acceptance_lends_a_peer_and_a_reversal_takes_it_back(session, three, add_reviewer):
    alpha, gamma, _ = three
    lender = add_reviewer(gamma, "Ola Berg")
    request_id = _request(session, alpha, "ALPHA-2027-001")
    assignment = _accepted(session, request_id, lender.id)

    assert ledger.record_acceptance(session, assignment, on=DAY) is not None
    figures = {b.code: b for b in ledger.balances(session, alpha.region_id)}
    assert (figures["GAMMA"].lent, figures["GAMMA"].received, figures["GAMMA"].closing) == (1, 0, 3)
    assert (figures["ALPHA"].lent, figures["ALPHA"].received, figures["ALPHA"].closing) == (
        0,
        1,
        -1,
    )
    assert ledger.positions_by_code(session, alpha.region_id, on=DAY)["GAMMA"] == (
        ledger.Position(lent=3, received=0)
    )
    before = ledger.positions_by_code(session, alpha.region_id, on=DAY - dt.timedelta(days=1))
    assert before["GAMMA"] == ledger.Position(lent=2, received=0)  # the opening alone

    assert len(ledger.reverse_assignment(session, assignment, on=DAY)) == 1
    assert ledger.reverse_assignment(session, assignment, on=DAY) == []  # only once
    figures = {b.code: b for b in ledger.balances(session, alpha.region_id)}
    assert figures["GAMMA"].closing == 2 and figures["ALPHA"].closing == 0


def test_an_internal_peer_counts_neither_way(session, three, add_reviewer):
    alpha = three[0]
    internal = add_reviewer(alpha, "Ann Inside")
    request_id = _request(session, alpha, "ALPHA-2027-002")
    assert ledger.record_acceptance(session, _accepted(session, request_id, internal.id)) is None
    assert all(b.lent == b.received == 0 for b in ledger.balances(session, alpha.region_id))


def test_a_period_opens_with_what_came_before_it(session, three, add_reviewer):
    alpha, gamma, delta = three
    request_id = _request(session, alpha, "ALPHA-2027-003")
    early = _accepted(session, request_id, add_reviewer(gamma, "Early Bird").id)
    late = _accepted(session, request_id, add_reviewer(delta, "Late Comer").id)
    ledger.record_acceptance(session, early, on=dt.date(2027, 1, 10))
    ledger.record_acceptance(session, late, on=dt.date(2027, 2, 10))

    february = {
        b.code: b
        for b in ledger.balances(
            session, alpha.region_id, start=dt.date(2027, 2, 1), end=dt.date(2027, 2, 28)
        )
    }
    assert (february["GAMMA"].opening, february["GAMMA"].lent) == (3, 0)
    assert (february["DELTA"].opening, february["DELTA"].lent) == (0, 1)
    assert (february["ALPHA"].opening, february["ALPHA"].received) == (-1, 1)
    assert february["ALPHA"].closing == -2


def test_cancelling_a_request_reverses_every_peer_lent_to_it(session, three, add_reviewer):
    alpha, gamma, delta = three
    request_id = _request(session, alpha, "ALPHA-2027-004")
    for partnership, name in ((gamma, "One Peer"), (delta, "Two Peer")):
        ledger.record_acceptance(
            session, _accepted(session, request_id, add_reviewer(partnership, name).id)
        )
    request = session.get(ReviewRequest, request_id)
    assert len(ledger.reverse_request(session, request)) == 2
    assert all(b.closing == b.opening for b in ledger.balances(session, alpha.region_id))
