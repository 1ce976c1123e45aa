"""CSV import and export of reviewers: every bad row reported, all or nothing."""

from __future__ import annotations

import csv
import io

import pytest
from sqlmodel import select

from peermatch import registry, reviewer_csv
from peermatch.errors import ValidationFailed
from peermatch.models import AuditEvent, Partnership, Reviewer
from peermatch.registry import ReviewerFilter, ReviewerInput

HEADER = "name,email,partnership,agency,job_role,skills,capacity,active,accredited_on,unavailable,conflicts\n"  # noqa: E501

# Exports carry the experience columns that older files (HEADER) may leave out.
EXPORT_HEADER = HEADER.replace("conflicts", "conflicts,prior_reviews,last_review_on,organisation")

GOOD = (
    HEADER
    + "Ann Archer,ann@example.org,ALPHA,police,DI,rca;peer-review,2,yes,2025-06-01,"
    + "2027-02-01..2027-02-14;2027-08-01..2027-08-20,GAMMA\n"
    + '"Okafor, Ben",BEN@example.org,gamma,health,,lead-reviewer,,no,,,\n'
    + "\n"
)


@pytest.fixture
def partnership_a2(session, region_a) -> Partnership:
    p = Partnership(region_id=region_a.id, code="GAMMA", name="Gammaton Partnership")
    session.add(p)
    session.commit()
    return p


@pytest.fixture
def partnerships(partnership_a, partnership_a2, partnership_b):
    return partnership_a, partnership_a2, partnership_b


def _problems(preview):
    return [(e.line, e.field) for e in preview.errors]


def test_a_good_file_previews_and_imports(session, region_a, partnerships):
    preview = reviewer_csv.preview_import(session, region_a.id, GOOD.encode())
    assert preview.fatal is None and preview.errors == []
    assert [r.email for r in preview.rows] == ["ann@example.org", "ben@example.org"]
    assert reviewer_csv.apply_import(session, region_a.id, GOOD.encode(), actor="user:1") == 2
    session.commit()
    ben = registry.list_reviewers(session, region_a.id, ReviewerFilter(q="okafor")).items[0]
    assert (ben.partnership_code, ben.capacity, ben.active) == ("GAMMA", 1, False)
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "reviewer.import")).one()
    assert event.detail == {"count": 2}


def test_it_lists_every_bad_row_by_line_and_column(session, region_a, partnerships):
    content = (
        HEADER
        + "Ann Archer,ann@example.org,ALPHA,police,,rca,2,yes,,,\n"
        + ",not-an-email,NOPE,wizards,,juggling,lots,maybe,01/02/2025,2027-02-14..2027-02-01,BETA\n"
        + "Cara Dee,cara@example.org,ALPHA,health,,,-1,,,,\n"
        + "Dan Eve,dan@example.org,ALPHA\n"
    )
    preview = reviewer_csv.preview_import(session, region_a.id, content.encode())
    assert preview.fatal is None
    assert _problems(preview) == [
        (3, "name"),
        (3, "email"),
        (3, "partnership"),
        (3, "agency"),
        (3, "skills"),
        (3, "capacity"),
        (3, "active"),
        (3, "accredited_on"),
        (3, "unavailable"),
        (3, "conflicts"),
        (4, "capacity"),
        (5, ""),
    ]
    assert "BETA" in next(e.message for e in preview.errors if e.field == "conflicts")


def test_an_unknown_partnership_code_names_the_codes_of_the_region(session, region_a, partnerships):
    content = HEADER + "Ann Archer,ann@example.org,NOPE,police,,rca,2,yes,,,BETA\n"
    preview = reviewer_csv.preview_import(session, region_a.id, content.encode())
    messages = {e.field: e.message for e in preview.errors}
    # Region A has ALPHA and GAMMA; region B's partnership is not offered.
    assert messages["partnership"] == (
        "Unknown partnership code 'NOPE'; the codes in this region are ALPHA, GAMMA"
    )
    assert messages["conflicts"].startswith("Unknown partnership code 'BETA';")


def test_line_numbers_count_quoted_line_breaks(session, region_a, partnerships):
    content = (
        HEADER + '"Ann\nArcher",ann@example.org,ALPHA,police,,,1,,,,\nB,bad,ALPHA,police,,,1,,,,\n'
    )
    preview = reviewer_csv.preview_import(session, region_a.id, content.encode())
    assert _problems(preview) == [(4, "email")]


def test_it_finds_duplicate_emails_in_the_file_and_in_the_database(
    session, region_a, region_b, partnerships
):
    registry.create_reviewer(
        session,
        region_b.id,
        ReviewerInput(
            name="Zed", email="zed@example.org", partnership_id=partnerships[2].id, agency="police"
        ),
        actor="t",
    )
    session.commit()
    content = (
        HEADER
        + "Ann,ann@example.org,ALPHA,police,,,1,,,,\n"
        + "Ann Again,ANN@example.org,ALPHA,police,,,1,,,,\n"
        + "Zed Two,zed@example.org,ALPHA,police,,,1,,,,\n"
    )
    preview = reviewer_csv.preview_import(session, region_a.id, content.encode())
    assert _problems(preview) == [(3, "email"), (4, "email")]
    assert "line 2" in preview.errors[0].message


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"", "empty"),
        (b"  \n\n", "empty"),
        (HEADER.encode(), "no reviewers"),
        (b"name,email\nAnn,ann@example.org\n", "missing columns"),
        (HEADER.replace("conflicts", "conflicts,shoe_size").encode(), "unexpected columns"),
        (b"PK\x03\x04\x00\x00binary spreadsheet", "not a CSV"),
        ("name,email\nZoë\n".encode("latin-1"), "UTF-8"),
        (b'name,"email\n', "not a valid CSV"),
    ],
)
def test_it_refuses_a_file_that_is_not_a_reviewer_csv(session, region_a, content, says):
    preview = reviewer_csv.preview_import(session, region_a.id, content)
    assert preview.fatal is not None and says in preview.fatal
    assert preview.rows == []


def test_a_file_saved_by_excel_with_windows_line_endings_is_fine(session, region_a, partnerships):
    content = GOOD.replace("\n", "\r\n") + "Bad,bad,ALPHA,police,,,1,,,,\r\n"
    preview = reviewer_csv.preview_import(session, region_a.id, content.encode())
    assert len(preview.rows) == 2 and _problems(preview) == [(5, "email")]


def test_a_header_in_another_order_with_a_bom_is_fine(session, region_a, partnerships):
    columns = list(reviewer_csv.COLUMNS)[::-1]
    content = "\ufeff" + ",".join(columns) + "\n" + ",,0,,,,,1,,,police,ALPHA,ann@example.org,Ann\n"
    preview = reviewer_csv.preview_import(session, region_a.id, content.encode())
    assert preview.ok and preview.rows[0].name == "Ann"


def test_nothing_is_written_when_any_row_is_bad(session, region_a, partnerships):
    content = GOOD + "Bad Row,bad,ALPHA,police,,,1,,,,\n"
    with pytest.raises(ValidationFailed) as caught:
        reviewer_csv.apply_import(session, region_a.id, content.encode(), actor="t")
    assert caught.value.preview.errors[0].line == 5
    session.rollback()
    assert session.exec(select(Reviewer)).all() == []
    assert session.exec(select(AuditEvent)).all() == []


def test_an_export_round_trips_through_import(session, region_a, region_b, partnerships):
    reviewer_csv.apply_import(session, region_a.id, GOOD.encode(), actor="t")
    session.commit()
    exported = reviewer_csv.export_reviewers(session, region_a.id)
    assert next(csv.reader(io.StringIO(exported))) == EXPORT_HEADER.strip().split(",")
    assert "Okafor" in exported and "2027-02-01..2027-02-14" in exported
    for reviewer in session.exec(select(Reviewer)).all():
        session.delete(reviewer)
    session.commit()
    preview = reviewer_csv.preview_import(session, region_a.id, exported.encode())
    assert preview.ok
    reviewer_csv.apply_import(session, region_a.id, exported.encode(), actor="t")
    assert reviewer_csv.export_reviewers(session, region_a.id) == exported
    assert list(csv.reader(io.StringIO(reviewer_csv.export_reviewers(session, region_b.id)))) == [
        EXPORT_HEADER.strip().split(",")
    ]


def test_a_name_that_would_run_as_a_spreadsheet_formula_is_refused(session, region_a, partnerships):
    content = HEADER + '"=HYPERLINK(""http://x"")",ann@example.org,ALPHA,police,,,1,,,,\n'
    preview = reviewer_csv.preview_import(session, region_a.id, content.encode())
    assert _problems(preview) == [(2, "name")]


def test_an_export_by_a_person_is_audited_without_personal_data(session, region_a, partnerships):
    reviewer_csv.apply_import(session, region_a.id, GOOD.encode(), actor="t")
    reviewer_csv.export_reviewers(session, region_a.id, actor="user:7")
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "reviewer.export")).one()
    assert (event.actor, event.region_id, event.detail) == ("user:7", region_a.id, {"count": 2})
