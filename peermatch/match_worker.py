"""The solver's own process: ``python -m peermatch.match_worker``.

Loads the solver first (OR-Tools and numpy take a second or two to import, so the web process
keeps one worker started ahead, waiting), then reads ``{"problem": <peermatch.problem/1>,
"time_limit": S}`` on stdin and writes one JSON object on stdout:
``{"solution": {...}, "violations": [...]}`` (the independent validator's findings, empty when
the solution keeps every rule), or ``{"error": "..."}`` when the problem is refused or the solver
fails. The branch and bound is Python and would hold the interpreter lock, so matching runs here
and never in the web process, at a lower CPU priority (nice 10) than the web server; this
process touches no database.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
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
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--nice", type=int, default=10)
    args = parser.parse_args(argv)
    # Below the web server's priority: on a busy host its pages answer first, the solver waits.
    with contextlib.suppress(AttributeError, OSError):
        os.nice(args.nice)
    import peermatch.matching.solver  # noqa: F401  (loaded before the job arrives)

    try:
        job = json.loads(sys.stdin.read() or "null")
        problem_data, time_limit = job["problem"], float(job["time_limit"])
    except (ValueError, TypeError, KeyError):
        result: dict[str, Any] = {"error": "the job was not readable"}
    else:
        result = work(problem_data, time_limit=time_limit, workers=args.workers, seed=args.seed)
    sys.stdout.write(json.dumps(result))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
