"""The problem and solution as plain, immutable data (see docs/matching.md)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

PROBLEM_FORMAT = "peermatch.problem/1"
SOLUTION_FORMAT = "peermatch.solution/1"

# Reasons a reviewer is not eligible for a request, in the order the contract lists them.
INELIGIBLE_REASONS = (
    "no_capacity",
    "high_profile_internal",
    "involved_agency",
    "conflict",
    "unavailable",
    "excluded",
)


@dataclass(frozen=True)
class DateRange:
    start: dt.date  # "from"
    end: dt.date  # "to", inclusive

    def overlaps(self, other: DateRange) -> bool:
        return self.start <= other.end and other.start <= self.end


@dataclass(frozen=True)
class Partnership:
    id: str
    lent: int = 0
    received: int = 0


@dataclass(frozen=True)
class Reviewer:
    id: str
    partnership: str
    agency: str
    skills: frozenset[str] = frozenset()
    capacity: int = 1
    unavailable: tuple[DateRange, ...] = ()
    conflicts: frozenset[str] = frozenset()  # request ids and partnership ids


@dataclass(frozen=True)
class Request:
    id: str
    partnership: str
    peers: int
    window: DateRange
    high_profile: bool = False
    required_skills: tuple[str, ...] = ()
    agencies_involved: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Pair:
    request: str
    reviewer: str


@dataclass(frozen=True)
class Problem:
    partnerships: tuple[Partnership, ...]
    reviewers: tuple[Reviewer, ...]
    requests: tuple[Request, ...]
    locked: tuple[Pair, ...] = ()
    excluded: tuple[Pair, ...] = ()


@dataclass(frozen=True)
class Unfilled:
    eligible: int
    ineligible: dict[str, int]
    missing_skills: tuple[str, ...]
    taken_elsewhere: int


@dataclass(frozen=True)
class RequestOutcome:
    id: str
    peers: int
    filled: int
    unfilled: Unfilled | None
    alternates: tuple[str, ...]


@dataclass(frozen=True)
class Solution:
    status: str  # optimal | feasible | infeasible
    assignments: tuple[Pair, ...]
    filled: int
    imbalance: int
    bound_filled: int
    bound_imbalance: int
    balance: dict[str, int]
    requests: tuple[RequestOutcome, ...]
    seconds: float
    extra: dict[str, object] = field(default_factory=dict)
