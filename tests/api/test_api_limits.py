"""The in-memory limits, on a clock the test moves: a fixed window per key, and a lockout per
address that doubles each time."""

from __future__ import annotations

from peermatch.api.auth import MAX_LOCKOUT, FailureThrottle, RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_key_gets_its_calls_back_when_the_window_ends():
    clock = Clock()
    limiter = RateLimiter(limit=2, clock=clock)
    assert [limiter.hit("k"), limiter.hit("k")] == [None, None]
    assert limiter.hit("k") == 60
    clock.now += 45
    assert limiter.hit("k") == 15
    clock.now += 15
    assert limiter.hit("k") is None


def test_a_lockout_doubles_each_time_up_to_its_ceiling():
    clock = Clock()
    throttle = FailureThrottle(limit=2, clock=clock)
    lengths = []
    for _ in range(7):
        assert throttle.failed("1.2.3.4") is None
        lengths.append(throttle.failed("1.2.3.4"))
        assert throttle.locked_for("1.2.3.4") == lengths[-1]
        assert throttle.locked_for("5.6.7.8") is None
        clock.now += lengths[-1]
        assert throttle.locked_for("1.2.3.4") is None
    assert lengths == [60, 120, 240, 480, 900, 900, 900]
    assert MAX_LOCKOUT == 900
