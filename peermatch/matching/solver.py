"""The public entry point: ``solve(problem) -> Solution`` (docs/solver.md explains the method).

1. Place the locked pairs; refuse (status infeasible) when their teams can never get a skill.
2. Solve the relaxation without the skill rule as a min-cost flow: exact, fast, and a proven
   bound on both objectives. If its teams satisfy the skill rule, it is optimal: done.
3. Otherwise the skill-aware LP (columns generated for national problems): a tighter bound, and
   a vertex that is usually a solution reaching it; where it is fractional, a dive into the
   branch it points to and CP-SAT on the fractional requests.
4. If that leaves a gap: branch and bound on the flow and then the exact MILP (SCIP) on problems
   up to regional size, a dive forcing skill holders on larger ones; then CP-SAT on
   neighbourhoods (or on the whole of a small problem). Every step is bounded by the best proven
   bound, so a solution that reaches it is proven optimal.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from peermatch.matching import milp
from peermatch.matching.branch import BranchAndBound, Outcome, dive, region_of
from peermatch.matching.explain import outcomes
from peermatch.matching.flow import (
    SKILL_PASSES,
    Relaxation,
    relax,
    relax_towards_skills,
    skill_scores,
    solved,
)
from peermatch.matching.instance import Instance, build
from peermatch.matching.lp import lp_point
from peermatch.matching.objective import (
    Score,
    balance_of,
    imbalance_of,
    kept_of,
    objective_weight,
    score_of,
    split,
    unpenalise,
    weighted,
)
from peermatch.matching.practice import improve as improve_practice
from peermatch.matching.problem import Pair, Problem, Solution
from peermatch.matching.record import Record, Teams, teams_of
from peermatch.matching.repair import Limits, Neighbourhood, repair
from peermatch.matching.seats import LockedInfeasible, Seats, place_locked

log = logging.getLogger(__name__)

# Up to this many candidate pairs CP-SAT gets the whole problem; beyond, the model is too slow
# even to presolve within the targets, so repairs stay on neighbourhoods.
FULL_MODEL_PAIRS = 5_000
# Branch and bound on the flow runs when the problem has at most BRANCH_PAIRS candidate pairs,
# for at most BRANCH_WORK / pairs nodes (a regional problem gets about 70, a small one 2,000).
BRANCH_PAIRS = 60_000
BRANCH_WORK = 2_000_000
GUIDED_NODES = 40  # the dive into the branch an LP vertex points to
LARGE_GUIDED_NODES = 2  # the same where every node is a national flow
LP_ROUND_SECONDS = 1.0  # CP-SAT on the requests the LP vertex leaves fractional
MIN_MIP_SECONDS = 1.0  # the MILP runs after the tree (until SEARCH_SHARE) if this much is left
# Shares of the time limit: the dive may start steps until DIVE_SHARE (so only after an LP that
# ended early); all search stops at SEARCH_SHARE, leaving the rest for the explanations.
DIVE_SHARE = 0.6
LARGE_LP_SHARE = 0.75  # large problems: the generated LP may run until then
SEARCH_SHARE = 0.85
PRACTICE_SHARE = 0.92  # the third objective may run until then
ROUND_SHARE = 0.05  # of the time limit, for one CP-SAT neighbourhood round
SHORTLIST_PER_AGENCY = 6
# Neighbourhoods grow each round, within these caps (model size drives time and memory).
MAX_SHORTLIST_PER_AGENCY = 24
MAX_HOOD_GROWTH = 50


def solve(
    problem: Problem,
    *,
    time_limit: float = 30.0,
    workers: int = 0,
    seed: int = 0,
    branch_pairs: int = BRANCH_PAIRS,
) -> Solution:
    """Solve ``problem``. ``branch_pairs``: problems with more candidate pairs skip the steering
    passes and the branch and bound for the dive (a parameter so tests can take either path)."""
    started = time.perf_counter()
    inst = build(problem)
    try:
        seats = place_locked(inst)
    except LockedInfeasible as why:
        return _infeasible(inst, started, str(why))
    # Large problems skip the steering passes: each costs a full flow, and the dive that
    # follows forces skills more decisively at the same price per step.
    large = sum(c.size for c in seats.candidates) > branch_pairs
    steered = relax_towards_skills(inst, seats, started, time_limit, 0 if large else SKILL_PASSES)
    log.info("relaxation solved", extra={"relaxation_seconds": time.perf_counter() - started})
    search = _Search(
        inst, seats, started, Limits(time_limit, workers, seed), large, steered.relaxation,
        steered.first_pass_seconds,
    )  # fmt: skip
    record = _first_record(search)
    record.extra["relaxation_passes"] = steered.passes
    record.extra["skill_violations"] = len(search.violating)
    if search.violating:
        repair_skills(search, record)
    return _solution(search, record)


@dataclass
class _Search:
    """The fixed inputs of the search, and where CP-SAT should look next (``context``: a
    solution to improve, default the incumbent; ``hood``: requests to re-decide first)."""

    inst: Instance
    seats: Seats
    started: float
    limits: Limits
    large: bool  # dive rather than branch
    relaxation: Relaxation
    first_pass: float  # seconds one relaxation took: the price of a flow
    violating: list[int] = field(default_factory=list)  # relaxed teams breaking the skill rule
    context: Teams | None = None
    hood: list[int] | None = None

    def at(self, share: float) -> float:
        """The perf_counter() time when ``share`` of the time limit is spent."""
        return self.started + self.limits.seconds * share

    def breaks_skills(self, q: int, free: list[int]) -> bool:
        team = self.seats.locked_team[q] + free
        if not team or not self.inst.required[q]:
            return False
        held = self.inst.has_skills(np.asarray(team), self.inst.required[q])
        return not bool(held.any(axis=0).all())


def _first_record(search: _Search) -> Record:
    """The relaxation's optimum is the first bound; its pairs less the teams breaking the skill
    rule are the first solution (unless a locked team breaks it)."""
    inst, relaxation = search.inst, search.relaxation
    weight = objective_weight(inst, search.seats)
    teams, search.violating, valid = _without_broken_teams(search, teams_of(inst, relaxation.pairs))
    bound = weighted(weight, relaxation.score(inst))
    record = Record(inst, weight, search.started, bound, teams)
    if valid:
        record.first_solution = search.first_pass
    return record


def _without_broken_teams(
    search: _Search, teams: Teams, drop: Iterable[int] = ()
) -> tuple[Teams, list[int], bool]:
    """``teams`` with the free part of each request in ``drop`` or breaking the skill rule
    emptied (an empty free part keeps the rest a valid solution), the requests emptied, and
    whether the result is a solution: not if an emptied request's locked team alone breaks it."""
    dropped = set(drop)
    emptied = [q for q, team in teams.items() if q in dropped or search.breaks_skills(q, team)]
    gone = set(emptied)
    kept = {q: [] if q in gone else team for q, team in teams.items()}
    return kept, emptied, not any(search.breaks_skills(q, []) for q in emptied)


# -- the stages --------------------------------------------------------------------------------


def repair_skills(search: _Search, record: Record) -> None:
    """The skill rule binds: LP, then branch and bound and MILP (or, when large, the dive),
    then CP-SAT neighbourhoods, each stopping as soon as the incumbent meets the bound."""
    if not search.large:
        branch_stage(search, record)
    else:
        lp_stage(search, record, search.at(LARGE_LP_SHARE), LARGE_GUIDED_NODES)
        if not record.settled:
            dive_stage(search, record)
    if not record.settled:
        cpsat_stage(search, record)


def lp_stage(search: _Search, record: Record, deadline: float, budget: int) -> Score | None:
    """The skill-aware LP (columns generated from the relaxation's pairs when the problem is
    large): a tighter bound, returned as a (fill, -imbalance) score for the tree, and a primal
    guide. Its vertex, less the requests it leaves fractional, is a solution; a dive into the
    branch the vertex points to, then CP-SAT on the fractional requests, look for one reaching
    the bound."""
    inst, seats = search.inst, search.seats
    start = search.relaxation.pairs if search.large else None
    point = lp_point(inst, seats, record.weight, deadline - time.perf_counter(), start)
    if point is None:
        record.extra["lp_bound"] = False
        return None
    record.stages.append("lp")
    record.extra["lp_bound"] = point.bound < record.bound
    record.extra["lp_fractional"] = len(point.fractional)
    if search.large:
        record.extra["lp_rounds"], record.extra["lp_columns"] = point.rounds, point.columns
    record.tighten(point.bound)
    hint = record.teams_of(point.pairs)  # the fractional requests' whole pairs: a hint
    # Whole teams breaking the skill rule never happen within GLOP's tolerances; never trust it.
    teams, _, valid = _without_broken_teams(search, hint, point.fractional)
    if valid:
        record.offer(teams)
    flow_fits = time.perf_counter() + 2 * search.first_pass < deadline  # a node is a flow
    if point.fractional and not record.settled and flow_fits:
        region = region_of(inst, seats, point.pairs, point.fractional)
        guided = BranchAndBound(inst, seats, region)
        target = split(record.weight, record.bound)
        outcome = guided.run(deadline, min(budget, GUIDED_NODES), target)
        record.extra["guided_nodes"] = outcome.nodes
        if outcome.pairs is not None:
            record.offer(record.teams_of(outcome.pairs))
    if point.fractional and not record.settled:
        search.context = hint
        hood = Neighbourhood(requests=point.fractional, candidates=point.priced)
        cap = search.limits.seconds * ROUND_SHARE if search.large else LP_ROUND_SECONDS
        cpsat_round(search, record, hood, False, cap)
    return split(record.weight, record.bound)


def branch_stage(search: _Search, record: Record) -> None:
    """Exact repair up to regional size: the LP first (its bound is usually the optimum, and
    its vertex or the dive it guides usually reaches it), then branch and bound on the flow
    within a work budget counted in nodes, then the exact MILP."""
    pairs = max(1, sum(c.size for c in search.seats.candidates))
    deadline = search.at(SEARCH_SHARE)
    budget = max(8, BRANCH_WORK // pairs)
    target = lp_stage(search, record, deadline, budget)
    if record.settled:
        return
    record.stages.append("branch")
    outcome = BranchAndBound(search.inst, search.seats).run(deadline, budget, target)
    _settle(search, record, outcome)
    record.extra["branch_nodes"] = outcome.nodes
    if not record.settled:
        mip_stage(search, record)


def _settle(search: _Search, record: Record, outcome: Outcome) -> None:
    """Take the tree's bound and best solution, and its most promising open node as where
    CP-SAT should look."""
    if outcome.bound is None:
        record.infeasible = True  # every branch ran out of ways to complete a locked team
        return
    record.tighten(weighted(record.weight, outcome.bound))
    if outcome.pairs is not None:
        record.offer(record.teams_of(outcome.pairs))
    if outcome.frontier is not None:
        search.context = record.teams_of(outcome.frontier.pairs)
        search.hood = outcome.frontier.requests


def mip_stage(search: _Search, record: Record) -> None:
    """The exact MILP of the reduced model with the MIP solver OR-Tools ships (SCIP), from the
    incumbent, for the rest of the search time: it proves what the tree could not, so the
    answer is never worse than that solver's on its own."""
    left = search.at(SEARCH_SHARE) - time.perf_counter()
    if left < MIN_MIP_SECONDS:
        return
    record.stages.append("mip")
    model = milp.build(search.inst, search.seats, record.weight)
    result = milp.solve(model, record.free_pairs(), left, search.limits.workers)
    if result.pairs is not None:
        record.offer(record.teams_of(result.pairs))
    if result.optimal:
        record.tighten(max(record.objective(), result.bound or record.objective()))
    elif result.bound is not None:
        record.tighten(result.bound)
    record.extra["mip"] = "optimal" if result.optimal else "stopped"


def dive_stage(search: _Search, record: Record) -> None:
    """Large problems the LP did not settle: one descent forcing skill holders, step by step."""
    record.stages.append("dive")
    inst, seats = search.inst, search.seats
    pairs, _ = dive(inst, seats, search.relaxation, search.at(DIVE_SHARE), search.first_pass)
    if pairs is not None:
        record.offer(record.teams_of(pairs))
    fits = time.perf_counter() + 2 * search.first_pass < search.at(SEARCH_SHARE)
    if not record.settled and fits:
        # Likely to end unproven: the imbalance bound for that case costs one more flow, which
        # is only sure to fit now.
        record.imbalance_floor = _imbalance_floor(search)


def cpsat_stage(search: _Search, record: Record) -> None:
    """CP-SAT rounds until the bound is met or search time is up: the whole model for small
    problems (it also proves a bound), growing neighbourhoods for larger ones."""
    record.stages.append("cpsat")
    rng = random.Random(search.limits.seed)
    hood_requests = search.hood or _dropped(search, record) or sorted(search.violating)
    per_agency = SHORTLIST_PER_AGENCY
    whole = sum(c.size for c in search.seats.candidates) <= FULL_MODEL_PAIRS
    every = list(range(search.inst.n_requests))
    rounds = 0
    while time.perf_counter() < search.at(SEARCH_SHARE) and not record.settled:
        rounds += 1
        hood = _neighbourhood(
            search, record, every if whole else hood_requests, None if whole else per_agency
        )
        if not cpsat_round(search, record, hood, whole):
            break
        hood_requests = _grow(search, hood_requests, rng)
        per_agency = min(2 * per_agency, MAX_SHORTLIST_PER_AGENCY)
    record.extra["repair_rounds"] = rounds


def cpsat_round(
    search: _Search, record: Record, hood: Neighbourhood, whole: bool, cap: float | None = None
) -> bool:
    """One CP-SAT repair; returns whether another round could still help."""
    left = search.at(SEARCH_SHARE) - time.perf_counter()
    if cap is not None:
        left = min(left, cap)
    elif not whole:
        # A neighbourhood's own optimum is rarely the global one, and proving it can take long:
        # a short round, then a larger neighbourhood.
        left = min(left, max(1.0, search.limits.seconds * ROUND_SHARE))
    limits = Limits(left, search.limits.workers, search.limits.seed)
    context = search.context or record.teams
    result = repair(search.inst, search.seats, context, hood, record.bound, limits)
    if result.status == "infeasible" and whole:
        record.infeasible = True  # the cut is valid, so the whole problem has no solution
        return False
    if result.objective is not None:
        context = {**context, **result.teams}
        record.offer(context)
        search.context = context
    if whole and result.status in ("optimal", "feasible"):
        record.tighten(result.bound)  # the whole problem: a global bound
    return not (whole and result.status == "optimal")


def _dropped(search: _Search, record: Record) -> list[int]:
    """Requests the incumbent staffs less than the relaxation did: where repair pays."""
    relaxed = record.teams_of(search.relaxation.pairs)
    return [q for q, team in record.teams.items() if len(team) < len(relaxed[q])]


def _grow(search: _Search, hood_requests: list[int], rng: random.Random) -> list[int]:
    rest = sorted(set(range(search.inst.n_requests)) - set(hood_requests))
    grow = min(len(rest), max(4, len(hood_requests)), MAX_HOOD_GROWTH)
    return sorted(hood_requests + rng.sample(rest, grow))


def _neighbourhood(
    search: _Search, record: Record, requests: list[int], per_agency: int | None
) -> Neighbourhood:
    candidates = {}
    for q in requests:
        pool = search.seats.candidates[q]
        candidates[q] = pool if per_agency is None else _shortlist(search, record, q, per_agency)
    return Neighbourhood(requests=requests, candidates=candidates)


def _shortlist(search: _Search, record: Record, q: int, per_agency: int) -> np.ndarray:
    """The current team plus, per agency, previous members, then the reviewers who best fill
    the skill gap and still have spare capacity."""
    inst, seats = search.inst, search.seats
    pool = seats.candidates[q]
    if not pool.size:
        return pool
    load = np.zeros(inst.n_reviewers, dtype=np.int64)
    for team in record.teams.values():
        load[team] += 1
    spare = (seats.spare[pool] - load[pool]) > 0
    current = np.isin(pool, record.teams[q])
    previous = inst.is_previous(q, pool)  # all False without previous pairs: order unchanged
    order = np.lexsort((pool, ~spare, -skill_scores(inst, seats, q, pool), ~previous, ~current))
    agency = inst.reviewer_agency[pool[order]]
    rank = np.zeros(order.size, dtype=np.int64)
    for a in np.unique(agency):
        rank[agency == a] = np.arange(int((agency == a).sum()))
    return np.sort(pool[order][(rank < per_agency) | current[order]])


# -- the result --------------------------------------------------------------------------------


def _solution(search: _Search, record: Record) -> Solution:
    inst = search.inst
    if record.infeasible or record.first_solution is None:
        return _infeasible(inst, search.started, "no completion of the locked pairs found")
    practice = improve_practice(
        inst, search.seats, sorted(record.free_pairs()), search.at(PRACTICE_SHARE),
        search.limits, search.first_pass,
    )  # fmt: skip
    pairs = sorted(inst.locked + practice.pairs)
    balance = balance_of(inst, pairs)
    filled, imbalance, kept = len(pairs), imbalance_of(inst, pairs), kept_of(inst, pairs)
    bound_filled, bound_imbalance, bound_kept = _bounds(search, record, filled, imbalance, pairs)
    teams: list[list[int]] = [[] for _ in range(inst.n_requests)]
    for q, r in pairs:
        teams[q].append(r)
    # Timings go to the log, not into the solution: with one worker and a seed the solution
    # must be reproducible byte for byte (bar `seconds`).
    log.info("solved", extra={"first_solution_seconds": record.first_solution})
    record.extra["method"] = record.method
    stable = inst.problem.previous is not None
    return Solution(
        # Optimal: fill and imbalance proven (kept is proven when it meets its bound).
        status="optimal" if (bound_filled, bound_imbalance) == (filled, imbalance) else "feasible",
        assignments=tuple(
            Pair(inst.problem.requests[q].id, inst.problem.reviewers[r].id) for q, r in pairs
        ),
        filled=filled,
        imbalance=imbalance,
        bound_filled=bound_filled,
        bound_imbalance=bound_imbalance,
        balance={p.id: int(balance[i]) for i, p in enumerate(inst.problem.partnerships)},
        requests=outcomes(inst, teams, balance),
        seconds=record.elapsed(),
        extra=record.extra,
        practice=practice.value,
        bound_practice=practice.bound,
        kept=kept if stable else None,
        bound_kept=bound_kept if stable else None,
    )


def _bounds(
    search: _Search, record: Record, filled: int, imbalance: int, pairs: list[tuple[int, int]]
) -> tuple[int, int, int]:
    """Decode the bound on W·fill − penalty (0 ≤ penalty < W) into the bounds on fill,
    imbalance and kept (the last for solutions with this fill and at most this imbalance)."""
    inst = search.inst
    if weighted(record.weight, score_of(inst, pairs)) >= record.bound:
        return filled, imbalance, kept_of(inst, pairs)  # all three proven
    bound_filled, minus_penalty = split(record.weight, record.bound)
    if filled == bound_filled:
        least, most_kept = unpenalise(inst, -minus_penalty, imbalance)
        return bound_filled, least, max(most_kept, kept_of(inst, pairs))
    # Our fill is not proven maximal, so the optimum may have any fill up to the bound: only
    # the imbalance of the relaxation that ignores fill bounds it, if there is time for one
    # more flow; otherwise 0, the trivial bound.
    fits = record.elapsed() + search.first_pass < search.limits.seconds
    if record.imbalance_floor is None and fits:
        record.imbalance_floor = _imbalance_floor(search)
    return bound_filled, record.imbalance_floor or 0, inst.n_previous


def _imbalance_floor(search: _Search) -> int:
    return solved(relax(search.inst, search.seats, reward_fill=False)).imbalance


def _infeasible(inst: Instance, started: float, why: str) -> Solution:
    return Solution(
        status="infeasible",
        assignments=(),
        filled=0,
        imbalance=0,
        bound_filled=0,
        bound_imbalance=0,
        balance={},
        requests=(),
        seconds=time.perf_counter() - started,
        extra={"reason": why},
        practice=0,
        bound_practice=0,
        kept=None if inst.problem.previous is None else 0,
        bound_kept=None if inst.problem.previous is None else 0,
    )
