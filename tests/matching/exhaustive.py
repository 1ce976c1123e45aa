"""Exhaustive search for tiny problems: the reference the solver's optimum is compared with.

Enumerates, request by request, every team that the contract allows (eligible reviewers, at most
``peers``, distinct agencies, skills covered and an experienced member when needed, when not
empty, containing the locked reviewers), then every combination of teams within the reviewers'
capacities. Returns the lexicographic optimum (most pairs, then least imbalance, then most
``previous`` pairs kept, then most practice) or None when the locked pairs cannot be completed.
Rules come from the independent validator, never from the solver.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

from peermatch.matching.problem import Pair, Problem, Request, Reviewer
from peermatch.matching.validate import broken_rules, kept_value, objective_values, practice_value


@dataclass(frozen=True)
class Optimum:
    filled: int
    imbalance: int
    practice: int
    assignments: tuple[Pair, ...]
    kept: int = 0  # previous pairs kept (0 without previous)

    @property
    def values(self) -> tuple[int, int, int, int]:
        return self.filled, self.imbalance, self.kept, self.practice


def allowed_teams(problem: Problem, request: Request) -> list[tuple[Reviewer, ...]]:
    excluded = set(problem.excluded)
    pool = [r for r in problem.reviewers if not broken_rules(r, request, excluded)]
    must = {p.reviewer for p in problem.locked if p.request == request.id}
    teams = []
    for size in range(request.peers + 1):
        for team in combinations(pool, size):
            ids = {r.id for r in team}
            if not must <= ids:
                continue
            if len({r.agency for r in team}) < len(team):
                continue
            held = set().union(*(r.skills for r in team)) if team else set()
            if team and not set(request.required_skills) <= held:
                continue
            threshold = problem.experience_threshold
            experienced = any(r.reviews_completed >= threshold for r in team)
            if team and request.needs_experienced and not experienced:
                continue
            teams.append(team)
    return teams


def exhaustive_optimum(problem: Problem) -> Optimum | None:
    options = [allowed_teams(problem, q) for q in problem.requests]
    capacity = {r.id: r.capacity for r in problem.reviewers}
    best: tuple[int, int, int, int] | None = None
    best_pairs: tuple[Pair, ...] = ()
    chosen: list[Pair] = []

    def search(index: int) -> None:
        nonlocal best, best_pairs
        if index == len(problem.requests):
            filled, imbalance = objective_values(problem, chosen)
            kept, practice = kept_value(problem, chosen), practice_value(problem, chosen)
            key = (filled, -imbalance, kept, practice)
            if best is None or key > (best[0], -best[1], best[2], best[3]):
                best, best_pairs = (filled, imbalance, kept, practice), tuple(chosen)
            return
        request = problem.requests[index]
        for team in options[index]:
            if any(capacity[r.id] < 1 for r in team):
                continue
            for r in team:
                capacity[r.id] -= 1
                chosen.append(Pair(request.id, r.id))
            search(index + 1)
            for r in team:
                capacity[r.id] += 1
                chosen.pop()

    search(0)
    if best is None:
        return None
    return Optimum(
        filled=best[0], imbalance=best[1], practice=best[3], assignments=best_pairs, kept=best[2]
    )
