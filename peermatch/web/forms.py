"""Form parsing: raw browser input to service inputs, keeping what the coordinator typed so a
form with errors comes back exactly as it was sent."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, fields
from typing import Any

from litestar import Request
from litestar.datastructures import FormMultiDict

from peermatch.registry import MAX_UNAVAILABLE, ReviewerInput, ReviewerView

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
    unavailable: list[tuple[str, str]] = field(default_factory=list)
    conflict_partnership_ids: list[str] = field(default_factory=list)
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
            unavailable=ranges,
            conflict_partnership_ids=[str(p) for p in form.getall("conflict_partnership_ids", [])],
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
            unavailable=unavailable,
            conflict_partnership_ids=[
                p for p in (parse_int(c) for c in self.conflict_partnership_ids) if p is not None
            ],
        )
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
