"""Reading ``peermatch.problem/1`` and writing ``peermatch.solution/1`` (see docs/matching.md).

Parsing is strict: every refusal of the contract, plus wrong JSON types (a boolean is not an
integer), malformed dates, unknown or duplicated keys, is a :class:`ProblemError` whose text is
``<element path>: <message>``, e.g. ``requests[3].peers: must be at least 1``. Unknown keys are
refused rather than ignored so that a misspelt optional field (``high_proflie``) cannot silently
change an answer.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

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
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


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
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ProblemError(_ROOT, f"duplicate key {key!r} in a JSON object")
        result[key] = value
    return result


def _no_constant(name: str) -> None:
    raise ProblemError(_ROOT, f"not valid JSON: {name} is not a number")


# --- typed field readers -----------------------------------------------------------------


def _at(path: str, key: str | int) -> str:
    return f"{path}[{key}]" if isinstance(key, int) else f"{path}.{key}" if path else key


def _object(
    value: object, path: str, required: Iterable[str], optional: Iterable[str]
) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ProblemError(path, f"must be an object, not {_kind(value)}")
    required, known = list(required), [*required, *optional]
    for key in value:
        if key not in known:
            raise ProblemError(_at(path, key), f"unknown field (expected {', '.join(known)})")
    for key in required:
        if key not in value:
            raise ProblemError(_at(path, key), "missing")
    return value


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


def _string(value: object, path: str) -> str:
    if not isinstance(value, str):
        raise ProblemError(path, f"must be a string, not {_kind(value)}")
    if not value.strip():
        raise ProblemError(path, "must not be empty")
    return value


def _integer(value: object, path: str, minimum: int) -> int:
    # bool is a subclass of int in Python, but ``true`` is not a number of peers.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProblemError(path, f"must be an integer, not {_kind(value)}")
    if value < minimum:
        raise ProblemError(path, f"must be at least {minimum}")
    return value


def _boolean(value: object, path: str) -> bool:
    if not isinstance(value, bool):
        raise ProblemError(path, f"must be true or false, not {_kind(value)}")
    return value


def _list(value: object, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise ProblemError(path, f"must be a list, not {_kind(value)}")
    return value


def _strings(value: object, path: str) -> list[str]:
    items = [_string(item, _at(path, i)) for i, item in enumerate(_list(value, path))]
    return list(dict.fromkeys(items))  # a repeated skill or agency means nothing more


def _date(value: object, path: str) -> dt.date:
    text = _string(value, path)
    try:
        if not _DATE.fullmatch(text):
            raise ValueError
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ProblemError(path, f"not a valid date {text!r} (expected YYYY-MM-DD)") from None


def _range(obj: Mapping[str, Any], path: str) -> DateRange:
    start, end = _date(obj["from"], _at(path, "from")), _date(obj["to"], _at(path, "to"))
    if start > end:
        raise ProblemError(_at(path, "from"), f"{start} is after to {end}")
    return DateRange(start, end)


def _each(data: Mapping[str, Any], key: str, parse: Callable[[object, str], Any]) -> list[Any]:
    return [parse(item, _at(key, i)) for i, item in enumerate(_list(data.get(key, []), key))]


def _unique_ids(items: list[Any], kind: str) -> dict[str, int]:
    index: dict[str, int] = {}
    for i, item in enumerate(items):
        if item.id in index:
            raise ProblemError(
                _at(_at(kind, i), "id"), f"duplicate id {item.id!r} (also {kind}[{index[item.id]}])"
            )
        index[item.id] = i
    return index


# --- the problem -------------------------------------------------------------------------

_TOP = (
    "format",
    "partnerships",
    "reviewers",
    "requests",
    "locked",
    "excluded",
    "experience_threshold",
    "as_of",
)


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
    _object(data, "", ["format"], _TOP[1:])
    partnerships = _each(data, "partnerships", _partnership)
    partnership_ids = _unique_ids(partnerships, "partnerships")
    reviewers = _each(data, "reviewers", _reviewer)
    reviewer_ids = _unique_ids(reviewers, "reviewers")
    requests = _each(data, "requests", _request)
    request_ids = _unique_ids(requests, "requests")
    for kind, items in (("reviewers", reviewers), ("requests", requests)):
        for i, item in enumerate(items):
            if item.partnership not in partnership_ids:
                raise ProblemError(
                    _at(_at(kind, i), "partnership"), f"unknown partnership {item.partnership!r}"
                )
    _check_conflicts(data, partnership_ids, request_ids)
    locked = _pairs(data, "locked", request_ids, reviewer_ids)
    excluded = _pairs(data, "excluded", request_ids, reviewer_ids)
    problem = Problem(
        partnerships=tuple(partnerships),
        reviewers=tuple(reviewers),
        requests=tuple(requests),
        locked=tuple(locked),
        excluded=tuple(excluded),
        experience_threshold=_integer(
            data.get("experience_threshold", DEFAULT_EXPERIENCE_THRESHOLD),
            "experience_threshold",
            1,
        ),
        as_of=None if data.get("as_of") is None else _date(data["as_of"], "as_of"),
    )
    _check_locked(problem)
    return problem


def _partnership(value: object, path: str) -> Partnership:
    obj = _object(value, path, ["id"], ["lent", "received"])
    return Partnership(
        id=_string(obj["id"], _at(path, "id")),
        lent=_integer(obj.get("lent", 0), _at(path, "lent"), 0),
        received=_integer(obj.get("received", 0), _at(path, "received"), 0),
    )


def _reviewer(value: object, path: str) -> Reviewer:
    optional = [
        "skills",
        "capacity",
        "unavailable",
        "conflicts",
        "reviews_completed",
        "last_review_on",
    ]
    obj = _object(value, path, ["id", "partnership", "agency"], optional)
    gaps = _list(obj.get("unavailable", []), _at(path, "unavailable"))
    last = obj.get("last_review_on")
    return Reviewer(
        id=_string(obj["id"], _at(path, "id")),
        partnership=_string(obj["partnership"], _at(path, "partnership")),
        agency=_string(obj["agency"], _at(path, "agency")),
        skills=frozenset(_strings(obj.get("skills", []), _at(path, "skills"))),
        capacity=_integer(obj.get("capacity", 1), _at(path, "capacity"), 0),
        unavailable=tuple(
            _gap(gap, _at(_at(path, "unavailable"), i)) for i, gap in enumerate(gaps)
        ),
        conflicts=frozenset(_strings(obj.get("conflicts", []), _at(path, "conflicts"))),
        reviews_completed=_integer(
            obj.get("reviews_completed", 0), _at(path, "reviews_completed"), 0
        ),
        last_review_on=None if last is None else _date(last, _at(path, "last_review_on")),
    )


def _gap(value: object, path: str) -> DateRange:
    return _range(_object(value, path, ["from", "to"], []), path)


def _request(value: object, path: str) -> Request:
    optional = ["high_profile", "required_skills", "agencies_involved", "needs_experienced"]
    obj = _object(value, path, ["id", "partnership", "peers", "from", "to"], optional)
    return Request(
        id=_string(obj["id"], _at(path, "id")),
        partnership=_string(obj["partnership"], _at(path, "partnership")),
        peers=_integer(obj["peers"], _at(path, "peers"), 1),
        window=_range(obj, path),
        high_profile=_boolean(obj.get("high_profile", False), _at(path, "high_profile")),
        required_skills=tuple(
            _strings(obj.get("required_skills", []), _at(path, "required_skills"))
        ),
        agencies_involved=frozenset(
            _strings(obj.get("agencies_involved", []), _at(path, "agencies_involved"))
        ),
        needs_experienced=_boolean(
            obj.get("needs_experienced", False), _at(path, "needs_experienced")
        ),
    )


def _check_conflicts(
    data: Mapping[str, Any], partnerships: Mapping[str, int], requests: Mapping[str, int]
) -> None:
    for i, raw in enumerate(data.get("reviewers", [])):
        for j, name in enumerate(raw.get("conflicts", [])):
            if name not in partnerships and name not in requests:
                raise ProblemError(
                    f"reviewers[{i}].conflicts[{j}]", f"unknown request or partnership {name!r}"
                )


def _pairs(
    data: Mapping[str, Any], key: str, requests: Mapping[str, int], reviewers: Mapping[str, int]
) -> list[Pair]:
    pairs: list[Pair] = []
    seen: dict[Pair, int] = {}
    for i, item in enumerate(_list(data.get(key, []), key)):
        path = _at(key, i)
        obj = _object(item, path, ["request", "reviewer"], [])
        pair = Pair(
            request=_string(obj["request"], _at(path, "request")),
            reviewer=_string(obj["reviewer"], _at(path, "reviewer")),
        )
        if pair.request not in requests:
            raise ProblemError(_at(path, "request"), f"unknown request {pair.request!r}")
        if pair.reviewer not in reviewers:
            raise ProblemError(_at(path, "reviewer"), f"unknown reviewer {pair.reviewer!r}")
        if pair in seen:
            raise ProblemError(path, f"duplicate pair (also {key}[{seen[pair]}])")
        seen[pair] = i
        pairs.append(pair)
    return pairs


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
    return out | {
        "partnerships": [_partnership_json(p) for p in problem.partnerships],
        "reviewers": [_reviewer_json(r) for r in problem.reviewers],
        "requests": [_request_json(q) for q in problem.requests],
        "locked": [_pair_json(pair) for pair in problem.locked],
        "excluded": [_pair_json(pair) for pair in problem.excluded],
    }


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


def load_solution(text: str) -> Solution:
    return parse_solution(_load_json(text, "solution"))


def parse_solution(data: object) -> Solution:
    """Build a :class:`Solution` from ``peermatch.solution/1`` JSON data (shape checked, rules
    not: that is :func:`peermatch.matching.validate.validate`'s job)."""
    known = ["format", "status", "assignments", "filled", "imbalance", "bounds", "balance"]
    if not isinstance(data, dict):
        raise ProblemError("solution", f"must be a JSON object, not {_kind(data)}")
    required = [*known, "requests", "seconds"]
    for key in required:
        if key not in data:
            raise ProblemError(key, "missing")
    read = [*required, "practice"]  # practice: optional (solutions before the extension)
    if data["format"] != SOLUTION_FORMAT:
        raise ProblemError("format", f"unknown format {data['format']!r}")
    bounds = _object(data["bounds"], "bounds", ["filled", "imbalance"], ["practice"])
    balance = data["balance"]
    if not isinstance(balance, dict):
        raise ProblemError("balance", f"must be an object, not {_kind(balance)}")
    seconds = data["seconds"]
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise ProblemError("seconds", f"must be a number, not {_kind(seconds)}")
    return Solution(
        status=_string(data["status"], "status"),
        assignments=tuple(_solution_pairs(data["assignments"])),
        filled=_integer(data["filled"], "filled", 0),
        imbalance=_integer(data["imbalance"], "imbalance", 0),
        bound_filled=_integer(bounds["filled"], "bounds.filled", 0),
        bound_imbalance=_integer(bounds["imbalance"], "bounds.imbalance", 0),
        balance={k: _integer(v, f"balance.{k}", -(10**12)) for k, v in balance.items()},
        requests=tuple(
            _outcome(item, f"requests[{i}]")
            for i, item in enumerate(_list(data["requests"], "requests"))
        ),
        seconds=float(seconds),
        extra={k: v for k, v in data.items() if k not in read},
        practice=_optional_integer(data.get("practice"), "practice"),
        bound_practice=_optional_integer(bounds.get("practice"), "bounds.practice"),
    )


def _optional_integer(value: object, path: str) -> int | None:
    return None if value is None else _integer(value, path, 0)


def _solution_pairs(value: object) -> list[Pair]:
    pairs = []
    for i, item in enumerate(_list(value, "assignments")):
        obj = _object(item, f"assignments[{i}]", ["request", "reviewer"], [])
        pairs.append(Pair(_string(obj["request"], "request"), _string(obj["reviewer"], "reviewer")))
    return pairs


def _outcome(value: object, path: str) -> RequestOutcome:
    obj = _object(value, path, ["id", "peers", "filled", "alternates"], ["unfilled"])
    unfilled = None
    if "unfilled" in obj:
        upath = _at(path, "unfilled")
        u = _object(
            obj["unfilled"],
            upath,
            ["eligible", "ineligible", "missing_skills", "taken_elsewhere"],
            ["missing_experience"],
        )
        ineligible = u["ineligible"]
        if not isinstance(ineligible, dict):
            raise ProblemError(_at(upath, "ineligible"), "must be an object")
        unfilled = Unfilled(
            eligible=_integer(u["eligible"], _at(upath, "eligible"), 0),
            ineligible={
                k: _integer(v, _at(_at(upath, "ineligible"), k), 0) for k, v in ineligible.items()
            },
            missing_skills=tuple(_strings(u["missing_skills"], _at(upath, "missing_skills"))),
            taken_elsewhere=_integer(u["taken_elsewhere"], _at(upath, "taken_elsewhere"), 0),
            missing_experience=_boolean(
                u.get("missing_experience", False), _at(upath, "missing_experience")
            ),
        )
    return RequestOutcome(
        id=_string(obj["id"], _at(path, "id")),
        peers=_integer(obj["peers"], _at(path, "peers"), 1),
        filled=_integer(obj["filled"], _at(path, "filled"), 0),
        unfilled=unfilled,
        # Not de-duplicated: a repeated alternate is for the validator to report.
        alternates=tuple(
            _string(a, _at(_at(path, "alternates"), i))
            for i, a in enumerate(_list(obj["alternates"], _at(path, "alternates")))
        ),
    )
