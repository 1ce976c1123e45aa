"""Reading ``peermatch.problem/1`` and writing ``peermatch.solution/1`` (see docs/matching.md).

Parsing is strict: every refusal of the contract, plus wrong JSON types (a boolean is not an
integer), malformed dates, unknown or duplicated keys, is a :class:`ProblemError` whose text is
``<element path>: <message>``, e.g. ``requests[3].peers: must be at least 1``. Unknown keys are
refused rather than ignored so that a misspelt optional field (``high_proflie``) cannot silently
change an answer.

The shapes of the files are declared in ``schema.py`` and decoded by msgspec; its errors are
translated here into the contract's words. Unique ids, references and locked pairs are checked
after decoding.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from typing import Any, get_args

import msgspec

from peermatch.matching import schema
from peermatch.matching.eligibility import locked_breach
from peermatch.matching.problem import (
    DEFAULT_EXPERIENCE_THRESHOLD,
    PROBLEM_FORMAT,
    SOLUTION_FORMAT,
    DateRange,
    Pair,
    Partnership,
    Problem,
    Request,
    RequestOutcome,
    Reviewer,
    Solution,
    Unfilled,
)

# The order in which the contract's solution example lists the reasons (not the rule order).
SOLUTION_REASON_ORDER = (
    "high_profile_internal",
    "involved_agency",
    "conflict",
    "unavailable",
    "excluded",
    "no_capacity",
)

_ROOT = "problem"


class ProblemError(ValueError):
    """Invalid problem input; ``str()`` is ``<element path>: <message>``."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


# --- JSON text ---------------------------------------------------------------------------


def load_problem(text: str) -> Problem:
    """Parse the text of a problem file."""
    return parse_problem(_load_json(text, _ROOT))


def _load_json(text: str, root: str) -> object:
    if not text.strip():
        raise ProblemError(root, "empty file")
    try:
        return json.loads(text, object_pairs_hook=_no_duplicate_keys, parse_constant=_no_constant)
    except ProblemError:
        raise
    except json.JSONDecodeError as exc:
        raise ProblemError(
            root, f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except (ValueError, RecursionError) as exc:  # e.g. an integer with 5,000 digits
        raise ProblemError(root, f"not valid JSON: {exc}") from None


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) < len(pairs):  # a key came twice: name the first repeat
        keys = [key for key, _ in pairs]
        repeat = next(key for i, key in enumerate(keys) if key in keys[:i])
        raise ProblemError(_ROOT, f"duplicate key {repeat!r} in a JSON object")
    return result


def _no_constant(name: str) -> None:
    raise ProblemError(_ROOT, f"not valid JSON: {name} is not a number")


# --- typed decoding: msgspec's errors in the contract's words -----------------------------

# msgspec's names of JSON kinds, as the contract says "must be X" and "not Y".
_MUST_BE = {"int": "an integer", "float": "a number", "str": "a string", "date": "a string",
            "bool": "true or false", "array": "a list", "object": "an object"}  # fmt: skip
_NOT = {"null": "null", "bool": "a boolean", "int": "a number", "float": "a number",
        "str": "a string", "array": "a list", "object": "an object"}  # fmt: skip
_JSON_KIND = {type(None): "null", bool: "bool", int: "int", float: "float", str: "str",
              list: "array"}  # fmt: skip
_LOCATED = re.compile(r"(.*) - at `\$\.?([^`]*)`", re.S)  # "... - at `$.requests[3].peers`"
_WRONG_TYPE = re.compile(r"Expected `(\w+)(?: \| null)?`, got `(\w+)`")
_BELOW = re.compile(r"Expected `int` >= (-?\d+)")
_FIELD = re.compile(r"Object (missing required|contains unknown) field `(.*)`", re.S)


def _decode(data: object, shape: Any, path: str = "") -> Any:
    """``data`` (the element at ``path``) decoded as ``shape``, else a :class:`ProblemError`
    naming the element, as in ``requests[3].peers: must be at least 1``."""
    try:
        return msgspec.convert(data, shape)
    except msgspec.ValidationError as exc:
        located = _LOCATED.fullmatch(str(exc))
        text, inner = located.groups() if located else (str(exc), "")
        element, message = _in_contract_words(text, data, shape, inner)
        raise ProblemError(_at(path, element) or _ROOT, message) from None


def _in_contract_words(text: str, data: object, shape: Any, path: str) -> tuple[str, str]:
    """The element path and the message for msgspec's error ``text`` at ``path``."""
    if wrong := _WRONG_TYPE.fullmatch(text):
        expected, got = wrong.groups()
        return path, f"must be {_MUST_BE.get(expected, expected)}, not {_NOT.get(got, got)}"
    if below := _BELOW.fullmatch(text):
        return path, f"must be at least {below[1]}"
    if text.startswith("Expected `str` matching regex"):
        return path, "must not be empty"
    if field := _FIELD.fullmatch(text):
        if field[1] == "missing required":
            return _at(path, field[2]), "missing"
        return _at(path, field[2]), f"unknown field (expected {', '.join(_keys(shape, path))})"
    if text == "Invalid RFC3339 encoded date":
        value = _value(data, path)
        if not value.strip():
            return path, "must not be empty"
        return path, f"not a valid date {value!r} (expected YYYY-MM-DD)"
    return path, text  # not expected from the schema: msgspec's own words


def _at(path: str, key: str) -> str:
    """The element ``key`` ("peers", "requests[3].peers") inside the one at ``path``."""
    return f"{path}.{key}" if path and key else path or key


def _keys(shape: Any, path: str) -> list[str]:
    """The keys the struct at ``path`` declares (``requests[3]`` -> a request's)."""
    for name in re.sub(r"\[\d+\]", "", path).split(".") if path else ():
        hint = next(f.type for f in msgspec.structs.fields(shape) if f.encode_name == name)
        shape = next(t for t in _nested(hint) if _is_struct(t))
    return [f.encode_name for f in msgspec.structs.fields(shape)]


def _nested(hint: object) -> list[object]:
    """``hint`` and every type inside it (``tuple[X, ...] | UnsetType`` -> X among them)."""
    return [hint, *(t for arg in get_args(hint) for t in _nested(arg))]


def _is_struct(hint: object) -> bool:
    return isinstance(hint, type) and issubclass(hint, msgspec.Struct)


def _value(data: Any, path: str) -> Any:
    """The element of decoded JSON at ``path``."""
    for key, index in re.findall(r"(\w+)|\[(\d+)\]", path):
        data = data[int(index)] if index else data[key]
    return data


def _kind(value: object) -> str:
    return _NOT[_JSON_KIND.get(type(value), "object")]


# --- the problem -------------------------------------------------------------------------


def parse_problem(data: object) -> Problem:
    """Validate decoded JSON against the contract and build the :class:`Problem`."""
    if not isinstance(data, dict):
        raise ProblemError(_ROOT, f"must be a JSON object, not {_kind(data)}")
    if "format" not in data:
        raise ProblemError("format", f"missing (expected {PROBLEM_FORMAT!r})")
    if data["format"] != PROBLEM_FORMAT:
        raise ProblemError(
            "format", f"unknown format {data['format']!r}, expected {PROBLEM_FORMAT!r}"
        )
    file: schema.ProblemFile = _decode(data, schema.ProblemFile)
    problem = Problem(
        partnerships=tuple(Partnership(p.id, p.lent, p.received) for p in file.partnerships),
        reviewers=tuple(_reviewer(r, f"reviewers[{i}]") for i, r in enumerate(file.reviewers)),
        requests=tuple(_request(q, f"requests[{i}]") for i, q in enumerate(file.requests)),
        locked=tuple(Pair(pair.request, pair.reviewer) for pair in file.locked),
        excluded=tuple(Pair(pair.request, pair.reviewer) for pair in file.excluded),
        experience_threshold=file.experience_threshold,
        as_of=file.as_of,
        previous=_previous(file.previous),
    )
    _check_references(problem, [entry.conflicts for entry in file.reviewers])
    _check_locked(problem)
    return problem


def problem_requests(data: object) -> tuple[Request, ...]:
    """A problem's requests alone, read with the contract's schema (the rest of the problem is
    neither built nor checked)."""
    file: schema.ProblemRequests = _decode(data, schema.ProblemRequests)
    return tuple(_request(q, f"requests[{i}]") for i, q in enumerate(file.requests))


def check_problem(problem: Problem) -> Problem:
    """The checks a file gets beyond its shape (unique ids, references that resolve, placeable
    locked pairs), for a problem built in code; the problem itself, or ProblemError."""
    for i, q in enumerate(problem.requests):
        _range(q.window.start, q.window.end, f"requests[{i}]")
    for i, r in enumerate(problem.reviewers):
        for j, gap in enumerate(r.unavailable):
            _range(gap.start, gap.end, f"reviewers[{i}].unavailable[{j}]")
    _check_references(problem, [sorted(r.conflicts) for r in problem.reviewers])
    _check_locked(problem)
    return problem


def _previous(entries: tuple[schema.PairEntry, ...] | msgspec.UnsetType) -> tuple[Pair, ...] | None:
    """The previous proposal's pairs as given: their shape is checked (by the schema), their ids
    are not, since a reviewer or request may have left the problem since (the solver ignores
    such pairs, and pairs now ineligible)."""
    if isinstance(entries, msgspec.UnsetType):
        return None
    return tuple(Pair(pair.request, pair.reviewer) for pair in entries)


def _reviewer(r: schema.ReviewerEntry, path: str) -> Reviewer:
    return Reviewer(
        id=r.id,
        partnership=r.partnership,
        agency=r.agency,
        skills=r.skills,
        capacity=r.capacity,
        unavailable=tuple(
            _range(gap.start, gap.end, f"{path}.unavailable[{i}]")
            for i, gap in enumerate(r.unavailable)
        ),
        conflicts=frozenset(r.conflicts),
        reviews_completed=r.reviews_completed,
        last_review_on=r.last_review_on,
        organisation=r.organisation,
    )


def _request(q: schema.RequestEntry, path: str) -> Request:
    return Request(
        id=q.id,
        partnership=q.partnership,
        peers=q.peers,
        window=_range(q.start, q.end, path),
        high_profile=q.high_profile,
        required_skills=tuple(dict.fromkeys(q.required_skills)),  # a repeat means nothing more
        agencies_involved=q.agencies_involved,
        needs_experienced=q.needs_experienced,
        organisations_involved=q.organisations_involved,
    )


def _range(start: dt.date, end: dt.date, path: str) -> DateRange:
    if start > end:
        raise ProblemError(f"{path}.from", f"{start} is after to {end}")
    return DateRange(start, end)


def _check_references(problem: Problem, conflicts: Sequence[Sequence[str]]) -> None:
    """Ids are unique, and every reference names a declared partnership, request or reviewer
    (``conflicts``: each reviewer's, in the order their paths count them)."""
    partnerships = _unique_ids("partnerships", problem.partnerships)
    reviewers = _unique_ids("reviewers", problem.reviewers)
    requests = _unique_ids("requests", problem.requests)
    for kind in ("reviewers", "requests"):  # attribute, JSON key and path all say so
        for i, item in enumerate(getattr(problem, kind)):
            if item.partnership not in partnerships:
                raise ProblemError(
                    f"{kind}[{i}].partnership", f"unknown partnership {item.partnership!r}"
                )
    for i, names in enumerate(conflicts):
        for j, name in enumerate(names):
            if name not in partnerships and name not in requests:
                raise ProblemError(
                    f"reviewers[{i}].conflicts[{j}]", f"unknown request or partnership {name!r}"
                )
    for kind in ("locked", "excluded"):
        seen: dict[Pair, int] = {}
        for i, pair in enumerate(getattr(problem, kind)):
            if pair.request not in requests:
                raise ProblemError(f"{kind}[{i}].request", f"unknown request {pair.request!r}")
            if pair.reviewer not in reviewers:
                raise ProblemError(f"{kind}[{i}].reviewer", f"unknown reviewer {pair.reviewer!r}")
            if seen.setdefault(pair, i) != i:
                raise ProblemError(f"{kind}[{i}]", f"duplicate pair (also {kind}[{seen[pair]}])")


def _unique_ids(kind: str, items: tuple[Partnership | Reviewer | Request, ...]) -> dict[str, int]:
    index: dict[str, int] = {}
    for i, item in enumerate(items):
        if index.setdefault(item.id, i) != i:
            raise ProblemError(
                f"{kind}[{i}].id", f"duplicate id {item.id!r} (also {kind}[{index[item.id]}])"
            )
    return index


def _check_locked(problem: Problem) -> None:
    """A locked pair must be placeable (``eligibility.locked_breach``, the one home of these
    rules); skill coverage is left to the solver: a locked team that cannot be completed is
    ``infeasible``."""
    breach = locked_breach(problem)
    if breach is not None:
        raise ProblemError(f"locked[{breach.index}]", breach.message)


# --- writing -----------------------------------------------------------------------------


def problem_to_json(problem: Problem) -> dict[str, Any]:
    """The problem as ``peermatch.problem/1`` JSON data; defaults are left out for brevity."""
    out: dict[str, Any] = {"format": PROBLEM_FORMAT}
    if problem.experience_threshold != DEFAULT_EXPERIENCE_THRESHOLD:
        out["experience_threshold"] = problem.experience_threshold
    if problem.as_of is not None:
        out["as_of"] = problem.as_of.isoformat()
    out |= {
        "partnerships": [_partnership_json(p) for p in problem.partnerships],
        "reviewers": [_reviewer_json(r) for r in problem.reviewers],
        "requests": [_request_json(q) for q in problem.requests],
        "locked": [_pair_json(pair) for pair in problem.locked],
        "excluded": [_pair_json(pair) for pair in problem.excluded],
    }
    if problem.previous is not None:
        out["previous"] = [_pair_json(pair) for pair in problem.previous]
    return out


def dump_problem(problem: Problem) -> str:
    return to_text(problem_to_json(problem))


def to_text(data: object) -> str:
    """JSON for people as well as programs: containers of plain values (a pair, the bounds, a
    list of skills) on one line, anything deeper indented by two spaces."""
    return _render(data, 0) + "\n"


def _render(value: object, depth: int) -> str:
    if isinstance(value, dict) and any(isinstance(v, dict | list) for v in value.values()):
        inner = "  " * (depth + 1)
        items = [f"{inner}{_key(k)}: {_render(v, depth + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + "  " * depth + "}"
    if isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
        inner = "  " * (depth + 1)
        items = [inner + _render(v, depth + 1) for v in value]
        return "[\n" + ",\n".join(items) + "\n" + "  " * depth + "]"
    return json.dumps(value, ensure_ascii=False)


def _key(key: object) -> str:
    return json.dumps(str(key), ensure_ascii=False)


def _partnership_json(p: Partnership) -> dict[str, Any]:
    return {"id": p.id, "lent": p.lent, "received": p.received}


def _range_json(r: DateRange) -> dict[str, str]:
    return {"from": r.start.isoformat(), "to": r.end.isoformat()}


def _reviewer_json(r: Reviewer) -> dict[str, Any]:
    out: dict[str, Any] = {"id": r.id, "partnership": r.partnership, "agency": r.agency}
    if r.organisation is not None:
        out["organisation"] = r.organisation
    if r.skills:
        out["skills"] = sorted(r.skills)
    out["capacity"] = r.capacity
    if r.unavailable:
        out["unavailable"] = [_range_json(gap) for gap in r.unavailable]
    if r.conflicts:
        out["conflicts"] = sorted(r.conflicts)
    if r.reviews_completed:
        out["reviews_completed"] = r.reviews_completed
    if r.last_review_on is not None:
        out["last_review_on"] = r.last_review_on.isoformat()
    return out


def _request_json(q: Request) -> dict[str, Any]:
    out: dict[str, Any] = {"id": q.id, "partnership": q.partnership, "peers": q.peers}
    if q.high_profile:
        out["high_profile"] = True
    if q.required_skills:
        out["required_skills"] = list(q.required_skills)
    if q.agencies_involved:
        out["agencies_involved"] = sorted(q.agencies_involved)
    if q.organisations_involved:
        out["organisations_involved"] = sorted(q.organisations_involved)
    if q.needs_experienced:
        out["needs_experienced"] = True
    return out | _range_json(q.window)


def _pair_json(pair: Pair) -> dict[str, str]:
    return {"request": pair.request, "reviewer": pair.reviewer}


def solution_to_json(solution: Solution) -> dict[str, Any]:
    """The solution as ``peermatch.solution/1`` JSON data, fields in the contract's order."""
    out: dict[str, Any] = {
        "format": SOLUTION_FORMAT,
        "status": solution.status,
        "assignments": [
            _pair_json(pair)
            for pair in sorted(solution.assignments, key=lambda p: (p.request, p.reviewer))
        ],
        "filled": solution.filled,
        "imbalance": solution.imbalance,
        "bounds": {"filled": solution.bound_filled, "imbalance": solution.bound_imbalance},
        "balance": {p: solution.balance[p] for p in sorted(solution.balance)},
        "requests": [_outcome_json(outcome) for outcome in solution.requests],
        "seconds": round(solution.seconds, 3),
    }
    if solution.practice is not None:  # the extension's figures sit by their kin
        out = _insert_after(out, "imbalance", "practice", solution.practice)
        out["bounds"]["practice"] = solution.bound_practice
    if solution.kept is not None:  # stability: only for a problem with ``previous``; in the
        out = _insert_after(out, "imbalance", "kept", solution.kept)  # objective's order
        bounds = {"filled": solution.bound_filled, "imbalance": solution.bound_imbalance}
        out["bounds"] = bounds | {"kept": solution.bound_kept} | out["bounds"]
    for key, value in solution.extra.items():  # optional extensions come last, never override
        out.setdefault(key, value)
    return out


def _insert_after(data: dict[str, Any], after: str, key: str, value: object) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in data.items():
        out[k] = v
        if k == after:
            out[key] = value
    return out


def _outcome_json(outcome: RequestOutcome) -> dict[str, Any]:
    out: dict[str, Any] = {"id": outcome.id, "peers": outcome.peers, "filled": outcome.filled}
    if outcome.unfilled is not None and outcome.filled < outcome.peers:
        u = outcome.unfilled
        out["unfilled"] = {
            "eligible": u.eligible,
            "ineligible": {reason: u.ineligible.get(reason, 0) for reason in SOLUTION_REASON_ORDER}
            | {k: v for k, v in u.ineligible.items() if k not in SOLUTION_REASON_ORDER},
            "missing_skills": list(u.missing_skills),
            "taken_elsewhere": u.taken_elsewhere,
        }
        if u.missing_experience:  # only ever true (absent means false): earlier files unchanged
            out["unfilled"]["missing_experience"] = True
    out["alternates"] = list(outcome.alternates)
    return out


def dump_solution(solution: Solution) -> str:
    return to_text(solution_to_json(solution))


# --- reading solutions (for the validator and tests) -------------------------------------

_SOLUTION_KEYS = frozenset(f.encode_name for f in msgspec.structs.fields(schema.SolutionFile))


def load_solution(text: str) -> Solution:
    return parse_solution(_load_json(text, "solution"))


def parse_solution(data: object) -> Solution:
    """Build a :class:`Solution` from ``peermatch.solution/1`` JSON data (shape checked, rules
    not: that is :func:`peermatch.matching.validate.validate`'s job)."""
    if not isinstance(data, dict):
        raise ProblemError("solution", f"must be a JSON object, not {_kind(data)}")
    if data.get("format", SOLUTION_FORMAT) != SOLUTION_FORMAT:
        raise ProblemError("format", f"unknown format {data['format']!r}")
    file: schema.SolutionFile = _decode(data, schema.SolutionFile)
    return Solution(
        status=file.status,
        assignments=tuple(Pair(pair.request, pair.reviewer) for pair in file.assignments),
        filled=file.filled,
        imbalance=file.imbalance,
        bound_filled=file.bounds.filled,
        bound_imbalance=file.bounds.imbalance,
        balance={k: _decode(v, schema.Balance, f"balance.{k}") for k, v in file.balance.items()},
        requests=tuple(_outcome(o, f"requests[{i}]") for i, o in enumerate(file.requests)),
        seconds=file.seconds,
        extra={k: v for k, v in data.items() if k not in _SOLUTION_KEYS},
        practice=file.practice,
        bound_practice=file.bounds.practice,
        kept=file.kept,
        bound_kept=file.bounds.kept,
    )


def _outcome(outcome: schema.OutcomeEntry, path: str) -> RequestOutcome:
    u, unfilled = outcome.unfilled, None
    if isinstance(u, schema.UnfilledEntry):
        unfilled = Unfilled(
            eligible=u.eligible,
            ineligible={
                k: _decode(v, schema.Count, f"{path}.unfilled.ineligible.{k}")
                for k, v in u.ineligible.items()
            },
            missing_skills=tuple(dict.fromkeys(u.missing_skills)),
            taken_elsewhere=u.taken_elsewhere,
            missing_experience=u.missing_experience,
        )
    return RequestOutcome(outcome.id, outcome.peers, outcome.filled, unfilled, outcome.alternates)
