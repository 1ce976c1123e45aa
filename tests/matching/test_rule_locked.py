"""Locked pairs are in every solution, even when another choice would be better."""

from builders import pairs_of, problem, request, reviewer, solution, solve

from peermatch.matching.validate import validate


def case():
    # r1 is the only one who could do q2, but is locked on q1: the fill drops to 1.
    return problem(
        [reviewer("r1", agency="police"), reviewer("r2", agency="health", conflicts=["q2"])],
        [request("q1"), request("q2")],
        locked=[("q1", "r1")],
    )


def test_holds_locked_pair_kept():
    p = case()
    assert validate(p, solution(p, [("q1", "r1")])) == []
    s = solve(p)
    assert s.status == "optimal"
    assert validate(p, s) == []
    assert ("q1", "r1") in pairs_of(s)
    assert s.filled == 1


def test_broken_locked_pair_missing():
    p = case()
    errors = validate(p, solution(p, [("q2", "r1")]))
    assert any("locked pair (q1, r1) is missing" in e for e in errors)


def test_locked_team_that_cannot_get_its_skill_is_infeasible():
    p = problem(
        [
            reviewer("r1", agency="police"),
            reviewer("r2", agency="health", skills=["rca"], capacity=0),
        ],
        [request("q1", peers=2, required_skills=["rca"])],
        locked=[("q1", "r1")],
    )
    assert solve(p).status == "infeasible"


def test_holds_locked_team_completed_by_the_only_skilled_reviewer():
    # q2 has r2 locked and needs rca: only r1 has it, and r1 could also take q0. The only
    # completion puts r1 on q2 (found by the wider property search; a greedy start misses it).
    p = problem(
        [
            reviewer("r1", partnership="A", agency="police", skills=["rca"]),
            reviewer("r2", partnership="A", agency="health"),
        ],
        [request("q0"), request("q2", partnership="B", peers=2, required_skills=["rca"])],
        locked=[("q2", "r2")],
    )
    s = solve(p)
    assert s.status == "optimal"
    assert validate(p, s) == []
    assert pairs_of(s) == {("q2", "r1"), ("q2", "r2")}
