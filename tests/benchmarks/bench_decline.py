"""Benchmark of declines and automatic replacement (issue 14; figures, not assertions):

    .venv/bin/python tests/benchmarks/bench_decline.py                # 20 declines
    .venv/bin/python tests/benchmarks/bench_decline.py --declines 5

On a national-size region (``generate(150, 10000, 1000)`` loaded by bench_service's
``load_national``), ``--declines`` requests are staffed the way an approved run leaves them: the
builder's problem for just those requests is solved, each request goes through
start_matching → propose → approve, and its team is invited with ``invitations.invite``. Then the
real app serves on a live server (the in-serve worker off: mode ``test``) and a separate
``peermatch outbox relay`` process is the worker, on the same database. For each request one
invited reviewer declines through ``POST /answer/<token>/decline`` over HTTP (timed), and the
database is polled every 20 ms until the request has a new invited assignment (replaced) or a
``rematch_failed`` event (no one eligible left), timed from the moment the POST was sent. One
decline at a time.

Goals: the POST answers in under 200 ms; the replacement is invited within 10 s.

Uses a fresh SQLite database in a temporary directory (or PEERMATCH_BENCH_DATABASE_URL, which is
wiped). The machine's load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import httpx
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "browser"))
from bench_service import fresh_database, load_national
from live_server import serve

from peermatch.db import session_scope
from peermatch.matching.solver import solve
from peermatch.models import (
    Assignment,
    AssignmentStatus,
    MatchRun,
    Partnership,
    RequestEvent,
    Reviewer,
    ReviewRequest,
    utcnow,
)
from peermatch.settings import Settings
from peermatch.staffing import invitations, lifecycle, match_runs
from peermatch.staffing.lifecycle import Command

PEERMATCH = Path(sys.executable).parent / "peermatch"  # the CLI of this interpreter's install
TIMEOUT = 120.0  # seconds to wait for one replacement before counting it as lost


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def staff(engine: Engine, settings: Settings, region_id: int, count: int) -> list[int]:
    """Invite full teams onto ``count`` requests spread over the region, as approving a run
    does; returns the ids of the requests that got a full team."""
    with session_scope(engine) as session:
        ids = [
            q.id
            for q in match_runs.matchable_requests(session, region_id)
            if q.id is not None and q.peers >= 2
        ]
        step = max(1, len(ids) // (count * 2))
        chosen = ids[::step][: count * 2]  # twice as many: some may not fill
        data = match_runs.build_problem(session, region_id, only=chosen, today=dt.date.today())
        solution = solve(data, time_limit=60)
        teams: dict[int, list[int]] = {}
        for pair in solution.assignments:
            teams.setdefault(match_runs.request_id_of(pair.request), []).append(
                match_runs.reviewer_id_of(pair.reviewer)
            )
        staffed: list[int] = []
        for request_id in chosen:
            request = session.get(ReviewRequest, request_id)
            assert request is not None
            team = teams.get(request_id, [])
            if len(team) != request.peers or len(staffed) == count:
                continue
            for command in (Command.start_matching, Command.propose, Command.approve):
                lifecycle.apply(session, request, command, actor="bench")
            assignments = [Assignment(request_id=request_id, reviewer_id=r) for r in team]
            session.add_all(assignments)
            session.flush()
            invitations.invite(session, assignments, actor="bench", settings=settings)
            staffed.append(request_id)
    return staffed


def _outcome(engine: Engine, request_id: int, after_assignment: int, after_event: int) -> str:
    with Session(engine) as session:
        new = session.exec(
            select(func.count())
            .select_from(Assignment)
            .where(
                Assignment.request_id == request_id,
                col(Assignment.id) > after_assignment,
                Assignment.status == AssignmentStatus.invited,
                col(Assignment.link_nonce).is_not(None),
            )
        ).one()
        if new:
            return "replaced"
        failed = session.exec(
            select(func.count())
            .select_from(RequestEvent)
            .where(
                RequestEvent.request_id == request_id,
                col(RequestEvent.id) > after_event,
                RequestEvent.kind == "rematch_failed",
            )
        ).one()
        return "none eligible" if failed else ""


def _ids(engine: Engine) -> tuple[int, int]:
    with Session(engine) as session:
        a = session.exec(select(func.max(Assignment.id))).one() or 0
        e = session.exec(select(func.max(RequestEvent.id))).one() or 0
        return a, e


def _ms(values: list[float]) -> str:
    return _stats([v * 1000 for v in values], "ms", 0)


def _stats(values: list[float], unit: str, digits: int) -> str:
    if not values:
        return "none"
    p95 = values[0]
    if len(values) > 1:
        p95 = statistics.quantiles(values, n=100, method="inclusive")[94]
    return (
        f"p50 {statistics.median(values):.{digits}f} {unit}, p95 {p95:.{digits}f} {unit}, "
        f"max {max(values):.{digits}f} {unit}"
    )


def bench(engine: Engine, settings: Settings, url: str, count: int, log: Path) -> None:
    started = time.perf_counter()
    with session_scope(engine) as session:
        region_id = load_national(session)
    print(f"national region loaded in {time.perf_counter() - started:.0f} s")
    started = time.perf_counter()
    staffed = staff(engine, settings, region_id, count)
    print(f"{len(staffed)} requests staffed and invited in {time.perf_counter() - started:.0f} s")
    with Session(engine) as session:
        counts = [
            session.exec(select(func.count()).select_from(table)).one()
            for table in (Partnership, Reviewer, ReviewRequest)
        ]
        print(
            f"instance: {counts[0]} partnerships, {counts[1]} reviewers, {counts[2]} requests "
            f"({len(staffed)} inviting)"
        )
        tokens = []
        for request_id in staffed:
            first = session.exec(
                select(Assignment)
                .where(Assignment.request_id == request_id)
                .order_by(col(Assignment.id))
            ).first()
            assert first is not None
            tokens.append((request_id, invitations.answer_token(settings, first)))

    env = {
        **os.environ,
        "PEERMATCH_DATABASE_URL": url,
        "PEERMATCH_WORKER_INTERVAL_SECONDS": "30",
    }
    env.pop("PEERMATCH_SMTP_URL", None)
    with log.open("w") as out, serve(settings, engine) as base:
        worker = subprocess.Popen(
            [str(PEERMATCH), "outbox", "relay"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
        posts: list[float] = []
        waits: list[float] = []
        outcomes = {"replaced": 0, "none eligible": 0, "timed out": 0}
        try:
            time.sleep(8)  # its first round: clock, re-match (loads the solver), relay
            assert worker.poll() is None, f"the worker exited: see {log}"
            for name in ("httpx", "peermatch"):  # the app's log lines would drown the figures
                logging.getLogger(name).setLevel(logging.WARNING)
            print(f"load average at the first decline: {_load()}")
            for request_id, token in tokens:
                after_assignment, after_event = _ids(engine)
                # The reviewer opens the link from the email, then answers (each reviewer in
                # a browser of their own: the server drops idle connections after 5 s).
                with httpx.Client(base_url=base, timeout=60) as client:
                    assert client.get(f"/answer/{token}").status_code == 200
                    sent = time.perf_counter()
                    response = client.post(f"/answer/{token}/decline", data={"reason": ""})
                    posts.append(time.perf_counter() - sent)
                assert response.status_code == 200, response.text[:500]
                outcome = ""
                while not outcome and time.perf_counter() - sent < TIMEOUT:
                    time.sleep(0.02)
                    outcome = _outcome(engine, request_id, after_assignment, after_event)
                waits.append(time.perf_counter() - sent)
                outcomes[outcome or "timed out"] += 1
            print(f"load average after the last: {_load()}")
        finally:
            worker.terminate()
            worker.wait(timeout=30)
            if outcomes["timed out"] or len(waits) < len(tokens):
                print("worker log, last lines:\n" + "".join(log.read_text().splitlines(True)[-20:]))

    with Session(engine) as session:
        runs = session.exec(
            select(MatchRun).where(MatchRun.purpose == "rematch", MatchRun.region_id == region_id)
        ).all()
        solver = [float(r.seconds or 0) for r in runs]
        wall = [
            (r.finished_at - r.started_at).total_seconds()
            for r in runs
            if r.finished_at and r.started_at
        ]
    print(f"decline POST ({len(posts)}): {_ms(posts)}; the first {posts[0] * 1000:.0f} ms")
    print(f"decline -> replacement invited ({len(waits)}): {_stats(waits, 's', 2)}")
    print(
        f"replaced {outcomes['replaced']}, no one eligible {outcomes['none eligible']}, "
        f"timed out ({TIMEOUT:g} s) {outcomes['timed out']}"
    )
    print(f"re-match runs stored: {len(runs)}; solver {_stats(solver, 's', 2)}")
    print(f"re-match run, build + solve (round start -> stored): {_stats(wall, 's', 2)}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--declines", type=int, default=20)
    args = parser.parse_args()
    print(f"load average before: {_load()}")
    with tempfile.TemporaryDirectory() as tmp:
        url, engine = fresh_database(tmp)
        settings = replace(Settings(), mode="test", database_url=url)
        print(f"database: {url.split(':', 1)[0]}; started {utcnow():%Y-%m-%d %H:%M} UTC")
        bench(engine, settings, url, args.declines, Path(tmp) / "worker.log")
        engine.dispose()
    print(f"load average after: {_load()}")


if __name__ == "__main__":
    main()
