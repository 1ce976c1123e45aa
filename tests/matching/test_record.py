"""The search record (``record.py``): the incumbent only ever improves, the bound only ever
tightens, and the search is settled exactly when the incumbent reaches the bound."""

from __future__ import annotations

import time

from builders import problem, request, reviewer

from peermatch.matching.instance import build
from peermatch.matching.objective import objective_weight
from peermatch.matching.record import Record
from peermatch.matching.seats import place_locked


def _record() -> Record:
    p = problem(
        [
            reviewer("r1", partnership="B", agency="police"),
            reviewer("r2", partnership="C", agency="health"),
        ],
        [request("q1", peers=2)],
        partnerships=[{"id": "A"}, {"id": "B"}, {"id": "C"}],
    )
    inst = build(p)
    weight = objective_weight(inst, place_locked(inst))
    return Record(inst, weight, time.perf_counter(), bound=2 * weight, teams={0: []})


def test_the_incumbent_only_improves_and_the_first_solution_is_timed():
    record = _record()
    assert record.first_solution is None and not record.settled
    record.offer({0: [0]})
    assert record.first_solution is not None and record.teams == {0: [0]}
    one = record.objective()
    record.offer({0: []})  # worse: ignored
    assert record.teams == {0: [0]} and record.objective() == one
    record.offer({0: [0, 1]})
    assert record.teams == {0: [0, 1]} and record.objective() > one


def test_the_bound_only_tightens_and_settles_the_search():
    record = _record()
    record.offer({0: [0, 1]})
    assert record.objective() < record.bound  # two lenders: imbalance 2 below the bound
    record.tighten(record.bound + 100)
    assert record.bound == 2 * record.weight
    record.tighten(record.objective())
    assert record.settled
    record.infeasible = True
    assert record.settled


def test_the_method_lists_the_stages():
    record = _record()
    record.stages += ["lp", "branch"]
    assert record.method == "flow+lp+branch"
