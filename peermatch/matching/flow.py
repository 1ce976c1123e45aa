"""The matching without the skill rule, solved exactly as a min-cost circulation.

Every other rule is a network constraint, so this relaxation gives, in polynomial time, an upper
bound on fill and (at that fill) a lower bound on imbalance, plus a solution that usually needs
little or no skill repair. Network (one unit of flow = one pair):

    lender L_p -> reviewer r        capacity: r's spare capacity
    r -> (q, agency of r)           capacity 1: the pair; the node keeps the team multi-agency
    (q, a) -> q                     capacity 1: one reviewer per agency per team
    q -> receiver R_p(q)            capacity: free seats; cost -W_FILL (fill comes first)
    R_p -> L_p                      free: what p receives and lends cancels out
    R_p -> Hub -> L_p               the net exchange, priced so the cost is |balance_p|

balance_p = base_p + flow(Hub -> L_p) - flow(R_p -> Hub). When base_p > 0 the first base_p units
of R_p -> Hub move the balance towards zero (cost -1 each) and further ones away from it (+1);
symmetrically for base_p < 0 on Hub -> L_p. Paying on both arcs at once is never cheaper than
cancelling through R_p -> L_p, so at the optimum the cost is exactly Σ|balance_p| - Σ|base_p|.

Below imbalance, a tier rewards each previous pair kept (stability, the third objective; absent
without ``previous``), and a lowest tier rewards pairs whose reviewer holds skills the request
still lacks (rare skills more), which steers the relaxation towards teams that already satisfy
the skill rule (or, for the practice pass, each pair's gap).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from ortools.graph.python import min_cost_flow

from peermatch.matching.instance import Instance
from peermatch.matching.objective import Score, kept_of, penalty
from peermatch.matching.seats import Seats

MAX_SKILL_WEIGHT = 8
# Re-weighted relaxation passes that steer teams towards the skill rule, and the share of the
# time limit they may use.
SKILL_PASSES = 4
SKILL_SHARE = 0.25


@dataclass
class Relaxation:
    pairs: list[tuple[int, int]]  # free pairs (request, reviewer), locked ones excluded
    filled: int  # including locked pairs
    imbalance: int
    kept: int = 0  # previous pairs kept, locked ones included

    def score(self, inst: Instance) -> Score:
        """(fill, -penalty): with the fill and imbalance tiers exact, so is this."""
        return self.filled, -penalty(inst, self.imbalance, self.kept)


@dataclass(frozen=True)
class Steered:
    """What ``relax_towards_skills`` returns: the last relaxation, the passes made, and when the
    first pass ended (its pairs, less the teams breaking the skill rule, are a solution)."""

    relaxation: Relaxation
    passes: int
    first_pass_seconds: float


def skill_scores(
    inst: Instance, seats: Seats, q: int, pool: np.ndarray, boost: np.ndarray | None = None
) -> np.ndarray:
    """Tie-break score per candidate: the rarer a missing skill among the candidates, the more
    holding it is worth (1 to MAX_SKILL_WEIGHT per skill), times ``boost`` per skill."""
    missing = seats.missing[q]
    if not missing or not pool.size:
        return np.zeros(pool.size, dtype=np.int64)
    held = inst.has_skills(pool, missing)
    holders = np.maximum(held.sum(axis=0), 1)
    weight = np.minimum(np.ceil(pool.size / holders), MAX_SKILL_WEIGHT).astype(np.int64)
    if boost is not None:
        weight = weight * boost
    return np.asarray((held * weight).sum(axis=1), dtype=np.int64)


def relax(
    inst: Instance,
    seats: Seats,
    *,
    reward_fill: bool = True,
    boosts: dict[int, np.ndarray] | None = None,
    forced: frozenset[tuple[int, int]] = frozenset(),
    practice: bool = False,
) -> Relaxation | None:
    """Solve the relaxation; with reward_fill=False it minimises imbalance alone (a lower bound
    on the imbalance of any solution, whatever its fill). ``boosts`` reweights, per request,
    the tie-break reward of each missing skill (see ``skill_scores``). ``forced`` holds
    (request, agency) seats that must be filled (a lower bound of 1 on the team arc, written
    as a demand at its tail and a supply at its head); None when they cannot all be. With
    ``practice`` the lowest tier is the practice objective (each pair earns its reviewer's gap)
    instead of the skill steering: then the relaxation is exact for fill, imbalance, practice."""
    net = _Network(inst, seats, reward_fill, boosts or {}, practice)
    caps = np.concatenate(net.caps)
    supplies = np.zeros(net.next_node, dtype=np.int64)
    for seat in forced:
        if seat not in net.team_arcs:
            return None  # no candidate of that agency at all
        arc, node = net.team_arcs[seat]
        caps[arc] = 0
        supplies[node] -= 1
        supplies[net.request0 + seat[0]] += 1
    solver = min_cost_flow.SimpleMinCostFlow()
    solver.add_arcs_with_capacity_and_unit_cost(
        np.concatenate(net.tails), np.concatenate(net.heads), caps, np.concatenate(net.costs)
    )
    if forced:
        solver.set_nodes_supplies(np.arange(net.next_node), supplies)
    status = solver.solve()
    if forced and status == solver.INFEASIBLE:
        return None
    if status != solver.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed with status {status}")
    used = solver.flows(np.arange(net.pair_arcs, dtype=np.int64)) > 0
    pair_q, pair_r = np.concatenate(net.pair_q)[used], np.concatenate(net.pair_r)[used]
    pairs = list(zip(pair_q.tolist(), pair_r.tolist(), strict=True))
    balance = seats.base.copy()
    lender, receiver = inst.reviewer_partnership[pair_r], inst.request_partnership[pair_q]
    cross = lender != receiver
    np.add.at(balance, lender[cross], 1)
    np.add.at(balance, receiver[cross], -1)
    kept = kept_of(inst, inst.locked)
    if inst.previous:
        kept += int(inst.is_previous(pair_q, pair_r).sum())
    return Relaxation(
        pairs=pairs,
        filled=len(inst.locked) + len(pairs),
        imbalance=int(np.abs(balance).sum()),
        kept=kept,
    )


def solved(relaxation: Relaxation | None) -> Relaxation:
    """The relaxation without forced seats always has a solution (the empty one)."""
    assert relaxation is not None
    return relaxation


def relax_towards_skills(
    inst: Instance, seats: Seats, started: float, time_limit: float, passes: int = SKILL_PASSES
) -> Steered:
    """Solve the relaxation, then re-solve it with the lowest-tier reward of each skill a team
    still lacks doubled. Fill and imbalance stay optimal on every pass (the reward ranks below
    both), so this only moves within the optimal face towards teams that meet the skill rule.
    Stops when no team breaks the rule, after SKILL_PASSES, or when passes would cost too much
    of the time limit. Also returns the passes made and when the first one ended: its pairs,
    less the teams that break the skill rule, are already a solution."""
    relaxation = solved(relax(inst, seats))
    one_pass = time.perf_counter() - started
    boosts: dict[int, np.ndarray] = {}
    made = 1
    for _ in range(passes):
        uncovered = uncovered_skills(inst, seats, relaxation.pairs)
        if not uncovered or time.perf_counter() - started + one_pass > time_limit * SKILL_SHARE:
            break
        for q, lacking in uncovered.items():
            boosts[q] = boosts.get(q, np.ones(len(seats.missing[q]), dtype=np.int64))
            boosts[q][lacking] *= 2
        try:
            relaxation = solved(relax(inst, seats, boosts=boosts))
        except RuntimeError:  # weights grew beyond the flow solver's cost range: keep the last
            break
        made += 1
    return Steered(relaxation, made, one_pass)


def uncovered_skills(
    inst: Instance, seats: Seats, pairs: list[tuple[int, int]]
) -> dict[int, np.ndarray]:
    """Per request whose team breaks the skill rule: which of its missing skills it lacks."""
    teams: dict[int, list[int]] = {}
    for q, r in pairs:
        teams.setdefault(q, []).append(r)
    uncovered: dict[int, np.ndarray] = {}
    for q, team in teams.items():
        if seats.missing[q]:
            held = np.asarray(inst.has_skills(np.asarray(team), seats.missing[q]).any(axis=0))
            lacking = ~held
            if lacking.any():
                uncovered[q] = lacking
    return uncovered


class _Network:
    """Arc arrays of the circulation; pair arcs first so their flows are read by index."""

    def __init__(
        self,
        inst: Instance,
        seats: Seats,
        reward_fill: bool,
        boosts: dict[int, np.ndarray],
        practice: bool = False,
    ) -> None:
        n_p, n_r, n_q = inst.n_partnerships, inst.n_reviewers, inst.n_requests
        self.tails: list[np.ndarray] = []
        self.heads: list[np.ndarray] = []
        self.caps: list[np.ndarray] = []
        self.costs: list[np.ndarray] = []
        no_pairs = np.zeros(0, dtype=np.int64)
        self.pair_q: list[np.ndarray] = [no_pairs]  # never empty: np.concatenate needs one
        self.pair_r: list[np.ndarray] = [no_pairs]
        self.hub = 2 * n_p
        self.reviewer0 = self.hub + 1
        self.request0 = self.reviewer0 + n_r
        self.next_node = self.request0 + n_q
        if practice:
            scores = [inst.gap[pool] for pool in seats.candidates]
        else:
            scores = [
                skill_scores(inst, seats, q, seats.candidates[q], boosts.get(q)) for q in range(n_q)
            ]
        top_score = max((int(s.max()) for s in scores if s.size), default=0)
        seats_total = int(seats.free.sum())
        # Tiers: fill, imbalance, previous pairs kept, then the scores. Without previous pairs
        # the kept tier is empty and the weights are those of fill, imbalance, scores.
        w_keep = top_score * seats_total + 1
        kept_max = min(inst.n_previous, seats_total)
        if inst.previous:
            scores = [
                score + w_keep * inst.is_previous(q, pool)
                for q, (score, pool) in enumerate(zip(scores, seats.candidates, strict=True))
            ]
        self.w_imbalance = w_keep * (kept_max + 1)
        worst_imbalance = int(np.abs(seats.base).sum()) + 2 * seats_total
        lower_tiers = w_keep * kept_max + top_score * seats_total
        w_fill = self.w_imbalance * (worst_imbalance + 1) + lower_tiers + 1
        self.team_arcs: dict[tuple[int, int], tuple[int, int]] = {}  # (q, a) -> (arc, node)
        team_arcs = self._pairs_and_teams(inst, seats, scores)
        self.pair_arcs = sum(len(t) for t in self.tails)
        for k, (q, agency) in enumerate(team_arcs[4]):
            self.team_arcs[q, agency] = (self.pair_arcs + k, team_arcs[0][k])
        self._extend(*team_arcs[:4])
        self._seats(inst, seats, w_fill if reward_fill else 0)
        self._exchange(inst, seats)

    def _extend(self, tails: object, heads: object, caps: object, costs: object) -> None:
        self.tails.append(np.asarray(tails, dtype=np.int32))
        self.heads.append(np.asarray(heads, dtype=np.int32))
        self.caps.append(np.asarray(caps, dtype=np.int64))
        self.costs.append(np.asarray(costs, dtype=np.int64))

    def _pairs_and_teams(
        self, inst: Instance, seats: Seats, scores: list[np.ndarray]
    ) -> tuple[list[int], list[int], list[int], list[int], list[tuple[int, int]]]:
        team_t: list[int] = []
        team_h: list[int] = []
        seats_of: list[tuple[int, int]] = []
        for q, pool in enumerate(seats.candidates):
            if not pool.size:
                continue
            agencies, which = np.unique(inst.reviewer_agency[pool], return_inverse=True)
            team_nodes = self.next_node + np.arange(len(agencies))
            self.next_node += len(agencies)
            self._extend(self.reviewer0 + pool, team_nodes[which], np.ones(pool.size), -scores[q])
            self.pair_q.append(np.full(pool.size, q, dtype=np.int64))
            self.pair_r.append(pool)
            team_t.extend(team_nodes.tolist())
            team_h.extend([self.request0 + q] * len(agencies))
            seats_of.extend((q, int(a)) for a in agencies)
        return team_t, team_h, [1] * len(team_t), [0] * len(team_t), seats_of

    def _seats(self, inst: Instance, seats: Seats, w_fill: int) -> None:
        n_p, n_q = inst.n_partnerships, inst.n_requests
        self._extend(
            self.request0 + np.arange(n_q), n_p + inst.request_partnership, seats.free,
            np.full(n_q, -w_fill),
        )  # fmt: skip
        lenders = inst.reviewer_partnership
        self._extend(
            lenders, self.reviewer0 + np.arange(inst.n_reviewers), seats.spare, 0 * lenders
        )

    def _exchange(self, inst: Instance, seats: Seats) -> None:
        n_p = inst.n_partnerships
        big = int(seats.free.sum()) + 1
        parts = np.arange(n_p)
        receivers, lenders = n_p + parts, parts
        w = self.w_imbalance
        self._extend(receivers, lenders, np.full(n_p, big), np.zeros(n_p))
        surplus, deficit = np.maximum(seats.base, 0), np.maximum(-seats.base, 0)
        hub = np.full(n_p, self.hub)
        # R_p -> Hub lowers balance_p: rewarded while p is a net lender, penalised after.
        self._extend(receivers, hub, surplus, np.full(n_p, -w))
        self._extend(receivers, hub, np.full(n_p, big), np.full(n_p, w))
        # Hub -> L_p raises balance_p: rewarded while p is a net receiver, penalised after.
        self._extend(hub, lenders, deficit, np.full(n_p, -w))
        self._extend(hub, lenders, np.full(n_p, big), np.full(n_p, w))
