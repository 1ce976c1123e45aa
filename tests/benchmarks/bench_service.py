"""Benchmark of matching runs in the service (figures, not assertions):

    .venv/bin/python tests/benchmarks/bench_service.py            # both parts
    .venv/bin/python tests/benchmarks/bench_service.py --quick    # demo region only

1. On the demo region: the time from pressing "Run matching" (POST /runs) to the rendered
   proposal (GET /runs/ID once the run has ended), through the real app on a live server.
   Measured with a 0.1 s poll (what the service can do) and with the page's 2 s poll (what a
   browser with JavaScript sees). Goal: under 3 s.
2. A national-size region (``generate(150, 10000, 1000)`` loaded into the database as
   partnerships, reviewers and requests): the p50/p95 latency of GET /reviewers (a signed-in
   coordinator's list page) with no run, and while that region's run is solving in the
   background. Goal: p95 under 300 ms.

Uses a fresh SQLite database in a temporary directory (or PEERMATCH_BENCH_DATABASE_URL, which is
wiped). The machine's load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "browser"))
from live_server import serve

from peermatch import accounts
from peermatch.db import make_engine, session_scope, upgrade
from peermatch.demo import DEMO_COORDINATOR_EMAIL, DEMO_COORDINATOR_PASSWORD, seed_demo
from peermatch.matching.generate import generate
from peermatch.models import (
    MatchRun,
    Partnership,
    Region,
    RequestStatus,
    Reviewer,
    ReviewerConflict,
    ReviewerSkill,
    ReviewRequest,
    RunStatus,
    Unavailability,
)
from peermatch.settings import Settings

_CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')
NATIONAL_EMAIL = "national@bench.peermatch.example"
PASSWORD = "benchmark-only-password"
PAUSE = 5.0


def _signed_in(base: str, email: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=base, follow_redirects=False, timeout=60)
    token = _CSRF.search(client.get("/sign-in").text)
    assert token, "no CSRF token on the sign-in page"
    response = client.post(
        "/sign-in", data={"email": email, "password": password, "_csrf_token": token.group(1)}
    )
    assert response.status_code == 303, response.text
    return client


def _start(client: httpx.Client) -> int:
    token = _CSRF.search(client.get("/runs").text)
    assert token
    response = client.post("/runs", data={"_csrf_token": token.group(1)})
    assert response.status_code == 303, response.text
    return int(response.headers["location"].split("/runs/")[1].split("?")[0])


def run_to_proposal(client: httpx.Client, poll: float) -> float:
    started = time.perf_counter()
    run_id = _start(client)
    while client.get(f"/runs/{run_id}/progress").headers.get("hx-refresh") != "true":
        time.sleep(poll)
    page = client.get(f"/runs/{run_id}")
    assert "Proposed teams" in page.text, f"run {run_id} proposed nothing"
    return time.perf_counter() - started


def demo_part(engine: Engine, settings: Settings, repeats: int) -> None:
    with session_scope(engine) as session:
        seed_demo(session)
    with serve(settings, engine) as base:
        client = _signed_in(base, DEMO_COORDINATOR_EMAIL, DEMO_COORDINATOR_PASSWORD)
        cold = run_to_proposal(client, 0.1)
        print(
            f"demo region, first run right after the server started (solver still loading): "
            f"{cold:.2f} s"
        )
        for poll, label in ((0.1, "0.1 s poll"), (2.0, "2 s poll (the page's)")):
            times = []
            for _ in range(repeats):
                time.sleep(PAUSE)  # a coordinator reads the proposal before running again
                times.append(run_to_proposal(client, poll))
            print(
                f"demo region, Run matching -> rendered proposal, {label}: "
                f"median {statistics.median(times):.2f} s, max {max(times):.2f} s "
                f"({repeats} runs, {PAUSE:g} s apart)"
            )


def load_national(session: Session) -> int:
    """generate(150, 10000, 1000) as a region of the database; returns its id."""
    problem = generate(150, 10_000, 1_000, 0)
    region = Region(code="bench-national", name="National benchmark")
    session.add(region)
    session.flush()
    assert region.id is not None
    partnerships = {}
    for p in problem.partnerships:
        row = Partnership(
            region_id=region.id,
            code=p.id,
            name=f"{p.id} Partnership",
            opening_lent=p.lent,
            opening_received=p.received,
        )
        session.add(row)
        partnerships[p.id] = row
    session.flush()
    requests = {}
    for q in problem.requests:
        row = ReviewRequest(
            partnership_id=partnerships[q.partnership].id or 0,
            reference=f"{q.id.upper()}-2027",
            methodology="peer-review",
            high_profile=q.high_profile,
            agencies_involved=sorted(q.agencies_involved),
            required_skills=list(q.required_skills),
            peers=q.peers,
            window_start=q.window.start,
            window_end=q.window.end,
            status=RequestStatus.submitted,
        )
        session.add(row)
        requests[q.id] = row
    reviewers = []
    for r in problem.reviewers:
        row = Reviewer(
            partnership_id=partnerships[r.partnership].id or 0,
            name=f"Reviewer {r.id}",
            email=f"{r.id}@bench.peermatch.example",
            agency=r.agency,
            capacity=r.capacity,
        )
        session.add(row)
        reviewers.append((r, row))
    session.flush()
    for r, row in reviewers:
        assert row.id is not None
        session.add_all(ReviewerSkill(reviewer_id=row.id, skill=s) for s in sorted(r.skills))
        session.add_all(
            Unavailability(reviewer_id=row.id, starts_on=g.start, ends_on=g.end)
            for g in r.unavailable
        )
        session.add_all(
            ReviewerConflict(reviewer_id=row.id, partnership_id=partnerships[c].id or 0)
            for c in sorted(r.conflicts)
            if c in partnerships
        )
    accounts.create_user(
        session,
        email=NATIONAL_EMAIL,
        name="National Coordinator",
        password=PASSWORD,
        region_id=region.id,
        actor="bench",
    )
    session.flush()
    return region.id


def latencies(client: httpx.Client, seconds: float, until: object = None) -> list[float]:
    found = []
    end = time.perf_counter() + seconds
    page = 0
    while time.perf_counter() < end and not (callable(until) and until()):
        page = page % 20 + 1
        started = time.perf_counter()
        response = client.get(f"/reviewers?page={page}")
        found.append(time.perf_counter() - started)
        assert response.status_code == 200
    return found


def _p(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] * 1000 if len(values) > 1 else values[0]


def national_part(engine: Engine, settings: Settings, time_limit: float) -> None:
    started = time.perf_counter()
    with session_scope(engine) as session:
        region_id = load_national(session)
    print(f"national region loaded into the database in {time.perf_counter() - started:.0f} s")
    settings = replace(settings, solver_time_limit=time_limit)
    with serve(settings, engine) as base:
        client = _signed_in(base, NATIONAL_EMAIL, PASSWORD)
        quiet = latencies(client, 15)
        print(
            f"GET /reviewers, no run: p50 {_p(quiet, 50):.0f} ms, p95 {_p(quiet, 95):.0f} ms "
            f"({len(quiet)} requests)"
        )
        clicked = time.perf_counter()
        run_id = _start(client)
        print(
            f"POST /runs (build the national problem, store it) answered in "
            f"{time.perf_counter() - clicked:.1f} s"
        )

        def ended() -> bool:
            with Session(engine) as s:
                run = s.get(MatchRun, run_id)
                return run is None or run.status not in (RunStatus.queued, RunStatus.running)

        busy = latencies(client, 10 * time_limit + 120, until=ended)
        with Session(engine) as s:
            run = s.get(MatchRun, run_id)
            assert run is not None
            print(
                f"national run {run_id}: {run.status}, filled {run.filled} of {run.seats}, "
                f"imbalance {run.imbalance}, solver {run.seconds} s, "
                f"wall {time.perf_counter() - clicked:.0f} s"
                + (f" ({run.error})" if run.error else "")
            )
        print(
            f"GET /reviewers while it solved: p50 {_p(busy, 50):.0f} ms, "
            f"p95 {_p(busy, 95):.0f} ms, max {max(busy) * 1000:.0f} ms ({len(busy)} requests)"
        )
        assert region_id


def fresh_database(tmp: str) -> tuple[str, Engine]:
    """PEERMATCH_BENCH_DATABASE_URL wiped, or a SQLite file in ``tmp``; migrated."""
    url = os.environ.get("PEERMATCH_BENCH_DATABASE_URL") or f"sqlite:///{tmp}/bench.sqlite3"
    if url.startswith("postgresql"):
        wipe = make_engine(url)
        with wipe.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        wipe.dispose()
    upgrade(url)
    return url, make_engine(url)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="the demo region only")
    parser.add_argument("--national", action="store_true", help="the national region only")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--time-limit", type=float, default=60.0)
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as tmp:
        url, engine = fresh_database(tmp)
        settings = replace(Settings(), mode="test", database_url=url, solver_time_limit=30.0)
        print(f"database: {url.split(':', 1)[0]}")
        if not args.national:
            demo_part(engine, settings, args.repeats)
        if not args.quick:
            national_part(engine, settings, args.time_limit)
        engine.dispose()
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
