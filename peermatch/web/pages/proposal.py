"""What a coordinator reads about a run: the proposed teams, why seats are empty, and the
reciprocity balance before and after, built from the stored problem and solution documents.

``empty_seat_reasons`` is the one place that words the solver's ``unfilled`` explanation; it is
pure, so each reason has its own unit test.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from peermatch.models import (
    Assignment,
    AssignmentStatus,
    MatchRun,
    PairDecisionKind,
    Partnership,
    Reviewer,
    ReviewerSkill,
    ReviewRequest,
)
from peermatch.staffing import match_runs
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
    balance = [
        BalanceRow(
            code=p["id"],
            name=short_name(partnerships[p["id"]].name) if p["id"] in partnerships else p["id"],
            before=int(p.get("lent", 0)) - int(p.get("received", 0)),
            after=int(after.get(p["id"], 0)),
        )
        for p in run.problem.get("partnerships", [])
    ]
    return Proposal(teams=teams, balance=balance)


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


@dataclass
class RunView:
    run: MatchRun
    proposal: Proposal | None
    chart: BalanceChart | None
    approval_problem: str | None  # None: the run can be approved now
    requests: int  # requests the run covers
    # Approved runs: the teams that were not invited because they no longer held, in words.
    held_back: list[HeldBack] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return self.run.status in ("queued", "running")


def run_view(
    session: Session,
    region_id: int,
    run_id: int,
    *,
    skill_label: Callable[[str], str] = str,
    agency_label: Callable[[str], str] = str,
) -> RunView:
    """A run of the coordinator's region (NotFound otherwise) with its proposal."""
    from peermatch.staffing.match_runs import approval_problem, get_run, recover_stale

    recover_stale(session, region_id=region_id)
    run = get_run(session, region_id, run_id)
    proposal = build_proposal(session, run, skill_label=skill_label, agency_label=agency_label)
    return RunView(
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
