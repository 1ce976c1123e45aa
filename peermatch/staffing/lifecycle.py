"""The staffing lifecycle: every command on a review request or on one of its reviewers' places
goes through the two tables here, and nothing else changes a status.

A request moves ``draft → submitted → matching → proposed → inviting → staffed → completed``
(or ``cancelled``); a reviewer's place (an ``Assignment``) moves ``invited → accepted``, or ends
``declined``, ``expired`` or ``withdrawn``. ``REQUEST_COMMANDS`` says, for every command, the
statuses a request must be in and the status it moves to (None: it stays), and any further
guard (a review cannot be completed before its window has started). ``ASSIGNMENT_MOVES`` says
the same for a place. A command that the tables do not allow is refused with a reason a
coordinator can read; a completed or cancelled request refuses everything except what the table
names for it (nothing, today).

The services (``requests``, ``match_runs``, ``invitations``, ``rematch``) ask ``check`` before
they act and call ``apply`` / ``move_assignment`` to change a status; this module imports no
other staffing module, so imports run one way: lifecycle ← requests/invitations ← match_runs ←
rematch ← worker.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from sqlmodel import Session

from peermatch import audit
from peermatch.dates import govuk_date
from peermatch.errors import Conflict
from peermatch.models import (
    Assignment,
    AssignmentStatus,
    Partnership,
    RequestEvent,
    RequestStatus,
    ReviewRequest,
    utcnow,
)

S = RequestStatus
A = AssignmentStatus

OPEN = frozenset({S.draft, S.submitted, S.matching, S.proposed, S.inviting, S.staffed})
CLOSED = frozenset({S.completed, S.cancelled})
# Statuses whose reviewers hold a place (invited or accepted) or may be given one.
TEAMED = frozenset({S.inviting, S.staffed})


class Command(StrEnum):
    """What can be done to a request, by a coordinator, a partnership, a reviewer or the
    service itself."""

    edit = "edit"
    submit = "submit"
    triage = "triage"  # accept a submitted request for matching (no status change)
    send_back = "send_back"
    start_matching = "start_matching"
    propose = "propose"  # a run solved: its teams are proposed
    unmatch = "unmatch"  # a run failed or was cancelled: back to where it found the request
    decide_pair = "decide_pair"  # lock or exclude a reviewer for later runs
    approve = "approve"
    invite = "invite"  # a reviewer is invited onto a free seat (approval or re-match)
    answer = "answer"  # a reviewer accepts or declines
    expire = "expire"
    staff = "staff"  # every seat accepted
    reopen = "reopen"  # an accepted reviewer left: seats to fill again
    withdraw = "withdraw"  # a coordinator takes a reviewer off the team
    pause_rematch = "pause_rematch"
    rematch = "rematch"  # the service fills a freed seat
    complete = "complete"
    cancel = "cancel"


Guard = Callable[[ReviewRequest, dt.date], str | None]


def _window_started(request: ReviewRequest, today: dt.date) -> str | None:
    if today < request.window_start:
        return (
            f"its review window only starts on {govuk_date(request.window_start)}; a review "
            "can be marked completed once it has begun"
        )
    return None


@dataclass(frozen=True)
class Rule:
    allowed: frozenset[RequestStatus]
    to: RequestStatus | None  # None: the status stays as it is
    words: str  # "be completed": what the refusal says the request cannot do
    guard: Guard | None = None


_CHANGEABLE = frozenset({S.draft, S.submitted})
_MATCHABLE = frozenset({S.submitted, S.proposed})
_TEAM_CAN_CHANGE = frozenset({S.submitted, S.matching, S.proposed, S.inviting, S.staffed})

REQUEST_COMMANDS: dict[Command, Rule] = {
    Command.edit: Rule(_CHANGEABLE, None, "be changed"),
    Command.submit: Rule(frozenset({S.draft}), S.submitted, "be submitted"),
    Command.triage: Rule(frozenset({S.submitted}), None, "be accepted for matching"),
    Command.send_back: Rule(frozenset({S.submitted}), S.draft, "be sent back"),
    Command.start_matching: Rule(_MATCHABLE, S.matching, "be matched"),
    Command.propose: Rule(frozenset({S.matching}), S.proposed, "be proposed a team"),
    Command.unmatch: Rule(frozenset({S.matching}), S.submitted, "go back to submitted"),
    Command.decide_pair: Rule(_TEAM_CAN_CHANGE, None, "have its team changed"),
    Command.approve: Rule(frozenset({S.proposed}), S.inviting, "have its team approved"),
    Command.invite: Rule(TEAMED, None, "have a reviewer invited"),
    Command.answer: Rule(TEAMED, None, "be answered"),
    Command.expire: Rule(TEAMED, None, "have an invitation expire"),
    Command.staff: Rule(frozenset({S.inviting}), S.staffed, "become staffed"),
    Command.reopen: Rule(frozenset({S.staffed}), S.inviting, "look for reviewers again"),
    Command.withdraw: Rule(TEAMED, None, "have a reviewer withdrawn"),
    Command.pause_rematch: Rule(_TEAM_CAN_CHANGE, None, "have its automatic re-matching changed"),
    Command.rematch: Rule(TEAMED, None, "be re-matched"),
    Command.complete: Rule(
        frozenset({S.staffed}), S.completed, "be marked completed", _window_started
    ),
    Command.cancel: Rule(OPEN, S.cancelled, "be cancelled"),
}

# Every status change the table allows, for reading (and for ``transition``).
TRANSITIONS: dict[RequestStatus, frozenset[RequestStatus]] = {
    status: frozenset(
        rule.to for rule in REQUEST_COMMANDS.values() if rule.to and status in rule.allowed
    )
    for status in RequestStatus
}

# A place's moves: (from, to). Whether the request allows the command is REQUEST_COMMANDS's.
ASSIGNMENT_MOVES: dict[Command, tuple[frozenset[AssignmentStatus], AssignmentStatus]] = {
    Command.answer: (frozenset({A.invited}), A.accepted),  # or declined: see ANSWERS
    Command.expire: (frozenset({A.invited}), A.expired),
    Command.withdraw: (frozenset({A.invited, A.accepted}), A.withdrawn),
}
ANSWERS = frozenset({A.accepted, A.declined})
HOLDING = (A.invited, A.accepted)


class IllegalTransition(Conflict):
    """A command the lifecycle does not allow now; the message says why, in plain words."""


Refused = IllegalTransition


def _why_not(request: ReviewRequest, rule: Rule) -> str:
    current = RequestStatus(request.status)
    if current in CLOSED:
        return f"it is {current}, so it can no longer change"
    allowed = [str(s) for s in RequestStatus if s in rule.allowed]
    only = " or ".join(allowed)
    return f"only a {only} request can, and this one is {current}"


def refusal(request: ReviewRequest, command: Command, *, today: dt.date) -> str | None:
    """Why ``command`` cannot be done to ``request`` now, or None if it can."""
    rule = REQUEST_COMMANDS[command]
    if RequestStatus(request.status) not in rule.allowed:
        return f"Request {request.reference} cannot {rule.words}: {_why_not(request, rule)}"
    if rule.guard is not None and (why := rule.guard(request, today)):
        return f"Request {request.reference} cannot {rule.words} yet: {why}"
    return None


def check(request: ReviewRequest, command: Command, *, today: dt.date | None = None) -> None:
    """Raise IllegalTransition, with the reason, unless ``command`` is allowed now."""
    if (why := refusal(request, command, today=today or dt.date.today())) is not None:
        raise IllegalTransition(why, "status")


def allowed(request: ReviewRequest, *, today: dt.date) -> frozenset[Command]:
    """The commands ``request`` allows now (what its page may offer)."""
    return frozenset(c for c in Command if refusal(request, c, today=today) is None)


def check_transition(request: ReviewRequest, to: RequestStatus) -> None:
    """Raise IllegalTransition unless some command moves ``request`` to ``to`` now."""
    current = RequestStatus(request.status)
    if to in TRANSITIONS[current]:
        return
    if current in CLOSED:
        why = f"it is {current}, so it can no longer change"
    else:
        options = [str(s) for s in RequestStatus if s in TRANSITIONS[current]]
        why = f"a {current} request can only become " + " or ".join(options)
    raise IllegalTransition(f"Request {request.reference} cannot become {to}: {why}", "status")


def apply(
    session: Session,
    request: ReviewRequest,
    command: Command,
    *,
    actor: str,
    detail: dict[str, object] | None = None,
    today: dt.date | None = None,
) -> None:
    """Check ``command`` and, if it changes the status, move the request, with an audit event
    and a line on its timeline, in the caller's transaction."""
    check(request, command, today=today)
    if (to := REQUEST_COMMANDS[command].to) is not None:
        transition(session, request, to, actor=actor, detail=detail)


def transition(
    session: Session,
    request: ReviewRequest,
    to: RequestStatus,
    *,
    actor: str,
    detail: dict[str, object] | None = None,
) -> None:
    """Move ``request`` to ``to`` if the table allows it (see ``apply``, which also checks the
    command's guard), audited and on the timeline."""
    check_transition(request, to)
    before = request.status
    request.status = to
    request.updated_at = utcnow()
    session.add(request)
    partnership = session.get(Partnership, request.partnership_id)
    audit.record(
        session,
        actor=actor,
        action="request.status",
        entity="reviewrequest",
        entity_id=request.id,
        region_id=partnership.region_id if partnership else None,
        detail={"from": str(before), "to": str(to), **(detail or {})},
    )
    assert request.id is not None
    session.add(
        RequestEvent(request_id=request.id, actor=actor, kind=str(to), detail=dict(detail or {}))
    )
    session.flush()


def move_assignment(
    session: Session,
    request: ReviewRequest,
    assignment: Assignment,
    command: Command,
    *,
    to: AssignmentStatus | None = None,
    now: dt.datetime | None = None,
) -> AssignmentStatus:
    """Move a reviewer's place by ``command`` (an answer says ``to``: accepted or declined),
    after checking the request allows it; returns the status it had. The caller writes the
    consequences (emails, ledger, timeline) in the same transaction."""
    check(request, command, today=(now or utcnow()).date())
    sources, target = ASSIGNMENT_MOVES[command]
    if command == Command.answer:
        if to not in ANSWERS:
            raise ValueError(f"an answer is accepted or declined, not {to}")
        target = to
    before = AssignmentStatus(assignment.status)
    if before not in sources:
        words = {A.invited: "is invited", A.accepted: "has accepted"}
        raise IllegalTransition(
            "Only a reviewer who "
            + " or ".join(words[s] for s in sources if s in words)
            + f" can be {'answered for' if command == Command.answer else str(target)}; "
            f"this one is {before}",
            "status",
        )
    assignment.status = target
    assignment.updated_at = now or utcnow()
    if target != A.accepted:
        assignment.link_nonce = None  # an ended place's link answers nothing
    session.add(assignment)
    session.flush()
    return before
