"""Emails from templates, and their calendar invitations.

Each kind of email is three templates in ``templates/emails/<kind>/``: ``subject.txt``,
``body.txt`` and ``body.html``. The context holds only what a reviewer needs: the review's
reference, methodology, requesting partnership, dates, time commitment and the answer link.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from email.utils import parseaddr
from functools import cache
from typing import Any

import icalendar
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from peermatch.dates import govuk_date
from peermatch.outbox import Email
from peermatch.resources import resource_dir

EMAIL_TEMPLATES = resource_dir("templates") / "emails"
PRODID = "-//PeerMatch//Peer review invitations//EN"


@cache
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(EMAIL_TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters["govuk_date"] = govuk_date
    return env


def render(kind: str, context: dict[str, Any], *, ics: str | None = None) -> Email:
    env = _environment()
    subject = env.get_template(f"{kind}/subject.txt").render(context)
    return Email(
        subject=" ".join(subject.split()),  # one line, whatever the template's whitespace
        text=env.get_template(f"{kind}/body.txt").render(context),
        html=env.get_template(f"{kind}/body.html").render(context),
        ics=ics,
    )


@dataclass(frozen=True)
class CalendarEvent:
    uid: str
    sequence: int
    summary: str
    description: str
    starts_on: dt.date
    ends_on: dt.date  # inclusive
    organizer: str  # the service's From header
    attendee: str  # the reviewer's own address
    url: str | None = None


def calendar(event: CalendarEvent, *, cancel: bool = False) -> str:
    """An iCalendar (RFC 5545) invitation: METHOD:REQUEST, or METHOD:CANCEL for a withdrawal.
    The UID stays the same for one invitation; SEQUENCE rises with each change."""
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("method", "CANCEL" if cancel else "REQUEST")
    vevent = icalendar.Event()
    vevent.add("uid", event.uid)
    vevent.add("sequence", event.sequence)
    vevent.add("dtstamp", dt.datetime.now(dt.UTC))
    vevent.add("dtstart", event.starts_on)
    vevent.add("dtend", event.ends_on + dt.timedelta(days=1))  # all-day DTEND is exclusive
    vevent.add("summary", event.summary)
    vevent.add("description", event.description)
    vevent.add("status", "CANCELLED" if cancel else "CONFIRMED")
    vevent.add("transp", "TRANSPARENT")  # a window to work within, not a block of busy time
    name, address = parseaddr(event.organizer)
    organizer = icalendar.vCalAddress(f"mailto:{address}")
    if name:
        organizer.params["cn"] = icalendar.vText(name)
    vevent.add("organizer", organizer)
    attendee = icalendar.vCalAddress(f"mailto:{event.attendee}")
    attendee.params["role"] = icalendar.vText("REQ-PARTICIPANT")
    attendee.params["rsvp"] = icalendar.vText("FALSE")  # answers go through the signed link
    vevent.add("attendee", attendee)
    if event.url:
        vevent.add("url", event.url)
    cal.add_component(vevent)
    ical: bytes = cal.to_ical()
    return ical.decode("utf-8")
