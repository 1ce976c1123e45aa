"""What changed between two runs, one test per reason, on hand-made problem and solution
documents (``peermatch.staffing.compare`` is pure)."""

from __future__ import annotations

from typing import Any

import pytest

from peermatch.matching.io import ProblemError
from peermatch.matching.problem import Pair
from peermatch.staffing.compare import Change, compare, read

Q1, Q2, Q3 = "ALPHA/AL-1#1", "BRAVO/BR-2#2", "CHARLIE/CH-3#3"
REVIEWERS = {  # id -> partnership, agency
    "r-1": ("BRAVO", "police"),
    "r-2": ("BRAVO", "health"),
    "r-3": ("CHARLIE", "police"),
    "r-4": ("CHARLIE", "health"),
    "r-5": ("ALPHA", "education"),
}


def run(
    assignments: list[tuple[str, str]],
    *,
    requests: tuple[str, ...] = (Q1, Q2),
    excluded: tuple[tuple[str, str], ...] = (),
    reviewers: dict[str, tuple[str, str]] = REVIEWERS,
    away: tuple[str, ...] = (),
    capacity: dict[str, int] | None = None,
):
    problem: dict[str, Any] = {
        "format": "peermatch.problem/1",
        "partnerships": [{"id": p} for p in ("ALPHA", "BRAVO", "CHARLIE")],
        "reviewers": [
            {
                "id": rid,
                "partnership": p,
                "agency": agency,
                "capacity": (capacity or {}).get(rid, 1),
                "unavailable": [{"from": "2027-03-01", "to": "2027-03-31"}] if rid in away else [],
            }
            for rid, (p, agency) in reviewers.items()
        ],
        "requests": [
            {
                "id": q,
                "partnership": q.split("/")[0],
                "peers": 2,
                "from": "2027-03-01",
                "to": "2027-03-19",
            }
            for q in requests
        ],
        "excluded": [{"request": q, "reviewer": r} for q, r in excluded],
    }
    filled = {q: sum(1 for a, _ in assignments if a == q) for q in requests}
    solution = {
        "format": "peermatch.solution/1",
        "status": "optimal",
        "assignments": [{"request": q, "reviewer": r} for q, r in sorted(assignments)],
        "filled": len(assignments),
        "imbalance": 0,
        "bounds": {"filled": len(assignments), "imbalance": 0},
        "balance": {"ALPHA": 0, "BRAVO": 0, "CHARLIE": 0},
        "requests": [
            {"id": q, "peers": 2, "filled": filled[q], "alternates": []} for q in requests
        ],
        "seconds": 0.1,
    }
    return read(problem, solution)


EARLIER = run([(Q1, "r-1"), (Q1, "r-4"), (Q2, "r-3")])


def test_the_same_teams_change_nothing():
    assert compare(EARLIER, run([(Q1, "r-1"), (Q1, "r-4"), (Q2, "r-3")])) == []


def test_a_coordinators_exclusion_and_its_replacement():
    later = run([(Q1, "r-2"), (Q1, "r-3"), (Q2, "r-4")], excluded=((Q1, "r-1"),))
    changes = compare(EARLIER, later, coordinator_exclusions={Pair(Q1, "r-1")})
    q1 = next(c for c in changes if c.request == Q1)
    assert Change(Q1, "r-1", False, "excluded") in q1.removed
    assert {c.reason for c in q1.added} == {"replaces"}


def test_an_exclusion_no_coordinator_made_is_a_decline():
    later = run([(Q1, "r-2"), (Q1, "r-4"), (Q2, "r-3")], excluded=((Q1, "r-1"),))
    (q1,) = compare(EARLIER, later)
    assert q1.removed == (Change(Q1, "r-1", False, "declined"),)
    assert q1.added == (Change(Q1, "r-2", True, "replaces"),)


def test_a_reviewer_no_longer_eligible_says_which_rule():
    away = compare(EARLIER, run([(Q1, "r-2"), (Q1, "r-4"), (Q2, "r-3")], away=("r-1",)))
    assert away[0].removed == (Change(Q1, "r-1", False, "ineligible", rule="unavailable"),)
    gone = {k: v for k, v in REVIEWERS.items() if k != "r-1"}
    left = compare(EARLIER, run([(Q1, "r-2"), (Q1, "r-4"), (Q2, "r-3")], reviewers=gone))
    assert left[0].removed == (Change(Q1, "r-1", False, "ineligible", rule="inactive"),)


def test_capacity_now_used_elsewhere_names_the_other_request():
    later = run([(Q1, "r-2"), (Q1, "r-4"), (Q2, "r-1"), (Q2, "r-3")])
    changes = {c.request: c for c in compare(EARLIER, later)}
    assert changes[Q1].removed == (Change(Q1, "r-1", False, "elsewhere", other=Q2),)
    assert changes[Q2].added == (Change(Q2, "r-1", True, "filled"),)
    held = compare(EARLIER, run([(Q1, "r-2"), (Q1, "r-4"), (Q2, "r-3")], capacity={"r-1": 0}))
    assert held[0].removed == (Change(Q1, "r-1", False, "elsewhere"),)


def test_the_rest_is_balance():
    later = run([(Q1, "r-2"), (Q1, "r-4"), (Q2, "r-3")])
    (q1,) = compare(EARLIER, later)
    assert q1.removed == (Change(Q1, "r-1", False, "balance"),)


def test_new_requests_and_requests_that_left():
    later = run([(Q1, "r-1"), (Q1, "r-4"), (Q3, "r-2")], requests=(Q1, Q3))
    changes = compare(EARLIER, later)
    assert [c.request for c in changes] == [Q3, Q2]  # the later run's order, then those gone
    assert changes[0].added == (Change(Q3, "r-2", True, "new_request"),)
    assert changes[1].removed == (Change(Q2, "r-3", False, "request_gone"),)


def test_malformed_documents_are_refused_not_guessed():
    with pytest.raises(ProblemError):
        read({"format": "peermatch.problem/1", "requests": "nope"}, {})
