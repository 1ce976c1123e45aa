"""Domain errors raised by services; one place in the web layer maps them to responses."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the domain was broken. ``field`` names the input at fault, if any."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ValidationFailed(DomainError):
    """Input broke one or more rules; ``errors`` maps field name to message."""

    def __init__(self, errors: dict[str, str]) -> None:
        first = next(iter(errors.items()), ("", "invalid input"))
        super().__init__(first[1], first[0] or None)
        self.errors = errors


class NotFound(DomainError):
    """The thing does not exist, or is outside the caller's region (we do not say which)."""


class Conflict(DomainError):
    """The change clashes with existing data (a duplicate email, say)."""


class PermissionDenied(DomainError):
    """The caller may not do this."""
