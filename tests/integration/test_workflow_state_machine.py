"""The whole staffing workflow, driven by Hypothesis: random sequences of every command
(submit, send back, run and solve, approve, lock, exclude, answer, expire, re-match, withdraw,
complete, cancel, and registry changes) over a small region on the real database, with the
workflow's invariants checked after every step:

- every seat held (invited or accepted, on an open request) is held by an eligible reviewer
  under every team rule, within every reviewer's capacity: the independent validator, on a
  problem built here from the tables (not by the service's own builder);
- a reviewer who declined or let an invitation expire is never asked again for that request;
- a staffed request has every seat accepted; an inviting one does not;
- the ledger nets to zero and equals what the accepted assignments imply;
- a completed request never changes again (status, team, ledger);
- a refused command leaves the database exactly as it was.
"""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter, defaultdict
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import delete, func
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col, select

from peermatch.errors import DomainError
from peermatch.matching.problem import DateRange, Pair, Partnership, Problem, Request, Reviewer
from peermatch.matching.validate import rule_violations
from peermatch.models import (
    Assignment,
    AssignmentStatus,
    LedgerEntry,
    MatchRun,
    PairDecision,
    PairDecisionKind,
    Region,
    RequestStatus,
    ReviewerSkill,
    ReviewRequest,
    Unavailability,
    utcnow,
)
from peermatch.models import Partnership as PartnershipRow
from peermatch.models import Reviewer as ReviewerRow
from peermatch.settings import Settings
from peermatch.staffing import invitations, match_runs, rematch, requests
from peermatch.staffing.requests import RequestInput

WINDOWS = [
    (dt.date(2027, 3, 1), dt.date(2027, 3, 12)),
    (dt.date(2027, 3, 8), dt.date(2027, 3, 19)),
    (dt.date(2027, 4, 5), dt.date(2027, 4, 16)),
]
# Three partnerships; two or three reviewers each, of different agencies and skills.
PEOPLE = [
    ("AL", "police", ["rca"], 1),
    ("AL", "health", ["peer-review"], 2),
    ("BR", "police", ["peer-review"], 1),
    ("BR", "education", ["rca", "peer-review"], 1),
    ("BR", "health", [], 2),
    ("CH", "probation", ["peer-review"], 1),
    ("CH", "police", ["rca"], 1),
]
HELD = (AssignmentStatus.invited, AssignmentStatus.accepted)
OPEN = (RequestStatus.inviting, RequestStatus.staffed)


def _fingerprint(session: Session) -> tuple[object, ...]:
    """Everything a command could change, as plain values."""
    return (
        sorted(
            (q.id, str(q.status), q.rematch_paused) for q in session.exec(select(ReviewRequest))
        ),
        sorted((a.id, str(a.status)) for a in session.exec(select(Assignment))),
        session.exec(select(func.count()).select_from(LedgerEntry)).one(),
        session.exec(select(func.count()).select_from(MatchRun)).one(),
    )


class StaffingMachine(RuleBasedStateMachine):
    engine: Engine
    app_settings: Settings

    def __init__(self) -> None:
        super().__init__()
        with Session(self.engine) as session:
            for table in reversed(SQLModel.metadata.sorted_tables):
                session.execute(delete(table))
            session.commit()
            region = Region(code="sm", name="State machine")
            session.add(region)
            session.flush()
            assert region.id is not None
            self.region_id = region.id
            self.partnerships: dict[str, int] = {}
            for code in ("AL", "BR", "CH"):
                p = PartnershipRow(region_id=region.id, code=code, name=f"{code} Partnership")
                session.add(p)
                session.flush()
                assert p.id is not None
                self.partnerships[code] = p.id
            self.reviewers: list[int] = []
            for n, (code, agency, skills, capacity) in enumerate(PEOPLE):
                reviewer = ReviewerRow(
                    partnership_id=self.partnerships[code],
                    name=f"Reviewer {n}",
                    email=f"r{n}@example.org",
                    agency=agency,
                    capacity=capacity,
                    prior_reviews=3,
                )
                session.add(reviewer)
                session.flush()
                assert reviewer.id is not None
                session.add_all(ReviewerSkill(reviewer_id=reviewer.id, skill=s) for s in skills)
                self.reviewers.append(reviewer.id)
            session.commit()
        self.requests: list[int] = []
        self.opened = 0  # attempts, not successes: a precondition must not depend on the service
        self.completed: dict[int, tuple[object, ...]] = {}
        # The service's own clock: approval invites at the real time, so answers, expiries and
        # re-matches start from it and move on only when time passes.
        self.now = utcnow()
        self.today = self.now.date()

    # --- helpers ---------------------------------------------------------------------------

    def _command(self, action) -> bool:
        """Run one command in its own transaction; a refusal must leave no trace."""
        with Session(self.engine, expire_on_commit=False) as session:
            before = _fingerprint(session)
            try:
                action(session)
                session.commit()
                return True
            except DomainError:
                session.rollback()
        with Session(self.engine) as session:
            assert _fingerprint(session) == before, "a refused command changed the database"
        return False

    def _pick(self, data, items: list[int]) -> int | None:
        """One of items, drawn the same way whatever the database holds: what the service
        did (a solver's choice under a time limit) may differ when Hypothesis replays a case,
        and a draw shaped by it would make the replay differ too."""
        choice = data.draw(st.integers(0, 63))
        return items[choice % len(items)] if items else None

    def _assignments(self, *statuses: AssignmentStatus) -> list[int]:
        with Session(self.engine) as session:
            return [
                a.id or 0
                for a in session.exec(
                    select(Assignment)
                    .where(col(Assignment.status).in_(statuses))
                    .order_by(col(Assignment.id))
                )
            ]

    def _in(self, status: RequestStatus) -> list[int]:
        with Session(self.engine) as session:
            return [
                q.id or 0
                for q in session.exec(select(ReviewRequest).where(ReviewRequest.status == status))
            ]

    def _token(self, session: Session, assignment_id: int) -> str:
        assignment = session.get(Assignment, assignment_id)
        assert assignment is not None
        return invitations.answer_token(self.app_settings, assignment)

    # --- commands --------------------------------------------------------------------------

    @precondition(lambda self: self.opened < 5)
    @rule(
        code=st.sampled_from(["AL", "BR", "CH"]),
        peers=st.integers(1, 3),
        window=st.sampled_from(WINDOWS),
        high_profile=st.booleans(),
        agencies=st.lists(st.sampled_from(["police", "health", "education"]), max_size=2),
        skills=st.lists(st.sampled_from(["rca", "peer-review"]), max_size=2),
        draft=st.sampled_from([False, False, False, True]),
    )
    def open_request(self, code, peers, window, high_profile, agencies, skills, draft):
        self.opened += 1

        def act(session: Session) -> None:
            created = requests.create_request(
                session,
                self.region_id,
                RequestInput(
                    partnership_id=self.partnerships[code],
                    reference=f"{code}-2027-{len(self.requests) + 1:03d}",
                    methodology="peer-review",
                    window_start=window[0],
                    window_end=window[1],
                    peers=peers,
                    high_profile=high_profile,
                    agencies_involved=agencies,
                    required_skills=skills,
                ),
                actor="user:1",
                status=RequestStatus.draft if draft else RequestStatus.submitted,
            )
            assert created.id is not None
            self.requests.append(created.id)

        self._command(act)

    @rule(data=st.data(), command=st.sampled_from(["submit", "send_back", "accept", "cancel"]))
    def request_command(self, data, command):
        request_id = self._pick(data, self.requests)
        if request_id is None:
            return
        actions = {
            "submit": lambda s: requests.submit(s, self.region_id, request_id, actor="user:1"),
            "send_back": lambda s: requests.send_back(
                s, self.region_id, request_id, "dates", actor="user:1"
            ),
            "accept": lambda s: requests.accept(s, self.region_id, request_id, actor="user:1"),
            "cancel": lambda s: requests.cancel(
                s, self.region_id, request_id, actor="user:1", settings=self.app_settings
            ),
        }
        self._command(actions[command])

    @rule(data=st.data(), days=st.integers(-3, 40))
    def complete(self, data, days):
        request_id = self._pick(data, self._in(RequestStatus.staffed) or self.requests)
        if request_id is None:
            return
        today = WINDOWS[0][0] + dt.timedelta(days=days)
        self._command(
            lambda s: requests.complete(s, self.region_id, request_id, actor="user:1", today=today)
        )

    @initialize(
        first=st.tuples(st.sampled_from(["AL", "BR", "CH"]), st.integers(1, 2)),
        second=st.tuples(st.sampled_from(["AL", "BR", "CH"]), st.integers(1, 3)),
    )
    def two_submitted_requests(self, first, second):
        for (code, peers), window in zip((first, second), WINDOWS, strict=False):
            self.open_request(code, peers, window, False, [], [], False)

    @rule(approve=st.booleans())
    def run_matching(self, approve):
        def start(session: Session) -> None:
            run, created = match_runs.start_run(
                session, self.region_id, actor="user:1", time_limit=5, today=self.today
            )
            self.started = run.id if created else None

        self.started = None
        if self._command(start) and self.started is not None:
            match_runs.execute_here(self.engine, self.started)
            if approve:  # often at once, as a coordinator happy with the proposal would
                self.approve_latest()

    @rule()
    def approve_latest(self):
        with Session(self.engine) as session:
            latest = match_runs.latest_run(session, self.region_id)
        if latest is None or latest.id is None:
            return
        run_id = latest.id
        self._command(
            lambda s: match_runs.approve_run(
                s, run_id, actor="user:1", region_id=self.region_id, settings=self.app_settings
            )
        )

    @rule(data=st.data(), kind=st.sampled_from(list(PairDecisionKind)))
    def decide(self, data, kind):
        request_id = self._pick(data, self.requests)
        reviewer_id = self._pick(data, self.reviewers)
        if request_id is None or reviewer_id is None:
            return
        self._command(
            lambda s: match_runs.decide_pair(
                s, self.region_id, request_id, reviewer_id, kind, actor="user:1"
            )
        )

    @rule(data=st.data(), accept=st.sampled_from([True, True, True, False]))
    def answer(self, data, accept):
        assignment_id = self._pick(data, self._assignments(AssignmentStatus.invited))
        if assignment_id is None:
            return

        def act(session: Session) -> None:
            token = self._token(session, assignment_id)
            if accept:
                invitations.accept(session, self.app_settings, token, now=self.now)
            else:
                invitations.decline(session, self.app_settings, token, None, now=self.now)

        self._command(act)  # a link that no longer answers anything is a refusal too

    @rule(data=st.data())
    def a_whole_team_accepts(self, data):
        """The happy path, often: everyone invited to one request says yes."""
        with Session(self.engine) as session:
            inviting = [
                q.id or 0
                for q in session.exec(
                    select(ReviewRequest).where(ReviewRequest.status == RequestStatus.inviting)
                )
            ]
        request_id = self._pick(data, inviting)
        if request_id is None:
            return
        with Session(self.engine) as session:
            invited = session.exec(
                select(Assignment.id).where(
                    Assignment.request_id == request_id,
                    Assignment.status == AssignmentStatus.invited,
                )
            ).all()
        for assignment_id in invited:
            assert assignment_id is not None
            self._command(
                lambda s, a=assignment_id: invitations.accept(
                    s, self.app_settings, self._token(s, a), now=self.now
                )
            )

    @rule(days=st.sampled_from([0, 0, 1, 1, 2, 7]))
    def time_passes_and_invitations_expire(self, days):
        self.now += dt.timedelta(days=days)
        self._command(lambda s: invitations.tick(s, self.app_settings, now=self.now))

    @rule()
    def worker_rematches(self):
        rematch.run_due(self.engine, self.app_settings, now=self.now)

    @rule(data=st.data())
    def withdraw(self, data):
        assignment_id = self._pick(data, self._assignments(*HELD))
        if assignment_id is None:
            return
        self._command(
            lambda s: invitations.withdraw(
                s, self.app_settings, self.region_id, assignment_id, actor="user:1"
            )
        )

    @rule(data=st.data(), change=st.sampled_from(["inactive", "away", "active"]))
    def registry_changes(self, data, change):
        """A coordinator edits a reviewer who holds no seat (one who holds a seat is the
        coordinator's to withdraw first; the invariants are about what the service invites)."""
        reviewer_id = self._pick(data, self.reviewers)
        if reviewer_id is None or reviewer_id in self._holders():
            return
        with Session(self.engine) as session:
            reviewer = session.get(ReviewerRow, reviewer_id)
            assert reviewer is not None
            if change == "away":
                session.add(
                    Unavailability(
                        reviewer_id=reviewer_id, starts_on=WINDOWS[0][0], ends_on=WINDOWS[2][1]
                    )
                )
            else:
                reviewer.active = change == "active"
                session.add(reviewer)
            session.commit()

    def _holders(self) -> set[int]:
        with Session(self.engine) as session:
            return set(
                session.exec(
                    select(Assignment.reviewer_id).where(col(Assignment.status).in_(HELD))
                ).all()
            )

    # --- invariants ------------------------------------------------------------------------

    @invariant()
    def held_seats_keep_every_rule(self):
        with Session(self.engine) as session:
            problem, held = _current(session, self.region_id)
            left = {
                f"q{a.request_id}"
                for a in session.exec(select(Assignment).where(col(Assignment.status).not_in(HELD)))
            }
        violations = [
            v
            for v in rule_violations(problem, held)
            # A member who declines, expires or is withdrawn can leave the rest of a team short
            # of a skill or of experience (the service cannot un-invite them; re-matching tries
            # to complete the team and says so when it cannot). Nothing else may ever break.
            if not (_team_shortfall(v) and v.split(":")[0].removeprefix("request ") in left)
        ]
        assert violations == [], violations

    @invariant()
    def no_one_is_asked_again_unless_a_coordinator_locks_them(self):
        """A reviewer who declined, let the invitation expire or was withdrawn is not asked
        again for that request; only a lock after a withdrawal brings them back."""
        with Session(self.engine) as session:
            asked: dict[tuple[int, int], list[str]] = defaultdict(list)
            for a in session.exec(select(Assignment).order_by(col(Assignment.id))):
                asked[(a.request_id, a.reviewer_id)].append(str(a.status))
            locks = {
                (d.request_id, d.reviewer_id)
                for d in session.exec(select(PairDecision))
                if d.kind == PairDecisionKind.locked
            }
        for pair, statuses in asked.items():
            earlier = statuses[:-1]
            assert all(s == "withdrawn" for s in earlier), (pair, statuses)
            assert not earlier or pair in locks or statuses[-1] == "withdrawn", (pair, statuses)

    @invariant()
    def statuses_match_the_seats(self):
        with Session(self.engine) as session:
            for q in session.exec(select(ReviewRequest)):
                accepted = session.exec(
                    select(func.count()).where(
                        Assignment.request_id == q.id,
                        Assignment.status == AssignmentStatus.accepted,
                    )
                ).one()
                if q.status == RequestStatus.staffed:
                    assert accepted >= q.peers
                if q.status == RequestStatus.inviting:
                    assert accepted < q.peers
                if q.status in (RequestStatus.draft, RequestStatus.submitted):
                    held = session.exec(
                        select(func.count()).where(
                            Assignment.request_id == q.id, col(Assignment.status).in_(HELD)
                        )
                    ).one()
                    assert held == 0

    @invariant()
    def the_ledger_is_what_the_acceptances_imply(self):
        with Session(self.engine) as session:
            entries: Counter[tuple[int, int, int]] = Counter()
            for e in session.exec(select(LedgerEntry)):
                entries[(e.lender_partnership_id, e.receiver_partnership_id, e.request_id)] += (
                    e.amount
                )
            implied: Counter[tuple[int, int, int]] = Counter()
            for a in session.exec(
                select(Assignment).where(Assignment.status == AssignmentStatus.accepted)
            ):
                q = session.get(ReviewRequest, a.request_id)
                r = session.get(ReviewerRow, a.reviewer_id)
                assert q is not None and r is not None
                if r.partnership_id != q.partnership_id and q.status != RequestStatus.cancelled:
                    implied[(r.partnership_id, q.partnership_id, q.id or 0)] += 1
        assert +entries == +implied
        assert all(v >= 0 for v in entries.values())

    @invariant()
    def a_completed_request_never_changes(self):
        with Session(self.engine) as session:
            for q in session.exec(
                select(ReviewRequest).where(ReviewRequest.status == RequestStatus.completed)
            ):
                snapshot = (
                    str(q.status),
                    sorted(
                        (a.reviewer_id, str(a.status))
                        for a in session.exec(
                            select(Assignment).where(Assignment.request_id == q.id)
                        )
                    ),
                    sorted(
                        (e.lender_partnership_id, e.amount)
                        for e in session.exec(
                            select(LedgerEntry).where(LedgerEntry.request_id == q.id)
                        )
                    ),
                )
                assert self.completed.setdefault(q.id or 0, snapshot) == snapshot


def _team_shortfall(violation: str) -> bool:
    return "team lacks skills" in violation or "no experienced reviewer" in violation


def _current(session: Session, region_id: int) -> tuple[Problem, list[Pair]]:
    """The open requests and every held seat on them, as a matching problem built from the
    tables: registry capacity, declines and expiries excluded (no held pair may be one)."""
    codes = {
        p.id: p.code
        for p in session.exec(select(PartnershipRow).where(PartnershipRow.region_id == region_id))
    }
    open_requests = session.exec(
        select(ReviewRequest).where(col(ReviewRequest.status).in_(OPEN))
    ).all()
    held = session.exec(
        select(Assignment).where(
            col(Assignment.status).in_(HELD),
            col(Assignment.request_id).in_([q.id for q in open_requests]),
        )
    ).all()
    said_no = {
        (a.request_id, a.reviewer_id)
        for a in session.exec(
            select(Assignment).where(
                col(Assignment.status).in_([AssignmentStatus.declined, AssignmentStatus.expired])
            )
        )
    }
    skills: dict[int, set[str]] = defaultdict(set)
    for s in session.exec(select(ReviewerSkill)):
        skills[s.reviewer_id].add(s.skill)
    away_of: dict[int, list[DateRange]] = defaultdict(list)
    for u in session.exec(select(Unavailability)):
        away_of[u.reviewer_id].append(DateRange(u.starts_on, u.ends_on))
    reviewers = []
    for r in session.exec(select(ReviewerRow)):
        away = tuple(away_of[r.id or 0])
        reviewers.append(
            Reviewer(
                id=f"r{r.id}",
                partnership=codes[r.partnership_id],
                agency=r.agency,
                skills=frozenset(skills[r.id or 0]),
                capacity=r.capacity,
                unavailable=away,
            )
        )
    problem = Problem(
        partnerships=tuple(Partnership(code) for code in sorted(codes.values())),
        reviewers=tuple(reviewers),
        requests=tuple(
            Request(
                id=f"q{q.id}",
                partnership=codes[q.partnership_id],
                peers=q.peers,
                window=DateRange(q.window_start, q.window_end),
                high_profile=q.high_profile,
                required_skills=tuple(q.required_skills),
                agencies_involved=frozenset(q.agencies_involved),
            )
            for q in open_requests
        ),
        excluded=tuple(Pair(f"q{q}", f"r{r}") for q, r in sorted(said_no)),
    )
    return problem, [Pair(f"q{a.request_id}", f"r{a.reviewer_id}") for a in held]


@pytest.mark.slow
def test_the_staffing_workflow_keeps_its_invariants_under_any_sequence_of_commands(engine):
    StaffingMachine.engine = engine
    StaffingMachine.app_settings = replace(
        Settings(), mode="test", base_url="http://127.0.0.1:8000", rematch_time_limit=5.0
    )
    run_state_machine_as_test(
        StaffingMachine,
        settings=settings(
            max_examples=int(os.environ.get("PEERMATCH_STATEFUL_EXAMPLES", "200")),
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            database=None,
        ),
    )


def test_the_invariant_check_catches_a_seat_that_breaks_a_rule(engine):
    """The state machine's own check is not vacuous: a held seat that breaks a rule fails it."""
    StaffingMachine.engine = engine
    StaffingMachine.app_settings = replace(Settings(), mode="test")
    machine = StaffingMachine()
    with Session(engine) as session:
        region_id = machine.region_id
        partnership = machine.partnerships["AL"]
        q = requests.create_request(
            session,
            region_id,
            RequestInput(
                partnership_id=partnership,
                reference="AL-2027-900",
                methodology="peer-review",
                window_start=WINDOWS[0][0],
                window_end=WINDOWS[0][1],
                peers=1,
                high_profile=True,
            ),
            actor="test",
            status=RequestStatus.inviting,
        )
        home = session.exec(
            select(ReviewerRow).where(ReviewerRow.partnership_id == partnership)
        ).first()
        assert home is not None
        session.add(Assignment(request_id=q.id or 0, reviewer_id=home.id or 0, invited_at=utcnow()))
        session.commit()
        problem, held = _current(session, region_id)
    assert any("high_profile_internal" in v for v in rule_violations(problem, held))
    with pytest.raises(AssertionError):
        machine.held_seats_keep_every_rule()
