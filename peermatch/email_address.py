"""Work email addresses: one normal form (trimmed, lower-case) and a deliberately plain check."""

from __future__ import annotations

import re

# Plain on purpose: one @, a dot in the domain, no spaces. Delivery proves the rest.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_LENGTH = 254


def normalise(email: str) -> str:
    return email.strip().lower()


def is_valid(email: str) -> bool:
    return len(email) <= MAX_LENGTH and bool(_EMAIL.match(email))
