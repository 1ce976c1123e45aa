"""Form parsing: raw browser input to service inputs, keeping what the coordinator typed so a
form with errors comes back exactly as it was sent."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, fields
from typing import Any

from litestar import Request
from litestar.datastructures import FormMultiDict

from peermatch.registry import ReviewerInput, ReviewerView

EMPTY_RANGE_ROWS = 3
_INTEGER = re.compile(r"[+-]?[0-9]{1,20}")
_DMY = re.compile(r"^\s*(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})\s*$")


async def provide_form(request: Request) -> FormMultiDict:
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
    active: bool = True
    accredited_on: str = ""
    unavailable: list[tuple[str, str]] = field(default_factory=list)
    conflict_partnership_ids: list[str] = field(default_factory=list)
    # For each range passed to the service, the form row it came from (empty rows are skipped).
    range_rows_used: list[int] = field(default_factory=list)

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

        ranges = []
        for i in range(_range_count(form)):
            ranges.append((text(f"unavailable-{i}-from"), text(f"unavailable-{i}-to")))
        return cls(
            name=text("name"),
            email=text("email"),
            partnership_id=text("partnership_id"),
            agency=text("agency"),
            job_role=text("job_role"),
            skills=[str(s) for s in form.getall("skills", [])],
            capacity=text("capacity"),
            active=text("active") != "no",
            accredited_on=text("accredited_on"),
            unavailable=ranges,
            conflict_partnership_ids=[str(p) for p in form.getall("conflict_partnership_ids", [])],
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
            active=reviewer.active,
            accredited_on=reviewer.accredited_on.isoformat() if reviewer.accredited_on else "",
            unavailable=[(a.isoformat(), b.isoformat()) for a, b in reviewer.unavailable],
            conflict_partnership_ids=[str(p) for p in reviewer.conflict_partnership_ids],
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
        unavailable: list[tuple[dt.date, dt.date]] = []
        self.range_rows_used = []
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
            self.range_rows_used.append(i)
        data = ReviewerInput(
            name=self.name,
            email=self.email,
            partnership_id=parse_int(self.partnership_id),
            agency=self.agency,
            job_role=self.job_role,
            skills=self.skills,
            capacity=parse_int(self.capacity),
            active=self.active,
            accredited_on=accredited_on,
            unavailable=unavailable,
            conflict_partnership_ids=[
                p for p in (parse_int(c) for c in self.conflict_partnership_ids) if p is not None
            ],
        )
        return data, errors


def _range_count(form: FormMultiDict) -> int:
    indexes = [
        parse_int(key.split("-")[1])
        for key in form
        if key.startswith("unavailable-") and key.count("-") == 2
    ]
    found = [i for i in indexes if i is not None and 0 <= i < 100]
    return max(found) + 1 if found else 0


def field_errors(form: ReviewerForm, errors: dict[str, str]) -> dict[str, str]:
    """Service errors keyed the way the form's fields are: ``unavailable.1`` (the second range
    the service saw) becomes the form row it was typed in."""
    result: dict[str, str] = {}
    for key, message in errors.items():
        match = re.match(r"^unavailable\W*(\d+)", key)
        if match and not key.startswith("unavailable-"):
            index = int(match.group(1))
            rows = form.range_rows_used
            key = f"unavailable-{rows[index] if index < len(rows) else index}"
        result[key] = message
    return result


# The order fields appear on the reviewer form, so the error summary reads top to bottom.
# Error summary order follows the form, which follows ReviewerInput.
FIELD_ORDER = [f.name for f in fields(ReviewerInput)]
ANCHORS = {"unavailable": "unavailable-0-from", "active": "active"}


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
