"""Invitation fixtures: a region with three partnerships and a pool of reviewers, a request in
it, and a helper that places reviewers on it the way an approved run does, then invites them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import replace

import pytest
from invitation_helpers import NOW, csrf_token
from litestar.testing import TestClient
from sqlmodel import Session

from peermatch.models import (
    Assignment,
    Partnership,
    Region,
    RequestStatus,
    ReviewRequest,
)
from peermatch.settings import Settings
from peermatch.staffing import invitations, lifecycle, requests
from peermatch.staffing.lifecycle import Command
from peermatch.web import create_app


@pytest.fixture
def settings(database_url: str) -> Settings:
    return replace(
        Settings(), mode="test", database_url=database_url, base_url="http://127.0.0.1:8000"
    )


@pytest.fixture
def pool(session: Session, region_a: Region, partnership_a: Partnership, add_reviewer):
    """Requester ALPHA; lenders BRAVO and CHARLIE; reviewers by agency."""
    bravo = Partnership(region_id=region_a.id, code="BRAVO", name="Bravo Partnership")
    charlie = Partnership(region_id=region_a.id, code="CHARLIE", name="Charlie Partnership")
    session.add_all([bravo, charlie])
    session.commit()
    people = {
        "ann": add_reviewer(bravo, "Ann Police", agency="police"),
        "bea": add_reviewer(bravo, "Bea Health", agency="health"),
        "cal": add_reviewer(charlie, "Cal Police", agency="police"),
        "dee": add_reviewer(charlie, "Dee Education", agency="education"),
        "eve": add_reviewer(charlie, "Eve Health", agency="health"),
    }
    return {"bravo": bravo, "charlie": charlie, **{k: v.id for k, v in people.items()}}


@pytest.fixture
def make_request(session: Session, region_a: Region, partnership_a: Partnership):
    def make(reference: str = "LSCP-2027-001", peers: int = 2, **extra) -> ReviewRequest:
        # The pool's reviewers have no reviews behind them: no team could be experienced.
        extra.setdefault("needs_experienced", False)
        data = requests.RequestInput(
            partnership_id=partnership_a.id,
            reference=reference,
            methodology="peer-review",
            window_start=dt.date(2027, 4, 5),
            window_end=dt.date(2027, 4, 23),
            peers=peers,
            **extra,
        )
        request = requests.create_request(
            session, region_a.id, data, actor="test", status=RequestStatus.proposed
        )
        session.commit()
        return request

    return make


@pytest.fixture
def place(session: Session, settings: Settings):
    """Invite ``reviewer_ids`` onto ``request``, as approving a run does; committed."""

    def place(
        request: ReviewRequest, *reviewer_ids: int, now: dt.datetime = NOW
    ) -> list[Assignment]:
        if request.status == RequestStatus.proposed:  # approval moves it on first
            lifecycle.apply(session, request, Command.approve, actor="user:1")
        assignments = [Assignment(request_id=request.id, reviewer_id=r) for r in reviewer_ids]
        session.add_all(assignments)
        session.flush()
        invitations.invite(session, assignments, actor="user:1", settings=settings, now=now)
        session.commit()
        return assignments

    return place


# --- the web app on the same database -----------------------------------------------------------

PASSWORD = "correct horse battery staple"


@pytest.fixture
def client(settings: Settings, engine) -> Iterator[TestClient]:
    with TestClient(create_app(settings, engine), base_url="http://127.0.0.1:8000") as c:
        yield c


@pytest.fixture
def reviewer_client(settings: Settings, engine) -> Iterator[TestClient]:
    """A browser with no session and no cookies: a reviewer opening their email."""
    with TestClient(create_app(settings, engine), base_url="http://127.0.0.1:8000") as c:
        yield c


@pytest.fixture
def alice_client(client: TestClient, alice) -> TestClient:
    token = csrf_token(client, "/sign-in")
    response = client.post(
        "/sign-in",
        data={"email": alice.email, "password": PASSWORD, "_csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return client


@pytest.fixture
def bob_client(settings: Settings, engine, bob) -> Iterator[TestClient]:
    with TestClient(create_app(settings, engine), base_url="http://127.0.0.1:8000") as c:
        token = csrf_token(c, "/sign-in")
        response = c.post(
            "/sign-in",
            data={"email": bob.email, "password": PASSWORD, "_csrf_token": token},
            follow_redirects=False,
        )
        assert response.status_code == 303
        yield c
