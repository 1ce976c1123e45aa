"""Browser fixtures: a live server on the test database (SQLite, or PostgreSQL when
PEERMATCH_TEST_DATABASE_URL is set) and a headless Chromium page."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from live_server import CHROMIUM, CHROMIUM_ARGS, require_chromium, serve
from sqlalchemy.engine import Engine

from peermatch.settings import Settings

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


@pytest.fixture
def live_url(database_url: str, engine: Engine) -> Iterator[str]:
    settings = replace(Settings(), mode="test", database_url=database_url)
    with serve(settings, engine) as url:
        yield url


class _SharedChromium:
    """One Chromium for a run of consecutive browser tests (launching one costs seconds); each
    test gets it with no pages open. Closed when the next test is not a browser test, so no
    Playwright event loop outlives the browser tests."""

    def __init__(self) -> None:
        self._playwright: Any = None
        self.chromium: Any = None

    def get(self) -> Any:
        if self.chromium is None or not self.chromium.is_connected():
            self.close()
            from playwright.sync_api import sync_playwright

            self._playwright = sync_playwright()
            playwright = self._playwright.__enter__()
            self.chromium = playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
            )
        return self.chromium

    def close(self) -> None:
        chromium, playwright, self.chromium, self._playwright = (
            self.chromium,
            self._playwright,
            None,
            None,
        )
        try:
            if chromium is not None:
                chromium.close()
        finally:
            if playwright is not None:
                playwright.__exit__(None, None, None)


_CHROMIUM = _SharedChromium()


@pytest.fixture
def browser() -> Iterator[object]:
    require_chromium()
    chromium = _CHROMIUM.get()
    try:
        yield chromium
    finally:
        for context in chromium.contexts:  # what the test opened, even if it failed
            context.close()


@pytest.hookimpl(trylast=True)  # after the test's fixtures are torn down
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    if nextitem is None or "browser" not in getattr(nextitem, "fixturenames", ()):
        _CHROMIUM.close()


def pytest_sessionfinish() -> None:
    _CHROMIUM.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
