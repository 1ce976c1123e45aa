"""The JSON objects of ``peermatch.problem/1`` and ``peermatch.solution/1`` as msgspec structs.

One class per kind of object in docs/matching.md, its keys in the contract's order, with the
contract's defaults and bounds. Decoding into them checks the shape of a file (types, bounds,
missing and unknown keys); ``io.py`` turns a decoding error into ``<element path>: <message>``
and checks what needs the whole file (unique ids, references, locked pairs).

Structs are untracked by the garbage collector (``gc=False``, they hold no cycles) and arrays
decode to tuples, which it stops tracking too: a national problem (10,000 reviewers) then
decodes without the collector walking every object again and again.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec

from peermatch.matching.problem import DEFAULT_EXPERIENCE_THRESHOLD

Text = Annotated[str, msgspec.Meta(pattern=r"\S")]  # ids, agencies and skills are not blank
Count = Annotated[int, msgspec.Meta(ge=0)]
Positive = Annotated[int, msgspec.Meta(ge=1)]
Balance = Annotated[int, msgspec.Meta(ge=-(10**12))]


class Strict(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """An object whose unknown keys are refused: a misspelt optional key must not pass."""


# --- the problem -------------------------------------------------------------------------


class PartnershipEntry(Strict):
    id: Text
    lent: Count = 0
    received: Count = 0


class GapEntry(Strict):
    start: dt.date = msgspec.field(name="from")
    end: dt.date = msgspec.field(name="to")


class ReviewerEntry(Strict):
    id: Text
    partnership: Text
    agency: Text
    skills: frozenset[Text] = frozenset()  # a skill listed twice is listed once
    capacity: Count = 1
    unavailable: tuple[GapEntry, ...] = ()
    conflicts: tuple[Text, ...] = ()  # in order: an unknown name is reported by its index
    reviews_completed: Count = 0
    last_review_on: dt.date | None = None
    organisation: Text | None = None


class RequestEntry(Strict):
    id: Text
    partnership: Text
    peers: Positive
    start: dt.date = msgspec.field(name="from")
    end: dt.date = msgspec.field(name="to")
    high_profile: bool = False
    required_skills: tuple[Text, ...] = ()
    agencies_involved: frozenset[Text] = frozenset()
    needs_experienced: bool = False
    organisations_involved: frozenset[Text] = frozenset()


class PairEntry(Strict):
    request: Text
    reviewer: Text


class ProblemRequests(msgspec.Struct, gc=False):
    """Only a problem's requests (its other keys are skipped, not checked): for a reader that
    needs to know which requests a stored problem covers without building its reviewers."""

    requests: tuple[RequestEntry, ...] = ()


class ProblemFile(Strict):
    format: str  # checked before decoding, with a message of its own
    partnerships: tuple[PartnershipEntry, ...] = ()
    reviewers: tuple[ReviewerEntry, ...] = ()
    requests: tuple[RequestEntry, ...] = ()
    locked: tuple[PairEntry, ...] = ()
    excluded: tuple[PairEntry, ...] = ()
    experience_threshold: Positive = DEFAULT_EXPERIENCE_THRESHOLD
    as_of: dt.date | None = None
    # Never null: absent means "no previous proposal" (no `kept` in the solution); a list may be
    # empty (a previous proposal with no pairs: `kept` is 0).
    previous: tuple[PairEntry, ...] | msgspec.UnsetType = msgspec.UNSET


# --- the solution (its shape only; the rules are validate.py's) ----------------------------


class BoundsEntry(Strict):
    filled: Count
    imbalance: Count
    practice: Count | None = None  # absent in files written before the extension
    kept: Count | None = None  # present when the problem had ``previous``


class UnfilledEntry(Strict):
    eligible: Count
    ineligible: dict[str, Any]  # each value a Count, checked one by one to name its key
    missing_skills: tuple[Text, ...]
    taken_elsewhere: Count
    missing_experience: bool = False


class OutcomeEntry(Strict):
    id: Text
    peers: Positive
    filled: Count
    alternates: tuple[Text, ...]  # a repeated alternate is for the validator to report
    unfilled: UnfilledEntry | msgspec.UnsetType = msgspec.UNSET  # absent, never null


class SolutionFile(msgspec.Struct, gc=False):
    """Unknown top-level keys are optional extensions, kept in ``Solution.extra``."""

    format: str
    status: Text
    assignments: tuple[PairEntry, ...]
    filled: Count
    imbalance: Count
    bounds: BoundsEntry
    balance: dict[str, Any]  # each value a Balance, checked one by one to name its key
    requests: tuple[OutcomeEntry, ...]
    seconds: float
    practice: Count | None = None
    kept: Count | None = None
