"""What changed between two runs' proposals: the pairs added and removed per request, and why.

Pure: it reads the two runs' stored ``peermatch.problem/1`` and ``peermatch.solution/1``
documents (through ``peermatch.matching.io``), plus the pairs a coordinator excluded, which the
problem alone cannot tell apart from declines. The pages word the reasons
(``peermatch.web.pages.proposal``).

Reasons, first that applies:

- a removed pair: ``request_gone`` (the request is not in the later run: approved, staffed or
  cancelled since), ``excluded`` (a coordinator excluded the reviewer), ``declined`` (excluded in
  the later problem without a coordinator's exclusion: the reviewer declined, did not answer or
  was withdrawn), ``ineligible`` (the reviewer left the registry or now breaks an eligibility
  rule; ``rule`` says which), ``elsewhere`` (the reviewer's capacity is now used on another
  request; ``other`` names it when it is in the later proposal), ``balance`` (none of these: the
  solver chose another team for the reciprocity balance or a tie-break);
- an added pair: ``new_request`` (the request was not in the earlier run), ``replaces`` (the
  seat of a removed reviewer), ``filled`` (a seat the earlier run left empty).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from peermatch.matching.io import parse_problem, parse_solution
from peermatch.matching.problem import Pair, Problem, Solution
from peermatch.matching.validate import broken_rules

ADDED_REASONS = ("new_request", "replaces", "filled")
REMOVED_REASONS = ("request_gone", "excluded", "declined", "ineligible", "elsewhere", "balance")


@dataclass(frozen=True)
class Change:
    request: str  # request id in the problem ("ALPHA/AL-2027-001#12")
    reviewer: str  # reviewer id ("r-7")
    added: bool
    reason: str
    rule: str | None = None  # ``ineligible``: the rule now broken (or "inactive")
    other: str | None = None  # ``elsewhere``: the request the reviewer is placed on now


@dataclass(frozen=True)
class RequestChanges:
    request: str
    added: tuple[Change, ...]
    removed: tuple[Change, ...]


@dataclass(frozen=True)
class Documents:
    problem: Problem
    solution: Solution


def read(problem: Mapping[str, Any], solution: Mapping[str, Any]) -> Documents:
    """A run's stored documents, parsed (``ProblemError`` if either is malformed)."""
    return Documents(parse_problem(dict(problem)), parse_solution(dict(solution)))


def compare(
    earlier: Documents,
    later: Documents,
    *,
    coordinator_exclusions: Collection[Pair] = (),
) -> list[RequestChanges]:
    """Per request with a change, the pairs the later proposal added and removed, in the later
    problem's request order, then the earlier run's requests that left."""
    before = set(earlier.solution.assignments)
    after = set(later.solution.assignments)
    earlier_requests = {q.id for q in earlier.problem.requests}
    later_requests = {q.id: q for q in later.problem.requests}
    later_reviewers = {r.id: r for r in later.problem.reviewers}
    excluded = set(later.problem.excluded)
    placed: dict[str, list[str]] = defaultdict(list)
    for pair in sorted(after, key=lambda p: (p.request, p.reviewer)):
        placed[pair.reviewer].append(pair.request)
    removed_from: dict[str, int] = defaultdict(int)
    for pair in before - after:
        removed_from[pair.request] += 1

    def removal(pair: Pair) -> Change:
        def change(reason: str, **extra: str | None) -> Change:
            return Change(pair.request, pair.reviewer, False, reason, **extra)

        q = later_requests.get(pair.request)
        if q is None:
            return change("request_gone")
        if pair in excluded:
            return change("excluded" if pair in coordinator_exclusions else "declined")
        r = later_reviewers.get(pair.reviewer)
        if r is None:
            return change("ineligible", rule="inactive")
        rules = broken_rules(r, q, excluded)
        if "no_capacity" in rules:
            return change("elsewhere")
        if rules:
            return change("ineligible", rule=rules[0])
        elsewhere = [other for other in placed[pair.reviewer] if other != pair.request]
        if elsewhere:
            return change("elsewhere", other=elsewhere[0])
        return change("balance")

    def addition(pair: Pair, seat: int) -> Change:
        """``seat``: this pair's place among the request's additions (0, 1, …); the first
        take the seats of the removed reviewers, the rest seats left empty before."""
        if pair.request not in earlier_requests:
            reason = "new_request"
        elif seat < removed_from[pair.request]:
            reason = "replaces"
        else:
            reason = "filled"
        return Change(pair.request, pair.reviewer, True, reason)

    added: dict[str, list[Change]] = defaultdict(list)
    for pair in sorted(after - before, key=lambda p: (p.request, p.reviewer)):
        added[pair.request].append(addition(pair, len(added[pair.request])))
    removed: dict[str, list[Change]] = defaultdict(list)
    for pair in sorted(before - after, key=lambda p: (p.request, p.reviewer)):
        removed[pair.request].append(removal(pair))

    order = [q.id for q in later.problem.requests]
    order += [q.id for q in earlier.problem.requests if q.id not in later_requests]
    return [
        RequestChanges(key, tuple(added[key]), tuple(removed[key]))
        for key in order
        if added[key] or removed[key]
    ]
