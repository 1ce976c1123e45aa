"""The solver on small hand-made problems: each objective, locked and excluded pairs, refusal of
locked pairs that cannot be completed, the skill repair path, explanations and alternates."""

from __future__ import annotations

import datetime as dt

from peermatch.matching.problem import (
    DateRange,
    Pair,
    Partnership,
    Problem,
    Request,
    Reviewer,
    Solution,
)
from peermatch.matching.solver import solve
from peermatch.matching.validate import validate

WINDOW = DateRange(dt.date(2027, 3, 1), dt.date(2027, 3, 31))


def reviewer(rid: str, home: str, agency: str, **kw: object) -> Reviewer:
    return Reviewer(id=rid, partnership=home, agency=agency, **kw)  # type: ignore[arg-type]


def request(qid: str, home: str, peers: int = 1, **kw: object) -> Request:
    return Request(id=qid, partnership=home, peers=peers, window=WINDOW, **kw)  # type: ignore[arg-type]


def partnerships(*ids: str, **history: tuple[int, int]) -> tuple[Partnership, ...]:
    return tuple(Partnership(p, *history.get(p, (0, 0))) for p in ids)


def solved(problem: Problem, **kw: object) -> Solution:
    solution = solve(problem, workers=1, **kw)  # type: ignore[arg-type]
    assert validate(problem, solution) == []
    return solution


def pairs(solution: Solution) -> set[tuple[str, str]]:
    return {(p.request, p.reviewer) for p in solution.assignments}


def test_it_fills_the_most_seats_even_when_the_obvious_choice_blocks_one() -> None:
    # r1 can review both requests but only once; r2 only q1. Max fill: r2 on q1, r1 on q2.
    problem = Problem(
        partnerships=partnerships("a", "b", "c"),
        reviewers=(
            reviewer("r1", "a", "police"),
            reviewer("r2", "a", "health", conflicts=frozenset({"q2"})),
        ),
        requests=(request("q1", "b"), request("q2", "c")),
    )
    solution = solved(problem)
    assert solution.status == "optimal"
    assert pairs(solution) == {("q1", "r2"), ("q2", "r1")}
    assert solution.filled == solution.bound_filled == 2


def test_it_minimises_imbalance_among_maximum_fills() -> None:
    # a has lent 3 more than received; b has received 3 more. Taking b's reviewer for c's
    # request moves b towards zero: |3| + |-3+1| + |0-1| = 6 against a's |3+1| + |-3| + 1 = 8.
    problem = Problem(
        partnerships=partnerships("a", "b", "c", a=(3, 0), b=(0, 3)),
        reviewers=(reviewer("ra", "a", "police"), reviewer("rb", "b", "police")),
        requests=(request("q", "c"),),
    )
    solution = solved(problem)
    assert pairs(solution) == {("q", "rb")}
    assert solution.imbalance == solution.bound_imbalance == 6
    assert solution.balance == {"a": 3, "b": -2, "c": -1}


def test_it_never_gives_up_a_pair_to_lower_the_imbalance() -> None:
    # Any pair worsens the imbalance (c has received more already), but fill comes first.
    problem = Problem(
        partnerships=partnerships("a", "c", c=(0, 2)),
        reviewers=(reviewer("ra", "a", "police"),),
        requests=(request("q", "c"),),
    )
    solution = solved(problem)
    assert solution.filled == 1
    assert solution.imbalance == 2 + 2  # a: +1, c: -3


def test_a_reviewer_on_their_own_partnerships_request_counts_neither_way() -> None:
    problem = Problem(
        partnerships=partnerships("a", a=(1, 0)),
        reviewers=(reviewer("ra", "a", "police"),),
        requests=(request("q", "a", agencies_involved=frozenset({"health"})),),
    )
    solution = solved(problem)
    assert solution.filled == 1
    assert solution.balance == {"a": 1}


def test_teams_are_multi_agency_and_capacities_hold() -> None:
    problem = Problem(
        partnerships=partnerships("a", "b"),
        reviewers=(
            reviewer("r1", "a", "police", capacity=2),
            reviewer("r2", "a", "police"),
            reviewer("r3", "a", "health"),
        ),
        requests=(request("q1", "b", peers=3), request("q2", "b", peers=3)),
    )
    solution = solved(problem)
    # A team holds at most one police and one health reviewer: two police seats in all (r1 has
    # capacity for both, r2 would need a third) plus r3's one seat.
    assert solution.filled == 3
    assert solution.bound_filled == solution.filled


def test_locked_pairs_are_kept_and_excluded_pairs_avoided() -> None:
    problem = Problem(
        partnerships=partnerships("a", "b", "c", c=(5, 0)),
        reviewers=(
            reviewer("r1", "a", "police"),
            reviewer("r2", "c", "police"),
            reviewer("r3", "c", "health"),
        ),
        requests=(request("q", "b", peers=2),),
        locked=(Pair("q", "r1"),),
        excluded=(Pair("q", "r3"),),
    )
    solution = solved(problem)
    assert ("q", "r1") in pairs(solution)
    assert ("q", "r3") not in pairs(solution)
    assert solution.filled == 1  # r2 shares r1's agency


def test_locked_team_that_can_never_get_a_required_skill_is_infeasible() -> None:
    problem = Problem(
        partnerships=partnerships("a", "b"),
        reviewers=(reviewer("r1", "a", "police"), reviewer("r2", "a", "health")),
        requests=(request("q", "b", peers=2, required_skills=("rca",)),),
        locked=(Pair("q", "r1"),),
    )
    solution = solve(problem, workers=1)
    assert solution.status == "infeasible"
    assert solution.assignments == ()
    assert solution.filled == 0


def test_two_locked_teams_competing_for_one_skilled_reviewer_are_infeasible() -> None:
    # Each locked team alone could be completed by r3, but r3 can take only one of them.
    problem = Problem(
        partnerships=partnerships("a", "b"),
        reviewers=(
            reviewer("r1", "a", "police"),
            reviewer("r2", "a", "health"),
            reviewer("r3", "a", "education", skills=frozenset({"rca"})),
        ),
        requests=(
            request("q1", "b", peers=2, required_skills=("rca",)),
            request("q2", "b", peers=2, required_skills=("rca",)),
        ),
        locked=(Pair("q1", "r1"), Pair("q2", "r2")),
    )
    assert solve(problem, workers=1).status == "infeasible"


def test_a_skill_the_relaxation_ignores_is_repaired_and_still_proven_optimal() -> None:
    # Without the skill rule ra is better for reciprocity (a wants to lend); only rb has rca.
    problem = Problem(
        partnerships=partnerships("a", "b", "c", a=(0, 2), c=(2, 0)),
        reviewers=(
            reviewer("ra", "a", "police"),
            reviewer("rb", "b", "police", skills=frozenset({"rca"})),
        ),
        requests=(request("q", "c", required_skills=("rca",)),),
    )
    solution = solved(problem)
    assert pairs(solution) == {("q", "rb")}
    assert solution.status == "optimal"
    assert solution.extra["method"] != "flow"  # the relaxation alone was not enough
    assert (solution.imbalance, solution.bound_imbalance) == (4, 4)  # a -2, b +1, c +1


def test_a_request_whose_skill_nobody_eligible_holds_stays_empty_and_says_why() -> None:
    problem = Problem(
        partnerships=partnerships("a", "b"),
        reviewers=(reviewer("r1", "a", "police"), reviewer("r2", "a", "health")),
        requests=(request("q", "b", peers=2, required_skills=("rca", "peer-review")),),
    )
    solution = solved(problem)
    assert solution.filled == 0
    (outcome,) = solution.requests
    assert outcome.unfilled is not None
    assert outcome.unfilled.missing_skills == ("rca", "peer-review")
    assert outcome.unfilled.eligible == 2
    assert outcome.alternates == ("r1", "r2")


def test_unfilled_explanations_count_each_reviewer_by_first_failing_rule() -> None:
    problem = Problem(
        partnerships=partnerships("a", "b"),
        reviewers=(
            reviewer("busy", "a", "police"),  # eligible, but taken by q-other
            reviewer("none", "a", "health", capacity=0),
            reviewer("home", "b", "police"),  # high profile, and also involved agency
            reviewer("conf", "a", "education", conflicts=frozenset({"b"})),
            reviewer(
                "away",
                "a",
                "voluntary",
                unavailable=(DateRange(dt.date(2027, 3, 31), dt.date(2027, 4, 2)),),
            ),
            reviewer("declined", "a", "probation"),
        ),
        requests=(
            request(
                "q",
                "b",
                peers=3,
                high_profile=True,
                agencies_involved=frozenset({"police"}),
            ),
            request("q-other", "b", peers=1, required_skills=()),
        ),
        locked=(Pair("q-other", "busy"),),
        excluded=(Pair("q", "declined"),),
    )
    solution = solved(problem)
    outcome = next(o for o in solution.requests if o.id == "q")
    assert outcome.filled == 0
    assert outcome.unfilled is not None
    assert outcome.unfilled.eligible == 1
    assert outcome.unfilled.taken_elsewhere == 1
    assert outcome.unfilled.ineligible == {
        "no_capacity": 1,
        "high_profile_internal": 1,
        "involved_agency": 0,
        "conflict": 1,
        "unavailable": 1,
        "excluded": 1,
    }
    assert outcome.alternates == ("busy",)


def test_alternates_prefer_reviewers_with_spare_capacity_and_a_new_agency() -> None:
    problem = Problem(
        partnerships=partnerships("a", "b"),
        reviewers=(
            reviewer("placed", "a", "police"),
            reviewer("same-agency", "a", "police", capacity=2),
            reviewer("full", "a", "health"),
            reviewer("free", "a", "education"),
        ),
        requests=(request("q", "b", peers=1), request("q2", "b", peers=1)),
        locked=(Pair("q", "placed"), Pair("q2", "full")),
    )
    solution = solved(problem)
    outcome = next(o for o in solution.requests if o.id == "q")
    assert outcome.unfilled is None
    assert outcome.alternates == ("free", "same-agency", "full")


def test_alternates_stop_at_ten() -> None:
    problem = Problem(
        partnerships=partnerships("a", "b"),
        reviewers=tuple(reviewer(f"r{i:02d}", "a", f"agency{i}") for i in range(15)),
        requests=(request("q", "b", peers=1),),
    )
    (outcome,) = solved(problem).requests
    assert len(outcome.alternates) == 10
