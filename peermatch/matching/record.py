"""What the search knows at any moment: the best valid solution found (the incumbent), the
proven bound on ``W·fill − imbalance``, and the diagnostics the stages leave. Every stage of
``solver.py`` reads and writes this record and nothing else of the search's state; the search
is over when the incumbent reaches the bound (``Record.settled``)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from peermatch.matching.instance import Instance
from peermatch.matching.objective import score_of, weighted

Teams = dict[int, list[int]]  # request -> its free members (locked members apart)


def teams_of(inst: Instance, pairs: list[tuple[int, int]]) -> Teams:
    """Free (request, reviewer) pairs as the members of every request."""
    teams: Teams = {q: [] for q in range(inst.n_requests)}
    for q, r in pairs:
        teams[q].append(r)
    return teams


@dataclass
class Record:
    inst: Instance
    weight: int  # W of objective.objective_weight
    started: float  # perf_counter() when the solve started
    bound: int  # proven: no solution scores more than this W·fill − imbalance
    teams: Teams  # the incumbent; always a valid solution once first_solution is set
    first_solution: float | None = None  # seconds after start when a solution was first held
    infeasible: bool = False  # proven: the locked pairs cannot be completed
    imbalance_floor: int | None = None  # least imbalance of any fill, once computed
    stages: list[str] = field(default_factory=lambda: ["flow"])  # the method, stage by stage
    extra: dict[str, object] = field(default_factory=dict)  # diagnostics for Solution.extra

    @property
    def method(self) -> str:
        return "+".join(self.stages)

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def score(self, teams: Teams) -> int:
        pairs = self.inst.locked + [(q, r) for q, team in teams.items() for r in team]
        return weighted(self.weight, score_of(self.inst, pairs))

    def objective(self) -> int:
        return self.score(self.teams)

    @property
    def settled(self) -> bool:
        """Nothing left to search: proven infeasible, or the incumbent reaches the bound."""
        return self.infeasible or self.objective() >= self.bound

    def tighten(self, bound: int) -> None:
        self.bound = min(self.bound, bound)

    def offer(self, teams: Teams) -> None:
        """Keep ``teams`` (a valid solution) if it beats the incumbent."""
        if self.first_solution is None or self.score(teams) > self.objective():
            self.teams = {q: list(team) for q, team in teams.items()}
            if self.first_solution is None:
                self.first_solution = self.elapsed()

    def teams_of(self, pairs: list[tuple[int, int]]) -> Teams:
        return teams_of(self.inst, pairs)

    def free_pairs(self) -> list[tuple[int, int]]:
        return [(q, r) for q, team in self.teams.items() for r in team]
