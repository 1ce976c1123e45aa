"""Text typed by people: the one validator that forms, CSV imports, the CLI and services share,
and the one way text leaves as a spreadsheet cell.

Two classes of hostile text are refused where a field has no reason to hold them:

- control characters (NUL and the other C0 controls, DEL): nothing a person types needs them,
  PostgreSQL cannot store NUL, and they hide text from the people reading it;
- a leading ``=``, ``+``, ``-``, ``@``, tab or carriage return, which a spreadsheet runs as a
  formula when a coordinator opens an export (CSV injection).

Every exported cell is escaped anyway (:func:`spreadsheet_cell`), so data stored before these
rules, or a field that may legitimately start with ``-``, is still safe to open.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any

# C0 controls and DEL. Tab, line feed and carriage return are allowed only where a field says so.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_OR_BREAK = re.compile(r"[\x00-\x1f\x7f]")
# What makes a spreadsheet treat a cell as a formula (OWASP), the full-width and small forms
# some spreadsheet locales accept too, and the minus sign.
FORMULA_START = (
    "=", "+", "-", "@", "\t", "\r",
    "\uff1d", "\uff0b", "\uff0d", "\uff20",  # full-width = + - @
    "\ufe66", "\ufe62", "\ufe63", "\ufe6b",  # small = + - @
    "\u2212",  # minus sign
)  # fmt: skip
# What a spreadsheet may skip, or a person cannot see, before a formula: spaces of every kind,
# zero-width characters, the byte order mark, direction marks and isolates.
_INVISIBLE_START = re.compile(
    r"^[\s\u00a0\u1680\u180e\u2000-\u200f\u2028-\u202f\u205f-\u2064\u2066-\u206f"
    r"\u3000\ufeff]+"
)


def has_control_characters(value: str, *, allow_line_breaks: bool = False) -> bool:
    pattern = _CONTROL if allow_line_breaks else _CONTROL_OR_BREAK
    return bool(pattern.search(value))


def starts_like_formula(value: str) -> bool:
    """A leading =, +, -, @, tab or line break (or a full-width or small form of one), after
    anything invisible a spreadsheet or a reader would pass over."""
    if value.startswith(FORMULA_START):
        return True
    return _INVISIBLE_START.sub("", value, count=1).startswith(FORMULA_START)


def text_problem(
    value: str,
    label: str,
    *,
    max_length: int | None = None,
    formula_allowed: bool = False,
    allow_line_breaks: bool = False,
) -> str | None:
    """Why ``value`` (already trimmed) cannot be stored in the field called ``label``, or None.

    ``label`` starts the message: "Name must not ...". Emptiness is the caller's rule."""
    if has_control_characters(value, allow_line_breaks=allow_line_breaks):
        return f"{label} must not contain control characters (such as tabs or NUL)"
    if max_length is not None and len(value) > max_length:
        return f"{label} must be {max_length} characters or fewer"
    if not formula_allowed and starts_like_formula(value):
        return f"{label} must not start with =, +, -, @ or a tab"
    return None


def spreadsheet_cell(value: object) -> str:
    """``value`` as a CSV cell a spreadsheet shows as text: a cell that would start a formula is
    prefixed with an apostrophe (OWASP's CSV injection advice). Quoting is the csv writer's:
    write with :func:`csv_writer`. A number the service computed (a negative balance) is a
    number, not a formula, and stays one."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    text = "" if value is None else str(value)
    return "'" + text if starts_like_formula(text) else text


def csv_writer(out: Any) -> Any:
    """The one CSV writer for exports: every cell quoted (quotes inside doubled), so nothing can
    spill into the next cell whatever it holds. Pass every cell through spreadsheet_cell."""
    return csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)


def spreadsheet_row(cells: Iterable[object]) -> list[str]:
    return [spreadsheet_cell(cell) for cell in cells]


def from_spreadsheet_cell(cell: str) -> str:
    """The inverse of :func:`spreadsheet_cell` for an imported cell, so an export can be
    imported again (the value is then checked like any other)."""
    if cell.startswith("'") and starts_like_formula(cell[1:]):
        return cell[1:]
    return cell
