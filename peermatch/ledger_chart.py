"""The ledger's running balances as the geometry of a line chart, drawn by an SVG template.

Pure arithmetic: dates to x, balances to y, nice ticks. No styles here: the template gives each
series a CSS class (a strict Content-Security-Policy forbids inline styles).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

WIDTH, HEIGHT = 720, 360
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 16, 40


@dataclass(frozen=True)
class Series:
    code: str
    name: str
    points: str  # "x,y x,y ..." for a polyline
    last: int
    css: str


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    series: list[Series]
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    zero: float
    left: int = LEFT
    right: int = WIDTH - RIGHT
    top: int = TOP
    bottom: int = HEIGHT - BOTTOM


def _step(span: int) -> int:
    raw = max(1, span) / 5
    magnitude = 10 ** math.floor(math.log10(raw))
    for nice in (1, 2, 5, 10):
        if nice * magnitude >= raw:
            return int(max(1, nice * magnitude))
    return int(10 * magnitude)


def build(points: list[tuple[dt.date, dict[str, int]]], names: dict[str, str]) -> Chart:
    """``points`` from ``ledger.running_balances``: a step line per partnership."""
    start, end = points[0][0], points[-1][0]
    days = max(1, (end - start).days)
    values = [v for _, balances in points for v in balances.values()] or [0]
    low, high = min(0, *values), max(0, *values)
    step = _step(high - low)
    low = math.floor(low / step) * step
    high = max(math.ceil(high / step) * step, low + step)

    def x(day: dt.date) -> float:
        return round(LEFT + (WIDTH - LEFT - RIGHT) * (day - start).days / days, 1)

    def y(value: float) -> float:
        return round(HEIGHT - BOTTOM - (HEIGHT - TOP - BOTTOM) * (value - low) / (high - low), 1)

    codes = sorted(points[0][1])
    series = []
    for i, code in enumerate(codes):
        coords: list[str] = []
        previous: int | None = None
        for day, balances in points:
            value = balances[code]
            if previous is not None and value != previous:  # a step, not a slope
                coords.append(f"{x(day)},{y(previous)}")
            coords.append(f"{x(day)},{y(value)}")
            previous = value
        series.append(
            Series(
                code,
                names.get(code, code),
                " ".join(coords),
                previous or 0,
                f"pm-ledger-series-{i % 8}",
            )
        )
    y_ticks = [Tick(y(v), str(v)) for v in range(int(low), int(high) + 1, step)]
    x_days = sorted({start, start + (end - start) / 2, end})
    x_ticks = [Tick(x(d), f"{d.day} {d:%b %Y}") for d in x_days]
    return Chart(WIDTH, HEIGHT, series, y_ticks, x_ticks, y(0))
