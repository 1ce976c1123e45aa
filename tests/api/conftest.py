"""API fixtures: the real app on the test database, and keys made by the accounts service."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import replace

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from peermatch import accounts
from peermatch.models import Partnership, Region
from peermatch.settings import Settings
from peermatch.staffing.requests import RequestInput, create_request
from peermatch.web import create_app


@pytest.fixture
def settings(database_url: str) -> Settings:
    return replace(Settings(), mode="test", database_url=database_url, api_rate_limit=10_000)


@pytest.fixture
def app(settings: Settings, engine: Engine) -> Litestar:
    return create_app(settings, engine)


@pytest.fixture
def client(app: Litestar) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://127.0.0.1:8000") as c:
        yield c


@pytest.fixture
def partnership_a2(session: Session, region_a: Region) -> Partnership:
    """A second partnership in region A: a neighbour that must not see ALPHA's data."""
    partnership = Partnership(
        region_id=region_a.id, code="GAMMA", name="Gammaville Safeguarding Children Partnership"
    )
    session.add(partnership)
    session.commit()
    return partnership


def _key(session: Session, partnership: Partnership, **kwargs) -> str:
    _, plaintext = accounts.create_api_key(
        session, partnership_id=partnership.id, name="case system", actor="test", **kwargs
    )
    session.commit()
    return plaintext


@pytest.fixture
def make_key(session: Session):
    def make(partnership: Partnership, **kwargs) -> str:
        return _key(session, partnership, **kwargs)

    return make


@pytest.fixture
def alpha_key(session: Session, partnership_a: Partnership) -> str:
    return _key(session, partnership_a)


@pytest.fixture
def gamma_key(session: Session, partnership_a2: Partnership) -> str:
    return _key(session, partnership_a2)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def alpha(client: TestClient, alpha_key: str) -> TestClient:
    """A client that sends ALPHA's key on every call."""
    client.headers.update(bearer(alpha_key))
    return client


@pytest.fixture
def gamma_request(session: Session, partnership_a2: Partnership) -> int:
    """A request of GAMMA, ALPHA's neighbour in the same region."""
    request = create_request(
        session,
        partnership_a2.region_id,
        RequestInput(
            partnership_id=partnership_a2.id,
            reference="GAMMA-2027-001",
            methodology="peer-review",
            window_start=dt.date(2027, 4, 1),
            window_end=dt.date(2027, 4, 30),
        ),
        actor="test",
    )
    session.commit()
    assert request.id is not None
    return request.id
