"""Exact skill repair for problems whose relaxation solves in milliseconds: branch and bound with
the min-cost flow as the bound.

Take a request q whose team in the relaxation lacks a required skill s. Every solution either
gives q nobody (possible only without locked members) or has on q a holder of s, from one of at
most six agencies. So the children of a node are "q closed" and, per agency a with a candidate
holding s, "q's member of agency a holds s" (the (q, a) seat restricted to holders and forced
to be filled, a lower bound the flow still solves exactly). Each child is again a relaxation
whose optimum bounds every solution in it. Nodes are expanded best bound first. Every node also
yields a solution: its flow less the teams that break the skill rule. The search is over when
the best open bound is no better than the best solution, which is then proven optimal.
"""

from __future__ import annotations

import heapq
import time
from dataclasses import dataclass

import numpy as np

from peermatch.matching.flow import Relaxation, relax
from peermatch.matching.heuristics import mend
from peermatch.matching.instance import Instance
from peermatch.matching.objective import Score, score_of
from peermatch.matching.seats import Restrictions, Rule, Seats

# A dive step doubles the steering reward of a skill a team still lacks, up to this: beyond, the
# flow's costs would leave its range, and a team still lacking it then has no holder to take.
MAX_DIVE_BOOST = 2**10

__all__ = [
    "BranchAndBound",
    "Frontier",
    "Outcome",
    "Search",
    "breaking_skills",
    "dive",
    "region_of",
]


@dataclass(frozen=True)
class Frontier:
    """The most promising open node when the budget ran out: its flow less the teams that
    break the skill rule (mended where possible), and those requests (where to look next)."""

    pairs: list[tuple[int, int]]
    requests: list[int]


@dataclass
class Outcome:
    pairs: list[tuple[int, int]] | None  # free pairs of the best solution (locked ones apart)
    best: Score | None
    bound: Score | None  # proven: no solution scores more; None when no solution exists
    nodes: int
    frontier: Frontier | None = None


@dataclass
class _Node:
    restrictions: Restrictions
    closed: frozenset[int]
    seats: Seats
    relaxation: Relaxation
    score: Score  # the relaxation's (fill, -penalty): a bound on every solution in the node


class BranchAndBound:
    """A search that can be resumed with a larger budget or a newly known bound."""

    def __init__(
        self,
        inst: Instance,
        seats: Seats,
        region: tuple[Restrictions, frozenset[int]] = (Restrictions(), frozenset()),
    ) -> None:
        """``region``: the root's restrictions and closed requests. By default the whole
        problem; a smaller region (a guided dive) bounds only the solutions inside it."""
        self.search = Search(inst, seats)
        self.inst = inst
        root = self.search.evaluate(*region)
        self.infeasible = root is None
        if root is not None:
            self.search.push(root)

    def run(self, deadline: float, max_nodes: int, target: Score | None = None) -> Outcome:
        """Stops at the deadline, after ``max_nodes`` relaxations in all (a budget that, unlike
        time, keeps the result reproducible), or on a solution scoring ``target``."""
        search = self.search
        if self.infeasible:
            return Outcome(pairs=None, best=None, bound=None, nodes=search.nodes)
        while search.open and time.perf_counter() < deadline and search.nodes < max_nodes:
            if target is not None and search.best is not None and search.best >= target:
                return Outcome(search.pairs, search.best, search.best, search.nodes)
            node = search.pop()
            if search.best is not None and node.score <= search.best:
                search.open.clear()  # best bound first: nothing left can beat the incumbent
                break
            search.expand(node)
        return self._outcome()

    def _outcome(self) -> Outcome:
        search = self.search
        bound = search.best
        frontier = None
        if search.open:  # stopped by the budget: the best open node bounds what is left
            top = search.open[0][3]
            bound = top.score if bound is None else max(bound, top.score)
            breaking = breaking_skills(self.inst, top.seats, top.relaxation)
            kept = mend(self.inst, self.search.seats, top.relaxation.pairs, breaking)
            if kept is None:
                kept = [(q, r) for q, r in top.relaxation.pairs if q not in breaking]
            frontier = Frontier(kept, sorted(breaking))
        return Outcome(search.pairs, search.best, bound, search.nodes, frontier)


class Search:
    """The tree's state: open nodes (best bound first), nodes seen, the best solution met."""

    def __init__(self, inst: Instance, seats: Seats) -> None:
        self.inst, self.seats = inst, seats
        self.open: list[tuple[int, int, int, _Node]] = []
        self.seen: set[tuple[Restrictions, frozenset[int]]] = set()
        self.best: Score | None = None
        self.pairs: list[tuple[int, int]] | None = None
        self.nodes = 0

    def push(self, node: _Node) -> None:
        filled, minus_penalty = node.score
        heapq.heappush(self.open, (-filled, -minus_penalty, self.nodes, node))

    def pop(self) -> _Node:
        return heapq.heappop(self.open)[3]

    def evaluate(
        self,
        restrictions: Restrictions,
        closed: frozenset[int],
        boosts: dict[int, np.ndarray] | None = None,
    ) -> _Node | None:
        """The node's relaxation (None when the node holds no solution); records the solution
        the node yields."""
        self.nodes += 1
        seats = restrictions.restrict(self.inst, self.seats, closed)
        relaxation = relax(self.inst, seats, forced=restrictions.forced(), boosts=boosts)
        if relaxation is None:
            return None
        node = _Node(restrictions, closed, seats, relaxation, relaxation.score(self.inst))
        self.record(relaxation, breaking_skills(self.inst, seats, relaxation))
        return node

    def record(self, relaxation: Relaxation, breaking: dict[int, int]) -> None:
        kept = mend(self.inst, self.seats, relaxation.pairs, breaking)
        if kept is None:
            return
        score = score_of(self.inst, self.inst.locked + kept)
        if self.best is None or score > self.best:
            self.best, self.pairs = score, kept

    def expand(self, node: _Node) -> None:
        breaking = breaking_skills(self.inst, node.seats, node.relaxation)
        if not breaking:
            return  # a solution: already recorded when evaluated
        q, skill = self._most_constrained(node, breaking)
        for restrictions, closed in self._children(node, q, skill):
            key = (restrictions, closed)
            if key in self.seen:
                continue
            self.seen.add(key)
            child = self.evaluate(restrictions, closed)
            if child is not None and (self.best is None or child.score > self.best):
                self.push(child)

    def _children(
        self, node: _Node, q: int, skill: int
    ) -> list[tuple[Restrictions, frozenset[int]]]:
        pool = node.seats.candidates[q]
        holders = pool[self.inst.skills[pool, skill]] if pool.size else pool
        rules = node.restrictions.as_dict()
        children = []
        # Disjoint children: the i-th agency's member holds the skill, and the members of the
        # agencies before it (if any) do not. Together they cover every team holding it once.
        for agency in np.unique(self.inst.reviewer_agency[holders]).tolist():
            seat = (q, int(agency))
            rule = rules.get(seat, Rule())
            children.append((Restrictions.of({**rules, seat: rule.needing(skill)}), node.closed))
            rules[seat] = rule.forbidding(skill)
        forced_here = any(seat[0] == q for seat in node.restrictions.forced())
        if not self.seats.locked_team[q] and not forced_here:
            children.append((node.restrictions, node.closed | {q}))
        return children

    def _most_constrained(self, node: _Node, breaking: dict[int, int]) -> tuple[int, int]:
        """The offending request whose lacking skill has the fewest candidate holders."""
        options = []
        for q, skill in breaking.items():
            pool = node.seats.candidates[q]
            options.append((int(self.inst.skills[pool, skill].sum()) if pool.size else 0, q))
        _, q = min(options)
        return q, breaking[q]


def breaking_skills(inst: Instance, seats: Seats, relaxation: Relaxation) -> dict[int, int]:
    """Requests whose team (locked and free members) lacks a required skill, with the first
    skill it lacks."""
    free: dict[int, list[int]] = {}
    for q, r in relaxation.pairs:
        free.setdefault(q, []).append(r)
    breaking = {}
    for q in range(inst.n_requests):
        missing = seats.missing[q]
        members = free.get(q, [])
        if not missing or not (members or seats.locked_team[q]):
            continue
        held = np.asarray(inst.skills[members][:, list(missing)].any(axis=0))
        lacking = [s for k, s in enumerate(missing) if not held[k]]
        if lacking:
            breaking[q] = lacking[0]
    return breaking


def region_of(
    inst: Instance, seats: Seats, pairs: list[tuple[int, int]], undecided: list[int]
) -> tuple[Restrictions, frozenset[int]]:
    """The branch of the tree a partial solution points to: each request outside ``undecided``
    whose ``pairs`` hold a missing skill gets that member's seat restricted to holders, and one
    with no pair at all is closed. From an LP vertex (``pairs`` at 1, fractional requests
    undecided) this is the region where the LP says the optimum lies."""
    teams: dict[int, list[int]] = {}
    for q, r in pairs:
        teams.setdefault(q, []).append(r)
    rules: dict[tuple[int, int], Rule] = {}
    closed = set()
    skip = set(undecided)
    for q, missing in enumerate(seats.missing):
        if not missing or q in skip:
            continue
        team = teams.get(q, [])
        if not team and not seats.locked_team[q]:
            closed.add(q)
        for s in missing:
            holders = [r for r in team if inst.skills[r, s]]
            if holders:
                seat = (q, int(inst.reviewer_agency[holders[0]]))
                rules[seat] = rules.get(seat, Rule()).needing(s)
    return Restrictions.of(rules), frozenset(closed)


def dive(
    inst: Instance, seats: Seats, first: Relaxation, deadline: float, step_seconds: float
) -> tuple[list[tuple[int, int]] | None, Score | None]:
    """For problems too large to branch: one descent of the tree without backtracking. Each
    step forces, for every team still lacking a skill, its seat of the agency with the most
    candidate holders to a holder, and solves the flow again (exact for the restricted
    problem). Returns the best solution met (free pairs and score)."""
    search = Search(inst, seats)
    search.record(first, breaking_skills(inst, seats, first))
    rules: dict[tuple[int, int], Rule] = {}
    boosts: dict[int, np.ndarray] = {}  # as in the steering passes: keeps holders where needed
    relaxation, current = first, seats
    while time.perf_counter() + step_seconds < deadline:
        breaking = breaking_skills(inst, current, relaxation)
        if not breaking:
            break
        before = (Restrictions.of(rules), {q: b.copy() for q, b in boosts.items()})
        for q, skill in breaking.items():
            seat = _roomiest_seat(inst, seats, rules, q, skill)
            if seat is not None:
                rules[seat] = rules.get(seat, Rule()).needing(skill)
            lacking = boosts.setdefault(q, np.ones(len(seats.missing[q]), dtype=np.int64))
            k = seats.missing[q].index(skill)
            lacking[k] = min(2 * lacking[k], MAX_DIVE_BOOST)
        if before[0] == Restrictions.of(rules) and _same(before[1], boosts):
            break  # nothing left to force or steer: the next flow would be this one again
        node = search.evaluate(Restrictions.of(rules), frozenset(), boosts)
        if node is None:
            break  # the forced seats cannot all be filled: keep the best met so far
        relaxation, current = node.relaxation, node.seats
    return search.pairs, search.best


def _same(a: dict[int, np.ndarray], b: dict[int, np.ndarray]) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[q], b[q]) for q in a)


def _roomiest_seat(
    inst: Instance, seats: Seats, rules: dict[tuple[int, int], Rule], q: int, skill: int
) -> tuple[int, int] | None:
    """The (q, agency) seat with the most candidates who hold ``skill`` and whatever that seat
    already needs (and nothing it forbids); None when no agency has one."""
    pool = seats.candidates[q]
    best: tuple[int, int] | None = None
    most = 0
    for agency in np.unique(inst.reviewer_agency[pool]).tolist():
        members = pool[inst.reviewer_agency[pool] == agency]
        fits = rules.get((q, agency), Rule()).needing(skill).fits(inst, members)
        if int(fits.sum()) > most:
            best, most = (q, int(agency)), int(fits.sum())
    return best
