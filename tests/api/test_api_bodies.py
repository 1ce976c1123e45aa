"""Issue 18.3 and 18.4g under /api: what a write's body must be, checked before anything decodes
it. Every refusal is an RFC 9457 problem with a 4xx status; nothing is saved."""

from __future__ import annotations

import json

import pytest
from api_payloads import REQUEST, REVIEWER
from sqlmodel import select

from peermatch.api import bodies
from peermatch.models import Reviewer, ReviewRequest

WRITES = [
    ("POST", "/api/v1/requests/", REQUEST),
    ("POST", "/api/v1/reviewers/", REVIEWER),
    ("PATCH", "/api/v1/reviewers/{reviewer}", {"active": False}),
]


@pytest.fixture
def reviewer_id(alpha) -> int:
    response = alpha.post("/api/v1/reviewers/", json={**REVIEWER, "email": "tom@example.org"})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _send(alpha, method, path, reviewer_id, body: bytes, content_type: str | None):
    headers = {"Content-Type": content_type} if content_type is not None else {}
    return alpha.request(method, path.format(reviewer=reviewer_id), content=body, headers=headers)


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == status
    return problem


def _nothing_saved(session, reviewer_id) -> None:
    session.expire_all()
    assert session.exec(select(ReviewRequest)).all() == []
    reviewers = session.exec(select(Reviewer)).all()
    assert [r.id for r in reviewers] == [reviewer_id] and reviewers[0].active


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "",
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/xml",
        "application/json; charset=latin-1",
        "application/jsonx",
        "text/json",
    ],
)
@pytest.mark.parametrize(("method", "path", "payload"), WRITES)
def test_a_body_not_sent_as_json_is_415(
    alpha, session, reviewer_id, method, path, payload, content_type
):
    body = json.dumps(payload).encode()
    problem = _problem(_send(alpha, method, path, reviewer_id, body, content_type), 415)
    assert "application/json" in problem["detail"]
    _nothing_saved(session, reviewer_id)


@pytest.mark.parametrize(("method", "path", "payload"), WRITES)
def test_json_in_any_documented_spelling_is_accepted(alpha, reviewer_id, method, path, payload):
    body = json.dumps({**payload, "email": "other@example.org"} if "email" in payload else payload)
    response = _send(
        alpha, method, path, reviewer_id, body.encode(), "Application/JSON; charset=UTF-8"
    )
    assert response.status_code in {200, 201}, response.text


@pytest.mark.parametrize(
    ("what", "body"),
    [
        ("arrays 1,000 deep", b"[" * 1000 + b"]" * 1000),
        ("objects 1,000 deep", b'{"a":' * 1000 + b"1" + b"}" * 1000),
        ("a field 100,000 deep", b'{"name": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"),
        ("nine deep", b"[" * 9 + b"]" * 9),
    ],
)
@pytest.mark.parametrize(("method", "path", "payload"), WRITES)
def test_deep_nesting_is_refused_before_decoding(
    alpha, session, reviewer_id, method, path, payload, what, body
):
    response = _send(alpha, method, path, reviewer_id, body, "application/json")
    if len(body) > bodies.REVIEWER_BODY:
        _problem(response, 413)
    else:
        problem = _problem(response, 400)
        assert "nests" in problem["detail"]
    _nothing_saved(session, reviewer_id)


def test_the_depth_count_skips_strings():
    text = json.dumps({"name": '[[[[[[[[[[[[[[[[[[[[{{{{{{{{{{{\\"]]]'})
    assert bodies.nesting_depth(text, bodies.MAX_DEPTH) == 1
    assert bodies.nesting_depth(json.dumps(REVIEWER), bodies.MAX_DEPTH) == 3


@pytest.mark.parametrize(("method", "path", "payload"), WRITES)
def test_a_key_twice_in_one_object_is_refused(alpha, session, reviewer_id, method, path, payload):
    key, value = next(iter(payload.items()))
    text = json.dumps(payload)
    body = ("{" + json.dumps(key) + ": " + json.dumps(value) + ", " + text[1:]).encode()
    problem = _problem(_send(alpha, method, path, reviewer_id, body, "application/json"), 400)
    assert "twice" in problem["detail"]
    assert repr(key) in problem["errors"][0]["message"]
    _nothing_saved(session, reviewer_id)


@pytest.mark.parametrize(
    "body",
    [b'{"name": "\xff\xfe"}', b"\xef\xbb\xbf{}", b'{"name": "\xed\xa0\x80"}', b"\xc0\xaf"],
)
@pytest.mark.parametrize(("method", "path", "payload"), WRITES)
def test_a_body_that_is_not_utf8_is_refused(
    alpha, session, reviewer_id, method, path, payload, body
):
    problem = _problem(_send(alpha, method, path, reviewer_id, body, "application/json"), 400)
    assert problem["detail"] in {"The body is not valid UTF-8", "The body is not valid JSON"}
    _nothing_saved(session, reviewer_id)


@pytest.mark.parametrize(
    ("method", "path", "limit"),
    [
        ("POST", "/api/v1/requests/", bodies.REQUEST_BODY),
        ("POST", "/api/v1/reviewers/", bodies.REVIEWER_BODY),
        ("PATCH", "/api/v1/reviewers/{reviewer}", bodies.REVIEWER_BODY),
        ("POST", "/api/v1/requests/1/cancel", bodies.EMPTY_BODY),
    ],
)
def test_each_operation_has_a_body_limit_sized_to_its_schema(
    alpha, session, reviewer_id, method, path, limit
):
    body = b'{"name": "' + b"x" * limit + b'"}'
    _problem(_send(alpha, method, path, reviewer_id, body, "application/json"), 413)
    _nothing_saved(session, reviewer_id)


def test_the_largest_valid_reviewer_fits_its_limit(alpha):
    largest = {
        **REVIEWER,
        "name": "\u00e9" * 120,
        "job_role": "\u00e9" * 120,
        "email": "a" * 60 + "@" + "b" * 60 + ".example.org",
        "unavailable": [
            {"starts_on": f"2027-{m:02}-{d:02}", "ends_on": f"2027-{m:02}-{d:02}"}
            for m in range(1, 11)
            for d in range(1, 11)
        ],
    }
    body = json.dumps(largest, indent=4).encode()  # escaped, and pretty-printed
    assert len(body) < bodies.REVIEWER_BODY
    response = alpha.post(
        "/api/v1/reviewers/", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 201, response.text


def test_a_write_without_a_key_is_401_whatever_its_body(client):
    response = client.post(
        "/api/v1/reviewers/", content=b"[" * 1000, headers={"Content-Type": "text/plain"}
    )
    _problem(response, 401)
