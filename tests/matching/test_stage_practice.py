"""The practice stage (``practice.py``): never worse on fill or imbalance, its bound never below
the value, exact on small problems, and its swap heuristic (the large-problem path, forced here
by a threshold of 0) keeps every rule."""

from __future__ import annotations

import pytest

from peermatch.matching import practice as practice_module
from peermatch.matching.generate import generate
from peermatch.matching.solver import solve
from peermatch.matching.validate import practice_value, validate


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_swaps_keep_fill_imbalance_and_every_rule(seed, monkeypatch):
    p = generate(6, 120, 20, seed=seed, experience=True, scarce_skill=seed % 2 == 1)
    exact = solve(p, time_limit=6.0, workers=1)
    monkeypatch.setattr(practice_module, "FULL_MODEL_PAIRS", 0)
    swapped = solve(p, time_limit=6.0, workers=1)
    assert validate(p, swapped) == []
    assert (swapped.filled, swapped.imbalance) == (exact.filled, exact.imbalance)
    assert swapped.practice == practice_value(p, swapped.assignments)
    assert swapped.practice <= exact.practice <= exact.bound_practice
    assert swapped.practice <= swapped.bound_practice


def test_swaps_raise_practice_from_a_poor_start():
    p = generate(6, 120, 20, seed=5, experience=True)
    from peermatch.matching.instance import build
    from peermatch.matching.seats import place_locked

    inst = build(p)
    seats = place_locked(inst)
    # A poor but valid start: the solution with the shortest gaps the flow can give.
    start = solve(p, time_limit=6.0, workers=1)
    pairs = [
        (q, r)
        for q, req in enumerate(p.requests)
        for r, rev in enumerate(p.reviewers)
        if any(a.request == req.id and a.reviewer == rev.id for a in start.assignments)
    ]
    before = practice_module.value_of(inst, pairs)
    swapped = practice_module._swaps(inst, seats, pairs, deadline=float("inf"))
    assert practice_module.value_of(inst, swapped) >= before
    assert len(swapped) == len(pairs)


def test_problems_without_dates_are_proven_at_once():
    p = generate(6, 120, 20, seed=1)
    s = solve(p, time_limit=6.0, workers=1)
    assert s.practice == s.bound_practice == 730 * s.filled
