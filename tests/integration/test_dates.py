"""The one date formatter, and both template environments using it."""

from __future__ import annotations

import datetime as dt

from peermatch import emails
from peermatch.dates import govuk_date
from peermatch.web.app import _jinja_environment


def test_dates_read_the_gov_uk_way():
    assert govuk_date(dt.date(2027, 3, 3)) == "3 March 2027"
    assert govuk_date(dt.date(2026, 12, 31)) == "31 December 2026"
    assert govuk_date(dt.datetime(2027, 3, 3, 23, 59)) == "3 March 2027"
    assert govuk_date(None) == ""


def test_pages_and_emails_format_dates_with_the_same_function():
    pages, mail = _jinja_environment(), emails._environment()
    assert pages.filters["govuk_date"] is govuk_date is mail.filters["govuk_date"]
    template = "{{ d|govuk_date }}|{{ none|govuk_date }}"
    for env in (pages, mail):
        assert env.from_string(template).render(d=dt.date(2027, 3, 3), none=None) == "3 March 2027|"
