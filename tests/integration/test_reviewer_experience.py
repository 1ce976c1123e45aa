"""Reviewers' experience: reviews completed before PeerMatch and the date of the last one, in
the registry, the CSV files, and counted on as PeerMatch records completed reviews."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from peermatch import registry, reviewer_csv
from peermatch.errors import ValidationFailed
from peermatch.models import Assignment, AssignmentStatus, RequestStatus
from peermatch.staffing.requests import RequestInput, create_request

D = dt.date
OLD_HEADER = (
    "name,email,partnership,agency,job_role,skills,capacity,active,accredited_on,unavailable,"
    "conflicts\n"
)
NEW_HEADER = OLD_HEADER.rstrip("\n") + ",prior_reviews,last_review_on\n"


def test_a_file_with_the_experience_columns_imports_and_exports_them(
    session, region_a, partnership_a
):
    content = NEW_HEADER + "Ann Archer,ann@example.org,ALPHA,police,,rca,1,yes,,,,4,2026-03-27\n"
    assert reviewer_csv.apply_import(session, region_a.id, content.encode(), actor="t") == 1
    (ann,) = registry.all_reviewers(session, region_a.id)
    assert (ann.prior_reviews, ann.last_review_on) == (4, D(2026, 3, 27))
    exported = reviewer_csv.export_reviewers(session, region_a.id)
    # The organisation column (issue 15) follows the experience columns.
    assert next(csv.reader(io.StringIO(exported))) == [
        *NEW_HEADER.strip().split(","),
        "organisation",
    ]
    assert list(csv.reader(io.StringIO(exported)))[1][-3:-1] == ["4", "2026-03-27"]


def test_an_older_file_without_them_still_imports_with_no_prior_reviews(
    session, region_a, partnership_a
):
    content = OLD_HEADER + "Ann Archer,ann@example.org,ALPHA,police,,rca,1,yes,,,\n"
    assert reviewer_csv.apply_import(session, region_a.id, content.encode(), actor="t") == 1
    (ann,) = registry.all_reviewers(session, region_a.id)
    assert (ann.prior_reviews, ann.last_review_on) == (0, None)


@pytest.mark.parametrize(
    ("cells", "column"),
    [
        ("many,", "prior_reviews"),
        ("-1,", "prior_reviews"),
        ("501,", "prior_reviews"),
        ("2,27/03/2026", "last_review_on"),
        ("2,2999-01-01", "last_review_on"),
        ("0,2026-03-27", "last_review_on"),
    ],
)
def test_a_bad_experience_cell_is_reported_by_line_and_column(
    session, region_a, partnership_a, cells, column
):
    content = NEW_HEADER + f"Ann Archer,ann@example.org,ALPHA,police,,rca,1,yes,,,,{cells}\n"
    preview = reviewer_csv.preview_import(session, region_a.id, content.encode())
    assert [(e.line, e.field) for e in preview.errors] == [(2, column)]


def test_a_row_shorter_than_its_header_names_the_header_width(session, region_a, partnership_a):
    content = OLD_HEADER + "Ann Archer,ann@example.org,ALPHA\n"
    preview = reviewer_csv.preview_import(session, region_a.id, content.encode())
    assert preview.errors[0].message == "has 3 values, expected 11"


def test_the_registry_refuses_a_future_last_review(session, region_a, partnership_a):
    data = registry.ReviewerInput(
        name="Ann Archer",
        email="ann@example.org",
        partnership_id=partnership_a.id,
        agency="police",
        prior_reviews=2,
        last_review_on=dt.date.today() + dt.timedelta(days=1),
    )
    with pytest.raises(ValidationFailed) as caught:
        registry.create_reviewer(session, region_a.id, data, actor="t")
    assert set(caught.value.errors) == {"last_review_on"}


def _request(session, partnership, reference, status, window_end):
    request = create_request(
        session,
        partnership.region_id,
        RequestInput(
            partnership_id=partnership.id,
            reference=reference,
            methodology="peer-review",
            window_start=window_end - dt.timedelta(days=14),
            window_end=window_end,
        ),
        actor="t",
        status=status,
    )
    return request.id


def test_reviews_completed_add_accepted_seats_on_completed_requests_to_prior_reviews(
    session, partnership_a, add_reviewer
):
    veteran = add_reviewer(
        partnership_a, "Ann Archer", prior_reviews=3, last_review_on=D(2025, 1, 1)
    )
    newcomer = add_reviewer(partnership_a, "Ben Okafor")
    idle = add_reviewer(partnership_a, "Cat Dunmore", prior_reviews=1, last_review_on=D(2024, 6, 1))
    done = _request(
        session, partnership_a, "ALPHA-2026-001", RequestStatus.completed, D(2026, 5, 8)
    )
    later = _request(
        session, partnership_a, "ALPHA-2026-002", RequestStatus.completed, D(2026, 9, 4)
    )
    running = _request(
        session, partnership_a, "ALPHA-2027-003", RequestStatus.staffed, D(2027, 2, 5)
    )
    accepted, declined = AssignmentStatus.accepted, AssignmentStatus.declined
    session.add_all(
        [
            Assignment(request_id=done, reviewer_id=veteran.id, status=accepted),
            Assignment(request_id=later, reviewer_id=veteran.id, status=accepted),
            Assignment(request_id=running, reviewer_id=veteran.id, status=accepted),
            Assignment(request_id=done, reviewer_id=newcomer.id, status=accepted),
            Assignment(request_id=later, reviewer_id=newcomer.id, status=declined),
        ]
    )
    session.flush()
    counted = registry.reviews_completed(session, [veteran.id, newcomer.id, idle.id])
    assert counted == {
        veteran.id: (5, D(2026, 9, 4)),
        newcomer.id: (1, D(2026, 5, 8)),
        idle.id: (1, D(2024, 6, 1)),
    }
    assert registry.reviews_completed(session, []) == {}
