"""The GOV.UK date input parser: day, month and year read the UK way, every mistake named."""

from __future__ import annotations

import datetime as dt

import pytest

from peermatch.web.forms import DateInput

LABEL = "Review window start"


@pytest.mark.parametrize(
    ("day", "month", "year", "expected"),
    [
        ("3", "3", "2027", dt.date(2027, 3, 3)),
        ("03", "02", "2027", dt.date(2027, 2, 3)),
        (" 1 ", " 12 ", " 2027 ", dt.date(2027, 12, 1)),
        ("1", "Feb", "2027", dt.date(2027, 2, 1)),
        ("1", "february", "2027", dt.date(2027, 2, 1)),
        ("30", "Sept", "2027", dt.date(2027, 9, 30)),
        ("29", "2", "2028", dt.date(2028, 2, 29)),
    ],
)
def test_it_reads_day_then_month_then_year(day, month, year, expected):
    assert DateInput(day, month, year).parse(LABEL) == (expected, None)


@pytest.mark.parametrize(
    ("day", "month", "year", "message", "parts"),
    [
        ("31", "2", "2027", "Review window start must be a real date", ("day",)),
        ("29", "2", "2027", "Review window start must be a real date", ("day",)),
        ("1", "13", "2027", "Review window start must be a real date", ("month",)),
        ("0", "1", "2027", "Review window start must be a real date", ("day",)),
        ("x", "1", "2027", "Review window start must be a real date", ("day",)),
        ("1", "Febtember", "2027", "Review window start must be a real date", ("month",)),
        ("1", "1", "20x7", "Review window start must be a real date", ("year",)),
        ("１", "1", "2027", "Review window start must be a real date", ("day",)),
        ("-1", "1", "2027", "Review window start must be a real date", ("day",)),
        ("1", "1", "9" * 400, "Review window start must be a real date", ("year",)),
        ("9" * 400, "1", "2027", "Review window start must be a real date", ("day",)),
        ("1", "1", "0000", "Review window start must be a real date", ("day",)),
        ("1", "1", "27", "Review window start year must include 4 numbers", ("year",)),
        ("", "1", "2027", "Review window start must include a day", ("day",)),
        ("1", "", "", "Review window start must include a month and year", ("month", "year")),
    ],
)
def test_it_names_what_is_wrong_and_which_field(day, month, year, message, parts):
    typed = DateInput(day, month, year)
    assert typed.parse(LABEL, required=True) == (None, message)
    assert typed.error_parts == parts


def test_an_empty_optional_date_is_none_and_a_required_one_asks_for_it():
    assert DateInput().parse(LABEL) == (None, None)
    assert DateInput(" ", "", "").parse(LABEL, required=True) == (
        None,
        "Enter the review window start",
    )


def test_a_date_goes_back_into_the_three_fields():
    assert DateInput.from_date(dt.date(2027, 3, 9)) == DateInput("9", "3", "2027")
    assert DateInput.from_date(None).blank
