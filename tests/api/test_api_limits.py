"""The limits, on a clock the test moves: a fixed window per key counted in the database (so
shared by every process using it), and failed key checks per address, counted in the database
too, blocking for longer after each further failure."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from dataclasses import replace

from litestar.testing import TestClient
from sqlmodel import Session, select

from peermatch import throttle
from peermatch.api import auth
from peermatch.api.auth import RateLimiter
from peermatch.db import make_engine
from peermatch.models import ApiRateWindow
from peermatch.web import create_app


class WallClock:
    """Naive UTC, as the rate limiter reads it; starts 10 s into a minute."""

    def __init__(self) -> None:
        self.now = dt.datetime(2027, 3, 1, 9, 0, 10)

    def __call__(self) -> dt.datetime:
        return self.now


def _hit(engine, limiter: RateLimiter, name: str) -> int | None:
    with Session(engine) as session:
        wait = limiter.hit(session, name)
        session.commit()
        return wait


def test_a_key_gets_its_calls_back_when_the_window_ends(engine):
    clock = WallClock()
    limiter = RateLimiter(limit=2, clock=clock)
    assert [_hit(engine, limiter, "k"), _hit(engine, limiter, "k")] == [None, None]
    assert _hit(engine, limiter, "k") == 50
    assert _hit(engine, limiter, "other") is None
    clock.now += dt.timedelta(seconds=35)
    assert _hit(engine, limiter, "k") == 15
    clock.now += dt.timedelta(seconds=15)
    assert _hit(engine, limiter, "k") is None
    # The new window's first call took the key's old window away; other keys keep theirs.
    with Session(engine) as session:
        rows = session.exec(select(ApiRateWindow)).all()
        assert sorted((r.key, r.window_start.minute, r.calls) for r in rows) == [
            ("k", 1, 1),
            ("other", 0, 1),
        ]


def test_two_app_processes_on_one_database_share_one_limit(
    monkeypatch, settings, database_url, alpha_key
):
    # Two app instances, each with its own engine (its own connections), as two web processes.
    # Their clocks stand still, so no minute can end between the calls.
    monkeypatch.setattr(auth, "_utcnow", WallClock())
    limited = replace(settings, api_rate_limit=3)
    engines = [make_engine(database_url), make_engine(database_url)]
    try:
        with (
            TestClient(create_app(limited, engines[0])) as one,
            TestClient(create_app(limited, engines[1])) as two,
        ):
            headers = {"Authorization": f"Bearer {alpha_key}"}
            answers = [c.get("/api/v1/ledger", headers=headers) for c in (one, two, one, two)]
            assert [r.status_code for r in answers] == [200, 200, 200, 429]
            refused = answers[-1]
            assert refused.headers["content-type"].startswith("application/problem+json")
            assert refused.headers["retry-after"] == "50"
            assert refused.json()["status"] == 429
            assert "3 requests a minute" in refused.json()["detail"]
            assert one.get("/api/v1/ledger", headers=headers).status_code == 429
    finally:
        for e in engines:
            e.dispose()


_COUNT_CALLS = """
import datetime as dt, sys
from sqlmodel import Session
from peermatch.api.auth import RateLimiter
from peermatch.db import make_engine

engine = make_engine(sys.argv[1])
limiter = RateLimiter(limit=int(sys.argv[2]), clock=lambda: dt.datetime(2027, 3, 1, 9, 0, 10))
allowed = 0
for _ in range(int(sys.argv[3])):
    with Session(engine) as session:
        allowed += limiter.hit(session, "shared") is None
        session.commit()
print(allowed)
"""


def test_parallel_processes_never_let_more_calls_through_than_the_limit(engine, database_url):
    # Three processes at once, 40 calls each, in one window with a limit of 50: exactly 50 get
    # through, and every call is counted once (the upsert loses none and doubles none).
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _COUNT_CALLS, database_url, "50", "40"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(3)
    ]
    allowed = []
    try:
        for process in processes:
            out, err = process.communicate(timeout=120)
            assert process.returncode == 0, err.decode()
            allowed.append(int(out))
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
            process.communicate()
    assert sum(allowed) == 50
    with Session(engine) as session:
        [row] = session.exec(select(ApiRateWindow)).all()
        assert (row.key, row.calls) == ("shared", 120)


def test_failed_key_checks_block_longer_each_time_up_to_a_ceiling(engine):
    rule = throttle.api_rule(3)
    key = (throttle.api_key("203.0.113.9"),)
    now = dt.datetime(2027, 3, 1, 9, 0, 0)
    blocks = []
    with Session(engine) as session:
        for _ in range(10):
            assert throttle.wait_seconds(session, key, now) == 0
            blocks.append(throttle.record_failure(session, key, now, rule))
            session.commit()
            if blocks[-1]:
                assert throttle.wait_seconds(session, key, now) == blocks[-1]
                assert throttle.wait_seconds(session, (throttle.api_key("x"),), now) == 0
            now += dt.timedelta(seconds=blocks[-1])
    assert blocks == [0, 0, 5, 10, 20, 40, 80, 160, 320, 640]
    assert throttle.delay_after(40, rule) == throttle.MAX_DELAY


def test_two_app_processes_share_the_count_of_failed_key_checks(settings, database_url, alpha_key):
    strict = replace(settings, api_auth_failures=3)
    engines = [make_engine(database_url), make_engine(database_url)]
    wrong = {"Authorization": f"Bearer {alpha_key[:-4]}AAAA"}
    right = {"Authorization": f"Bearer {alpha_key}"}
    try:
        with (
            TestClient(create_app(strict, engines[0])) as one,
            TestClient(create_app(strict, engines[1])) as two,
        ):
            answers = [c.get("/api/v1/ledger", headers=wrong) for c in (one, two, one)]
            assert [r.status_code for r in answers] == [401, 401, 401]
            for c in (one, two):  # the third failure, wherever it happened, blocks both
                refused = c.get("/api/v1/ledger", headers=right)
                assert refused.status_code == 429
                assert refused.headers["content-type"].startswith("application/problem+json")
                assert 1 <= int(refused.headers["retry-after"]) <= 5
    finally:
        for e in engines:
            e.dispose()
