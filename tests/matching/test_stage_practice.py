"""The practice stage (``practice.py``): never worse on fill or imbalance, its bound never below
the value, exact on small problems, and its swap heuristic (the large-problem path, forced here
by a threshold of 0) keeps every rule."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
from builders import solution

from peermatch.matching import practice as practice_module
from peermatch.matching.generate import generate
from peermatch.matching.instance import build
from peermatch.matching.objective import imbalance_of
from peermatch.matching.repair import Limits
from peermatch.matching.seats import place_locked
from peermatch.matching.solver import solve
from peermatch.matching.validate import validate


def _free_pairs(p, s, inst):
    rid = {r.id: k for k, r in enumerate(p.reviewers)}
    qid = {q.id: k for k, q in enumerate(p.requests)}
    every = [(qid[a.request], rid[a.reviewer]) for a in s.assignments]
    return sorted(set(every) - set(inst.locked))


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_swaps_keep_fill_imbalance_and_every_rule(seed, monkeypatch):
    p = generate(6, 120, 20, seed=seed, experience=True, scarce_skill=seed % 2 == 1)
    s = solve(p, time_limit=6.0, workers=1)
    inst = build(p)
    seats = place_locked(inst)
    pairs = _free_pairs(p, s, inst)
    limits = Limits(5.0, 1, 0)
    exact = practice_module.improve(inst, seats, pairs, time.perf_counter() + 5.0, limits)
    monkeypatch.setattr(practice_module, "FULL_MODEL_PAIRS", 0)
    swapped = practice_module.improve(inst, seats, pairs, time.perf_counter() + 5.0, limits)
    every = inst.locked + swapped.pairs
    assert validate(p, solution(p, _ids(p, every))) == []
    assert (len(every), imbalance_of(inst, every)) == (s.filled, s.imbalance)
    assert swapped.value == practice_module.value_of(inst, every)
    assert swapped.value <= exact.value <= exact.bound
    assert swapped.value <= swapped.bound


def _ids(p, pairs):
    return [(p.requests[q].id, p.reviewers[r].id) for q, r in pairs]


def test_swaps_raise_practice_from_a_start_that_ignored_it():
    p = generate(6, 120, 20, seed=5, experience=True)
    # The same problem with every gap equal: its solution is valid for p but blind to practice.
    blind = replace(p, reviewers=tuple(replace(r, last_review_on=None) for r in p.reviewers))
    inst = build(p)
    seats = place_locked(inst)
    pairs = _free_pairs(p, solve(blind, time_limit=6.0, workers=1), inst)
    before = practice_module.value_of(inst, pairs)
    swapped = practice_module._swaps(inst, seats, pairs, deadline=float("inf"))
    assert practice_module.value_of(inst, swapped) > before
    assert len(swapped) == len(pairs)
    every = inst.locked + swapped
    assert validate(p, solution(p, _ids(p, every))) == []


def test_problems_without_dates_are_proven_at_once():
    p = generate(6, 120, 20, seed=1)
    s = solve(p, time_limit=6.0, workers=1)
    assert s.practice == s.bound_practice == 730 * s.filled
