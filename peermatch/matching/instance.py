"""The problem as integer arrays, with every eligibility check done once, vectorised.

A national problem has ten million reviewer × request checks; a Python loop over pairs would take
longer than the whole solve. Here the loop is over requests only and each step tests all reviewers
at once with numpy. Conflicts and exclusions are sparse, so they are applied as post-filters.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from peermatch.matching.problem import INELIGIBLE_REASONS, Problem

# Reason codes in a per-request array: 0 = eligible, k = INELIGIBLE_REASONS[k - 1], derived from
# the one list of the contract's rule names so the two can never drift apart.
ELIGIBLE = 0
CODE = {name: k + 1 for k, name in enumerate(INELIGIBLE_REASONS)}
NO_CAPACITY = CODE["no_capacity"]
HIGH_PROFILE_INTERNAL = CODE["high_profile_internal"]
INVOLVED_AGENCY = CODE["involved_agency"]
CONFLICT = CODE["conflict"]
UNAVAILABLE = CODE["unavailable"]
EXCLUDED = CODE["excluded"]
INVOLVED_ORGANISATION = CODE["involved_organisation"]


@dataclass
class Instance:
    """Integer view of a problem. Reviewers, requests, partnerships, agencies and skills are
    numbered in input order, so every derived order is deterministic."""

    problem: Problem
    reviewer_partnership: np.ndarray  # int32[R]
    reviewer_agency: np.ndarray  # int32[R]
    capacity: np.ndarray  # int64[R]
    skills: np.ndarray  # bool[R, S]; the last column is "experienced" when a request needs it
    request_partnership: np.ndarray  # int32[Q]
    peers: np.ndarray  # int64[Q]
    required: list[tuple[int, ...]]  # skill numbers per request (experience last, if needed)
    history: np.ndarray  # int64[P]: lent - received before this run
    eligible: list[np.ndarray]  # per request: eligible reviewer numbers, ascending
    reason_counts: np.ndarray  # int64[Q, 7]: reviewers per reason code
    locked: list[tuple[int, int]]  # (request, reviewer)
    excluded_pairs: set[tuple[int, int]]
    gap: np.ndarray  # int64[R]: days since the last review, capped (the practice objective)
    # The column of ``skills`` that stands for "experienced" (the team rule of needs_experienced
    # is a required skill held by experienced reviewers), None when no request needs it.
    experience: int | None = None
    # Whether some request names organisations involved (then explanations count the rule).
    organisations: bool = False
    # The ``previous`` pairs the stability objective counts: known ids and eligible (the others
    # are ignored), as (request, reviewer) and as sorted keys ``request · R + reviewer``.
    previous: frozenset[tuple[int, int]] = frozenset()
    previous_keys: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @property
    def n_reviewers(self) -> int:
        return len(self.reviewer_partnership)

    @property
    def n_requests(self) -> int:
        return len(self.request_partnership)

    @property
    def n_partnerships(self) -> int:
        return len(self.history)

    @property
    def n_previous(self) -> int:
        return len(self.previous)

    def is_previous(self, requests: np.ndarray | int, reviewers: np.ndarray) -> np.ndarray:
        """bool per pair (``requests[k]``, ``reviewers[k]``): a previous pair the objective
        counts (``requests`` may be one request for all)."""
        keys = np.asarray(requests, dtype=np.int64) * max(1, self.n_reviewers) + reviewers
        return np.isin(keys, self.previous_keys)

    def has_skills(self, reviewers: np.ndarray, skills: tuple[int, ...]) -> np.ndarray:
        """bool[len(reviewers), len(skills)]: which of ``skills`` each reviewer holds."""
        return np.asarray(self.skills[np.ix_(reviewers, np.asarray(skills, dtype=np.int64))])


def build(problem: Problem) -> Instance:
    partnership_no = {p.id: i for i, p in enumerate(problem.partnerships)}
    request_no = {q.id: i for i, q in enumerate(problem.requests)}
    reviewer_no = {r.id: i for i, r in enumerate(problem.reviewers)}
    agency_no = _numbering(r.agency for r in problem.reviewers)
    skill_no = _numbering(
        [s for r in problem.reviewers for s in sorted(r.skills)]
        + [s for q in problem.requests for s in q.required_skills]
    )
    n_r, n_q = len(problem.reviewers), len(problem.requests)
    experience = len(skill_no) if any(q.needs_experienced for q in problem.requests) else None
    as_of = problem.practice_date()
    n_s = len(skill_no) + (experience is not None)

    skills = np.zeros((n_r, max(1, n_s)), dtype=bool)
    for i, r in enumerate(problem.reviewers):
        for s in r.skills:
            skills[i, skill_no[s]] = True
        if experience is not None:
            skills[i, experience] = problem.experienced(r)
    excluded_pairs = {(request_no[e.request], reviewer_no[e.reviewer]) for e in problem.excluded}
    inst = Instance(
        problem=problem,
        reviewer_partnership=np.array(
            [partnership_no[r.partnership] for r in problem.reviewers], dtype=np.int32
        ),
        reviewer_agency=np.array([agency_no[r.agency] for r in problem.reviewers], dtype=np.int32),
        capacity=np.array([r.capacity for r in problem.reviewers], dtype=np.int64),
        skills=skills,
        request_partnership=np.array(
            [partnership_no[q.partnership] for q in problem.requests], dtype=np.int32
        ),
        peers=np.array([q.peers for q in problem.requests], dtype=np.int64),
        required=[
            tuple(dict.fromkeys(skill_no[s] for s in q.required_skills))
            + ((experience,) if experience is not None and q.needs_experienced else ())
            for q in problem.requests
        ],
        history=np.array([p.lent - p.received for p in problem.partnerships], dtype=np.int64),
        eligible=[],
        reason_counts=np.zeros((n_q, len(INELIGIBLE_REASONS) + 1), dtype=np.int64),
        locked=[(request_no[p.request], reviewer_no[p.reviewer]) for p in problem.locked],
        excluded_pairs=excluded_pairs,
        gap=np.array([problem.gap(r, as_of) for r in problem.reviewers], dtype=np.int64),
        experience=experience,
        organisations=any(q.organisations_involved for q in problem.requests),
    )
    _check_eligibility(inst, problem, request_no, partnership_no, agency_no)
    _previous(inst, problem, request_no, reviewer_no)
    return inst


def _previous(
    inst: Instance, problem: Problem, request_no: dict[str, int], reviewer_no: dict[str, int]
) -> None:
    """The previous pairs that still mean something: both ids known, the pair eligible."""
    kept = set()
    for pair in problem.previous or ():
        q, r = request_no.get(pair.request), reviewer_no.get(pair.reviewer)
        if q is None or r is None:
            continue
        pool = inst.eligible[q]
        at = int(np.searchsorted(pool, r))
        if at < pool.size and pool[at] == r:
            kept.add((q, r))
    inst.previous = frozenset(kept)
    n_r = max(1, inst.n_reviewers)
    inst.previous_keys = np.array(sorted(q * n_r + r for q, r in kept), dtype=np.int64)


def _numbering(values: object) -> dict[str, int]:
    numbers: dict[str, int] = {}
    for v in values:  # type: ignore[attr-defined]
        numbers.setdefault(v, len(numbers))
    return numbers


def _check_eligibility(
    inst: Instance,
    problem: Problem,
    request_no: dict[str, int],
    partnership_no: dict[str, int],
    agency_no: dict[str, int],
) -> None:
    n_r = inst.n_reviewers
    conflicts_by_request: list[list[int]] = [[] for _ in problem.requests]
    conflicts_by_partnership: list[list[int]] = [[] for _ in problem.partnerships]
    for i, r in enumerate(problem.reviewers):
        for c in r.conflicts:
            if c in request_no:
                conflicts_by_request[request_no[c]].append(i)
            if c in partnership_no:
                conflicts_by_partnership[partnership_no[c]].append(i)
    excluded_by_request: list[list[int]] = [[] for _ in problem.requests]
    for q, who in inst.excluded_pairs:
        excluded_by_request[q].append(who)

    organisation_no = _numbering(r.organisation for r in problem.reviewers if r.organisation)
    reviewer_organisation = np.array(
        [organisation_no[r.organisation] if r.organisation else -1 for r in problem.reviewers],
        dtype=np.int64,
    )
    gap_owner, gap_start, gap_end = _gaps(problem)
    no_capacity = inst.capacity < 1
    for q, request in enumerate(problem.requests):
        code = np.zeros(n_r, dtype=np.int8)
        # Later rules first, so an earlier failing rule overwrites: the first failing rule wins.
        if request.organisations_involved:
            involved_org = [organisation_no[o] for o in request.organisations_involved
                            if o in organisation_no]  # fmt: skip
            code[np.isin(reviewer_organisation, involved_org)] = INVOLVED_ORGANISATION
        code[excluded_by_request[q]] = EXCLUDED
        start, end = request.window.start.toordinal(), request.window.end.toordinal()
        code[gap_owner[(gap_start <= end) & (start <= gap_end)]] = UNAVAILABLE
        code[conflicts_by_request[q]] = CONFLICT
        code[conflicts_by_partnership[inst.request_partnership[q]]] = CONFLICT
        internal = inst.reviewer_partnership == inst.request_partnership[q]
        involved = [agency_no[a] for a in request.agencies_involved if a in agency_no]
        code[internal & np.isin(inst.reviewer_agency, involved)] = INVOLVED_AGENCY
        if request.high_profile:
            code[internal] = HIGH_PROFILE_INTERNAL
        code[no_capacity] = NO_CAPACITY
        inst.reason_counts[q] = np.bincount(code, minlength=len(INELIGIBLE_REASONS) + 1)
        inst.eligible.append(np.flatnonzero(code == ELIGIBLE).astype(np.int64))


def _gaps(problem: Problem) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    owners, starts, ends = [], [], []
    for i, r in enumerate(problem.reviewers):
        for gap in r.unavailable:
            owners.append(i)
            starts.append(gap.start.toordinal())
            ends.append(gap.end.toordinal())
    return (
        np.array(owners, dtype=np.int64),
        np.array(starts, dtype=np.int64),
        np.array(ends, dtype=np.int64),
    )
