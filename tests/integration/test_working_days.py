"""Statutory deadlines in working days, England and Wales bank holidays excluded."""

from __future__ import annotations

import datetime as dt

import pytest

from peermatch import working_days
from peermatch.working_days import add_working_days, statutory_deadline, working_days_between

D = dt.date


def test_a_rapid_review_over_christmas_skips_the_substitute_boxing_day_and_new_year():
    deadline = add_working_days(D(2026, 12, 18), 15)
    assert deadline.due_on == D(2027, 1, 13)
    assert [h.day for h in deadline.skipped] == [D(2026, 12, 25), D(2026, 12, 28), D(2027, 1, 1)]
    assert deadline.skipped[1].substitute
    assert deadline.explanation() == (
        "15 working days from 18 December 2026, skipping weekends and 25 December (Christmas "
        "Day), 28 December (Boxing Day, substitute day) and 1 January (New Year's Day)"
    )


def test_christmas_2027_on_a_saturday_gives_two_substitute_days():
    deadline = add_working_days(D(2027, 12, 23), 3)
    assert [h.day for h in deadline.skipped] == [D(2027, 12, 27), D(2027, 12, 28)]
    assert all(h.substitute for h in deadline.skipped)
    assert deadline.due_on == D(2027, 12, 30)


def test_easter_skips_good_friday_and_easter_monday():
    deadline = add_working_days(D(2027, 3, 22), 15)
    assert [h.name for h in deadline.skipped] == ["Good Friday", "Easter Monday"]
    assert deadline.due_on == D(2027, 4, 14)


def test_the_late_may_bank_holiday_is_skipped():
    deadline = add_working_days(D(2027, 5, 24), 15)
    assert [h.day for h in deadline.skipped] == [D(2027, 5, 31)]
    assert deadline.due_on == D(2027, 6, 15)


def test_a_notification_on_a_weekend_counts_from_the_monday():
    assert add_working_days(D(2027, 2, 6), 1).due_on == D(2027, 2, 8)


def test_without_bank_holidays_the_explanation_says_so():
    deadline = add_working_days(D(2027, 2, 1), 15)
    assert deadline.due_on == D(2027, 2, 22)
    assert deadline.explanation().endswith("(no bank holidays fall in between)")


@pytest.mark.parametrize(
    ("methodology", "days"),
    [
        ("peer-review", 15),
        ("reflective-learning", 15),
        ("appreciative-inquiry", 15),
        ("single-agency-review", 15),
        ("multi-agency-deep-dive", 130),
        ("root-cause-analysis", 130),
    ],
)
def test_each_of_the_six_methodologies_has_a_documented_default(methodology, days):
    assert statutory_deadline(methodology, D(2027, 2, 1)).working_days == days


def test_working_days_left_count_down_to_the_deadline_and_below_zero_after_it():
    assert working_days_between(D(2027, 1, 11), D(2027, 1, 13)) == 2
    assert working_days_between(D(2027, 1, 13), D(2027, 1, 13)) == 0
    assert working_days_between(D(2027, 1, 15), D(2027, 1, 13)) == -2
    assert working_days_between(D(2026, 12, 24), D(2026, 12, 29)) == 1


def test_the_bank_holidays_need_no_network():
    # The package computes them; a year far ahead works the same as this one.
    assert working_days.bank_holiday(D(2040, 12, 25)) is not None
    assert not working_days.is_working_day(D(2040, 12, 25))
