"""A request's timeline in plain words: the one place that words ``RequestEvent`` rows (the
services store kinds, ids and codes only; names and wording are joined in here)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from peermatch.models import Partnership, RequestEvent, ReviewRequest
from peermatch.staffing.invitations import DECLINE_REASONS
from peermatch.staffing.requests import SEND_BACK_REASONS
from peermatch.vocabulary import load as load_vocabulary
from peermatch.web.pages.people import actor_names, reviewer_names
from peermatch.web.pages.proposal import breach_words, empty_seat_reasons, short_name


@dataclass(frozen=True)
class TimelineEntry:
    at: dt.datetime
    who: str
    text: str


_STATUS_TEXT = {
    "created": "Request opened",
    "edited": "Details changed",
    "accepted": "Accepted for matching",
    "submitted": "Submitted for matching",
    "draft": "Sent back to the partnership as a draft",
    "matching": "Matching started",
    "proposed": "Team proposed",
    "inviting": "Proposal approved: invitations going out",
    "staffed": "Every seat accepted",
    "completed": "Review completed",
    "cancelled": "Request cancelled",
}

_INVITATION_TEXT = {
    "invited": "{who} was invited",
    "invitation_accepted": "{who} accepted",
    "invitation_declined": "{who} declined",
    "invitation_expired": "{who} did not answer in time; the invitation expired",
    "invitation_withdrawn": "{who} was withdrawn and sent a cancellation",
    "invitation_reminded": "{who} was sent a reminder",
    "rematched": "The free seat was re-matched automatically: {who} was invited",
    "rematch_skipped": "Automatic re-matching is paused, so the free seat waits for you",
    "rematch_paused": "Automatic re-matching was paused",
    "rematch_resumed": "Automatic re-matching was resumed",
}

_TEAM_BREAKS_RULE = (
    "the reviewers still on the team no longer meet the rules together (a change to one of "
    "them since they were invited, perhaps); check the team and run matching for the region"
)


def for_request(
    session: Session, request: ReviewRequest, *, newest_first: bool = True
) -> list[TimelineEntry]:
    """Every event of ``request``, worded."""
    order = (col(RequestEvent.at), col(RequestEvent.id))
    events = session.exec(
        select(RequestEvent)
        .where(RequestEvent.request_id == request.id)
        .order_by(*(c.desc() for c in order) if newest_first else order)
    ).all()
    people = reviewer_names(session, _reviewers_named(events))
    actors = actor_names(session, {e.actor for e in events})
    partnership = session.get(Partnership, request.partnership_id)
    home = short_name(partnership.name) if partnership else ""
    return [
        TimelineEntry(at=e.at, who=actors[e.actor], text=describe(e, people, request, home))
        for e in events
    ]


def _reviewers_named(events: Sequence[RequestEvent]) -> set[int]:
    ids = {e.reviewer_id for e in events if e.reviewer_id}
    for e in events:
        for breach in e.detail.get("breaches", []) if e.kind == "approval_held_back" else []:
            if isinstance(breach.get("reviewer_id"), int):
                ids.add(breach["reviewer_id"])
    return {i for i in ids if i is not None}


def describe(
    event: RequestEvent, people: Mapping[int, str], request: ReviewRequest, partnership: str
) -> str:
    """One event in plain words (``people``: reviewer names by id)."""
    who = people.get(event.reviewer_id or 0, "A reviewer")
    detail: dict[str, Any] = event.detail or {}
    if event.kind in _INVITATION_TEXT:
        words = _INVITATION_TEXT[event.kind].format(who=who)
        if event.kind == "invitation_declined" and (
            reason := DECLINE_REASONS.get(str(detail.get("reason")))
        ):
            words += f": “{reason}”"
        return words
    if event.kind == "rematch_failed":
        return "The free seat could not be re-matched automatically: " + _rematch_why(
            detail, request, partnership
        )
    if event.kind == "approval_held_back":
        reasons = [
            breach_words(str(b.get("rule")), people.get(b.get("reviewer_id") or 0), partnership)
            for b in detail.get("breaches", [])
        ]
        return (
            "Not invited when the proposal was approved, because the team no longer holds: "
            + "; ".join(reasons)
            + ". Run matching again to find a new team"
        )
    text = _STATUS_TEXT.get(event.kind, event.kind.replace("-", " ").replace("_", " ").capitalize())
    if event.kind == "created" and detail.get("status") not in (None, "draft"):
        text += f" as {detail['status']}"
    if event.kind == "draft" and (reason := SEND_BACK_REASONS.get(str(detail.get("reason")))):
        text += f": {reason.lower()}"
    if event.kind == "edited" and isinstance(detail.get("fields"), list):
        text += ": " + ", ".join(str(f).replace("_", " ") for f in detail["fields"])
    if event.reviewer_id is not None:
        text += f" ({who})"
    return text


def _rematch_why(detail: Mapping[str, Any], request: ReviewRequest, partnership: str) -> str:
    if "why" in detail:  # worded when it was written (events before the page layer)
        return str(detail["why"])
    if detail.get("team_breaks_rule"):
        return _TEAM_BREAKS_RULE
    unfilled = detail.get("unfilled")
    if not isinstance(unfilled, Mapping):
        return "the reviewers still available cannot complete the team within its rules"
    reasons = empty_seat_reasons(
        unfilled,
        partnership=partnership,
        high_profile=request.high_profile,
        skill_label=load_vocabulary().skill_label,
    )
    return "; ".join(reasons) or "no one eligible is left"
