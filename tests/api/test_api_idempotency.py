"""Idempotency-Key on POSTs: a repeat replays the first answer and creates nothing."""

from __future__ import annotations

import datetime as dt
import json
import threading

import pytest
from api_payloads import REQUEST, REVIEWER
from sqlmodel import Session, func, select

from peermatch.api import idempotency
from peermatch.models import ApiKey, IdempotencyRecord, Reviewer, ReviewRequest, utcnow


def _count(engine, table) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(table)).one()


def test_a_repeat_with_the_same_key_and_body_replays_the_first_answer(alpha, engine):
    headers = {"Idempotency-Key": "create-001"}
    first = alpha.post("/api/v1/requests", json=REQUEST, headers=headers)
    second = alpha.post("/api/v1/requests", json=REQUEST, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert _count(engine, ReviewRequest) == 1


def test_the_same_body_with_other_spacing_and_key_order_is_the_same_body(alpha, engine):
    headers = {"Idempotency-Key": "create-002", "Content-Type": "application/json"}
    alpha.post("/api/v1/requests", content=json.dumps(REQUEST), headers=headers)
    reordered = json.dumps(dict(reversed(list(REQUEST.items()))), indent=2)
    again = alpha.post("/api/v1/requests", content=reordered, headers=headers)
    assert again.status_code == 201
    assert _count(engine, ReviewRequest) == 1


def test_the_same_key_with_another_body_is_refused(alpha, engine):
    headers = {"Idempotency-Key": "create-003"}
    assert alpha.post("/api/v1/requests", json=REQUEST, headers=headers).status_code == 201
    other = alpha.post("/api/v1/requests", json={**REQUEST, "peers": 3}, headers=headers)
    assert other.status_code == 422
    assert other.headers["content-type"] == "application/problem+json"
    assert other.json()["errors"][0]["pointer"] == "Idempotency-Key"
    assert _count(engine, ReviewRequest) == 1


def test_keys_belong_to_one_api_key(client, alpha_key, make_key, partnership_a, engine):
    other_key = make_key(partnership_a)
    for key in (alpha_key, other_key):
        response = client.post(
            "/api/v1/reviewers",
            json={**REVIEWER, "email": f"{key[3:9]}@example.org"},
            headers={"Authorization": f"Bearer {key}", "Idempotency-Key": "same"},
        )
        assert response.status_code == 201
    assert _count(engine, Reviewer) == 2


def test_a_refused_request_leaves_the_key_free_for_a_corrected_one(alpha, engine):
    headers = {"Idempotency-Key": "create-004"}
    bad = alpha.post(
        "/api/v1/requests", json={**REQUEST, "window_end": "2027-01-01"}, headers=headers
    )
    assert bad.status_code == 422
    assert _count(engine, IdempotencyRecord) == 0
    good = alpha.post("/api/v1/requests", json=REQUEST, headers=headers)
    assert good.status_code == 201


def test_a_cancel_is_replayed_not_refused(alpha):
    created = alpha.post("/api/v1/requests", json=REQUEST).json()
    headers = {"Idempotency-Key": "cancel-1"}
    first = alpha.post(f"/api/v1/requests/{created['id']}/cancel", headers=headers)
    again = alpha.post(f"/api/v1/requests/{created['id']}/cancel", headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()


def test_an_over_long_key_is_a_problem(alpha, engine):
    response = alpha.post("/api/v1/requests", json=REQUEST, headers={"Idempotency-Key": "k" * 256})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert _count(engine, ReviewRequest) == 0


@pytest.mark.parametrize("path", ["/api/v1/requests", "/api/v1/reviewers"])
def test_concurrent_duplicates_create_exactly_one(alpha, engine, path):
    body = REQUEST if path.endswith("requests") else REVIEWER
    n = 4
    start = threading.Barrier(n)
    answers: list = [None] * n

    def send(i: int) -> None:
        start.wait()
        answers[i] = alpha.post(path, json=body, headers={"Idempotency-Key": "together"})

    threads = [threading.Thread(target=send, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [a.status_code for a in answers] == [201] * n, [a.text for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1
    assert sum(a.headers.get("idempotent-replayed") == "true" for a in answers) == n - 1
    table = ReviewRequest if path.endswith("requests") else Reviewer
    assert _count(engine, table) == 1


def _in_flight(session, alpha_key: str, key: str, *, age: dt.timedelta) -> None:
    """A first call with ``key`` that has stored its claim but not (yet) its answer."""
    api_key = session.exec(select(ApiKey).where(ApiKey.prefix == alpha_key.split("_")[1])).one()
    session.add(
        IdempotencyRecord(
            api_key_id=api_key.id,
            key=key,
            method="POST",
            path="/api/v1/requests",
            body_hash=idempotency.body_hash(json.dumps(REQUEST).encode()),
            created_at=utcnow() - age,
        )
    )
    session.commit()


def test_a_repeat_while_the_first_is_still_in_flight_gets_409_after_waiting(
    alpha, session, alpha_key, engine, monkeypatch
):
    monkeypatch.setattr(idempotency, "WAIT_SECONDS", 0.2)
    _in_flight(session, alpha_key, "slow", age=dt.timedelta(seconds=1))
    response = alpha.post("/api/v1/requests", json=REQUEST, headers={"Idempotency-Key": "slow"})
    assert response.status_code == 409
    assert response.headers["retry-after"] == "1"
    assert response.headers["content-type"] == "application/problem+json"
    assert _count(engine, ReviewRequest) == 0


def test_a_claim_abandoned_by_a_dead_call_is_taken_over(alpha, session, alpha_key, engine):
    _in_flight(session, alpha_key, "orphan", age=idempotency.STALE_AFTER * 2)
    response = alpha.post("/api/v1/requests", json=REQUEST, headers={"Idempotency-Key": "orphan"})
    assert response.status_code == 201
    assert _count(engine, ReviewRequest) == 1
