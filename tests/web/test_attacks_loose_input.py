"""Loose input, tried as an attacker would: values a browser would never send are refused with
a message, never guessed, dropped or stored."""

from __future__ import annotations

import pytest
from sqlmodel import select

from peermatch import registry, reviewer_csv
from peermatch.models import Reviewer, Unavailability

HEADER = "name,email,partnership,agency,job_role,skills,capacity,active,accredited_on,unavailable,conflicts\n"  # noqa: E501


def _form(partnership, **overrides) -> dict:
    return {
        "name": "Priya Shah",
        "email": "priya.shah@example.org",
        "partnership_id": str(partnership.id),
        "agency": "police",
        "capacity": "1",
        "active": "yes",
        **overrides,
    }


@pytest.mark.parametrize("active", ["maybe", "true", "0", "yes\x00"])
def test_a_made_up_active_value_is_refused(alice_client, partnership_a, session, post_form, active):
    response = post_form(alice_client, "/reviewers/new", _form(partnership_a, active=active))
    assert response.status_code == 400
    assert "Select whether the reviewer is active" in response.text
    assert session.exec(select(Reviewer)).all() == []


def test_unavailability_past_the_limit_is_refused_not_dropped(
    alice_client, partnership_a, session, post_form
):
    rows = {}
    for i in range(registry.MAX_UNAVAILABLE + 1):
        day = f"2027-{1 + i // 28:02d}-{1 + i % 28:02d}"
        rows[f"unavailable-{i}-from"] = day
        rows[f"unavailable-{i}-to"] = day
    response = post_form(alice_client, "/reviewers/new", _form(partnership_a, **rows))
    assert response.status_code == 400
    assert f"Enter no more than {registry.MAX_UNAVAILABLE} unavailable periods" in response.text
    assert session.exec(select(Reviewer)).all() == []
    assert session.exec(select(Unavailability)).all() == []


def test_the_import_refuses_too_many_unavailable_periods(session, partnership_a):
    periods = ";".join(
        f"{2027 + i // 300}-{1 + (i // 28) % 12:02d}-{1 + i % 28:02d}" for i in range(101)
    )
    row = f"Ann,ann@example.org,ALPHA,police,,,1,yes,,{periods},\n"
    preview = reviewer_csv.preview_import(session, partnership_a.region_id, (HEADER + row).encode())
    assert [e.field for e in preview.errors] == ["unavailable"]


@pytest.mark.parametrize("field", ["name", "job_role", "email"])
@pytest.mark.parametrize("junk", ["\x00", "\x07", "\x1b[31m", "\x7f", "\x0b"])
def test_control_characters_are_refused_in_every_text_field(
    alice_client, partnership_a, session, post_form, field, junk
):
    value = {"name": "Priya", "job_role": "DI", "email": "priya@example.org"}[field]
    value = value[:2] + junk + value[2:]
    response = post_form(alice_client, "/reviewers/new", _form(partnership_a, **{field: value}))
    assert response.status_code == 400, response.text
    assert session.exec(select(Reviewer)).all() == []


@pytest.mark.parametrize("junk", ["\x01", "\x1f", "\x7f"])
def test_the_import_refuses_control_characters(session, partnership_a, junk):
    row = f"Ann{junk}Archer,ann@example.org,ALPHA,police,,,1,yes,,,\n"
    preview = reviewer_csv.preview_import(session, partnership_a.region_id, (HEADER + row).encode())
    assert [e.field for e in preview.errors] == ["name"]
    assert "control characters" in preview.errors[0].message


def test_the_import_refuses_a_made_up_active_value(session, partnership_a):
    row = "Ann,ann@example.org,ALPHA,police,,,1,maybe,,,\n"
    preview = reviewer_csv.preview_import(session, partnership_a.region_id, (HEADER + row).encode())
    assert [e.field for e in preview.errors] == ["active"]


@pytest.mark.parametrize("email", ["alice@example.org\x00", "\x00", "a\x00@example.org"])
def test_sign_in_with_a_nul_byte_fails_like_any_wrong_detail(client, alice, sign_in, email):
    response = sign_in(client, email)
    assert response.status_code == 400
    assert "Enter a correct email address and password" in response.text
