"""The objective, in one place: the contract's lexicographic order (fill, then imbalance) as one
integer score ``W·fill − imbalance`` that every stage maximises, with ``W`` larger than any
imbalance; the balance of each partnership; and the practice objective's gap (third, apart).
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


Score = tuple[int, int]  # (filled, -imbalance): larger is better, compared lexicographically


def objective_weight(inst: Instance, seats: Placed) -> int:
    """W: one more pair is worth more than any possible imbalance."""
    return int(np.abs(seats.base).sum()) + 2 * int(seats.free.sum()) + 1


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
    """(fill, -imbalance) of every pair, locked ones included."""
    return len(pairs), -imbalance_of(inst, pairs)


def weighted(weight: int, score: Score) -> int:
    """A (fill, -imbalance) score as the one integer ``W·fill − imbalance``."""
    return weight * score[0] + score[1]


def split(weight: int, value: int) -> Score:
    """The inverse of ``weighted`` for an upper bound: the least fill that could reach
    ``value`` and the imbalance it then allows (``0 ≤ imbalance < W``)."""
    filled = (value + weight - 1) // weight
    return filled, value - weight * filled
