"""Synthetic ``peermatch.problem/1`` instances of any size, for tests and benchmarks.

The structure imitates a real regional pool so that benchmarks mean something:

- partnerships differ a lot in size (a few big cities, many small shires) and carry an uneven
  history of reviewers lent and received, so reciprocity genuinely pulls against convenience;
- reviewers come from the six safeguarding agencies in realistic proportions; ``peer-review`` is
  a common skill, the specialist skills are rare; most can take one or two reviews, a few none;
- requests mostly want two or three peers, some are high profile (no internal reviewers), they
  name the agencies involved in the case and sometimes a specialist skill, over windows in 2027.

Two options reshape the pool, each from its own random stream so that without them a seed gives
exactly the problem it always gave:

- ``experience``: reviewers get completed reviews and a last review date (many have gone long
  without one), requests for two or more peers mostly need an experienced reviewer;
- ``scarce_skill``: one specialist skill (``SCARCE_SKILL``) is held by under a tenth of reviewers
  and asked for by about a third of requests: the hard instances of the benchmark, where teams
  compete for the few holders.

- ``organisations``: partnerships are grouped (``PARTNERSHIPS_PER_FORCE`` to a group), police
  reviewers work for their group's force and health reviewers for its integrated care board, so
  one organisation serves several partnerships; a request names its group's force (or board)
  as involved for most cases that involve the police (or health).

Pure and deterministic: the same arguments give the same problem on every machine (one
``random.Random`` seeded from the arguments, no set iteration order leaks into the output).
Defaults live in code, not in data files, so the matching package reads no files.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import replace

from peermatch.matching.eligibility import ineligibility
from peermatch.matching.problem import (
    DateRange,
    Pair,
    Partnership,
    Problem,
    Request,
    Reviewer,
)

# Agency shares of a typical pool (local authority and health dominate, voluntary is thin).
AGENCIES: tuple[tuple[str, float], ...] = (
    ("local-authority", 0.27),
    ("health", 0.24),
    ("police", 0.20),
    ("education", 0.14),
    ("probation", 0.08),
    ("voluntary", 0.07),
)

# Skill codes of data/vocabularies.json with the share of reviewers who hold each.
SKILLS: tuple[tuple[str, float], ...] = (
    ("peer-review", 0.80),
    ("lead-reviewer", 0.05),
    ("rca", 0.08),
    ("appreciative-inquiry", 0.03),
    ("deep-dive-audit", 0.04),
    ("reflective-learning", 0.05),
    ("single-agency-review", 0.06),
)

# How often a request asks for each skill (relative weights): the rare skills are what makes a
# seat hard to fill (teams compete for the few lead reviewers), so they are asked for more
# often than they are held. Tuned so that a few percent of seats stay free on small instances
# and well under one percent on regional ones: hard, but mostly fillable.
REQUIRED_SKILL_WEIGHTS: tuple[tuple[str, float], ...] = (
    ("peer-review", 2.0),
    ("lead-reviewer", 4.0),
    ("rca", 2.5),
    ("appreciative-inquiry", 1.5),
    ("deep-dive-audit", 1.5),
    ("reflective-learning", 1.0),
    ("single-agency-review", 0.5),
)

CAPACITY_WEIGHTS = ((0, 0.10), (1, 0.50), (2, 0.33), (3, 0.07))
PEERS_WEIGHTS = ((1, 0.10), (2, 0.45), (3, 0.35), (4, 0.10))
GAPS_WEIGHTS = ((0, 0.45), (1, 0.38), (2, 0.17))
AGENCIES_INVOLVED_WEIGHTS = ((1, 0.35), (2, 0.40), (3, 0.25))
REQUIRED_SKILLS_COUNT_WEIGHTS = ((0, 0.30), (1, 0.50), (2, 0.20))
# Experience: completed reviews (weights for 0..6; 2 or more makes a reviewer experienced with
# the default threshold), the last review up to three years before 2027, and the share of
# requests for two or more peers that need an experienced reviewer.
REVIEWS_COMPLETED_WEIGHTS = ((0, 0.30), (1, 0.20), (2, 0.15), (3, 0.12), (4, 0.10), (5, 0.08),
                             (6, 0.05))  # fmt: skip
LAST_REVIEW_DAYS_BEFORE = (15, 3 * 365)
NEEDS_EXPERIENCED_SHARE = 0.9
# Scarce skill: held by SCARCE_HELD of reviewers, asked for by SCARCE_ASKED of requests.
SCARCE_SKILL = "lead-reviewer"
SCARCE_HELD = 0.07
SCARCE_ASKED = 0.33
# Organisations: a police force and an integrated care board per group of partnerships, and how
# often a case that involves the police (health) also names the force (board) as involved.
PARTNERSHIPS_PER_FORCE = 4
ORGANISATIONS = (("police", "police"), ("health", "icb"))
ORGANISATION_INVOLVED_SHARE = 0.7
HIGH_PROFILE_SHARE = 0.15
CONFLICT_SHARE = 0.06  # reviewers who declared a conflict with a partnership or a case
YEAR = 2027


def generate(
    partnerships: int,
    reviewers: int,
    requests: int,
    seed: int = 0,
    *,
    locked: int = 0,
    excluded: int = 0,
    experience: bool = False,
    scarce_skill: bool = False,
    organisations: bool = False,
) -> Problem:
    """A synthetic problem; ``locked``/``excluded`` ask for up to that many valid pairs of each
    (as after accepted invitations and declines), chosen among eligible pairs. ``experience``,
    ``scarce_skill`` and ``organisations``: see the module text."""
    if partnerships < 1 and (reviewers or requests):
        raise ValueError("need at least one partnership for reviewers or requests")
    rng = random.Random(f"peermatch.generate/{partnerships}/{reviewers}/{requests}/{seed}")
    parts = _partnerships(rng, partnerships)
    sizes = _size_weights(rng, partnerships)
    part_ids = [p.id for p in parts]
    reqs = _requests(rng, requests, part_ids, sizes)
    revs = _reviewers(rng, reviewers, part_ids, sizes, [q.id for q in reqs])
    problem = Problem(partnerships=tuple(parts), reviewers=tuple(revs), requests=tuple(reqs))
    name = f"{partnerships}/{reviewers}/{requests}/{seed}"
    if scarce_skill:
        problem = _scarce(random.Random(f"peermatch.generate.scarce/{name}"), problem)
    if experience:
        problem = _experience(random.Random(f"peermatch.generate.experience/{name}"), problem)
    if organisations:
        problem = _organisations(random.Random(f"peermatch.generate.organisations/{name}"), problem)
    if locked or excluded:
        problem = _with_decisions(rng, problem, locked, excluded)
    return problem


def _scarce(rng: random.Random, problem: Problem) -> Problem:
    reviewers = tuple(
        replace(r, skills=(r.skills - {SCARCE_SKILL}) | _maybe(rng, SCARCE_HELD))
        for r in problem.reviewers
    )
    requests = tuple(
        replace(
            q,
            required_skills=tuple(s for s in q.required_skills if s != SCARCE_SKILL)
            + tuple(_maybe(rng, SCARCE_ASKED)),
        )
        for q in problem.requests
    )
    return replace(problem, reviewers=reviewers, requests=requests)


def _maybe(rng: random.Random, share: float) -> frozenset[str]:
    return frozenset({SCARCE_SKILL}) if rng.random() < share else frozenset()


def _experience(rng: random.Random, problem: Problem) -> Problem:
    reviewers = []
    for r in problem.reviewers:
        done = _pick(rng, REVIEWS_COMPLETED_WEIGHTS)
        last = None
        if done:
            last = dt.date(YEAR, 1, 1) - dt.timedelta(days=rng.randint(*LAST_REVIEW_DAYS_BEFORE))
        reviewers.append(replace(r, reviews_completed=done, last_review_on=last))
    requests = tuple(
        replace(q, needs_experienced=q.peers >= 2 and rng.random() < NEEDS_EXPERIENCED_SHARE)
        for q in problem.requests
    )
    return replace(problem, reviewers=tuple(reviewers), requests=requests)


def _organisations(rng: random.Random, problem: Problem) -> Problem:
    """Police and health reviewers work for their group's force and board; requests name them
    as involved in most cases involving that agency."""
    ids = [p.id for p in problem.partnerships]
    order = rng.sample(ids, len(ids))  # groups of neighbours, not of consecutive ids
    group = {p: f"g{i // PARTNERSHIPS_PER_FORCE + 1}" for i, p in enumerate(order)}
    names = dict(ORGANISATIONS)
    reviewers = tuple(
        replace(r, organisation=f"{group[r.partnership]}-{names[r.agency]}")
        if r.agency in names
        else r
        for r in problem.reviewers
    )
    requests = tuple(
        replace(
            q,
            organisations_involved=frozenset(
                f"{group[q.partnership]}-{names[a]}"
                for a in sorted(q.agencies_involved)
                if a in names and rng.random() < ORGANISATION_INVOLVED_SHARE
            ),
        )
        for q in problem.requests
    )
    return replace(problem, reviewers=reviewers, requests=requests)


def _pick(rng: random.Random, weighted: Sequence[tuple[int, float]]) -> int:
    values, weights = zip(*weighted, strict=True)
    return int(rng.choices(values, weights)[0])


def _width(n: int) -> int:
    return max(3, len(str(n)))


def _partnerships(rng: random.Random, n: int) -> list[Partnership]:
    width = _width(n)
    result = []
    for i in range(n):
        # Historic exchanges: some partnerships have long been net lenders, others net receivers.
        lent = rng.choices(range(9), [6, 5, 5, 4, 3, 2, 2, 1, 1])[0]
        received = rng.choices(range(9), [6, 5, 5, 4, 3, 2, 2, 1, 1])[0]
        result.append(Partnership(id=f"p{i + 1:0{width}d}", lent=lent, received=received))
    return result


def _size_weights(rng: random.Random, n: int) -> list[float]:
    # Log-normal sizes: a handful of large metropolitan partnerships, a long tail of small ones.
    return [rng.lognormvariate(0.0, 0.7) for _ in range(n)]


def _date(day_of_year: int) -> dt.date:
    return dt.date(YEAR, 1, 1) + dt.timedelta(days=day_of_year)


# Busy seasons: reviews cluster after the spring and autumn reporting cycles, and leave
# clusters in the summer holidays, so contention is uneven through the year.
REVIEW_PEAKS = ((31, 90), (244, 304))  # February-March, September-October (day of year)
SUMMER = (195, 245)
PEAK_SHARE = 0.5
SUMMER_SHARE = 0.4


def _gap(rng: random.Random) -> DateRange:
    start = rng.randrange(*SUMMER) if rng.random() < SUMMER_SHARE else rng.randrange(0, 350)
    length = rng.randint(7, 42)  # leave, training, another review, a secondment...
    return DateRange(_date(start), _date(min(start + length, 364)))


def _reviewers(
    rng: random.Random,
    n: int,
    part_ids: list[str],
    sizes: list[float],
    request_ids: list[str],
) -> list[Reviewer]:
    agencies = [a for a, _ in AGENCIES]
    agency_weights = [w for _, w in AGENCIES]
    width = _width(n)
    homes = rng.choices(part_ids, sizes, k=n) if n else []
    result = []
    for i in range(n):
        skills = frozenset(s for s, share in SKILLS if rng.random() < share)
        gaps = tuple(sorted((_gap(rng) for _ in range(_pick(rng, GAPS_WEIGHTS))), key=_start))
        conflicts: frozenset[str] = frozenset()
        if rng.random() < CONFLICT_SHARE:
            # Mostly a neighbouring partnership (a former employer), sometimes one case.
            if request_ids and rng.random() < 0.3:
                conflicts = frozenset({rng.choice(request_ids)})
            elif len(part_ids) > 1:
                conflicts = frozenset({rng.choice([p for p in part_ids if p != homes[i]])})
        result.append(
            Reviewer(
                id=f"r{i + 1:0{width}d}",
                partnership=homes[i],
                agency=rng.choices(agencies, agency_weights)[0],
                skills=skills,
                capacity=_pick(rng, CAPACITY_WEIGHTS),
                unavailable=gaps,
                conflicts=conflicts,
            )
        )
    return result


def _start(gap: DateRange) -> dt.date:
    return gap.start


def _requests(rng: random.Random, n: int, part_ids: list[str], sizes: list[float]) -> list[Request]:
    agencies = [a for a, _ in AGENCIES]
    agency_weights = [w for _, w in AGENCIES]
    skills = [s for s, _ in REQUIRED_SKILL_WEIGHTS]
    skill_weights = [w for _, w in REQUIRED_SKILL_WEIGHTS]
    width = _width(n)
    homes = rng.choices(part_ids, sizes, k=n) if n else []
    result = []
    for i in range(n):
        if rng.random() < PEAK_SHARE:
            start = rng.randrange(*rng.choice(REVIEW_PEAKS))
        else:
            start = rng.randrange(0, 300)
        length = rng.randint(21, 60)  # a review happens within three to nine weeks
        involved = _sample_weighted(
            rng, agencies, agency_weights, _pick(rng, AGENCIES_INVOLVED_WEIGHTS)
        )
        required = _sample_weighted(
            rng, skills, skill_weights, _pick(rng, REQUIRED_SKILLS_COUNT_WEIGHTS)
        )
        result.append(
            Request(
                id=f"q{i + 1:0{width}d}",
                partnership=homes[i],
                peers=_pick(rng, PEERS_WEIGHTS),
                window=DateRange(_date(start), _date(min(start + length, 364))),
                high_profile=rng.random() < HIGH_PROFILE_SHARE,
                required_skills=tuple(required),
                agencies_involved=frozenset(involved),
            )
        )
    return result


def _sample_weighted(
    rng: random.Random, items: list[str], weights: list[float], k: int
) -> list[str]:
    """``k`` distinct items drawn with the given weights, in draw order."""
    pool = list(zip(items, weights, strict=True))
    chosen: list[str] = []
    for _ in range(min(k, len(pool))):
        index = rng.choices(range(len(pool)), [w for _, w in pool])[0]
        chosen.append(pool.pop(index)[0])
    return chosen


def _with_decisions(rng: random.Random, problem: Problem, locked: int, excluded: int) -> Problem:
    """Add locked pairs (accepted invitations) that respect every rule the parser checks, and
    excluded pairs (declines) among the remaining eligible pairs."""
    reviewers = list(problem.reviewers)
    requests = list(problem.requests)
    load: dict[str, int] = {}
    teams: dict[str, list[Reviewer]] = {}
    chosen_locked: list[Pair] = []
    chosen_excluded: list[Pair] = []
    attempts = 20 * (locked + excluded) + 20
    while attempts and (len(chosen_locked) < locked or len(chosen_excluded) < excluded):
        attempts -= 1
        if not reviewers or not requests:
            break
        reviewer, request = rng.choice(reviewers), rng.choice(requests)
        pair = Pair(request.id, reviewer.id)
        if pair in chosen_locked or pair in chosen_excluded:
            continue
        if ineligibility(reviewer, request, frozenset()) is not None:
            continue
        if len(chosen_locked) < locked and _fits(reviewer, request, teams, load):
            chosen_locked.append(pair)
            teams.setdefault(request.id, []).append(reviewer)
            load[reviewer.id] = load.get(reviewer.id, 0) + 1
        elif len(chosen_excluded) < excluded:
            chosen_excluded.append(pair)
    return replace(problem, locked=tuple(chosen_locked), excluded=tuple(chosen_excluded))


def _fits(
    reviewer: Reviewer, request: Request, teams: dict[str, list[Reviewer]], load: dict[str, int]
) -> bool:
    team = teams.get(request.id, [])
    return (
        len(team) < request.peers
        and all(member.agency != reviewer.agency for member in team)
        and load.get(reviewer.id, 0) < reviewer.capacity
    )
