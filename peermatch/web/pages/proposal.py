"""What a coordinator reads about a run: the proposed teams, why seats are empty, and the
reciprocity balance before and after, built from the stored problem and solution documents.

``empty_seat_reasons`` is the one place that words the solver's ``unfilled`` explanation; it is
pure, so each reason has its own unit test.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from peermatch.dates import govuk_date
from peermatch.matching.io import ProblemError
from peermatch.matching.problem import Pair
from peermatch.models import (
    Assignment,
    AssignmentStatus,
    LedgerEntry,
    MatchRun,
    PairDecisionKind,
    Partnership,
    Reviewer,
    ReviewerSkill,
    ReviewRequest,
)
from peermatch.staffing import compare, match_runs
from peermatch.staffing.match_runs import (
    decisions_for,
    request_id_of,
    reviewer_id_of,
)
from peermatch.web.pages.people import reviewer_names


def _count(n: int, one: str, many: str) -> str:
    return f"1 {one}" if n == 1 else f"{n} {many}"


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " or " + items[-1]


def empty_seat_reasons(
    unfilled: Mapping[str, Any],
    *,
    partnership: str,
    high_profile: bool,
    skill_label: Callable[[str], str] = str,
    experience_threshold: int = 2,
) -> list[str]:
    """Plain-English reasons, most telling first, from one request's ``unfilled`` explanation
    (``peermatch.solution/1``). ``partnership`` is the requesting partnership's short name."""
    reasons: list[str] = []
    missing = [skill_label(s) for s in unfilled.get("missing_skills", [])]
    if missing:
        subject = f"no one outside {partnership}" if high_profile else "no eligible reviewer"
        reasons.append(f"{subject} holds {_join(missing)}")
    if unfilled.get("missing_experience"):
        reasons.append(
            f"no reviewer with {experience_threshold} or more completed reviews could join the team"
        )
    eligible = int(unfilled.get("eligible", 0))
    taken = int(unfilled.get("taken_elsewhere", 0))
    if taken:
        verb = "is" if taken == 1 else "are all"
        reasons.append(
            f"{_count(taken, 'eligible reviewer', 'eligible reviewers')} {verb} placed on other "
            "requests in this proposal"
        )
    free = eligible - taken
    if free > 0 and not missing:
        reasons.append(
            f"{_count(free, 'other eligible reviewer is', 'other eligible reviewers are')} free "
            "but from an agency already on the team (a team has one member per agency)"
        )
    ineligible = unfilled.get("ineligible", {})
    wording = {
        "unavailable": ("is away", "are away", "during the review window"),
        "no_capacity": ("has", "have", "no capacity left for another review"),
        "high_profile_internal": (
            "is",
            "are",
            f"from {partnership} itself, and this is a high-profile review",
        ),
        "involved_agency": ("is", "are", f"from {partnership} agencies involved in the case"),
        "involved_organisation": ("works", "work", "for an organisation involved in the case"),
        "conflict": ("has", "have", "declared a conflict of interest"),
        "excluded": ("was", "were", "excluded by a coordinator or declined before"),
    }
    for code in (
        "unavailable",
        "no_capacity",
        "high_profile_internal",
        "involved_agency",
        "involved_organisation",
        "conflict",
        "excluded",
    ):
        n = int(ineligible.get(code, 0))
        if n:
            one, many, rest = wording[code]
            reasons.append(f"{n} {one if n == 1 else many} {rest}")
    if not reasons:
        reasons.append("no reviewer could join without breaking a team rule")
    reasons[0] = reasons[0][0].upper() + reasons[0][1:]
    return reasons


# Why a proposed reviewer was not invited at approval (``match_runs.Breach.rule``).
_BREACH_WORDS = {
    "inactive": "{who} is no longer active in the registry",
    "unavailable": "{who} is away during the review window",
    "no_capacity": "{who} has no capacity left for another review",
    "high_profile_internal": (
        "{who} is from {partnership} itself, and this is a high-profile review"
    ),
    "involved_agency": "{who} is from a {partnership} agency involved in the case",
    "involved_organisation": "{who} works for an organisation involved in the case",
    "conflict": "{who} has declared a conflict of interest",
    "excluded": "{who} was excluded by a coordinator or declined before",
    "shared_agency": "{who} now shares an agency with another member of the team",
    "missing_skills": "the team no longer holds every skill the review needs",
    "missing_experience": "the team no longer includes an experienced reviewer",
    "team_rules": "the team no longer meets the matching rules together",
}


def breach_words(rule: str, who: str | None, partnership: str) -> str:
    """One broken rule of a proposed team, in words (``who``: the reviewer's name)."""
    template = _BREACH_WORDS.get(rule, "{who} no longer meets a matching rule")
    return template.format(who=who or "A reviewer", partnership=partnership)


# --- the proposal page -----------------------------------------------------------------------


@dataclass
class Member:
    reviewer_id: int
    name: str
    partnership: str
    agency: str
    skills: list[str]
    locked: bool = False  # by a coordinator
    held: bool = False  # already invited or accepted


@dataclass
class ProposedTeam:
    request: ReviewRequest
    key: str
    partnership: str
    members: list[Member]
    empty: int
    reasons: list[str]
    alternates: list[Member]
    excluded: list[Member] = field(default_factory=list)


@dataclass
class BalanceRow:
    code: str
    name: str
    before: int
    after: int


@dataclass
class Proposal:
    teams: list[ProposedTeam]
    balance: list[BalanceRow]

    @property
    def filled(self) -> int:
        return sum(len(t.members) for t in self.teams)

    @property
    def empty(self) -> int:
        return sum(t.empty for t in self.teams)


def short_name(name: str) -> str:
    """ "Larchfield" for "Larchfield Safeguarding Children Partnership"."""
    for suffix in (" Safeguarding Children Partnership", " Partnership"):
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def build_proposal(
    session: Session,
    run: MatchRun,
    *,
    skill_label: Callable[[str], str] = str,
    agency_label: Callable[[str], str] = str,
) -> Proposal | None:
    """The run's proposal as the page shows it; None if the run has no solution."""
    if not run.solution or run.solution.get("status") not in ("optimal", "feasible"):
        return None
    solution = run.solution
    partnerships = {
        p.code: p
        for p in session.exec(select(Partnership).where(Partnership.region_id == run.region_id))
    }
    by_id = {p.id: p for p in partnerships.values()}
    keys = [q["id"] for q in run.problem.get("requests", [])]
    request_ids = [request_id_of(k) for k in keys]
    requests = {
        q.id: q
        for q in session.exec(select(ReviewRequest).where(col(ReviewRequest.id).in_(request_ids)))
    }
    reviewer_ids: set[int] = set()
    for pair in solution.get("assignments", []):
        reviewer_ids.add(reviewer_id_of(pair["reviewer"]))
    for outcome in solution.get("requests", []):
        reviewer_ids.update(reviewer_id_of(a) for a in outcome.get("alternates", []))
    decisions = decisions_for(session, request_ids)
    reviewer_ids.update(d.reviewer_id for d in decisions)
    reviewers = {
        r.id: r for r in session.exec(select(Reviewer).where(col(Reviewer.id).in_(reviewer_ids)))
    }
    skills: dict[int, list[str]] = {}
    for s in session.exec(
        select(ReviewerSkill)
        .where(col(ReviewerSkill.reviewer_id).in_(reviewer_ids))
        .order_by(col(ReviewerSkill.skill))
    ):
        skills.setdefault(s.reviewer_id, []).append(skill_label(s.skill))
    held = {
        (a.request_id, a.reviewer_id)
        for a in session.exec(
            select(Assignment).where(
                col(Assignment.request_id).in_(request_ids),
                col(Assignment.status).in_((AssignmentStatus.invited, AssignmentStatus.accepted)),
            )
        )
    }
    locks = {(d.request_id, d.reviewer_id) for d in decisions if d.kind == PairDecisionKind.locked}
    exclusions: dict[int, list[int]] = {}
    for d in decisions:
        if d.kind == PairDecisionKind.excluded:
            exclusions.setdefault(d.request_id, []).append(d.reviewer_id)

    def member(request_id: int, reviewer_id: int) -> Member:
        r = reviewers.get(reviewer_id)
        partnership = by_id.get(r.partnership_id) if r else None
        return Member(
            reviewer_id=reviewer_id,
            name=r.name if r else f"Reviewer {reviewer_id} (removed)",
            partnership=short_name(partnership.name) if partnership else "",
            agency=agency_label(r.agency) if r else "",
            skills=skills.get(reviewer_id, []),
            locked=(request_id, reviewer_id) in locks,
            held=(request_id, reviewer_id) in held,
        )

    team_of: dict[str, list[int]] = {}
    for pair in solution.get("assignments", []):
        team_of.setdefault(pair["request"], []).append(reviewer_id_of(pair["reviewer"]))
    outcomes = {o["id"]: o for o in solution.get("requests", [])}
    teams = []
    for key, request_id in zip(keys, request_ids, strict=True):
        request = requests.get(request_id)
        if request is None:
            continue
        partnership = short_name(by_id[request.partnership_id].name)
        outcome = outcomes.get(key, {})
        members = [member(request_id, r) for r in sorted(team_of.get(key, []))]
        empty = request.peers - len(members)
        reasons = []
        if empty > 0 and outcome.get("unfilled"):
            reasons = empty_seat_reasons(
                outcome["unfilled"],
                partnership=partnership,
                high_profile=request.high_profile,
                skill_label=skill_label,
            )
        teams.append(
            ProposedTeam(
                request=request,
                key=key,
                partnership=partnership,
                members=members,
                empty=max(0, empty),
                reasons=reasons,
                alternates=[
                    member(request_id, reviewer_id_of(a)) for a in outcome.get("alternates", [])
                ],
                excluded=[member(request_id, r) for r in exclusions.get(request_id, [])],
            )
        )
    after = solution.get("balance", {})
    accepted = accepted_when_run(session, run)
    balance = [
        BalanceRow(
            code=p["id"],
            name=short_name(partnerships[p["id"]].name) if p["id"] in partnerships else p["id"],
            before=int(p.get("lent", 0)) - int(p.get("received", 0)) + accepted[p["id"]],
            after=int(after.get(p["id"], 0)),
        )
        for p in run.problem.get("partnerships", [])
    ]
    return Proposal(teams=teams, balance=balance)


def accepted_when_run(session: Session, run: MatchRun) -> Counter[str]:
    """Per partnership code, the balance of the peers the run's problem left out of ``lent``
    and ``received`` (``match_runs.build_problem``): those accepted, by the time the run
    started, on its requests, which the solver counts again as locked pairs. Added to the
    problem's balance it gives the ledger's balance on the run's day: the proposal's Before."""
    locked = {(p["request"], p["reviewer"]) for p in run.problem.get("locked", [])}
    if not locked:
        return Counter()
    request_ids = [request_id_of(q) for q, _ in locked]
    codes = {
        p.id: p.code
        for p in session.exec(select(Partnership).where(Partnership.region_id == run.region_id))
    }
    net: Counter[tuple[int, int, int, int]] = Counter()
    for entry, reviewer_id in session.exec(
        select(LedgerEntry, Assignment.reviewer_id)
        .join(Assignment, col(Assignment.id) == LedgerEntry.assignment_id)
        .where(
            col(LedgerEntry.request_id).in_(request_ids),
            col(LedgerEntry.created_at) <= run.started_at,
        )
    ):
        net[
            (
                entry.request_id,
                reviewer_id,
                entry.lender_partnership_id,
                entry.receiver_partnership_id,
            )
        ] += entry.amount
    result: Counter[str] = Counter()
    keys = {request_id_of(q): q for q, _ in locked}
    for (request_id, reviewer_id, lender, receiver), amount in net.items():
        pair = (keys.get(request_id), match_runs.reviewer_key(reviewer_id))
        if amount > 0 and pair in locked and lender in codes and receiver in codes:
            result[codes[lender]] += amount
            result[codes[receiver]] -= amount
    return result


# --- the balance chart -----------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: int
    label_x: float
    css: str


@dataclass(frozen=True)
class ChartRow:
    name: str
    y: float
    before: Bar
    after: Bar


@dataclass(frozen=True)
class BalanceChart:
    width: int
    height: int
    zero_x: float
    rows: list[ChartRow]
    scale_max: int


def balance_chart(
    rows: list[BalanceRow], *, width: int = 640, row_height: int = 44
) -> BalanceChart:
    """Geometry of a diverging bar chart (before and after per partnership, zero in the
    middle), so the template only draws it."""
    label_width, pad = 150, 40
    plot = width - label_width - 2 * pad
    scale_max = max([1, *(abs(r.before) for r in rows), *(abs(r.after) for r in rows)])
    zero_x = label_width + pad + plot / 2
    unit = (plot / 2) / scale_max

    def bar(value: int, y: float, css: str) -> Bar:
        length = abs(value) * unit
        x = zero_x if value >= 0 else zero_x - length
        label_x = x + length + 4 if value >= 0 else x - 4
        return Bar(x, y, max(length, 1.0), 14, value, label_x, css)

    chart_rows = []
    for i, r in enumerate(rows):
        top = 30 + i * row_height
        chart_rows.append(
            ChartRow(
                name=r.name,
                y=top + 16,
                before=bar(r.before, top + 2, "pm-bar--before"),
                after=bar(r.after, top + 18, "pm-bar--after"),
            )
        )
    return BalanceChart(
        width=width,
        height=40 + len(rows) * row_height,
        zero_x=zero_x,
        rows=chart_rows,
        scale_max=scale_max,
    )


# --- what the pages read ---------------------------------------------------------------------


@dataclass(frozen=True)
class HeldBack:
    request_id: int
    reference: str
    reasons: list[str]


def held_back_teams(session: Session, run: MatchRun) -> list[HeldBack]:
    """The teams of an approved run that were not invited, and why, in words."""
    found = match_runs.held_back(session, run)
    if not found:
        return []
    names = reviewer_names(
        session, {b.reviewer_id for bs in found.values() for b in bs if b.reviewer_id}
    )
    teams = []
    for request_id, breaches in sorted(found.items()):
        request = session.get(ReviewRequest, request_id)
        partnership = session.get(Partnership, request.partnership_id) if request else None
        home = short_name(partnership.name) if partnership else ""
        teams.append(
            HeldBack(
                request_id=request_id,
                reference=request.reference if request else str(request_id),
                reasons=[
                    breach_words(b.rule, names.get(b.reviewer_id or 0), home) for b in breaches
                ],
            )
        )
    return teams


# --- what changed since another run ------------------------------------------------------------


@dataclass(frozen=True)
class ChangeLine:
    change: str  # "Added" or "Removed", in words, never colour alone
    reviewer: str
    why: str


@dataclass(frozen=True)
class RequestChangeTable:
    request_id: int
    reference: str
    lines: list[ChangeLine]


@dataclass(frozen=True)
class CompareChoice:
    run_id: int
    label: str


@dataclass
class Comparison:
    """The run's proposal against another run's (``other``); ``problem`` says why it could not
    be compared (then ``tables`` is empty)."""

    other: MatchRun
    tables: list[RequestChangeTable]
    problem: str | None = None

    @property
    def added(self) -> int:
        return sum(1 for t in self.tables for line in t.lines if line.change == "Added")

    @property
    def removed(self) -> int:
        return sum(1 for t in self.tables for line in t.lines if line.change == "Removed")


def _reference(key: str) -> str:
    """ "AL-2027-001" for "ALPHA/AL-2027-001#12"."""
    return key.split("/", 1)[-1].rsplit("#", 1)[0]


def change_words(change: compare.Change, name: str, other_run: int, partnership: str) -> str:
    """Why a pair was added to or removed from a request's team, in words."""
    if change.added:
        return {
            "new_request": f"New request: it was not in run {other_run}",
            "replaces": "Takes a seat freed on this request",
            "filled": f"Fills a seat that run {other_run} left empty",
        }[change.reason]
    if change.reason == "ineligible":
        return breach_words(change.rule or "", name, partnership)
    if change.reason == "elsewhere":
        if change.other:
            return (
                f"{name} is now proposed for {_reference(change.other)} and has no capacity "
                "for both"
            )
        return f"{name} has no capacity left: their places are held on other requests"
    return {
        "request_gone": "The request is not in this run: its team was invited, or it was "
        "completed or cancelled",
        "excluded": f"A coordinator excluded {name} from this request",
        "declined": f"{name} declined, did not answer in time, or was withdrawn from this request",
        "balance": f"No rule ruled {name} out: another team evens out the reciprocity balance",
    }[change.reason]


def compare_choices(session: Session, run: MatchRun) -> list[CompareChoice]:
    """The region's earlier solved runs, newest first: what the run can be compared with."""
    rows = session.exec(
        select(MatchRun.id, MatchRun.started_at, MatchRun.status)
        .where(
            MatchRun.region_id == run.region_id,
            col(MatchRun.status).in_(match_runs.SOLVED),
            col(MatchRun.id) < (run.id or 0),
        )
        .order_by(col(MatchRun.id).desc())
        .limit(100)
    ).all()
    return [
        CompareChoice(
            run_id=run_id or 0,
            label=f"Run {run_id}, {govuk_date(started)} at {started:%H:%M} UTC ({status})",
        )
        for run_id, started, status in rows
    ]


def comparison(session: Session, run: MatchRun, other: MatchRun) -> Comparison:
    """What changed in ``run``'s proposal since ``other``'s (both of one region)."""
    if other.id == run.id:
        return Comparison(other, [], "Choose another run to compare this one with.")
    if other.status not in match_runs.SOLVED or not other.solution:
        return Comparison(other, [], f"Run {other.id} has no proposal to compare with.")
    assert run.solution is not None
    try:
        earlier = compare.read(other.problem, other.solution)
        later = compare.read(run.problem, run.solution)
    except ProblemError:
        return Comparison(other, [], f"Run {other.id} was stored in a form that cannot be read.")
    later_keys = {request_id_of(q.id): q.id for q in later.problem.requests}
    request_ids = {request_id_of(q.id) for q in earlier.problem.requests} | set(later_keys)
    exclusions = {
        Pair(later_keys[d.request_id], match_runs.reviewer_key(d.reviewer_id))
        for d in decisions_for(session, later_keys)
        if d.kind == PairDecisionKind.excluded
    }
    changes = compare.compare(earlier, later, coordinator_exclusions=exclusions)
    names = reviewer_names(
        session, {reviewer_id_of(c.reviewer) for rc in changes for c in (*rc.added, *rc.removed)}
    )
    requests = {
        q.id: q
        for q in session.exec(select(ReviewRequest).where(col(ReviewRequest.id).in_(request_ids)))
    }
    homes = {
        p.id: short_name(p.name)
        for p in session.exec(select(Partnership).where(Partnership.region_id == run.region_id))
    }
    tables = []
    for rc in changes:
        request_id = request_id_of(rc.request)
        record = requests.get(request_id)
        home = homes.get(record.partnership_id, "") if record else ""
        lines = []
        for change in (*rc.removed, *rc.added):
            reviewer_id = reviewer_id_of(change.reviewer)
            name = names.get(reviewer_id, f"Reviewer {reviewer_id} (removed)")
            lines.append(
                ChangeLine(
                    change="Added" if change.added else "Removed",
                    reviewer=name,
                    why=change_words(change, name, other.id or 0, home),
                )
            )
        tables.append(
            RequestChangeTable(
                request_id=request_id,
                reference=record.reference if record else _reference(rc.request),
                lines=lines,
            )
        )
    return Comparison(other, tables)


@dataclass
class RunView:
    run: MatchRun
    proposal: Proposal | None
    chart: BalanceChart | None
    approval_problem: str | None  # None: the run can be approved now
    requests: int  # requests the run covers
    # Approved runs: the teams that were not invited because they no longer held, in words.
    held_back: list[HeldBack] = field(default_factory=list)
    # Solved runs: what changed since an earlier run (the region's previous solved run unless
    # the coordinator chose another), and the runs they can choose from.
    comparison: Comparison | None = None
    compare_choices: list[CompareChoice] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return self.run.status in ("queued", "running")

    @property
    def as_of(self) -> dt.date | None:
        """The day the run's problem was built: its balances are the ledger's on that day."""
        value = self.run.problem.get("as_of")
        return dt.date.fromisoformat(value) if isinstance(value, str) else None

    @property
    def compare_items(self) -> list[dict[str, Any]]:
        """The "Compare with run" select's options, the run compared with selected."""
        chosen = self.comparison.other.id if self.comparison else None
        return [
            {"value": c.run_id, "text": c.label, "selected": c.run_id == chosen}
            for c in self.compare_choices
        ]


def run_view(
    session: Session,
    region_id: int,
    run_id: int,
    *,
    skill_label: Callable[[str], str] = str,
    agency_label: Callable[[str], str] = str,
    compare_with: int | None = None,
) -> RunView:
    """A run of the coordinator's region (NotFound otherwise) with its proposal, and what
    changed since ``compare_with`` (NotFound outside the region) or the region's previous
    solved run."""
    from peermatch.staffing.match_runs import approval_problem, get_run, recover_stale

    recover_stale(session, region_id=region_id)
    run = get_run(session, region_id, run_id)
    other = get_run(session, region_id, compare_with) if compare_with is not None else None
    proposal = build_proposal(session, run, skill_label=skill_label, agency_label=agency_label)
    choices: list[CompareChoice] = []
    changed = None
    if proposal is not None:
        choices = compare_choices(session, run)
        if other is None and choices:
            other = get_run(session, region_id, choices[0].run_id)
        if other is not None:
            changed = comparison(session, run, other)
    return RunView(
        comparison=changed,
        compare_choices=choices,
        run=run,
        proposal=proposal,
        chart=balance_chart(proposal.balance) if proposal else None,
        approval_problem=approval_problem(session, run),
        requests=len(run.problem.get("requests", [])),
        held_back=held_back_teams(session, run) if run.approved_at else [],
    )


@dataclass
class RequestTeam:
    """A request's team as its page shows it: who holds a seat, and the latest proposal."""

    held: list[tuple[Member, str]]  # member, assignment status
    proposed: ProposedTeam | None
    run_id: int | None


def request_team(
    session: Session,
    request_id: int,
    *,
    skill_label: Callable[[str], str] = str,
    agency_label: Callable[[str], str] = str,
) -> RequestTeam:
    """For ``templates/runs/_request_team.html`` (context name ``request_team``)."""
    from peermatch.staffing.match_runs import latest_run

    request = session.get(ReviewRequest, request_id)
    if request is None:
        return RequestTeam(held=[], proposed=None, run_id=None)
    partnership = session.get(Partnership, request.partnership_id)
    assignments = session.exec(
        select(Assignment, Reviewer)
        .join(Reviewer, col(Reviewer.id) == Assignment.reviewer_id)
        .where(Assignment.request_id == request_id)
        .order_by(col(Assignment.invited_at))
    ).all()
    by_id = {
        p.id: p
        for p in session.exec(
            select(Partnership).where(
                Partnership.region_id == (partnership.region_id if partnership else 0)
            )
        )
    }
    held = [
        (
            Member(
                reviewer_id=r.id or 0,
                name=r.name,
                partnership=short_name(by_id[r.partnership_id].name)
                if r.partnership_id in by_id
                else "",
                agency=agency_label(r.agency),
                skills=[],
            ),
            str(a.status),
        )
        for a, r in assignments
    ]
    run = latest_run(session, partnership.region_id) if partnership else None
    proposed = None
    if run is not None and any(
        request_id_of(q["id"]) == request_id for q in run.problem.get("requests", [])
    ):
        proposal = build_proposal(session, run, skill_label=skill_label, agency_label=agency_label)
        if proposal is not None:
            proposed = next((t for t in proposal.teams if t.request.id == request_id), None)
    return RequestTeam(held=held, proposed=proposed, run_id=run.id if proposed and run else None)
