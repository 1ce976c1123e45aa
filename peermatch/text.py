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

import re

# C0 controls and DEL. Tab, line feed and carriage return are allowed only where a field says so.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_OR_BREAK = re.compile(r"[\x00-\x1f\x7f]")
# What makes a spreadsheet treat a cell as a formula (OWASP), and the full-width forms some
# spreadsheet locales accept too.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def has_control_characters(value: str, *, allow_line_breaks: bool = False) -> bool:
    pattern = _CONTROL if allow_line_breaks else _CONTROL_OR_BREAK
    return bool(pattern.search(value))


def starts_like_formula(value: str) -> bool:
    return value.lstrip(" ").startswith(FORMULA_START)


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
    prefixed with an apostrophe (OWASP's CSV injection advice). Quoting is the csv writer's."""
    text = "" if value is None else str(value)
    return "'" + text if starts_like_formula(text) else text


def from_spreadsheet_cell(cell: str) -> str:
    """The inverse of :func:`spreadsheet_cell` for an imported cell, so an export can be
    imported again (the value is then checked like any other)."""
    if cell.startswith("'") and starts_like_formula(cell[1:]):
        return cell[1:]
    return cell
