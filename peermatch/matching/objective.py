"""The objective, in one place: the lexicographic order fill, imbalance, kept (stability) as one
integer score ``W·fill − penalty`` that every stage maximises, where

    penalty = K·imbalance + (P − kept),   K = P + 1,   P = previous pairs that count,

so that one unit of imbalance outweighs every previous pair (``P − kept`` is within 0..P), and
``W`` is larger than any penalty. Without ``previous`` (P = 0, K = 1) the penalty is the
imbalance and the score ``W·fill − imbalance`` of the two objectives of the contract. Also the
balance of each partnership. Practice (the fourth level) is optimised apart (``practice.py``).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from peermatch.matching.instance import Instance


class Placed(Protocol):
    """What the weight needs of ``seats.Seats`` (which imports this module, so this one names
    only the fields it reads: imports inside the package run one way)."""

    base: np.ndarray
    free: np.ndarray


Score = tuple[int, int]  # (filled, -penalty): larger is better, compared lexicographically


def objective_weight(inst: Instance, seats: Placed) -> int:
    """W: one more pair is worth more than any possible penalty (K times the largest
    imbalance, plus P)."""
    worst_imbalance = int(np.abs(seats.base).sum()) + 2 * int(seats.free.sum())
    return stability_weight(inst) * worst_imbalance + inst.n_previous + 1


def stability_weight(inst: Instance) -> int:
    """K: one unit of imbalance outweighs keeping every previous pair."""
    return inst.n_previous + 1


def kept_of(inst: Instance, pairs: list[tuple[int, int]]) -> int:
    """How many of ``pairs`` are previous pairs that count."""
    previous = inst.previous
    return sum(1 for pair in pairs if pair in previous) if previous else 0


def penalty(inst: Instance, imbalance: int, kept: int) -> int:
    """``K·imbalance + P − kept``: what the score subtracts from ``W·fill``."""
    return stability_weight(inst) * imbalance + inst.n_previous - kept


def unpenalise(inst: Instance, lower: int, imbalance: int) -> tuple[int, int]:
    """From a lower bound on the penalty of the solutions with some fill: a lower bound on
    their imbalance, and an upper bound on the kept pairs of those among them whose imbalance
    is at most ``imbalance``."""
    lower = max(0, lower)
    k = stability_weight(inst)
    least = lower // k  # P − kept is at most P = K − 1
    return least, max(0, min(inst.n_previous, inst.n_previous - lower + k * imbalance))


def lending(inst: Instance, request: int, reviewer: int) -> tuple[int, int] | None:
    """(lender, receiver) partnerships of a pair, or None for an internal pair."""
    lender = int(inst.reviewer_partnership[reviewer])
    receiver = int(inst.request_partnership[request])
    return None if lender == receiver else (lender, receiver)


def shift(inst: Instance, balance: np.ndarray, q: int, r: int, sign: int) -> None:
    """Add (sign 1) or remove (sign -1) the pair (q, r) from ``balance``, in place."""
    side = lending(inst, q, r)
    if side:
        balance[side[0]] += sign
        balance[side[1]] -= sign


def balance_of(inst: Instance, pairs: list[tuple[int, int]]) -> np.ndarray:
    """balance_p of the contract for a set of (request, reviewer) pairs."""
    balance = inst.history.copy()
    for q, r in pairs:
        shift(inst, balance, q, r, 1)
    return balance


def imbalance_of(inst: Instance, pairs: list[tuple[int, int]]) -> int:
    return int(np.abs(balance_of(inst, pairs)).sum())


def score_of(inst: Instance, pairs: list[tuple[int, int]]) -> Score:
    """(fill, -penalty) of every pair, locked ones included."""
    return len(pairs), -penalty(inst, imbalance_of(inst, pairs), kept_of(inst, pairs))


def weighted(weight: int, score: Score) -> int:
    """A (fill, -penalty) score as the one integer ``W·fill − penalty``."""
    return weight * score[0] + score[1]


def split(weight: int, value: int) -> Score:
    """The inverse of ``weighted`` for an upper bound: the least fill that could reach
    ``value`` and the penalty it then allows (``0 ≤ penalty < W``)."""
    filled = (value + weight - 1) // weight
    return filled, value - weight * filled
