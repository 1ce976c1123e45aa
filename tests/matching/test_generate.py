"""The instance generator: deterministic, valid, fast at national size, realistically shaped."""

from __future__ import annotations

from collections import Counter

from peermatch.matching.generate import generate
from peermatch.matching.io import dump_problem, load_problem


def test_same_arguments_same_problem_and_seed_matters():
    assert dump_problem(generate(5, 40, 8, seed=3)) == dump_problem(generate(5, 40, 8, seed=3))
    assert generate(5, 40, 8, seed=3) != generate(5, 40, 8, seed=4)


def test_sizes_and_validity_with_decisions():
    problem = generate(6, 80, 12, seed=1, locked=8, excluded=5)
    assert (len(problem.partnerships), len(problem.reviewers), len(problem.requests)) == (6, 80, 12)
    assert (len(problem.locked), len(problem.excluded)) == (8, 5)
    assert load_problem(dump_problem(problem)) == problem  # the parser accepts it


def test_national_size_is_generated():
    # Its speed is measured by tests/benchmarks/bench_matching.py, not asserted here.
    problem = generate(150, 10_000, 1_000, seed=0)
    assert len(problem.reviewers) == 10_000


def test_realistic_shape():
    problem = generate(20, 2_000, 400, seed=2)
    reviewers, requests = problem.reviewers, problem.requests
    sizes = Counter(r.partnership for r in reviewers)
    assert max(sizes.values()) > 3 * min(sizes.values())  # uneven partnerships
    assert {r.agency for r in reviewers} == {
        "local-authority", "police", "health", "education", "probation", "voluntary"
    }  # fmt: skip
    share = Counter(s for r in reviewers for s in r.skills)
    assert share["peer-review"] > 0.7 * len(reviewers)
    assert share["lead-reviewer"] < 0.1 * len(reviewers)
    capacities = Counter(r.capacity for r in reviewers)
    assert capacities[1] + capacities[2] > 0.75 * len(reviewers)
    assert capacities[0] > 0 and capacities[3] > 0
    assert all(len(r.unavailable) <= 2 for r in reviewers)
    assert any(r.conflicts for r in reviewers)
    peers = Counter(q.peers for q in requests)
    assert set(peers) <= {1, 2, 3, 4} and peers[2] + peers[3] > 0.7 * len(requests)
    high_profile = sum(q.high_profile for q in requests) / len(requests)
    assert 0.10 <= high_profile <= 0.20
    assert all(1 <= len(q.agencies_involved) <= 3 for q in requests)
    assert all(len(q.required_skills) <= 2 for q in requests)
    assert all(q.window.start.year == q.window.end.year == 2027 for q in requests)
    assert any(p.lent != p.received for p in problem.partnerships)


def test_options_leave_the_base_problem_unchanged():
    plain = generate(5, 60, 12, seed=2)
    shaped = generate(5, 60, 12, seed=2, experience=True)
    assert [r.id for r in shaped.reviewers] == [r.id for r in plain.reviewers]
    assert [r.skills for r in shaped.reviewers] == [r.skills for r in plain.reviewers]
    assert all(r.reviews_completed == 0 and r.last_review_on is None for r in plain.reviewers)


def test_experience_fills_the_new_fields():
    problem = generate(10, 400, 80, seed=1, experience=True)
    done = Counter(r.reviews_completed for r in problem.reviewers)
    assert done[0] > 0 and sum(n for k, n in done.items() if k >= 2) > 0.3 * 400
    assert all((r.last_review_on is None) == (r.reviews_completed == 0) for r in problem.reviewers)
    needing = [q for q in problem.requests if q.needs_experienced]
    assert needing and all(q.peers >= 2 for q in needing)
    assert load_problem(dump_problem(problem)) == problem


def test_scarce_skill_is_held_by_few_and_asked_by_a_third():
    problem = generate(20, 600, 60, seed=3, scarce_skill=True)
    held = sum("lead-reviewer" in r.skills for r in problem.reviewers) / 600
    asked = sum("lead-reviewer" in q.required_skills for q in problem.requests) / 60
    assert 0.03 < held < 0.1
    assert 0.2 < asked < 0.45
    assert load_problem(dump_problem(problem)) == problem


def test_organisations_serve_several_partnerships_and_are_involved_in_cases():
    problem = generate(20, 600, 60, seed=1, organisations=True)
    plain = generate(20, 600, 60, seed=1)
    assert [(r.id, r.skills, r.capacity) for r in problem.reviewers] == [
        (r.id, r.skills, r.capacity) for r in plain.reviewers
    ]  # the option draws from a stream of its own
    assert all(r.organisation is None for r in plain.reviewers)
    police = [r for r in problem.reviewers if r.agency == "police"]
    assert all(r.organisation and r.organisation.endswith("-police") for r in police)
    assert all(
        (r.organisation is None) == (r.agency not in ("police", "health"))
        for r in problem.reviewers
    )
    served: Counter[str] = Counter()
    for force in {r.organisation for r in police}:
        served[force] = len({r.partnership for r in police if r.organisation == force})
    assert len(served) == 5 and max(served.values()) > 1  # 20 partnerships, four to a force
    involved = [q for q in problem.requests if q.organisations_involved]
    assert 0.3 * 60 < len(involved) < 60
    group = {
        r.partnership: r.organisation.split("-")[0] for r in problem.reviewers if r.organisation
    }
    for q in involved:  # the request's own group's force or board
        assert {o.split("-")[0] for o in q.organisations_involved} == {group[q.partnership]}
    assert load_problem(dump_problem(problem)) == problem
