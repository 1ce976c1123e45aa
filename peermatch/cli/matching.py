"""``peermatch solve`` and ``peermatch generate``: the matching engine from the command line.

Exit codes follow the contract: 0 with a solution, 2 for invalid input or options (a one-line
message on stderr), 1 otherwise (the locked pairs cannot be completed, or the solver failed).
Never a traceback: the user of these commands is a coordinator, not a developer.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import click

from peermatch.cli.errors import Failure, InputError, OneLineCommand
from peermatch.cli.files import check_writable, read_text, write_output
from peermatch.matching.io import (
    ProblemError,
    dump_problem,
    dump_solution,
    load_problem,
    load_solution,
    solution_to_json,
)
from peermatch.matching.problem import Pair, Problem, Solution

MAX_SEED = 2**31 - 1  # CP-SAT takes a 32-bit random seed


def register(main: click.Group) -> None:
    main.add_command(solve)
    main.add_command(generate)
    main.add_command(check)


@click.command(cls=OneLineCommand)
@click.argument("problem_files", metavar="PROBLEM.json...", nargs=-1, required=True)
@click.option(
    "--out",
    "out",
    metavar="SOLUTION.json|DIR",
    help="Write here instead of stdout; with several problems, a directory that receives "
    "NAME.solution.json for each.",
)
@click.option(
    "--time-limit",
    type=click.FloatRange(min=0, min_open=True, max=86_400),
    default=30.0,
    show_default=True,
    help="Seconds (per problem) before the solver stops and reports its best solution and bounds.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=0, max=256),
    default=0,
    show_default=True,
    help="Solver threads; 0 lets the solver choose. With 1 and a fixed seed, reproducible.",
)
@click.option("--seed", type=click.IntRange(0, MAX_SEED), default=0, show_default=True)
@click.option(
    "--previous",
    "previous_file",
    metavar="SOLUTION.json",
    help="An earlier solution whose assignments become the problems' previous pairs: a stable "
    "re-run keeps as many of them as fill and reciprocity allow.",
)
def solve(
    problem_files: tuple[str, ...],
    out: str | None,
    time_limit: float,
    workers: int,
    seed: int,
    previous_file: str | None,
) -> None:
    """Match reviewers to requests: read peermatch.problem/1 files, write their solutions.

    With one problem the solution is printed (or written to --out). With several, each solution
    is printed as one JSON line, or written to DIR/NAME.solution.json with --out DIR. Every file
    is checked before any is solved, so a bad one stops the run before anything is written.
    """
    problems = [(path, _load(path)) for path in problem_files]
    if previous_file is not None:
        previous = _previous(previous_file)
        problems = [(path, replace(problem, previous=previous)) for path, problem in problems]
    targets = _targets(problem_files, out)
    infeasible = []
    for (path, problem), target in zip(problems, targets, strict=True):
        solution = _solve_one(path, problem, time_limit=time_limit, workers=workers, seed=seed)
        if len(problems) > 1 and target is None:
            click.echo(json.dumps(solution_to_json(solution), ensure_ascii=False))
        else:
            write_output(target, dump_solution(solution))
        if solution.status == "infeasible":
            reason = solution.extra.get("reason")
            infeasible.append(
                f"{path}: the locked pairs cannot be completed into a solution"
                + (f" ({reason})" if reason else "")
            )
    for message in infeasible[:-1]:
        click.echo(f"Error: {message}", err=True)
    if infeasible:
        raise Failure(infeasible[-1])


def _load(path: str) -> Problem:
    try:
        return load_problem(read_text(path))
    except ProblemError as exc:
        raise InputError(f"{path}: {exc}") from None


def _previous(path: str) -> tuple[Pair, ...]:
    """The assignments of a solution file (its shape checked, as ``peermatch check`` does)."""
    try:
        return load_solution(read_text(path)).assignments
    except ProblemError as exc:
        raise InputError(f"{path}: {exc}") from None


def _targets(problem_files: tuple[str, ...], out: str | None) -> list[str | None]:
    """Where each solution goes: stdout (None), the --out file, or a file in the --out folder."""
    if len(problem_files) == 1:
        check_writable(out)
        return [out]
    if out is None:
        return [None] * len(problem_files)
    folder = Path(out)
    if not folder.is_dir():
        raise InputError(f"{out}: with several problems, --out must be an existing directory")
    return [str(folder / f"{Path(path).stem}.solution.json") for path in problem_files]


def _solve_one(
    path: str, problem: Problem, *, time_limit: float, workers: int, seed: int
) -> Solution:
    from peermatch.matching.solver import solve as run_solver  # heavy: OR-Tools

    try:
        return run_solver(problem, time_limit=time_limit, workers=workers, seed=seed)
    except Exception as exc:  # a solver bug must still not show a traceback to a coordinator
        raise Failure(f"{path}: the solver failed ({type(exc).__name__}: {exc})") from None


@click.command(cls=OneLineCommand)
@click.option("--partnerships", type=click.IntRange(min=1), required=True)
@click.option("--reviewers", type=click.IntRange(min=0), required=True)
@click.option("--requests", type=click.IntRange(min=0), required=True)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--locked", type=click.IntRange(min=0), default=0, help="Locked pairs to add.")
@click.option("--excluded", type=click.IntRange(min=0), default=0, help="Excluded pairs to add.")
@click.option(
    "--experience",
    is_flag=True,
    help="Give reviewers completed reviews and last review dates; most requests for 2+ peers "
    "need an experienced reviewer.",
)
@click.option(
    "--scarce-skill",
    is_flag=True,
    help="One specialist skill held by under a tenth of reviewers and asked for by about a "
    "third of requests (hard instances).",
)
@click.option(
    "--organisations",
    is_flag=True,
    help="Police and health reviewers work for a force or care board serving several "
    "partnerships; requests name them as involved.",
)
@click.option("--out", "out", metavar="FILE", help="Write here instead of stdout.")
def generate(
    partnerships: int,
    reviewers: int,
    requests: int,
    seed: int,
    locked: int,
    excluded: int,
    experience: bool,
    scarce_skill: bool,
    organisations: bool,
    out: str | None,
) -> None:
    """Write a synthetic peermatch.problem/1 instance (deterministic for given arguments)."""
    from peermatch.matching.generate import generate as make_problem

    check_writable(out)

    problem = make_problem(
        partnerships,
        reviewers,
        requests,
        seed,
        locked=locked,
        excluded=excluded,
        experience=experience,
        scarce_skill=scarce_skill,
        organisations=organisations,
    )
    write_output(out, dump_problem(problem))


@click.command(cls=OneLineCommand)
@click.argument("problem_file", metavar="PROBLEM.json")
@click.argument("solution_file", metavar="SOLUTION.json")
@click.option(
    "--previous",
    "previous_file",
    metavar="SOLUTION.json",
    help="The earlier solution the checked one was solved against (solve --previous).",
)
def check(problem_file: str, solution_file: str, previous_file: str | None) -> None:
    """Check a solution against its problem with the independent validator (exit 1 if not valid)."""
    from peermatch.matching.validate import validate

    try:
        problem = load_problem(read_text(problem_file))
    except ProblemError as exc:
        raise InputError(f"{problem_file}: {exc}") from None
    if previous_file is not None:
        problem = replace(problem, previous=_previous(previous_file))
    try:
        solution = load_solution(read_text(solution_file))
    except ProblemError as exc:
        raise InputError(f"{solution_file}: {exc}") from None
    violations = validate(problem, solution)
    for violation in violations:
        click.echo(f"{solution_file}: {violation}", err=True)
    if violations:
        raise Failure(f"{solution_file}: {len(violations)} violation(s) of the contract")
    kept = "" if solution.kept is None else f", kept {solution.kept}"
    practice = "" if solution.practice is None else f", practice {solution.practice}"
    click.echo(
        f"{solution_file}: valid ({solution.status}, filled {solution.filled}, "
        f"imbalance {solution.imbalance}{kept}{practice})"
    )
