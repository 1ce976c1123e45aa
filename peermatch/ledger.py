"""The reciprocity ledger: peers lent and received between a region's partnerships.

The rules, in one place:
- an acceptance writes one entry, lender = the reviewer's partnership, receiver = the request's
  partnership, dated the day of the acceptance; a reviewer on their own partnership's request
  counts neither way (no entry), as in the matching contract;
- withdrawing an accepted reviewer, or cancelling a request, reverses its entries with entries of
  amount -1 (the peer was not, in the end, lent); a completed request keeps them;
- a partnership's balance on a day is what it carried in (``opening_lent - opening_received``)
  plus the peers it lent minus the peers it received, counting the entries dated up to and
  including that day (``positions``). Positive: it is owed peers. It is the one definition:
  the ledger page's balances and a matching problem's ``lent`` and ``received`` (so the
  proposal's "Before") are all read from ``positions``. (Before, a problem counted every entry
  whatever its date while the ledger page stopped at its period's end, so an acceptance dated
  after today, as the demo seeds them, counted on one page and not the other.) A problem
  leaves out the peers already accepted on its own requests, which the solver counts again as
  locked pairs; the proposal page adds them back for "Before" (``accepted_when_run``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func
from sqlmodel import Session, col, select

from peermatch.models import Assignment, LedgerEntry, Partnership, Reviewer, ReviewRequest

# Said on every page that shows a balance, so that each says which entries count.
BALANCE_RULE = (
    "Balance: peers lent minus peers received, counting opening balances and every place "
    "accepted up to that day, less those withdrawn or cancelled."
)


@dataclass(frozen=True)
class Position:
    """A partnership's standing on a day: every peer it lent and received up to and including
    that day (net of reversals), the carried-in figures included."""

    lent: int
    received: int

    @property
    def balance(self) -> int:
        return self.lent - self.received


@dataclass(frozen=True)
class Balance:
    """One partnership's exchange over a period, and its balance before and after it."""

    partnership_id: int
    code: str
    name: str
    opening: int  # balance at the start of the period (carried in, plus earlier entries)
    lent: int  # peers lent during the period (net of reversals)
    received: int  # peers received during the period (net of reversals)

    @property
    def closing(self) -> int:
        return self.opening + self.lent - self.received


def record_acceptance(
    session: Session, assignment: Assignment, *, on: dt.date | None = None
) -> LedgerEntry | None:
    """The entry an acceptance writes, or None for a reviewer on their own partnership's
    request. Call it in the transaction that records the acceptance."""
    reviewer = session.get(Reviewer, assignment.reviewer_id)
    request = session.get(ReviewRequest, assignment.request_id)
    assert reviewer is not None and request is not None
    if reviewer.partnership_id == request.partnership_id:
        return None
    receiver = session.get(Partnership, request.partnership_id)
    assert receiver is not None
    entry = LedgerEntry(
        region_id=receiver.region_id,
        lender_partnership_id=reviewer.partnership_id,
        receiver_partnership_id=request.partnership_id,
        request_id=request.id or 0,
        assignment_id=assignment.id,
        lent_on=on or dt.date.today(),
        amount=1,
    )
    session.add(entry)
    session.flush()
    return entry


def reverse_assignment(
    session: Session, assignment: Assignment, *, on: dt.date | None = None
) -> list[LedgerEntry]:
    """Undo what ``assignment`` put in the ledger (nothing if it put nothing, or was undone)."""
    entries = session.exec(
        select(LedgerEntry).where(LedgerEntry.assignment_id == assignment.id)
    ).all()
    if sum(e.amount for e in entries) <= 0:
        return []
    first = entries[0]
    reversal = LedgerEntry(
        region_id=first.region_id,
        lender_partnership_id=first.lender_partnership_id,
        receiver_partnership_id=first.receiver_partnership_id,
        request_id=first.request_id,
        assignment_id=assignment.id,
        lent_on=on or dt.date.today(),
        amount=-1,
    )
    session.add(reversal)
    session.flush()
    return [reversal]


def reverse_request(
    session: Session, request: ReviewRequest, *, on: dt.date | None = None
) -> list[LedgerEntry]:
    """Undo every peer lent to ``request`` (it was cancelled)."""
    assignments = session.exec(select(Assignment).where(Assignment.request_id == request.id)).all()
    return [e for a in assignments for e in reverse_assignment(session, a, on=on)]


def positions(
    session: Session, region_id: int, *, on: dt.date | None = None
) -> dict[int, Position]:
    """Every partnership of the region (by id): its position at the end of ``on`` (None: every
    entry, whatever its date). The one definition of a balance (see the module doc)."""
    sums = _sums(session, region_id, None, on)
    result = {}
    for p in session.exec(select(Partnership).where(Partnership.region_id == region_id)):
        assert p.id is not None
        lent, received = sums.get(p.id, (0, 0))
        result[p.id] = Position(p.opening_lent + lent, p.opening_received + received)
    return result


def positions_by_code(session: Session, region_id: int, *, on: dt.date) -> dict[str, Position]:
    """``positions`` keyed by partnership code: the ``lent`` and ``received`` of a matching
    problem built on ``on``."""
    codes = {
        p.id: p.code
        for p in session.exec(select(Partnership).where(Partnership.region_id == region_id))
    }
    return {codes[pid]: pos for pid, pos in positions(session, region_id, on=on).items()}


def balances(
    session: Session,
    region_id: int,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> list[Balance]:
    """Every partnership of the region, by code: its balance at the start of ``start`` and the
    peers lent and received from ``start`` to ``end`` inclusive (either may be open), so that
    the balance at the end is ``positions(on=end)``'s."""
    partnerships = session.exec(
        select(Partnership).where(Partnership.region_id == region_id).order_by(Partnership.code)
    ).all()
    closing = positions(session, region_id, on=end)
    opening = (
        positions(session, region_id, on=start - dt.timedelta(days=1))
        if start
        else {p.id: Position(p.opening_lent, p.opening_received) for p in partnerships}
    )
    result = []
    for p in partnerships:
        assert p.id is not None
        before, after = opening[p.id], closing[p.id]
        result.append(
            Balance(
                p.id,
                p.code,
                p.name,
                before.balance,
                after.lent - before.lent,
                after.received - before.received,
            )
        )
    return result


def _sums(
    session: Session, region_id: int, start: dt.date | None, end: dt.date | None
) -> dict[int, tuple[int, int]]:
    """partnership id -> (net lent, net received) over the entries dated within the range."""
    conditions: list[ColumnElement[bool]] = [col(LedgerEntry.region_id) == region_id]
    if start is not None:
        conditions.append(col(LedgerEntry.lent_on) >= start)
    if end is not None:
        conditions.append(col(LedgerEntry.lent_on) <= end)
    result: dict[int, list[int]] = {}
    for side, column in (
        (0, col(LedgerEntry.lender_partnership_id)),
        (1, col(LedgerEntry.receiver_partnership_id)),
    ):
        rows = session.exec(
            select(column, func.sum(LedgerEntry.amount)).where(*conditions).group_by(column)
        ).all()
        for partnership_id, amount in rows:
            result.setdefault(partnership_id, [0, 0])[side] = int(amount or 0)
    return {k: (v[0], v[1]) for k, v in result.items()}


def running_balances(
    session: Session, region_id: int, *, start: dt.date, end: dt.date
) -> list[tuple[dt.date, dict[str, int]]]:
    """Each partnership's balance (by code) at ``start`` and after every day from ``start`` to
    ``end`` on which an entry was dated, and at ``end``: the points of a balance chart."""
    opening = {b.code: b.opening for b in balances(session, region_id, start=start, end=end)}
    codes = {
        p.id: p.code
        for p in session.exec(select(Partnership).where(Partnership.region_id == region_id))
    }
    entries = session.exec(
        select(LedgerEntry)
        .where(
            col(LedgerEntry.region_id) == region_id,
            col(LedgerEntry.lent_on) >= start,
            col(LedgerEntry.lent_on) <= end,
        )
        .order_by(col(LedgerEntry.lent_on), col(LedgerEntry.id))
    ).all()
    current = dict(opening)
    points: list[tuple[dt.date, dict[str, int]]] = [(start, dict(current))]
    for entry in entries:
        current[codes[entry.lender_partnership_id]] += entry.amount
        current[codes[entry.receiver_partnership_id]] -= entry.amount
        if points[-1][0] == entry.lent_on:
            points[-1] = (entry.lent_on, dict(current))
        else:
            points.append((entry.lent_on, dict(current)))
    if points[-1][0] != end:
        points.append((end, dict(current)))
    return points
