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
from dataclasses import dataclass, replace

import numpy as np

from peermatch.matching.flow import Relaxation, relax
from peermatch.matching.instance import Instance
from peermatch.matching.seats import Seats, balance_of

Score = tuple[int, int]  # (filled, -imbalance): larger is better, compared lexicographically
# (request, agency) -> (skills its member of that agency must hold, so the seat must be filled;
# skills that member must not hold).
Rule = tuple[frozenset[int], frozenset[int]]
Restrictions = tuple[tuple[tuple[int, int], Rule], ...]


@dataclass
class Outcome:
    pairs: list[tuple[int, int]] | None  # free pairs of the best solution (locked ones apart)
    best: Score | None
    bound: Score | None  # proven: no solution scores more; None when no solution exists
    nodes: int
    # The most promising open node when the budget ran out: its flow less the teams that break
    # the skill rule, and those requests (a good place to look for better solutions).
    frontier: tuple[list[tuple[int, int]], list[int]] | None = None


@dataclass
class _Node:
    restrictions: Restrictions
    closed: frozenset[int]
    seats: Seats
    relaxation: Relaxation

    @property
    def score(self) -> Score:
        return (self.relaxation.filled, -self.relaxation.imbalance)


class BranchAndBound:
    """A search that can be resumed with a larger budget or a newly known bound."""

    def __init__(self, inst: Instance, seats: Seats) -> None:
        self.search = _Search(inst, seats)
        self.inst = inst
        root = self.search.evaluate((), frozenset())
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
            breaking = _breaking(self.inst, top.seats, top.relaxation)
            kept = mend(self.inst, self.search.seats, top.relaxation.pairs, breaking)
            if kept is None:
                kept = [(q, r) for q, r in top.relaxation.pairs if q not in breaking]
            frontier = (kept, sorted(breaking))
        return Outcome(search.pairs, search.best, bound, search.nodes, frontier)


class _Search:
    def __init__(self, inst: Instance, seats: Seats) -> None:
        self.inst, self.seats = inst, seats
        self.open: list[tuple[int, int, int, _Node]] = []
        self.seen: set[tuple[Restrictions, frozenset[int]]] = set()
        self.best: Score | None = None
        self.pairs: list[tuple[int, int]] | None = None
        self.nodes = 0

    def push(self, node: _Node) -> None:
        filled, minus_imbalance = node.score
        heapq.heappush(self.open, (-filled, -minus_imbalance, self.nodes, node))

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
        seats = _restricted(self.inst, self.seats, restrictions, closed)
        forced = frozenset(seat for seat, (needs, _) in restrictions if needs)
        relaxation = relax(self.inst, seats, forced=forced, boosts=boosts)
        if relaxation is None:
            return None
        node = _Node(restrictions, closed, seats, relaxation)
        self._record(relaxation, _breaking(self.inst, seats, relaxation))
        return node

    def _record(self, relaxation: Relaxation, breaking: dict[int, int]) -> None:
        kept = mend(self.inst, self.seats, relaxation.pairs, breaking)
        if kept is None:
            return
        pairs = self.inst.locked + kept
        score = (len(pairs), -int(np.abs(balance_of(self.inst, pairs)).sum()))
        if self.best is None or score > self.best:
            self.best, self.pairs = score, kept

    def expand(self, node: _Node) -> None:
        breaking = _breaking(self.inst, node.seats, node.relaxation)
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
        rules = dict(node.restrictions)
        none: Rule = (frozenset(), frozenset())
        children = []
        # Disjoint children: the i-th agency's member holds the skill, and the members of the
        # agencies before it (if any) do not. Together they cover every team holding it once.
        for agency in np.unique(self.inst.reviewer_agency[holders]).tolist():
            seat = (q, int(agency))
            needs, forbids = rules.get(seat, none)
            child = {**rules, seat: (needs | {skill}, forbids)}
            children.append((tuple(sorted(child.items())), node.closed))
            rules[seat] = (needs, forbids | {skill})
        forced_here = any(s[0] == q and needs for s, (needs, _) in node.restrictions)
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


def _restricted(
    inst: Instance, seats: Seats, restrictions: Restrictions, closed: frozenset[int]
) -> Seats:
    candidates = list(seats.candidates)
    for q in closed:
        candidates[q] = candidates[q][:0]
    for (q, agency), (needs, forbids) in restrictions:
        pool = candidates[q]
        fits = inst.skills[pool][:, sorted(needs)].all(axis=1)
        fits &= ~inst.skills[pool][:, sorted(forbids)].any(axis=1)
        candidates[q] = pool[(inst.reviewer_agency[pool] != agency) | fits]
    return replace(seats, candidates=candidates)


def _breaking(inst: Instance, seats: Seats, relaxation: Relaxation) -> dict[int, int]:
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


def dive(
    inst: Instance, seats: Seats, first: Relaxation, deadline: float, step_seconds: float
) -> tuple[list[tuple[int, int]] | None, Score | None]:
    """For problems too large to branch: one descent of the tree without backtracking. Each
    step forces, for every team still lacking a skill, its seat of the agency with the most
    candidate holders to a holder, and solves the flow again (exact for the restricted
    problem). Returns the best solution met (free pairs and score)."""
    search = _Search(inst, seats)
    search._record(first, _breaking(inst, seats, first))
    rules: dict[tuple[int, int], Rule] = {}
    boosts: dict[int, np.ndarray] = {}  # as in the steering passes: keeps holders where needed
    relaxation, current = first, seats
    while time.perf_counter() + step_seconds < deadline:
        breaking = _breaking(inst, current, relaxation)
        if not breaking:
            break
        for q, skill in breaking.items():
            seat = _roomiest_seat(inst, seats, rules, q, skill)
            if seat is not None:
                needs, forbids = rules.get(seat, (frozenset(), frozenset()))
                rules[seat] = (needs | {skill}, forbids)
            lacking = boosts.setdefault(q, np.ones(len(seats.missing[q]), dtype=np.int64))
            lacking[seats.missing[q].index(skill)] *= 2
        node = search.evaluate(tuple(sorted(rules.items())), frozenset(), boosts)
        if node is None:
            break  # the forced seats cannot all be filled: keep the best met so far
        relaxation, current = node.relaxation, node.seats
    return search.pairs, search.best


def _roomiest_seat(
    inst: Instance, seats: Seats, rules: dict[tuple[int, int], Rule], q: int, skill: int
) -> tuple[int, int] | None:
    """The (q, agency) seat with the most candidates who hold ``skill`` and whatever that seat
    already needs (and nothing it forbids); None when no agency has one."""
    pool = seats.candidates[q]
    best: tuple[int, int] | None = None
    most = 0
    for agency in np.unique(inst.reviewer_agency[pool]).tolist():
        needs, forbids = rules.get((q, agency), (frozenset(), frozenset()))
        members = pool[inst.reviewer_agency[pool] == agency]
        fits = inst.skills[members][:, sorted(needs | {skill})].all(axis=1)
        fits &= ~inst.skills[members][:, sorted(forbids)].any(axis=1)
        if int(fits.sum()) > most:
            best, most = (q, int(agency)), int(fits.sum())
    return best


def mend(
    inst: Instance, seats: Seats, pairs: list[tuple[int, int]], breaking: dict[int, int]
) -> list[tuple[int, int]] | None:
    """A valid solution from relaxed ``pairs``: each team lacking a skill takes in (or swaps a
    member of the same agency for) a candidate holding it with capacity to spare, choosing the
    move that changes the imbalance least; teams that cannot be mended lose their free members.
    None when a locked team cannot be mended."""
    teams: dict[int, list[int]] = {}
    for q, r in pairs:
        teams.setdefault(q, []).append(r)
    load = np.zeros(inst.n_reviewers, dtype=np.int64)
    for _, r in pairs:
        load[r] += 1
    balance = balance_of(inst, inst.locked + pairs)
    for q in sorted(breaking):
        if not _mend_team(inst, seats, q, teams.setdefault(q, []), load, balance):
            if seats.locked_team[q]:
                return None
            for r in teams.pop(q):
                load[r] -= 1
                _shift(inst, balance, q, r, -1)
    return [(q, r) for q in sorted(teams) for r in teams[q]]


def _mend_team(
    inst: Instance, seats: Seats, q: int, team: list[int], load: np.ndarray, balance: np.ndarray
) -> bool:
    for skill in seats.missing[q]:
        members = seats.locked_team[q] + team
        if members and inst.skills[members, skill].any():
            continue
        pool = seats.candidates[q]
        pool = pool[inst.skills[pool, skill] & (load[pool] < seats.spare[pool])]
        best: tuple[int, int, int | None] | None = None  # (imbalance change, holder, replaced)
        for h in pool.tolist():
            agency = inst.reviewer_agency[h]
            same = [m for m in team if inst.reviewer_agency[m] == agency]
            if any(inst.reviewer_agency[m] == agency for m in seats.locked_team[q]):
                continue
            if not same and len(members) >= inst.peers[q]:
                continue  # no free seat and nobody of that agency to swap out
            out = same[0] if same else None
            needed = list(seats.missing[q])
            if out is not None and (inst.skills[out, needed] & ~inst.skills[h, needed]).any():
                continue  # the member swapped out brings a skill the holder lacks
            change = _change(inst, balance, q, h, out)
            if best is None or change < best[0]:
                best = (change, h, out)
        if best is None:
            return False
        _, h, out = best
        if out is not None:
            team.remove(out)
            load[out] -= 1
            _shift(inst, balance, q, out, -1)
        team.append(h)
        load[h] += 1
        _shift(inst, balance, q, h, 1)
    members = seats.locked_team[q] + team
    return bool(members) and bool(inst.skills[members][:, list(seats.missing[q])].any(axis=0).all())


def _shift(inst: Instance, balance: np.ndarray, q: int, r: int, sign: int) -> None:
    lender, receiver = int(inst.reviewer_partnership[r]), int(inst.request_partnership[q])
    if lender != receiver:
        balance[lender] += sign
        balance[receiver] -= sign


def _change(inst: Instance, balance: np.ndarray, q: int, h: int, out: int | None) -> int:
    """How much Σ|balance| changes if ``h`` joins request ``q`` (replacing ``out``)."""
    trial = balance.copy()
    if out is not None:
        _shift(inst, trial, q, out, -1)
    _shift(inst, trial, q, h, 1)
    return int(np.abs(trial).sum() - np.abs(balance).sum())
