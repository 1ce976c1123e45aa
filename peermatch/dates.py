"""Dates as people read them: the one formatter the web pages, the emails and the services share."""

from __future__ import annotations

import datetime as dt


def govuk_date(value: dt.date | None) -> str:
    """ "3 March 2027": the GOV.UK style for dates (no leading zero, month in full). A datetime
    shows its date only; ``None`` is the empty string."""
    return f"{value.day} {value:%B %Y}" if value else ""
