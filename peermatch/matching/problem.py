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
    # Organisations (docs/matching.md): r.organisation is not among q.organisations_involved.
    "involved_organisation",
)

# Experience and practice (docs/matching.md): defaults and the cap on a reviewer's gap.
DEFAULT_EXPERIENCE_THRESHOLD = 2
PRACTICE_CAP_DAYS = 730


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
    reviews_completed: int = 0
    last_review_on: dt.date | None = None  # None: never reviewed
    organisation: str | None = None  # employer (a police force, an ICB…); None: not given


@dataclass(frozen=True)
class Request:
    id: str
    partnership: str
    peers: int
    window: DateRange
    high_profile: bool = False
    required_skills: tuple[str, ...] = ()
    agencies_involved: frozenset[str] = frozenset()
    needs_experienced: bool = False
    organisations_involved: frozenset[str] = frozenset()  # their reviewers may not take it


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
    experience_threshold: int = DEFAULT_EXPERIENCE_THRESHOLD
    as_of: dt.date | None = None  # None: the earliest request start (see ``practice_date``)
    # The teams of the last proposal, as given (pairs naming unknown ids or now ineligible are
    # kept here but ignored by the solver); None when the problem has no ``previous``.
    previous: tuple[Pair, ...] | None = None

    def practice_date(self) -> dt.date | None:
        """The date practice is measured at: ``as_of``, else the earliest request start (None
        when there is neither: then nobody can be placed, so no gap is ever needed)."""
        if self.as_of is not None:
            return self.as_of
        return min((q.window.start for q in self.requests), default=None)

    def experienced(self, reviewer: Reviewer) -> bool:
        return reviewer.reviews_completed >= self.experience_threshold

    def gap(self, reviewer: Reviewer, as_of: dt.date | None = None) -> int:
        """Days from the reviewer's last review to the practice date (``as_of``, computed when
        not given), within 0..730."""
        as_of = as_of or self.practice_date()
        if reviewer.last_review_on is None or as_of is None:
            return PRACTICE_CAP_DAYS
        return min(max((as_of - reviewer.last_review_on).days, 0), PRACTICE_CAP_DAYS)


@dataclass(frozen=True)
class Unfilled:
    eligible: int
    ineligible: dict[str, int]
    missing_skills: tuple[str, ...]
    taken_elsewhere: int
    # Only meaningful for a request that needs an experienced reviewer: none could be added.
    missing_experience: bool = False


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
    # Σ gap_r over the pairs (the third objective) and its upper bound (docs/solver.md), equal
    # when proven. None only in a solution file written before the extension.
    practice: int | None = None
    bound_practice: int | None = None
    # Previous pairs kept (the stability objective) and its upper bound; None when the problem
    # has no ``previous`` (then neither is written).
    kept: int | None = None
    bound_kept: int | None = None
