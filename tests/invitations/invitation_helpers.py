"""Reading what the invitation services wrote: links in emails, a request's team."""

from __future__ import annotations

import datetime as dt
import re

from litestar.testing import TestClient
from sqlmodel import Session, col, select

from peermatch.models import Assignment, OutboxMessage, Reviewer, ReviewRequest

NOW = dt.datetime(2027, 3, 1, 9, 0)  # a Monday
_CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')


def csrf_token(client: TestClient, path: str) -> str:
    """The token a page's forms carry (and, as a side effect, the CSRF cookie)."""
    match = _CSRF.search(client.get(path).text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def link_of(session: Session, assignment: Assignment, kind: str = "invitation") -> str:
    """The answer link in the newest ``kind`` email to ``assignment``'s reviewer."""
    message = session.exec(
        select(OutboxMessage)
        .where(OutboxMessage.assignment_id == assignment.id, OutboxMessage.kind == kind)
        .order_by(col(OutboxMessage.id).desc())
    ).first()
    assert message is not None
    for line in message.text_body.splitlines():
        if "/answer/" in line:
            return line.strip()
    raise AssertionError("no answer link in the email")


def token_of(link: str) -> str:
    return link.rsplit("/answer/", 1)[1]


def team(session: Session, request: ReviewRequest) -> dict[int, str]:
    session.expire_all()
    rows = session.exec(select(Assignment).where(Assignment.request_id == request.id)).all()
    return {a.reviewer_id: str(a.status) for a in rows}


def reviewer_name(session: Session, reviewer_id: int) -> str:
    reviewer = session.get(Reviewer, reviewer_id)
    assert reviewer is not None
    return reviewer.name


def find_replacements(session: Session, settings, *, now: dt.datetime = NOW) -> int:
    """What the worker does after a decline or an expiry: re-match the freed seats (in its own
    sessions). Commits ``session`` first, as the answer's request would have."""
    from peermatch.staffing import rematch

    session.commit()
    handled = rematch.run_due(session.get_bind(), settings, now=now)  # type: ignore[arg-type]
    session.expire_all()
    return handled
