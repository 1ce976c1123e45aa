"""Issue 18.4e and f: numbers in the path are ASCII digits only, on every route with one; and
audited coordinator pages are not read on another site's say-so (Sec-Fetch-Site: cross-site)."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import quote

import pytest
from litestar.routes import HTTPRoute
from sqlmodel import func, select

from peermatch.models import AuditEvent
from peermatch.staffing.requests import RequestInput, create_request

_INT_PARAM = re.compile(r"{(\w+):int}")


def _spellings(number: int) -> list[str]:
    """``number`` as int() reads it, but not as ASCII digits."""
    ascii_digits = str(number)
    return [
        "".join(chr(0x0660 + int(d)) for d in ascii_digits),  # Arabic-Indic
        "".join(chr(0xFF10 + int(d)) for d in ascii_digits),  # full-width
        "".join(chr(0x0966 + int(d)) for d in ascii_digits),  # Devanagari
        "".join(chr(0x1D7CE + int(d)) for d in ascii_digits),  # mathematical bold
        f"+{ascii_digits}",
        f"0_{ascii_digits}" if len(ascii_digits) == 1 else f"{ascii_digits[0]}_{ascii_digits[1:]}",
        f" {ascii_digits}",
        f"{ascii_digits}\u00a0",
    ]


@pytest.fixture
def request_id(session, partnership_a) -> int:
    made = create_request(
        session,
        partnership_a.region_id,
        RequestInput(
            partnership_id=partnership_a.id,
            reference="ALPHA-2027-012",
            methodology="peer-review",
            window_start=dt.date(2027, 1, 4),
            window_end=dt.date(2027, 1, 29),
        ),
        actor="test",
    )
    session.commit()
    assert made.id is not None
    return made.id


def test_the_real_number_answers(alice_client, request_id):
    assert alice_client.get(f"/requests/{request_id}").status_code == 200


def test_another_spelling_of_a_number_is_no_page(alice_client, request_id):
    for spelling in _spellings(request_id):
        response = alice_client.get(f"/requests/{quote(spelling)}", follow_redirects=False)
        assert response.status_code == 404, spelling


def test_every_route_with_a_number_reads_only_ascii_digits(alice_client, app, request_id):
    routes = [r for r in app.routes if isinstance(r, HTTPRoute) and _INT_PARAM.search(r.path)]
    assert len(routes) > 10
    for route in routes:
        for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
            for spelling in _spellings(request_id)[:2]:
                path = _INT_PARAM.sub(quote(spelling), route.path)
                response = alice_client.request(method, path, follow_redirects=False)
                assert response.status_code == 404, f"{method} {path}"


def test_the_api_reads_only_ascii_digits_too(client, session, partnership_a):
    from peermatch import accounts

    _, key = accounts.create_api_key(session, partnership_id=partnership_a.id, name="k", actor="t")
    session.commit()
    headers = {"Authorization": f"Bearer {key}"}
    made = client.post(
        "/api/v1/reviewers/",
        json={"name": "Priya Shah", "email": "priya.shah@example.org", "agency": "police"},
        headers=headers,
    )
    assert made.status_code == 201, made.text
    number = made.json()["id"]
    assert client.get(f"/api/v1/reviewers/{number}", headers=headers).status_code == 200
    for spelling in _spellings(number)[:4]:
        response = client.get(f"/api/v1/reviewers/{quote(spelling)}", headers=headers)
        assert response.status_code == 404, spelling
        assert response.headers["content-type"].startswith("application/problem+json")


def test_ledger_dates_read_only_ascii_digits(alice_client):
    wide = "".join(chr(0xFF10 + int(d)) for d in "2025")
    response = alice_client.get(f"/ledger?from-day=1&from-month=1&from-year={quote(wide)}")
    assert response.status_code == 400
    assert alice_client.get("/ledger?from-day=1&from-month=1&from-year=2025").status_code == 200


# --- audited reads started by another site -----------------------------------------------------


def _audit_rows(session) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(AuditEvent)).one()


@pytest.mark.parametrize(
    "page", ["/requests/{id}", "/requests", "/reviewers/export.csv", "/reviewers/{reviewer}"]
)
def test_a_cross_site_read_of_an_audited_page_writes_nothing(
    alice_client, session, request_id, add_reviewer, partnership_a, page
):
    reviewer = add_reviewer(partnership_a, "Priya Shah")
    path = page.format(id=request_id, reviewer=reviewer.id)
    before = _audit_rows(session)
    response = alice_client.get(
        path, headers={"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"}
    )
    assert response.status_code == 403
    assert "Open this page from PeerMatch" in response.text
    assert f'href="{path}"' in response.text  # a link to the same page, to follow from here
    assert _audit_rows(session) == before
    # The same read from PeerMatch itself, or from a browser that sends no such header.
    for site in ("same-origin", "none", None):
        headers = {"Sec-Fetch-Site": site} if site else {}
        assert alice_client.get(path, headers=headers).status_code == 200


def test_a_cross_site_request_view_is_not_audited(alice_client, session, request_id):
    alice_client.get(f"/requests/{request_id}", headers={"Sec-Fetch-Site": "cross-site"})
    views = session.exec(select(AuditEvent).where(AuditEvent.action == "request.view")).all()
    assert views == []


def test_home_still_opens_from_a_link_elsewhere(alice_client):
    assert alice_client.get("/", headers={"Sec-Fetch-Site": "cross-site"}).status_code == 200
