"""Browser fixtures: a live server on the test database (SQLite, or PostgreSQL when
PEERMATCH_TEST_DATABASE_URL is set) and a headless Chromium page."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

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


@pytest.fixture
def browser() -> Iterator[object]:
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
