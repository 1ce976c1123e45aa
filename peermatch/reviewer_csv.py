"""Reviewers in and out as CSV: one reviewer a row, lists ``;``-separated, date ranges as
``2027-02-01..2027-02-14``, partnerships by code. Export and import use the same columns, so an
export can be edited and imported elsewhere.

An import is all or nothing: ``preview_import`` lists every problem by line and column, and
``apply_import`` writes only when there are none.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from peermatch import audit, email_address, organisations, registry
from peermatch.errors import ValidationFailed
from peermatch.models import Partnership, Reviewer
from peermatch.registry import ReviewerInput
from peermatch.text import csv_writer, from_spreadsheet_cell, spreadsheet_row

COLUMNS = (
    "name",
    "email",
    "partnership",
    "agency",
    "job_role",
    "skills",
    "capacity",
    "active",
    "accredited_on",
    "unavailable",
    "conflicts",
    "prior_reviews",
    "last_review_on",
    "organisation",
)
# Added after the first release: a file without them still imports (0, blank, and the default
# organisation "<Partnership> <agency label>").
OPTIONAL_COLUMNS = ("prior_reviews", "last_review_on", "organisation")
MAX_BYTES = 2_000_000
# The import pages' own request body cap: an upload of MAX_BYTES (and one byte more, for the
# preview to say it is too large) in its multipart form, or the same file base64-encoded and
# URL-encoded in the confirmation form. Every other page's form is far smaller.
MAX_UPLOAD_BYTES = 4_000_000
MAX_ROWS = 5_000
_TRUE = {"yes", "y", "true", "1", ""}
_FALSE = {"no", "n", "false", "0"}
# Rule errors name ReviewerInput fields; a CSV user knows the columns.
_COLUMN_OF = {
    "partnership_id": "partnership",
    "conflict_partnership_ids": "conflicts",
    "organisation_id": "organisation",
}


@dataclass
class RowError:
    line: int
    field: str
    message: str


@dataclass
class ImportPreview:
    rows: list[ReviewerInput] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    fatal: str | None = None

    @property
    def ok(self) -> bool:
        return self.fatal is None and not self.errors


class ImportRejected(ValidationFailed):
    """The file, or some of its rows, broke the rules; nothing was written."""

    def __init__(self, preview: ImportPreview) -> None:
        summary = preview.fatal or (
            f"{len(preview.errors)} problem{'s' if len(preview.errors) != 1 else ''} "
            f"in the file; nothing was imported"
        )
        super().__init__({"file": summary})
        self.preview = preview


# --- reading ---------------------------------------------------------------------------------


def _decode(content: bytes) -> tuple[str | None, str | None]:
    """The text of an upload, or why it cannot be a CSV file."""
    if not content.strip():
        return None, "The file is empty"
    if len(content) > MAX_BYTES:
        return None, f"The file is larger than {MAX_BYTES // 1_000_000} MB"
    if b"\x00" in content:
        return None, "The file is not a CSV file (it looks like a spreadsheet or other binary)"
    try:
        return content.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        return None, "The file is not UTF-8 text: save it as 'CSV UTF-8' and try again"


def _header_problem(header: list[str]) -> str | None:
    names = [h.strip().lower() for h in header]
    missing = [c for c in COLUMNS if c not in names and c not in OPTIONAL_COLUMNS]
    unexpected = [h for h in names if h not in COLUMNS]
    duplicated = sorted({h for h in names if names.count(h) > 1})
    problems = []
    if missing:
        problems.append(f"missing columns: {', '.join(missing)}")
    if unexpected:
        problems.append(f"unexpected columns: {', '.join(unexpected) or '(blank)'}")
    if duplicated:
        problems.append(f"repeated columns: {', '.join(duplicated)}")
    if problems:
        return f"The header row is wrong ({'; '.join(problems)}). Columns: {', '.join(COLUMNS)}"
    return None


def preview_import(session: Session, region_id: int, content: bytes) -> ImportPreview:
    text, fatal = _decode(content)
    if text is None:
        return ImportPreview(fatal=fatal)
    try:
        records = _records(text)
    except csv.Error as exc:
        return ImportPreview(fatal=f"The file is not a valid CSV file ({exc})")
    if isinstance(records, str):
        return ImportPreview(fatal=records)
    return _check_rows(session, region_id, records)


def _records(text: str) -> list[tuple[int, dict[str, str]]] | str:
    """(line number, column -> value) for every non-blank row, or a fatal problem."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header = next(reader, None)
    if header is None:
        return "The file is empty"
    if problem := _header_problem(header):
        return problem
    names = [h.strip().lower() for h in header]
    records: list[tuple[int, dict[str, str]]] = []
    for cells in reader:
        if not any(c.strip() for c in cells):
            continue
        if len(records) >= MAX_ROWS:
            return f"The file has more than {MAX_ROWS} reviewers; split it into smaller files"
        # An exported cell escaped against formulas ('=...) reads back as what was stored; the
        # value is then checked like any other (and a formula refused).
        values = dict(zip(names, (from_spreadsheet_cell(c.strip()) for c in cells), strict=False))
        if len(cells) != len(names):
            values["__width__"] = str(len(cells))
            values["__expected__"] = str(len(names))
        records.append((reader.line_num, values))
    if not records:
        return "The file has a header row but no reviewers"
    return records


def _check_rows(
    session: Session, region_id: int, records: list[tuple[int, dict[str, str]]]
) -> ImportPreview:
    partnerships = registry.region_partnerships(session, region_id)
    by_code = {p.code.lower(): pid for pid, p in partnerships.items()}
    unknown = _unknown_code_message(sorted(p.code for p in partnerships.values()))
    existing = _existing_emails(session, [r.get("email", "") for _, r in records])
    preview = ImportPreview()
    first_line: dict[str, int] = {}
    for line, values in records:
        if "__width__" in values:
            preview.errors.append(
                RowError(
                    line, "", f"has {values['__width__']} values, expected {values['__expected__']}"
                )
            )
            continue
        data, problems = _parse(values, by_code, unknown)
        if name := values.get("organisation", "").strip():
            org = organisations.find_by_name(session, region_id, name)
            home = partnerships.get(data.partnership_id or 0)
            if org is None and home is not None and _is_default(name, home, data.agency):
                pass  # the partnership's own, created on import: an export imports back
            elif org is None:
                problems["organisation"] = (
                    f"Unknown organisation {name!r}; add it on the Organisations page first, "
                    "or leave the cell blank for the partnership's own"
                )
            else:
                data.organisation_id = org.id
        data = registry.clean_input(data)
        rule_errors = registry.validation_errors(
            session, region_id, data, partnerships=partnerships
        )
        for name, message in rule_errors.items():
            problems.setdefault(_COLUMN_OF.get(name, name), message)
        if data.email and data.email in first_line:
            problems["email"] = f"The same email address is on line {first_line[data.email]}"
        elif data.email in existing:
            problems["email"] = registry.DUPLICATE_EMAIL
        first_line.setdefault(data.email, line)
        preview.errors.extend(RowError(line, f, m) for f, m in _in_column_order(problems))
        if not problems:
            preview.rows.append(data)
    return preview


def _is_default(name: str, partnership: Partnership, agency: str) -> bool:
    wanted = " ".join(name.split()).lower()
    return wanted == organisations.default_name(partnership, agency.strip()).lower()


def _in_column_order(problems: dict[str, str]) -> list[tuple[str, str]]:
    rank = {c: i for i, c in enumerate(COLUMNS)}
    return sorted(problems.items(), key=lambda item: rank.get(item[0], len(rank)))


def _existing_emails(session: Session, emails: list[str]) -> set[str]:
    # Compared in the one normal form the registry stores (peermatch/email_address.py).
    wanted = {email_address.normalise(e) for e in emails if e.strip()}
    if not wanted:
        return set()
    found = session.exec(select(Reviewer.email).where(col(Reviewer.email).in_(wanted)))
    return set(found)


def _unknown_code_message(codes: list[str]) -> Callable[[str], str]:
    listed = ", ".join(codes) if codes else "none yet"

    def message(code: str) -> str:
        return f"Unknown partnership code {code!r}; the codes in this region are {listed}"

    return message


def _parse(
    values: dict[str, str], by_code: dict[str, int], unknown: Callable[[str], str]
) -> tuple[ReviewerInput, dict[str, str]]:
    """A ReviewerInput from one row, and the cells that could not be read at all."""
    problems: dict[str, str] = {}
    partnership_id = by_code.get(values["partnership"].lower())
    if partnership_id is None:
        problems["partnership"] = (
            unknown(values["partnership"])
            if values["partnership"]
            else "Enter the partnership's code"
        )
    conflicts = []
    for code in _split(values["conflicts"]):
        if code.lower() in by_code:
            conflicts.append(by_code[code.lower()])
        else:
            problems["conflicts"] = unknown(code)
    capacity = _integer(values["capacity"], "capacity", problems, default=1)
    active = _flag(values["active"], problems)
    accredited_on = _date(values["accredited_on"], "accredited_on", problems)
    unavailable = _ranges(values["unavailable"], problems)
    prior_reviews = _integer(values.get("prior_reviews", ""), "prior_reviews", problems, default=0)
    last_review_on = _date(values.get("last_review_on", ""), "last_review_on", problems)
    data = ReviewerInput(
        name=values["name"],
        email=values["email"],
        partnership_id=partnership_id,
        agency=values["agency"],
        job_role=values["job_role"],
        skills=_split(values["skills"]),
        capacity=capacity,
        active=active,
        accredited_on=accredited_on,
        prior_reviews=prior_reviews,
        last_review_on=last_review_on,
        unavailable=unavailable,
        conflict_partnership_ids=conflicts,
    )
    return data, problems


def _split(cell: str) -> list[str]:
    return [part.strip() for part in cell.split(";") if part.strip()]


def _integer(cell: str, name: str, problems: dict[str, str], *, default: int) -> int | None:
    if not cell:
        return default
    try:
        return int(cell)
    except ValueError:
        problems[name] = f"{cell!r} is not a whole number"
        return default


def _flag(cell: str, problems: dict[str, str]) -> bool:
    if cell.lower() in _TRUE:
        return True
    if cell.lower() in _FALSE:
        return False
    problems["active"] = f"{cell!r} is not yes or no"
    return True


def _date(cell: str, name: str, problems: dict[str, str]) -> dt.date | None:
    if not cell:
        return None
    try:
        return dt.date.fromisoformat(cell)
    except ValueError:
        problems[name] = f"{cell!r} is not a date like 2027-02-01"
        return None


def _ranges(cell: str, problems: dict[str, str]) -> list[tuple[dt.date, dt.date]]:
    ranges = []
    for part in _split(cell):
        start, _, end = part.partition("..")
        try:
            first = dt.date.fromisoformat(start.strip())
            last = dt.date.fromisoformat(end.strip()) if end else first
        except ValueError:
            problems["unavailable"] = f"{part!r} is not a date range like 2027-02-01..2027-02-14"
            continue
        ranges.append((first, last))
    return ranges


# --- writing ---------------------------------------------------------------------------------


def apply_import(session: Session, region_id: int, content: bytes, *, actor: str) -> int:
    """Import every reviewer in ``content`` or none; the number imported."""
    preview = preview_import(session, region_id, content)
    if not preview.ok:
        raise ImportRejected(preview)
    created = registry.create_reviewers(session, region_id, preview.rows)
    audit.record(
        session,
        actor=actor,
        action="reviewer.import",
        entity="reviewer",
        region_id=region_id,
        detail={"count": len(created)},
    )
    session.flush()
    return len(created)


def export_reviewers(session: Session, region_id: int, *, actor: str | None = None) -> str:
    """The region's reviewers as CSV. With an ``actor``, the export (a copy of personal data
    leaving the service) is audited."""
    codes = {pid: p.code for pid, p in registry.region_partnerships(session, region_id).items()}
    reviewers = registry.all_reviewers(session, region_id)
    if actor is not None:
        audit.record(
            session,
            actor=actor,
            action="reviewer.export",
            entity="reviewer",
            region_id=region_id,
            detail={"count": len(reviewers)},
        )
        session.flush()
    out = io.StringIO()
    # Any cell a spreadsheet would run as a formula is escaped with a leading apostrophe, and
    # every cell is quoted (quotes inside doubled), as OWASP advises: no cell can spill into
    # the next, whatever it holds (QUOTE_MINIMAL would leave a lone carriage return bare).
    writer = csv_writer(out)
    writer.writerow(COLUMNS)
    for r in reviewers:
        cells: list[object] = [
            r.name,
            r.email,
            r.partnership_code,
            r.agency,
            r.job_role,
            ";".join(r.skills),
            r.capacity,
            "yes" if r.active else "no",
            r.accredited_on.isoformat() if r.accredited_on else "",
            ";".join(f"{s.isoformat()}..{e.isoformat()}" for s, e in r.unavailable),
            ";".join(codes[p] for p in r.conflict_partnership_ids if p in codes),
            r.prior_reviews,
            r.last_review_on.isoformat() if r.last_review_on else "",
            r.organisation_name,
        ]
        writer.writerow(spreadsheet_row(cells))
    return out.getvalue()
