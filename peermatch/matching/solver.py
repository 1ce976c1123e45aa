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

import numpy as np

from peermatch.matching import milp
from peermatch.matching.branch import BranchAndBound, Outcome, region_of
from peermatch.matching.explain import outcomes
from peermatch.matching.flow import (
    SKILL_PASSES,
    Relaxation,
    relax,
    relax_towards_skills,
    skill_scores,
    solved,
)
from peermatch.matching.heuristics import dive
from peermatch.matching.instance import Instance, build
from peermatch.matching.lp import lp_point
from peermatch.matching.objective import (
    Score,
    balance_of,
    imbalance_of,
    objective_weight,
    score_of,
    split,
    weighted,
)
from peermatch.matching.practice import improve as improve_practice
from peermatch.matching.problem import Pair, Problem, Solution
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
# Shares of the time limit: the dive may start steps until DIVE_SHARE; all search stops at
# SEARCH_SHARE, leaving the rest for the explanations.
DIVE_SHARE = 0.6
LARGE_LP_SHARE = 0.75  # large problems: the generated LP may run until then (the dive after it)
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
    search = _Search(inst, seats, started, Limits(time_limit, workers, seed), large)
    search.extra["relaxation_passes"] = steered.passes
    relaxation = steered.relaxation
    search.start_from(
        relaxation.pairs, relaxation.filled, relaxation.imbalance, steered.first_pass_seconds
    )
    if search.violating:
        search.repair_skills()
    return search.solution()


class _Search:
    """The incumbent assignment, the proven bound, and the repair loop between them."""

    def __init__(
        self, inst: Instance, seats: Seats, started: float, limits: Limits, large: bool
    ) -> None:
        self.inst, self.seats, self.started, self.limits = inst, seats, started, limits
        self.large = large  # dive rather than branch
        self.weight = objective_weight(inst, seats)
        self.teams: dict[int, list[int]] = {q: [] for q in range(inst.n_requests)}
        self.violating: list[int] = []
        self.method = "flow"  # then "+branch" and "+cpsat" for the repairs used
        self.first_solution: float | None = None
        self.infeasible = False
        self.extra: dict[str, object] = {}
        # Where the CP-SAT repair looks: a solution to improve (default: the incumbent) and the
        # requests to re-decide first (default: those whose relaxed teams broke the skill rule).
        self.context: dict[int, list[int]] | None = None
        self.imbalance_floor: int | None = None  # least imbalance of any fill, once computed
        self.hood: list[int] | None = None

    # -- state -----------------------------------------------------------------------------
    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def pairs(self) -> list[tuple[int, int]]:
        free = [(q, r) for q, team in self.teams.items() for r in team]
        return sorted(self.inst.locked + free)

    def objective(self) -> int:
        return self._score(self.teams)

    def _score(self, teams: dict[int, list[int]]) -> int:
        pairs = self.inst.locked + [(q, r) for q, team in teams.items() for r in team]
        return weighted(self.weight, score_of(self.inst, pairs))

    def start_from(
        self, pairs: list[tuple[int, int]], filled: int, imbalance: int, first_pass: float
    ) -> None:
        for q, r in pairs:
            self.teams[q].append(r)
        self.relaxation = Relaxation(pairs, filled, imbalance)
        self.first_pass = first_pass
        self.bound = self.weight * filled - imbalance  # proven: the relaxation's optimum
        log.info("relaxation solved", extra={"relaxation_seconds": self.elapsed()})
        self.violating = [q for q in range(self.inst.n_requests) if self._breaks_skills(q)]
        for q in self.violating:
            self.teams[q] = []  # an empty free part keeps the rest a valid solution
        if not any(self._breaks_skills(q) for q in self.violating):
            self.first_solution = first_pass  # no locked team breaks the rule
        self.extra["skill_violations"] = len(self.violating)

    def _breaks_skills(self, q: int) -> bool:
        return self._team_breaks_skills(q, self.teams[q])

    def _team_breaks_skills(self, q: int, free: list[int]) -> bool:
        team = self.seats.locked_team[q] + free
        if not team or not self.inst.required[q]:
            return False
        held = self.inst.has_skills(np.asarray(team), self.inst.required[q])
        return not bool(held.any(axis=0).all())

    # -- repair ----------------------------------------------------------------------------
    def repair_skills(self) -> None:
        if not self.large:
            self._branch()
        else:
            self._generated_lp()
            if not self.infeasible and self.objective() < self.bound:
                self._dive()
        if self.infeasible or self.objective() >= self.bound:
            return
        self.method += "+cpsat"
        rng = random.Random(self.limits.seed)
        hood_requests = self.hood or self._dropped() or sorted(self.violating)
        per_agency = SHORTLIST_PER_AGENCY
        total = sum(c.size for c in self.seats.candidates)
        rounds = 0
        while self.elapsed() < self.limits.seconds * SEARCH_SHARE and self.objective() < self.bound:
            rounds += 1
            # Small problems get the whole model: it also proves a bound the relaxation cannot
            # reach. Larger ones get neighbourhoods, growing each round.
            whole = total <= FULL_MODEL_PAIRS
            hood = self._neighbourhood(
                list(range(self.inst.n_requests)) if whole else hood_requests,
                None if whole else per_agency,
            )
            if not self._run(hood, whole):
                break
            hood_requests = self._grow(hood_requests, rng)
            per_agency = min(2 * per_agency, MAX_SHORTLIST_PER_AGENCY)
        self.extra["repair_rounds"] = rounds

    def _dropped(self) -> list[int]:
        """Requests the incumbent staffs less than the relaxation did: where repair pays."""
        relaxed = self._teams_of(self.relaxation.pairs)
        return [q for q, team in self.teams.items() if len(team) < len(relaxed[q])]

    def _generated_lp(self) -> None:
        """Large problems: the skill-aware LP with its columns generated from the relaxation's
        pairs; its bound and vertex, as for ``_branch``, with a dive of only a few nodes (each
        is a national flow)."""
        self.method = "flow+lp"
        deadline = self.started + self.limits.seconds * LARGE_LP_SHARE
        self._lp(deadline, LARGE_GUIDED_NODES, self.relaxation.pairs)

    def _dive(self) -> None:
        self.method += "+dive"
        deadline = self.started + self.limits.seconds * DIVE_SHARE
        pairs, _ = dive(self.inst, self.seats, self.relaxation, deadline, self.first_pass)
        if pairs is not None:
            self._offer(self._teams_of(pairs))
        fits = self.elapsed() + 2 * self.first_pass < self.limits.seconds * SEARCH_SHARE
        if self.objective() < self.bound and fits:
            # Likely to end unproven: the imbalance bound for that case costs one more flow,
            # which is only sure to fit now.
            self.imbalance_floor = self._imbalance_floor()

    def _branch(self) -> None:
        """Exact repair: the skill-aware LP first (its bound is usually the optimum, and its
        vertex or a dive it guides usually reaches it), then branch and bound on the flow
        within a work budget, then the exact MILP."""
        self.method = "flow+branch"
        pairs = max(1, sum(c.size for c in self.seats.candidates))
        deadline = self.started + self.limits.seconds * SEARCH_SHARE
        budget = max(8, BRANCH_WORK // pairs)
        target = self._lp(deadline, budget)
        if self.objective() >= self.bound:
            return
        tree = BranchAndBound(self.inst, self.seats)
        outcome = tree.run(deadline, budget, target)
        self._settle(outcome)
        self.extra["branch_nodes"] = outcome.nodes
        if not self.infeasible and self.objective() < self.bound:
            self._mip()

    def _mip(self) -> None:
        """The exact MILP of the reduced model with the MIP solver OR-Tools ships (HiGHS),
        from the incumbent, for the rest of the search time: it proves what the tree could
        not, so the answer is never worse than that solver's on its own."""
        left = self.limits.seconds * SEARCH_SHARE - self.elapsed()
        if left < MIN_MIP_SECONDS:
            return
        self.method += "+mip"
        model = milp.build(self.inst, self.seats, self.weight)
        hint = [(q, r) for q, team in self.teams.items() for r in team]
        result = milp.solve(model, hint, left, self.limits.workers)
        if result.pairs is not None:
            self._offer(self._teams_of(result.pairs))
        if result.optimal:
            self.bound = min(self.bound, max(self.objective(), result.bound or self.objective()))
        elif result.bound is not None:
            self.bound = min(self.bound, result.bound)
        self.extra["mip"] = "optimal" if result.optimal else "stopped"

    def _settle(self, outcome: Outcome) -> bool:
        """Take the tree's bound and best solution; False when it proved there is none."""
        if outcome.bound is None:
            self.infeasible = True  # every branch ran out of ways to complete a locked team
            return False
        self.bound = min(self.bound, weighted(self.weight, outcome.bound))
        if outcome.pairs is not None:
            self._offer(self._teams_of(outcome.pairs))
        if outcome.frontier is not None:
            self.context = self._teams_of(outcome.frontier.pairs)
            self.hood = outcome.frontier.requests
        return True

    def _lp(
        self, deadline: float, budget: int, start: list[tuple[int, int]] | None = None
    ) -> Score | None:
        """The skill-aware LP: a tighter bound, returned as a (fill, -imbalance) score for the
        tree, and a primal guide. Its vertex, less the requests it leaves fractional, is a
        solution; a dive into the tree's branch that the vertex points to, then CP-SAT on the
        fractional requests, look for one reaching the bound."""
        point = lp_point(self.inst, self.seats, self.weight, deadline - time.perf_counter(), start)
        if point is None:
            self.extra["lp_bound"] = False
            return None
        self.extra["lp_bound"] = point.bound < self.bound
        self.extra["lp_fractional"] = len(point.fractional)
        self.bound = min(self.bound, point.bound)
        hint = self._teams_of(point.pairs)  # the fractional requests' whole pairs: a hint
        teams = {q: [] if q in point.fractional else team for q, team in hint.items()}
        for q in range(self.inst.n_requests):
            if teams[q] and self._team_breaks_skills(q, teams[q]):
                teams[q] = []  # within GLOP's tolerances this never happens; never trust it
        self._offer(teams)
        flow_fits = time.perf_counter() + 2 * self.first_pass < deadline  # a node is a flow
        if point.fractional and self.objective() < self.bound and flow_fits:
            region = region_of(self.inst, self.seats, point.pairs, point.fractional)
            dive = BranchAndBound(self.inst, self.seats, region)
            outcome = dive.run(deadline, min(budget, GUIDED_NODES), split(self.weight, self.bound))
            self.extra["guided_nodes"] = outcome.nodes
            if outcome.pairs is not None:
                self._offer(self._teams_of(outcome.pairs))
        if point.fractional and self.objective() < self.bound:
            self.context = hint
            hood = Neighbourhood(requests=point.fractional, candidates=point.priced)
            cap = self.limits.seconds * ROUND_SHARE if self.large else LP_ROUND_SECONDS
            self._run(hood, False, cap)
        return split(self.weight, self.bound)

    def _teams_of(self, pairs: list[tuple[int, int]]) -> dict[int, list[int]]:
        teams: dict[int, list[int]] = {q: [] for q in range(self.inst.n_requests)}
        for q, r in pairs:
            teams[q].append(r)
        return teams

    def _offer(self, teams: dict[int, list[int]]) -> None:
        """Keep ``teams`` (a valid solution) if it beats the incumbent."""
        if self.first_solution is None or self._score(teams) > self.objective():
            self.teams = {q: list(team) for q, team in teams.items()}
            if self.first_solution is None:
                self.first_solution = self.elapsed()

    def _run(self, hood: Neighbourhood, whole: bool, cap: float | None = None) -> bool:
        """One CP-SAT repair; returns whether another round could still help."""
        left = self.limits.seconds * SEARCH_SHARE - self.elapsed()
        if cap is not None:
            left = min(left, cap)
        elif not whole:
            # A neighbourhood's own optimum is rarely the global one, and proving it can take
            # long: a short round, then a larger neighbourhood.
            left = min(left, max(1.0, self.limits.seconds * ROUND_SHARE))
        limits = Limits(left, self.limits.workers, self.limits.seed)
        context = self.context or self.teams
        result = repair(self.inst, self.seats, context, hood, self.bound, limits)
        if result.status == "infeasible" and whole:
            self.infeasible = True  # the cut is valid, so the whole problem has no solution
            return False
        if result.objective is not None:
            context = {**context, **result.teams}
            self._offer(context)
            self.context = context
        if whole and result.status in ("optimal", "feasible"):
            self.bound = min(self.bound, result.bound)  # the whole problem: a global bound
        return not (whole and result.status == "optimal")

    def _grow(self, hood_requests: list[int], rng: random.Random) -> list[int]:
        rest = sorted(set(range(self.inst.n_requests)) - set(hood_requests))
        grow = min(len(rest), max(4, len(hood_requests)), MAX_HOOD_GROWTH)
        return sorted(hood_requests + rng.sample(rest, grow))

    def _neighbourhood(self, requests: list[int], per_agency: int | None) -> Neighbourhood:
        candidates = {}
        for q in requests:
            pool = self.seats.candidates[q]
            candidates[q] = pool if per_agency is None else self._shortlist(q, pool, per_agency)
        return Neighbourhood(requests=requests, candidates=candidates)

    def _shortlist(self, q: int, pool: np.ndarray, per_agency: int) -> np.ndarray:
        """The current team plus, per agency, the reviewers who best fill the skill gap and
        still have spare capacity."""
        if not pool.size:
            return pool
        load = np.zeros(self.inst.n_reviewers, dtype=np.int64)
        for team in self.teams.values():
            load[team] += 1
        spare = (self.seats.spare[pool] - load[pool]) > 0
        current = np.isin(pool, self.teams[q])
        order = np.lexsort((pool, ~spare, -skill_scores(self.inst, self.seats, q, pool), ~current))
        agency = self.inst.reviewer_agency[pool[order]]
        rank = np.zeros(order.size, dtype=np.int64)
        for a in np.unique(agency):
            rank[agency == a] = np.arange(int((agency == a).sum()))
        return np.sort(pool[order][(rank < per_agency) | current[order]])

    # -- result ----------------------------------------------------------------------------
    def solution(self) -> Solution:
        if self.infeasible or self.first_solution is None:
            return _infeasible(self.inst, self.started, "no completion of the locked pairs found")
        inst = self.inst
        free = [(q, r) for q, team in self.teams.items() for r in team]
        deadline = self.started + self.limits.seconds * PRACTICE_SHARE
        practice = improve_practice(
            inst, self.seats, sorted(free), deadline, self.limits, self.first_pass
        )
        pairs = sorted(inst.locked + practice.pairs)
        balance = balance_of(inst, pairs)
        filled, imbalance = len(pairs), imbalance_of(inst, pairs)
        proven = self.weight * filled - imbalance >= self.bound
        bound_filled, bound_imbalance = self._bounds(filled, imbalance, proven)
        teams: list[list[int]] = [[] for _ in range(inst.n_requests)]
        for q, r in pairs:
            teams[q].append(r)
        # Timings go to the log, not into the solution: with one worker and a seed the
        # solution must be reproducible byte for byte (bar `seconds`).
        log.info("solved", extra={"first_solution_seconds": self.first_solution})
        self.extra["method"] = self.method
        return Solution(
            status="optimal" if proven else "feasible",
            assignments=tuple(
                Pair(inst.problem.requests[q].id, inst.problem.reviewers[r].id) for q, r in pairs
            ),
            filled=filled,
            imbalance=imbalance,
            bound_filled=bound_filled,
            bound_imbalance=bound_imbalance,
            balance={p.id: int(balance[i]) for i, p in enumerate(inst.problem.partnerships)},
            requests=outcomes(inst, teams, balance),
            seconds=self.elapsed(),
            extra=self.extra,
            practice=practice.value,
            bound_practice=practice.bound,
        )

    def _bounds(self, filled: int, imbalance: int, proven: bool) -> tuple[int, int]:
        """Decode the bound on W·fill - imbalance (0 <= imbalance < W) into the contract's
        two bounds."""
        if proven:
            return filled, imbalance
        bound_filled, minus_imbalance = split(self.weight, self.bound)
        if filled == bound_filled:
            return bound_filled, max(0, -minus_imbalance)
        # Our fill is not proven maximal, so the optimum may have any fill up to the bound:
        # only the imbalance of the relaxation that ignores fill bounds it, if there is time
        # for one more flow; otherwise 0, the trivial bound.
        if self.imbalance_floor is None and self.elapsed() + self.first_pass < self.limits.seconds:
            self.imbalance_floor = self._imbalance_floor()
        return bound_filled, self.imbalance_floor or 0

    def _imbalance_floor(self) -> int:
        return solved(relax(self.inst, self.seats, reward_fill=False)).imbalance


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
    )
