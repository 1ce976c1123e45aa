"""Statutory deadlines in working days: Monday to Friday, less the bank holidays of England and
Wales (substitute days included).

The holidays come from the ``holidays`` package, which computes them in code (Easter included)
and needs no network; a new release brings any newly announced bank holiday.

A deadline of N working days "from" a notification date is the Nth working day after it: a
rapid review notified on Friday 18 December 2026 is due 15 working days later, on Wednesday
13 January 2027 (25 and 28 December and 1 January are bank holidays).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache

import holidays

from peermatch.dates import govuk_date

# Rapid reviews are due within 15 working days of the serious incident notification. The
# learning methodologies a partnership may choose for a local child safeguarding practice review
# run far longer (the review should report within six months, about 130 working days); the
# coordinator can always type the date the partnership agreed instead.
RAPID_REVIEW_DAYS = 15
PRACTICE_REVIEW_DAYS = 130
DEFAULT_WORKING_DAYS: dict[str, int] = {
    "peer-review": RAPID_REVIEW_DAYS,
    "reflective-learning": RAPID_REVIEW_DAYS,
    "appreciative-inquiry": RAPID_REVIEW_DAYS,
    "single-agency-review": RAPID_REVIEW_DAYS,
    "multi-agency-deep-dive": PRACTICE_REVIEW_DAYS,
    "root-cause-analysis": PRACTICE_REVIEW_DAYS,
}
# The holiday names the package uses for a substitute day.
_OBSERVED = " (observed)"


@dataclass(frozen=True)
class Holiday:
    day: dt.date
    name: str
    substitute: bool

    def describe(self) -> str:
        """ "28 December (Boxing Day, substitute day)"."""
        kind = ", substitute day" if self.substitute else ""
        return f"{self.day.day} {self.day:%B} ({self.name}{kind})"


@dataclass(frozen=True)
class Deadline:
    """A deadline and how it was reached, for the coordinator to check."""

    notified_on: dt.date
    working_days: int
    due_on: dt.date
    skipped: tuple[Holiday, ...]  # bank holidays on weekdays between the two dates

    def explanation(self) -> str:
        """ "15 working days from 18 December 2026, skipping weekends and 25 December
        (Christmas Day), 28 December (Boxing Day, substitute day) and 1 January (New Year's
        Day)"."""
        start = govuk_date(self.notified_on)
        text = f"{self.working_days} working days from {start}, skipping weekends"
        if not self.skipped:
            return text + " (no bank holidays fall in between)"
        names = [h.describe() for h in self.skipped]
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        return f"{text} and {listed}"


@cache
def _calendar(year: int) -> dict[dt.date, str]:
    return dict(holidays.country_holidays("GB", subdiv="ENG", years=year).items())


def bank_holiday(day: dt.date) -> Holiday | None:
    """The England and Wales bank holiday on ``day``, if there is one."""
    name = _calendar(day.year).get(day)
    if name is None:
        return None
    substitute = name.endswith(_OBSERVED)
    return Holiday(day, name.removesuffix(_OBSERVED), substitute)


def is_working_day(day: dt.date) -> bool:
    return day.weekday() < 5 and bank_holiday(day) is None


def add_working_days(start: dt.date, days: int) -> Deadline:
    """The ``days``-th working day after ``start`` (``start`` itself is day 0)."""
    if days < 0:
        raise ValueError("days must be zero or more")
    day, left, skipped = start, days, []
    while left:
        day += dt.timedelta(days=1)
        if day.weekday() >= 5:
            continue
        if (holiday := bank_holiday(day)) is not None:
            skipped.append(holiday)
            continue
        left -= 1
    return Deadline(notified_on=start, working_days=days, due_on=day, skipped=tuple(skipped))


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days after ``start`` up to and including ``end``; negative when ``end`` is
    earlier (a deadline already missed by that many working days)."""
    if end < start:
        return -working_days_between(end, start)
    count, day = 0, start
    while day < end:
        day += dt.timedelta(days=1)
        count += is_working_day(day)
    return count


def default_working_days(methodology: str) -> int:
    return DEFAULT_WORKING_DAYS.get(methodology, RAPID_REVIEW_DAYS)


def statutory_deadline(methodology: str, notified_on: dt.date) -> Deadline:
    """The default deadline for a review of ``methodology`` notified on ``notified_on``."""
    return add_working_days(notified_on, default_working_days(methodology))
