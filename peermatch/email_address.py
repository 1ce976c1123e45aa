"""Work email addresses: one normal form (trimmed, lower-case) and a deliberately plain check."""

from __future__ import annotations

import re

from peermatch import text

# Plain on purpose: one @, a dot in the domain, no spaces. Delivery proves the rest.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_LENGTH = 254


def normalise(email: str) -> str:
    return email.strip().lower()


def is_valid(email: str) -> bool:
    """One @, a dot in the domain, no spaces or control characters, and not a spreadsheet
    formula (no leading =, +, -, @)."""
    return (
        len(email) <= MAX_LENGTH
        and bool(_EMAIL.fullmatch(email))
        and not text.has_control_characters(email)
        and not text.starts_like_formula(email)
    )
