"""Regenerate the README screenshots from the demo data:

    .venv/bin/python tests/browser/make_screenshots.py

Serves a fresh demo database (migrated and seeded in a temporary directory) and photographs the
sign-in page, the home page, the reviewers list, a request and a matching proposal into
docs/screenshots/.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

from live_server import CHROMIUM, CHROMIUM_ARGS, serve
from playwright.sync_api import sync_playwright

from peermatch.db import make_engine, session_scope, upgrade
from peermatch.demo import DEMO_COORDINATOR_EMAIL, DEMO_COORDINATOR_PASSWORD, seed_demo
from peermatch.settings import Settings

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
HIGH_PROFILE_REQUEST = "DUN-2027-041"  # submitted, high profile: see data/demo/requests.json


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'demo.sqlite3'}"
        upgrade(url)
        engine = make_engine(url)
        with session_scope(engine) as session:
            seed_demo(session)
        settings = replace(Settings(), database_url=url)
        with serve(settings, engine) as base, sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM),
                args=[*CHROMIUM_ARGS, "--lang=en-GB"],
                env={"LANG": "en_GB.UTF-8", "LANGUAGE": "en_GB"},
            )
            page = browser.new_page(viewport={"width": 1280, "height": 800}, locale="en-GB")
            page.goto(f"{base}/sign-in")
            page.screenshot(path=str(OUT / "sign-in.png"))
            page.get_by_label("Email address").fill(DEMO_COORDINATOR_EMAIL)
            page.get_by_label("Password", exact=True).fill(DEMO_COORDINATOR_PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(f"{base}/")
            page.set_viewport_size({"width": 1280, "height": 1100})
            page.screenshot(path=str(OUT / "home.png"))
            page.goto(f"{base}/reviewers")
            page.screenshot(path=str(OUT / "reviewers.png"))
            page.goto(f"{base}/requests?status=submitted")
            page.get_by_role("link", name=HIGH_PROFILE_REQUEST).click()
            page.screenshot(path=str(OUT / "request.png"), full_page=True)
            page.goto(f"{base}/runs")
            page.get_by_role("button", name="Run matching").click()
            page.get_by_role("heading", name="Proposed teams").wait_for(timeout=90_000)
            page.screenshot(path=str(OUT / "proposal.png"), full_page=True)
            browser.close()
        engine.dispose()
    print(f"Wrote sign-in.png, home.png, reviewers.png, request.png and proposal.png to {OUT}")


if __name__ == "__main__":
    main()
