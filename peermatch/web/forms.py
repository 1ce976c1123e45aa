"""Form parsing: raw browser input to service inputs, keeping what the coordinator typed so a
form with errors comes back exactly as it was sent."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, fields
from typing import Any

from litestar import Request
from litestar.datastructures import FormMultiDict

from peermatch.models import ReviewRequest
from peermatch.registry import MAX_UNAVAILABLE, ReviewerInput, ReviewerView
from peermatch.staffing.requests import RequestInput

EMPTY_RANGE_ROWS = 3
_RANGE_KEY = re.compile(r"unavailable-([0-9]{1,6})-(?:from|to)")
_INTEGER = re.compile(r"[+-]?[0-9]{1,20}")
_DMY = re.compile(r"^\s*(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})\s*$")


async def provide_form(request: Request[Any, Any, Any]) -> FormMultiDict:
    """The parsed form body (already read once by the CSRF check, so this is cached)."""
    return await request.form()


def parse_date(raw: str) -> dt.date | None:
    """A date typed as 2026-03-31 (what date inputs send) or 31/3/2026. ValueError if neither."""
    raw = raw.strip()
    if not raw:
        return None
    if match := _DMY.match(raw):
        day, month, year = (int(g) for g in match.groups())
        return dt.date(year, month, day)
    return dt.date.fromisoformat(raw)


# Whole numbers from a request fit a 64-bit database column, or are not numbers at all.
INT_MIN, INT_MAX = -(2**63), 2**63 - 1


def parse_int(raw: object, minimum: int = INT_MIN, maximum: int = INT_MAX) -> int | None:
    """The whole number typed, or None when it is not one or is outside minimum..maximum.

    The one way to read a number from a query string or form: a huge value never reaches the
    database (where it would overflow), it is simply not a valid number."""
    text = str(raw if raw is not None else "").strip()
    if not _INTEGER.fullmatch(text):  # ASCII digits only: no "1_000", no other scripts' digits
        return None
    value = int(text)
    return value if minimum <= value <= maximum else None


@dataclass
class ReviewerForm:
    """What the reviewer form shows: the typed values, as strings."""

    name: str = ""
    email: str = ""
    partnership_id: str = ""
    agency: str = ""
    job_role: str = ""
    skills: list[str] = field(default_factory=list)
    capacity: str = "1"
    active: str = "yes"  # "yes" or "no"; anything else is refused, never guessed
    accredited_on: str = ""
    prior_reviews: str = "0"
    last_review_on: DateInput = field(default_factory=lambda: DateInput())
    unavailable: list[tuple[str, str]] = field(default_factory=list)
    conflict_partnership_ids: list[str] = field(default_factory=list)
    organisation_id: str = ""  # blank: keep their organisation if it fits, else the default
    # Rows typed past the last one the form offers (MAX_UNAVAILABLE): refused, not dropped.
    ranges_beyond_limit: bool = False

    @property
    def range_rows(self) -> list[tuple[str, str]]:
        """The ranges typed so far plus a few empty rows for new ones (no JavaScript needed)."""
        rows = list(self.unavailable)
        # Keep rows where they were typed (error messages refer to them by position).
        while rows and not (rows[-1][0].strip() or rows[-1][1].strip()):
            rows.pop()
        return rows + [("", "")] * EMPTY_RANGE_ROWS

    @classmethod
    def from_form(cls, form: FormMultiDict) -> ReviewerForm:
        def text(name: str) -> str:
            return str(form.get(name) or "")

        count, beyond = _range_rows(form)
        ranges = [
            (text(f"unavailable-{i}-from"), text(f"unavailable-{i}-to")) for i in range(count)
        ]
        return cls(
            name=text("name"),
            email=text("email"),
            partnership_id=text("partnership_id"),
            agency=text("agency"),
            job_role=text("job_role"),
            skills=[str(s) for s in form.getall("skills", [])],
            capacity=text("capacity"),
            active=text("active") or "yes",
            accredited_on=text("accredited_on"),
            prior_reviews=text("prior_reviews")[:20],
            last_review_on=DateInput.from_form(form, "last_review_on"),
            unavailable=ranges,
            conflict_partnership_ids=[str(p) for p in form.getall("conflict_partnership_ids", [])],
            organisation_id=text("organisation_id")[:20],
            ranges_beyond_limit=beyond,
        )

    @classmethod
    def from_view(cls, reviewer: ReviewerView) -> ReviewerForm:
        return cls(
            name=reviewer.name,
            email=reviewer.email,
            partnership_id=str(reviewer.partnership_id),
            agency=reviewer.agency,
            job_role=reviewer.job_role or "",
            skills=list(reviewer.skills),
            capacity=str(reviewer.capacity),
            active="yes" if reviewer.active else "no",
            accredited_on=reviewer.accredited_on.isoformat() if reviewer.accredited_on else "",
            prior_reviews=str(reviewer.prior_reviews),
            last_review_on=DateInput.from_date(reviewer.last_review_on),
            unavailable=[(a.isoformat(), b.isoformat()) for a, b in reviewer.unavailable],
            conflict_partnership_ids=[str(p) for p in reviewer.conflict_partnership_ids],
            organisation_id=str(reviewer.organisation_id or ""),
        )

    def to_input(self) -> tuple[ReviewerInput, dict[str, str]]:
        """The service input, and the problems found while reading the form (a date that is not
        a date). Rules about the values themselves are the registry's."""
        errors: dict[str, str] = {}
        try:
            accredited_on = parse_date(self.accredited_on)
        except ValueError:
            accredited_on = None
            errors["accredited_on"] = "Accreditation date must be a real date, like 2025-03-31"
        last_review_on, problem = self.last_review_on.parse("Date of the last peer review")
        if problem:
            errors["last_review_on"] = problem
        prior = self.prior_reviews.strip()
        prior_reviews = 0 if not prior else parse_int(prior) if len(prior) <= 6 else None
        if self.active not in ("yes", "no"):
            errors["active"] = "Select whether the reviewer is active"
        if self.ranges_beyond_limit:
            errors["unavailable"] = f"Enter no more than {MAX_UNAVAILABLE} unavailable periods"
        unavailable: list[tuple[dt.date, dt.date]] = []
        for i, (start, end) in enumerate(self.unavailable):
            if not start.strip() and not end.strip():
                continue
            try:
                first, last = parse_date(start), parse_date(end)
            except ValueError:
                errors[f"unavailable-{i}"] = "Enter real dates, like 2026-03-31"
                continue
            if first is None or last is None:
                errors[f"unavailable-{i}"] = "Enter both the first and the last day away"
                continue
            unavailable.append((first, last))
        data = ReviewerInput(
            name=self.name,
            email=self.email,
            partnership_id=parse_int(self.partnership_id),
            agency=self.agency,
            job_role=self.job_role,
            skills=self.skills,
            capacity=parse_int(self.capacity),
            active=self.active != "no",
            accredited_on=accredited_on,
            prior_reviews=prior_reviews,
            last_review_on=last_review_on,
            unavailable=unavailable,
            conflict_partnership_ids=[
                p for p in (parse_int(c) for c in self.conflict_partnership_ids) if p is not None
            ],
            organisation_id=parse_int(self.organisation_id),
        )
        if self.organisation_id.strip() and data.organisation_id is None:
            errors["organisation_id"] = "Choose an organisation from the list"
        return data, errors


def _range_rows(form: FormMultiDict) -> tuple[int, bool]:
    """How many unavailability rows the form carries (up to the limit), and whether anything
    was typed in a row past it."""
    count, beyond = 0, False
    for key in form:
        match = _RANGE_KEY.fullmatch(key)
        if match is None:
            continue
        index = int(match.group(1))
        if index < MAX_UNAVAILABLE:
            count = max(count, index + 1)
        elif any(str(v).strip() for v in form.getall(key, [])):
            beyond = True
    return count, beyond


# The order fields appear on the reviewer form, so the error summary reads top to bottom.
# Error summary order follows the form, which follows ReviewerInput.
FIELD_ORDER = [f.name for f in fields(ReviewerInput)]
ANCHORS = {
    "unavailable": "unavailable-0-from",
    "active": "active",
    "last_review_on": "last_review_on-day",
}


def error_summary(errors: dict[str, str], anchors: dict[str, str] | None = None) -> list[Any]:
    """GOV.UK error summary items: each message links to the field it is about."""
    anchors = {**ANCHORS, **(anchors or {})}

    def anchor(key: str) -> str:
        if key in anchors:
            return anchors[key]
        return f"{key}-from" if key.startswith("unavailable-") else key

    def position(key: str) -> int:
        name = "unavailable" if key.startswith("unavailable") else key
        return FIELD_ORDER.index(name) if name in FIELD_ORDER else len(FIELD_ORDER)

    ordered = sorted(errors.items(), key=lambda item: position(item[0]))
    return [{"text": message, "href": f"#{anchor(key)}"} for key, message in ordered]


# --- GOV.UK date input: day, month and year in three fields -----------------------------------

_MONTHS = {
    name: number
    for number in range(1, 13)
    for name in (
        dt.date(2000, number, 1).strftime("%B").lower(),
        dt.date(2000, number, 1).strftime("%b").lower(),
    )
}
_MONTHS["sept"] = 9
_PARTS = ("day", "month", "year")


@dataclass
class DateInput:
    """What was typed in one GOV.UK date input (``NAME-day``, ``NAME-month``, ``NAME-year``),
    kept as typed so a form with errors comes back as it was sent.

    Parsed the UK way whatever the browser: day first, then month (a number, or a name like
    "Feb"), then a four-digit year. ``error_parts`` names the fields to highlight."""

    day: str = ""
    month: str = ""
    year: str = ""
    error_parts: tuple[str, ...] = ()

    @classmethod
    def from_form(cls, form: FormMultiDict, name: str) -> DateInput:
        def part(suffix: str) -> str:
            return str(form.get(f"{name}-{suffix}") or "")[:50]

        return cls(day=part("day"), month=part("month"), year=part("year"))

    @classmethod
    def from_date(cls, value: dt.date | None) -> DateInput:
        if value is None:
            return cls()
        return cls(day=str(value.day), month=str(value.month), year=str(value.year))

    @property
    def blank(self) -> bool:
        return not (self.day.strip() or self.month.strip() or self.year.strip())

    def parse(self, label: str, *, required: bool = False) -> tuple[dt.date | None, str | None]:
        """The date, or None and the message for the field ("Review window start must be a
        real date"). ``label`` starts the messages, as GOV.UK asks: "Enter {label}"."""
        self.error_parts = ()
        if self.blank:
            if required:
                self.error_parts = _PARTS
                return None, f"Enter the {label.lower()}"
            return None, None
        typed = {"day": self.day.strip(), "month": self.month.strip(), "year": self.year.strip()}
        missing = tuple(p for p in _PARTS if not typed[p])
        if missing:
            self.error_parts = missing
            return None, f"{label} must include a {' and '.join(missing)}"
        day = _number(typed["day"], 2)
        month = _number(typed["month"], 2)
        if month is None:
            month = _MONTHS.get(typed["month"].lower().rstrip("."))
        year = _number(typed["year"], 4)
        if year is not None and len(typed["year"]) != 4:
            self.error_parts = ("year",)
            return None, f"{label} year must include 4 numbers"
        if day is None or month is None or year is None:
            self.error_parts = tuple(
                p for p, v in zip(_PARTS, (day, month, year), strict=True) if v is None
            )
            return None, f"{label} must be a real date"
        try:
            return dt.date(year, month, day), None
        except ValueError:
            self.error_parts = ("day",) if 1 <= month <= 12 else ("month",)
            return None, f"{label} must be a real date"


def _number(text: str, digits: int) -> int | None:
    """A whole number of at most ``digits`` digits (ASCII only: no "²", no "1_0")."""
    if not text.isascii() or not text.isdigit() or len(text) > digits:
        return None
    return int(text)


# --- The review request form ------------------------------------------------------------------

REQUEST_DATES = {
    "window_start": "Review window start",
    "window_end": "Review window end",
    "notified_on": "Notification date",
    "statutory_deadline": "Deadline override",
}


@dataclass
class RequestForm:
    """What the request form shows: the typed values, as strings."""

    partnership_id: str = ""
    reference: str = ""
    methodology: str = ""
    high_profile: bool = False
    agencies_involved: list[str] = field(default_factory=list)
    organisations_involved: list[str] = field(default_factory=list)  # ids, as typed
    required_skills: list[str] = field(default_factory=list)
    peers: str = "2"
    # "yes", "no" or "" (not chosen: the default for the number of peers).
    needs_experienced: str = ""
    dates: dict[str, DateInput] = field(
        default_factory=lambda: {name: DateInput() for name in REQUEST_DATES}
    )

    @classmethod
    def from_form(cls, form: FormMultiDict) -> RequestForm:
        def text(name: str) -> str:
            return str(form.get(name) or "")

        return cls(
            partnership_id=text("partnership_id"),
            reference=text("reference")[:200],
            methodology=text("methodology"),
            high_profile=text("high_profile") == "yes",
            agencies_involved=[str(a) for a in form.getall("agencies_involved", [])],
            organisations_involved=[
                str(o)[:20] for o in form.getall("organisations_involved", [])[:100]
            ],
            required_skills=[str(s) for s in form.getall("required_skills", [])],
            peers=text("peers")[:20],
            needs_experienced=text("needs_experienced"),
            dates={name: DateInput.from_form(form, name) for name in REQUEST_DATES},
        )

    @classmethod
    def from_request(cls, request: ReviewRequest) -> RequestForm:
        return cls(
            partnership_id=str(request.partnership_id),
            reference=request.reference,
            methodology=request.methodology,
            high_profile=request.high_profile,
            agencies_involved=list(request.agencies_involved),
            organisations_involved=[str(o) for o in request.organisations_involved or []],
            required_skills=list(request.required_skills),
            peers=str(request.peers),
            needs_experienced="yes" if request.needs_experienced else "no",
            dates={
                "window_start": DateInput.from_date(request.window_start),
                "window_end": DateInput.from_date(request.window_end),
                "notified_on": DateInput.from_date(request.notified_on),
                "statutory_deadline": DateInput.from_date(
                    request.statutory_deadline if request.deadline_overridden else None
                ),
            },
        )

    def to_input(self) -> tuple[RequestInput, dict[str, str]]:
        """The service input, and what could not be read at all (a date that is not a date).
        Rules about the values are the requests service's."""
        errors: dict[str, str] = {}
        parsed: dict[str, dt.date | None] = {}
        for name, label in REQUEST_DATES.items():
            required = name in ("window_start", "window_end")
            parsed[name], problem = self.dates[name].parse(label, required=required)
            if problem:
                errors[name] = problem
        peers = parse_int(self.peers) if len(self.peers.strip()) <= 3 else None
        needs = {"yes": True, "no": False}.get(self.needs_experienced)
        data = RequestInput(
            partnership_id=parse_int(self.partnership_id),
            reference=self.reference,
            methodology=self.methodology,
            window_start=parsed["window_start"],
            window_end=parsed["window_end"],
            peers=peers,
            high_profile=self.high_profile,
            agencies_involved=self.agencies_involved,
            organisations_involved=[
                o for o in (parse_int(c) for c in self.organisations_involved) if o is not None
            ],
            required_skills=self.required_skills,
            notified_on=parsed["notified_on"],
            statutory_deadline=parsed["statutory_deadline"],
            needs_experienced=needs,
        )
        if len(data.organisations_involved) != len(self.organisations_involved):
            errors["organisations_involved"] = "Choose organisations from the list"
        return data, errors


REQUEST_FIELD_ORDER = [
    "partnership_id",
    "reference",
    "methodology",
    "high_profile",
    "organisations_involved",
    "agencies_involved",
    "required_skills",
    "peers",
    "needs_experienced",
    "window_start",
    "window_end",
    "notified_on",
    "statutory_deadline",
    "reason",
    "status",
]


def request_error_summary(errors: dict[str, str], form: RequestForm | None = None) -> list[Any]:
    """Error summary items in form order; a date's link goes to its first field in error."""

    def anchor(key: str) -> str:
        if form is not None and key in form.dates:
            parts = form.dates[key].error_parts or ("day",)
            return f"{key}-{parts[0]}"
        return key

    def position(key: str) -> int:
        order = REQUEST_FIELD_ORDER
        return order.index(key) if key in order else len(order)

    ordered = sorted(errors.items(), key=lambda item: position(item[0]))
    return [{"text": message, "href": f"#{anchor(key)}"} for key, message in ordered]
