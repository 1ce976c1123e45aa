"""Review request rules (the request pages come later; the demo data needs these now)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from sqlmodel import select

from peermatch.errors import ValidationFailed
from peermatch.models import AuditEvent, RequestStatus
from peermatch.staffing.requests import RequestInput, create_request

D = dt.date


def _input(partnership, **changes) -> RequestInput:
    data = RequestInput(
        partnership_id=partnership.id,
        reference="ALPHA-RR-2027/014",
        methodology="peer-review",
        window_start=D(2027, 2, 1),
        window_end=D(2027, 2, 19),
        peers=2,
        agencies_involved=["police"],
        required_skills=["lead-reviewer"],
    )
    return replace(data, **changes)


def test_it_creates_a_draft_request_and_audits_it(session, region_a, partnership_a):
    request = create_request(session, region_a.id, _input(partnership_a), actor="user:1")
    assert (request.status, request.reference) == (RequestStatus.draft, "ALPHA-RR-2027/014")
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "request.create")).one()
    assert event.entity_id == str(request.id)


@pytest.mark.parametrize("reference", ["", "Jayden Smith", "JaydenSmith", "x" * 40 + "1", "A 1"])
def test_it_refuses_a_reference_that_is_not_a_case_reference(
    session, region_a, partnership_a, reference
):
    with pytest.raises(ValidationFailed) as caught:
        create_request(session, region_a.id, _input(partnership_a, reference=reference), actor="t")
    assert set(caught.value.errors) == {"reference"}


def test_it_reports_every_problem_at_once(session, region_a, partnership_b):
    bad = _input(
        partnership_b,
        methodology="guesswork",
        peers=7,
        window_start=D(2027, 3, 1),
        window_end=D(2027, 2, 1),
        agencies_involved=["wizards"],
        required_skills=["juggling"],
    )
    with pytest.raises(ValidationFailed) as caught:
        create_request(session, region_a.id, bad, actor="t")
    assert set(caught.value.errors) == {
        "partnership_id",
        "methodology",
        "peers",
        "window_end",
        "agencies_involved",
        "required_skills",
    }


@pytest.mark.parametrize("peers", [0, 7, None])
def test_a_request_needs_one_to_six_peers(session, region_a, partnership_a, peers):
    with pytest.raises(ValidationFailed) as caught:
        create_request(session, region_a.id, _input(partnership_a, peers=peers), actor="t")
    assert set(caught.value.errors) == {"peers"}


def test_a_reference_is_unique_within_its_partnership(session, region_a, partnership_a):
    create_request(session, region_a.id, _input(partnership_a), actor="t")
    with pytest.raises(ValidationFailed) as caught:
        create_request(session, region_a.id, _input(partnership_a), actor="t")
    assert set(caught.value.errors) == {"reference"}
