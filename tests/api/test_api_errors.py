"""Every 4xx under /api/ is an RFC 9457 problem: never a page, a redirect or a 500."""

from __future__ import annotations

import pytest
from api_payloads import REQUEST
from sqlmodel import select

from peermatch.models import ReviewRequest


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == status
    assert problem["type"].startswith("/api/v1/problems/")
    assert problem["title"] and problem["detail"]
    return problem


def test_an_unknown_api_route_is_a_404_problem(alpha):
    _problem(alpha.get("/api/v1/nothing-here"), 404)
    _problem(alpha.get("/api/v2/requests"), 404)


def test_a_wrong_method_is_a_405_problem(alpha):
    _problem(alpha.delete("/api/v1/requests"), 405)
    _problem(alpha.put("/api/v1/ledger"), 405)


@pytest.mark.parametrize("body", [b"{bad json", b"", b"[]", b'"text"', b"null", b"\xff\xfe"])
def test_a_body_that_is_not_a_json_object_is_a_problem(alpha, session, body):
    response = alpha.post(
        "/api/v1/requests", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code in (400, 422)
    _problem(response, response.status_code)
    assert session.exec(select(ReviewRequest)).all() == []


def test_a_body_over_the_limit_is_a_413_problem(alpha, session):
    huge = {**REQUEST, "reference": "A1" * 40_000}
    _problem(alpha.post("/api/v1/requests", json=huge), 413)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/requests/99999999999999999999999999",
        "/api/v1/requests/0",
        "/api/v1/reviewers/-1",
        "/api/v1/requests?limit=1000",
        "/api/v1/requests?after=-5",
        "/api/v1/requests?after=99999999999999999999999",
        "/api/v1/reviewers?page=0",
        "/api/v1/reviewers?active=perhaps",
        "/api/v1/ledger?since=2027-01-01",
        "/api/v1/requests/1?verbose=1",
    ],
)
def test_a_bad_path_or_query_parameter_is_a_400_problem(alpha, path):
    problem = _problem(alpha.get(path), 400)
    assert problem["errors"]


def test_a_non_numeric_id_is_a_404_problem(alpha):
    _problem(alpha.get("/api/v1/requests/abc"), 404)


def test_a_form_body_is_refused(alpha, session):
    response = alpha.post("/api/v1/requests", data={"reference": "X-1"})
    assert 400 <= response.status_code < 500
    _problem(response, response.status_code)
    assert session.exec(select(ReviewRequest)).all() == []


def test_problems_are_not_cached(alpha):
    assert "no-store" in alpha.get("/api/v1/requests/1").headers["cache-control"]
