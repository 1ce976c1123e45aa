"""``peermatch match`` and ``peermatch runs list|approve``: matching runs from the command line,
through the same service as the "Run matching" button (the solver in its own process, the run
stored, the requests moved on).

Exit codes: 0 success, 2 bad arguments or a refused action (one line on stderr naming what is
wrong), 1 when the run itself fails or the database does.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from peermatch import registry
from peermatch.cli.errors import Failure, InputError, OneLineCommand, OneLineGroup
from peermatch.cli.files import write_output
from peermatch.cli.registry import _database, _database_problem, _settings
from peermatch.db import make_engine
from peermatch.models import MatchRun
from peermatch.staffing import match_runs

ACTOR = "cli"


def register(main: click.Group) -> None:
    main.add_command(match)
    main.add_command(runs)


def _summary(run: MatchRun) -> str:
    requests = len(match_runs.run_request_keys(run))
    parts = [f"status {run.status}", f"{requests} request{'s' if requests != 1 else ''}"]
    if run.filled is not None:
        parts.append(f"filled {run.filled} of {run.seats} seats")
    if run.imbalance is not None:
        parts.append(f"imbalance {run.imbalance}")
    if run.seconds is not None:
        parts.append(f"{run.seconds:.1f} s")
    if run.error:
        parts.append(run.error)
    return ", ".join(parts)


@click.command(cls=OneLineCommand)
@click.option("--region", "region_code", required=True, metavar="CODE", help="The region's code.")
@click.option(
    "--time-limit",
    type=click.FloatRange(min=0, min_open=True, max=86_400),
    default=None,
    help="Seconds the solver may take (default PEERMATCH_SOLVER_TIME_LIMIT).",
)
@click.option(
    "--out",
    "out",
    metavar="DIR",
    type=click.Path(file_okay=False),
    help="Also write problem.json and solution.json into this directory.",
)
def match(region_code: str, time_limit: float | None, out: str | None) -> None:
    """Run matching for a region, exactly as the "Run matching" button does, and store the run.

    Prints one line "run ID: ..." (for scripts), then a summary.
    """
    settings = _settings()
    if out is not None:
        folder = Path(out)
        if folder.exists() and not folder.is_dir():
            raise InputError(f"--out: {out} is not a directory")
    with _database() as session:
        region = registry.find_region(session, region_code)
        assert region.id is not None
        run, created = match_runs.start_run(
            session,
            region.id,
            actor=ACTOR,
            time_limit=time_limit or settings.solver_time_limit,
            purpose="cli",
        )
        run_id = run.id
    assert run_id is not None
    if not created:
        raise InputError(
            f"--region {region_code}: run {run_id} of this region is already under way; "
            "wait for it or cancel it"
        )
    engine = make_engine(settings.database_url)
    try:
        match_runs.execute_run(engine, run_id, actor=ACTOR)
        with Session(engine) as session:
            stored = session.get(MatchRun, run_id)
            assert stored is not None
    except SQLAlchemyError as exc:
        raise Failure(_database_problem(exc)) from None
    finally:
        engine.dispose()
    click.echo(f"run {run_id}: {_summary(stored)}")
    if out is not None:
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        write_output(str(folder / "problem.json"), json.dumps(stored.problem, indent=2) + "\n")
        if stored.solution is not None:
            write_output(
                str(folder / "solution.json"), json.dumps(stored.solution, indent=2) + "\n"
            )
    outcomes = match_runs.stored_solution(stored).requests if stored.solution is not None else ()
    for outcome in outcomes:
        if outcome.filled < outcome.peers:
            click.echo(f"  {outcome.id}: {outcome.filled} of {outcome.peers} seats")
    if stored.status not in match_runs.SOLVED:
        raise Failure(f"run {run_id} did not propose teams ({stored.status})")


@click.group(cls=OneLineGroup)
def runs() -> None:
    """Matching runs: list them, approve one."""


@runs.command("list")
@click.option("--region", "region_code", required=True, metavar="CODE")
@click.option("--page", type=click.IntRange(min=1), default=1, show_default=True)
def runs_list(region_code: str, page: int) -> None:
    """The region's runs, newest first: id, started, by, status, figures, approval."""
    with _database() as session:
        region = registry.find_region(session, region_code)
        assert region.id is not None
        match_runs.recover_stale(session, region_id=region.id)
        found = match_runs.list_runs(session, region.id, page=page, per_page=50)
        for run in found.items:
            approved = f"approved {run.approved_at:%Y-%m-%d %H:%M}" if run.approved_at else ""
            click.echo(
                "\t".join(
                    [
                        str(run.id),
                        f"{run.started_at:%Y-%m-%d %H:%M}",
                        run.started_by,
                        str(run.status),
                        f"{run.filled}/{run.seats}" if run.filled is not None else "-",
                        str(run.imbalance) if run.imbalance is not None else "-",
                        approved,
                    ]
                ).rstrip()
            )
        if not found.items:
            click.echo(f"No runs in region {region.code} yet.")


@runs.command("approve")
@click.argument("run_id", type=int)
def runs_approve(run_id: int) -> None:
    """Approve a run's proposal: invite its reviewers (only the region's latest solved run)."""
    with _database() as session:
        approval = match_runs.approve_run(session, run_id, actor=ACTOR)
    click.echo(f"run {run_id}: approved, {len(approval.invited)} reviewer(s) to invite")
    for request_id, breaches in sorted(approval.held_back.items()):
        rules = ", ".join(
            f"r-{b.reviewer_id} {b.rule}" if b.reviewer_id else b.rule for b in breaches
        )
        click.echo(f"request {request_id}: not invited, the team no longer holds ({rules})")
