"""The solver's own process: ``python -m peermatch.match_worker --time-limit S``.

Reads a ``peermatch.problem/1`` document on stdin and writes one JSON object on stdout:
``{"solution": {...}, "violations": [...]}`` (the independent validator's findings, empty when
the solution keeps every rule), or ``{"error": "..."}`` when the problem is refused or the solver
fails. The branch and bound is Python and would hold the interpreter lock, so matching runs here
and never in the web process; this process touches no database.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def work(problem_data: object, *, time_limit: float, workers: int, seed: int) -> dict[str, Any]:
    from peermatch.matching.io import ProblemError, parse_problem, solution_to_json
    from peermatch.matching.solver import solve
    from peermatch.matching.validate import validate

    try:
        problem = parse_problem(problem_data)
    except ProblemError as exc:
        return {"error": f"the problem was refused: {exc}"}
    try:
        solution = solve(problem, time_limit=time_limit, workers=workers, seed=seed)
    except Exception as exc:  # a solver bug becomes a failed run, never a lost one
        return {"error": f"the solver failed ({type(exc).__name__})"}
    return {"solution": solution_to_json(solution), "violations": validate(problem, solution)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m peermatch.match_worker")
    parser.add_argument("--time-limit", type=float, required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        problem_data = json.loads(sys.stdin.read())
    except ValueError:
        result: dict[str, Any] = {"error": "the problem was not valid JSON"}
    else:
        result = work(
            problem_data, time_limit=args.time_limit, workers=args.workers, seed=args.seed
        )
    sys.stdout.write(json.dumps(result))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
