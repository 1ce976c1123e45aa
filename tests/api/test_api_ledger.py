"""GET /api/v1/ledger: the partnership's own lent, received and balance over a period."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session

from peermatch.models import LedgerEntry, Partnership, ReviewRequest


def _lend(session: Session, lender: Partnership, receiver: Partnership, on: dt.date) -> None:
    request = ReviewRequest(
        partnership_id=receiver.id,
        reference=f"R-{on.isoformat()}-{lender.code}",
        methodology="peer-review",
        window_start=on,
        window_end=on,
    )
    session.add(request)
    session.flush()
    session.add(
        LedgerEntry(
            region_id=receiver.region_id,
            lender_partnership_id=lender.id,
            receiver_partnership_id=receiver.id,
            request_id=request.id,
            lent_on=on,
        )
    )
    session.commit()


def test_it_reads_its_own_line_of_the_ledger(alpha, session, partnership_a, partnership_a2):
    partnership_a.opening_lent = 2
    session.add(partnership_a)
    _lend(session, partnership_a, partnership_a2, dt.date(2027, 1, 10))
    _lend(session, partnership_a, partnership_a2, dt.date(2027, 2, 10))
    _lend(session, partnership_a2, partnership_a, dt.date(2027, 3, 10))
    response = alpha.get("/api/v1/ledger")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "partnership_code": "ALPHA",
        "from": None,
        "to": None,
        "opening": 2,
        "lent": 2,
        "received": 1,
        "balance": 3,
    }


def test_a_period_opens_with_what_came_before_it(alpha, session, partnership_a, partnership_a2):
    _lend(session, partnership_a, partnership_a2, dt.date(2027, 1, 10))
    _lend(session, partnership_a2, partnership_a, dt.date(2027, 2, 10))
    _lend(session, partnership_a2, partnership_a, dt.date(2027, 3, 10))
    body = alpha.get("/api/v1/ledger?from=2027-02-01&to=2027-02-28").json()
    assert (body["from"], body["to"]) == ("2027-02-01", "2027-02-28")
    assert (body["opening"], body["lent"], body["received"], body["balance"]) == (1, 0, 1, 0)


def test_a_period_that_ends_before_it_starts_is_a_problem(alpha):
    response = alpha.get("/api/v1/ledger?from=2027-02-01&to=2027-01-01")
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["pointer"] == "to"


def test_a_bad_date_is_a_problem(alpha):
    response = alpha.get("/api/v1/ledger?from=01/02/2027")
    assert response.status_code == 400
    assert response.json()["errors"][0]["pointer"] == "from"


def test_a_date_far_out_of_range_is_a_problem_not_a_crash(alpha):
    response = alpha.get("/api/v1/ledger?from=0001-01-01&to=9999-12-31")
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "from"
