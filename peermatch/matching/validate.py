"""An independent checker of solutions: the contract's rules, written again from its text.

Deliberately shares no code with the eligibility module or the solver (only the plain data
classes), so that a misreading of the contract in one is caught by the other. Tests run it on
every solver output. ``validate`` returns human-readable violations; an empty list means valid.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable

from peermatch.matching.problem import Pair, Problem, Request, RequestOutcome, Reviewer, Solution

STATUSES = ("optimal", "feasible", "infeasible")
REASONS = (
    "no_capacity",
    "high_profile_internal",
    "involved_agency",
    "conflict",
    "unavailable",
    "excluded",
    "involved_organisation",
)
# The contract's six reasons, always named in ``unfilled.ineligible``; the seventh,
# ``involved_organisation``, may be named too and must be when a request names organisations.
CONTRACT_REASONS = REASONS[:6]


def broken_rules(reviewer: Reviewer, request: Request, excluded: Collection[Pair]) -> list[str]:
    """Every eligibility rule of the contract the pair breaks, by its explanation name."""
    same_partnership = reviewer.partnership == request.partnership
    window = request.window
    checks = {
        "no_capacity": reviewer.capacity < 1,
        "high_profile_internal": request.high_profile and same_partnership,
        "involved_agency": same_partnership and reviewer.agency in request.agencies_involved,
        "conflict": request.id in reviewer.conflicts or request.partnership in reviewer.conflicts,
        # Inclusive ranges overlap unless one ends before the other starts.
        "unavailable": any(
            not (gap.end < window.start or window.end < gap.start) for gap in reviewer.unavailable
        ),
        "excluded": Pair(request.id, reviewer.id) in excluded,
        "involved_organisation": reviewer.organisation is not None
        and reviewer.organisation in request.organisations_involved,
    }
    return [name for name in REASONS if checks[name]]


def balances(problem: Problem, assignments: Iterable[Pair]) -> dict[str, int]:
    """``balance_p = lent − received + pairs lending p's reviewers − pairs placed on p``."""
    home = {r.id: r.partnership for r in problem.reviewers}
    owner = {q.id: q.partnership for q in problem.requests}
    balance = {p.id: p.lent - p.received for p in problem.partnerships}
    for pair in assignments:
        lender, receiver = home[pair.reviewer], owner[pair.request]
        if lender != receiver:  # a reviewer at home counts neither way
            balance[lender] += 1
            balance[receiver] -= 1
    return balance


def practice_value(problem: Problem, assignments: Iterable[Pair]) -> int:
    """The third objective: Σ over pairs of the reviewer's days without a review at ``as_of``
    (default: the earliest request start), capped at 730; 730 for never, 0 if after."""
    as_of = problem.as_of
    if as_of is None and problem.requests:
        as_of = min(q.window.start for q in problem.requests)
    last = {r.id: r.last_review_on for r in problem.reviewers}
    total = 0
    for pair in assignments:
        day = last[pair.reviewer]
        if day is None or as_of is None:
            total += 730
        else:
            total += 0 if day > as_of else min((as_of - day).days, 730)
    return total


def kept_value(problem: Problem, assignments: Iterable[Pair]) -> int:
    """Stability: how many of the problem's ``previous`` pairs the assignments keep (a pair
    naming an unknown id or an ineligible pair is never in a valid solution, so it never
    counts)."""
    previous = set(problem.previous or ())
    return sum(1 for pair in set(assignments) if pair in previous)


def objective_values(problem: Problem, assignments: Iterable[Pair]) -> tuple[int, int]:
    """``(filled, imbalance)`` of a set of pairs (assumed to name known ids)."""
    pairs = list(assignments)
    return len(pairs), sum(abs(b) for b in balances(problem, pairs).values())


def validate(problem: Problem, solution: Solution) -> list[str]:
    """Every way ``solution`` breaks the contract for ``problem``; empty when valid."""
    if solution.status not in STATUSES:
        return [f"status {solution.status!r} is not one of {', '.join(STATUSES)}"]
    errors = _unknown_or_repeated(problem, solution.assignments)
    if errors:
        return errors  # the remaining checks need well-formed pairs
    if solution.status == "infeasible":
        # Nothing to check against the rules: whether the locked pairs really cannot be
        # completed is for an exhaustive search to confirm (the property test does).
        return []
    errors += _pair_rules(problem, solution.assignments)
    errors += _team_rules(problem, solution.assignments)
    errors += _capacities(problem, solution.assignments)
    errors += _locked(problem, solution.assignments)
    errors += _figures(problem, solution)
    errors += _outcomes(problem, solution)
    return errors


def _unknown_or_repeated(problem: Problem, assignments: Iterable[Pair]) -> list[str]:
    reviewers = {r.id for r in problem.reviewers}
    requests = {q.id for q in problem.requests}
    errors = []
    for pair, count in Counter(assignments).items():
        if pair.request not in requests:
            errors.append(f"assignment ({pair.request}, {pair.reviewer}): unknown request")
        if pair.reviewer not in reviewers:
            errors.append(f"assignment ({pair.request}, {pair.reviewer}): unknown reviewer")
        if count > 1:
            errors.append(f"assignment ({pair.request}, {pair.reviewer}): listed {count} times")
    return errors


def _pair_rules(problem: Problem, assignments: Iterable[Pair]) -> list[str]:
    reviewers = {r.id: r for r in problem.reviewers}
    requests = {q.id: q for q in problem.requests}
    excluded = set(problem.excluded)
    errors = []
    for pair in assignments:
        for rule in broken_rules(reviewers[pair.reviewer], requests[pair.request], excluded):
            errors.append(f"assignment ({pair.request}, {pair.reviewer}): not eligible ({rule})")
    return errors


def _teams(problem: Problem, assignments: Iterable[Pair]) -> dict[str, list[Reviewer]]:
    reviewers = {r.id: r for r in problem.reviewers}
    teams: dict[str, list[Reviewer]] = {q.id: [] for q in problem.requests}
    for pair in assignments:
        teams[pair.request].append(reviewers[pair.reviewer])
    return teams


def _team_rules(problem: Problem, assignments: Iterable[Pair]) -> list[str]:
    teams = _teams(problem, assignments)
    errors = []
    for request in problem.requests:
        team = teams[request.id]
        if len(team) > request.peers:
            errors.append(f"request {request.id}: {len(team)} reviewers, peers is {request.peers}")
        for agency, count in sorted(Counter(r.agency for r in team).items()):
            if count > 1:
                errors.append(f"request {request.id}: {count} reviewers from agency {agency}")
        if team:
            held = set().union(*(r.skills for r in team))
            missing = [s for s in request.required_skills if s not in held]
            if missing:
                errors.append(f"request {request.id}: team lacks skills {', '.join(missing)}")
            threshold = problem.experience_threshold
            if request.needs_experienced and all(r.reviews_completed < threshold for r in team):
                errors.append(
                    f"request {request.id}: team has no experienced reviewer "
                    f"({threshold} or more reviews completed)"
                )
    return errors


def _capacities(problem: Problem, assignments: Iterable[Pair]) -> list[str]:
    load = Counter(pair.reviewer for pair in assignments)
    return [
        f"reviewer {r.id}: on {load[r.id]} requests, capacity is {r.capacity}"
        for r in problem.reviewers
        if load[r.id] > r.capacity
    ]


def _locked(problem: Problem, assignments: Iterable[Pair]) -> list[str]:
    placed = set(assignments)
    return [
        f"locked pair ({pair.request}, {pair.reviewer}) is missing"
        for pair in problem.locked
        if pair not in placed
    ]


def _figures(problem: Problem, solution: Solution) -> list[str]:
    filled, imbalance = objective_values(problem, solution.assignments)
    errors = []
    if solution.filled != filled:
        errors.append(f"filled is {solution.filled}, the assignments make {filled}")
    if solution.imbalance != imbalance:
        errors.append(f"imbalance is {solution.imbalance}, the assignments make {imbalance}")
    expected = balances(problem, solution.assignments)
    if solution.balance != expected:
        wrong = sorted(set(expected) ^ set(solution.balance)) + sorted(
            p for p in set(expected) & set(solution.balance) if expected[p] != solution.balance[p]
        )
        errors.append(f"balance differs from the assignments' for {', '.join(wrong)}")
    if solution.bound_filled < solution.filled:
        errors.append(f"bound on fill {solution.bound_filled} is below filled {solution.filled}")
    if not 0 <= solution.bound_imbalance <= solution.imbalance:
        errors.append(
            f"bound on imbalance {solution.bound_imbalance} is not within 0..{solution.imbalance}"
        )
    errors += _practice(problem, solution)
    errors += _kept(problem, solution)
    if solution.status == "optimal" and (
        solution.bound_filled != solution.filled or solution.bound_imbalance != solution.imbalance
    ):
        errors.append("status optimal but the bounds differ from the objective values")
    return errors


def _practice(problem: Problem, solution: Solution) -> list[str]:
    """The third objective's figures; a solution written before the extension has none."""
    if solution.practice is None and solution.bound_practice is None:
        return []
    practice = practice_value(problem, solution.assignments)
    if solution.practice != practice:
        return [f"practice is {solution.practice}, the assignments make {practice}"]
    if solution.bound_practice is None or solution.bound_practice < practice:
        return [f"bound on practice {solution.bound_practice} is below practice {practice}"]
    return []


def _kept(problem: Problem, solution: Solution) -> list[str]:
    """Stability's figures: present exactly when the problem has ``previous``."""
    if problem.previous is None:
        if solution.kept is not None or solution.bound_kept is not None:
            return ["kept is reported but the problem has no previous pairs"]
        return []
    kept = kept_value(problem, solution.assignments)
    if solution.kept != kept:
        return [f"kept is {solution.kept}, the assignments keep {kept}"]
    if solution.bound_kept is None or solution.bound_kept < kept:
        return [f"bound on kept {solution.bound_kept} is below kept {kept}"]
    if solution.bound_kept > (given := len(set(problem.previous))):
        return [f"bound on kept {solution.bound_kept} is above the {given} previous pairs"]
    return []


def _outcomes(problem: Problem, solution: Solution) -> list[str]:
    """Per-request figures: one outcome per request, in any order, consistent with the pairs."""
    outcomes = Counter(o.id for o in solution.requests)
    errors = [f"request {i}: {n} outcomes" for i, n in sorted(outcomes.items()) if n > 1]
    requests = {q.id: q for q in problem.requests}
    errors += [f"outcome for unknown request {i}" for i in sorted(set(outcomes) - set(requests))]
    errors += [f"request {i}: no outcome" for i in requests if i not in outcomes]
    teams = _teams(problem, solution.assignments)
    reviewers = {r.id: r for r in problem.reviewers}
    excluded = set(problem.excluded)
    organisations = any(q.organisations_involved for q in problem.requests)
    for outcome in solution.requests:
        request = requests.get(outcome.id)
        if request is not None:
            errors += _outcome(
                outcome, request, teams[request.id], reviewers, excluded, organisations
            )
    return errors


def _outcome(
    outcome: RequestOutcome,
    request: Request,
    team: list[Reviewer],
    reviewers: dict[str, Reviewer],
    excluded: set[Pair],
    organisations: bool = False,
) -> list[str]:
    name = f"request {request.id}"
    errors = []
    if outcome.peers != request.peers:
        errors.append(f"{name}: outcome says peers {outcome.peers}, problem says {request.peers}")
    if outcome.filled != len(team):
        errors.append(f"{name}: outcome says filled {outcome.filled}, assignments {len(team)}")
    free = len(team) < request.peers
    if free and outcome.unfilled is None:
        errors.append(f"{name}: has free seats but no unfilled explanation")
    if not free and outcome.unfilled is not None:
        errors.append(f"{name}: is full but has an unfilled explanation")
    if outcome.unfilled is not None:
        named = sorted(outcome.unfilled.ineligible)
        allowed = [sorted(REASONS)] + ([] if organisations else [sorted(CONTRACT_REASONS)])
        if named not in allowed:
            expected = REASONS if organisations else CONTRACT_REASONS
            errors.append(f"{name}: unfilled.ineligible must name exactly {', '.join(expected)}")
        stray = [s for s in outcome.unfilled.missing_skills if s not in request.required_skills]
        if stray:
            errors.append(f"{name}: missing_skills not required: {', '.join(stray)}")
        if outcome.unfilled.missing_experience and not request.needs_experienced:
            errors.append(f"{name}: missing_experience, but no experienced reviewer is needed")
    on_team = {r.id for r in team}
    for alt, count in Counter(outcome.alternates).items():
        reviewer = reviewers.get(alt)
        if reviewer is None:
            errors.append(f"{name}: unknown alternate {alt}")
        elif count > 1 or alt in on_team:
            errors.append(f"{name}: alternate {alt} repeated or already on the request")
        elif broken_rules(reviewer, request, excluded):
            errors.append(f"{name}: alternate {alt} is not eligible")
    return errors


def rule_violations(problem: Problem, assignments: Iterable[Pair]) -> list[str]:
    """The rules alone (eligibility, teams, capacity) for a set of pairs, without the figures
    a full solution reports: what the service checks again at the moment it acts on a team
    chosen earlier (approval), against the registry as it is then."""
    pairs = list(assignments)
    errors = _unknown_or_repeated(problem, pairs)
    if errors:
        return errors
    return _pair_rules(problem, pairs) + _team_rules(problem, pairs) + _capacities(problem, pairs)
