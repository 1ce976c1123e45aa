"""A non-editable install runs the service: the wheel carries the templates, vocabularies, demo
data, static files and migrations, and the app finds them outside the checkout."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SMOKE = textwrap.dedent(
    """
    import sys
    from dataclasses import replace
    from pathlib import Path

    import peermatch
    assert Path(peermatch.__file__).is_relative_to(Path(sys.argv[1])), peermatch.__file__

    from litestar.testing import TestClient
    from peermatch.db import make_engine, upgrade
    from peermatch.settings import Settings
    from peermatch.vocabulary import load
    from peermatch.web import create_app

    url = f"sqlite:///{sys.argv[2]}"
    upgrade(url)  # the packaged migrations
    assert load().agencies
    settings = replace(Settings(), mode="test", database_url=url)
    with TestClient(create_app(settings, make_engine(url))) as client:
        page = client.get("/sign-in")
        assert page.status_code == 200 and "Sign in to PeerMatch" in page.text, page.text[:300]
        assert client.get("/static/peermatch.css").status_code == 200
        assert client.get("/schema").status_code == 200
        assert client.get("/no-such-page").status_code == 404
    print("installed service ok")
    """
)


@pytest.mark.slow
def test_a_wheel_installed_outside_the_checkout_runs_the_service(tmp_path):
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    dist, site = tmp_path / "dist", tmp_path / "site"
    subprocess.run(
        [*pip, "wheel", str(ROOT), "--no-deps", "--no-build-isolation", "-w", str(dist)],
        check=True,
        cwd=tmp_path,
    )
    (wheel,) = dist.glob("peermatch-*.whl")
    subprocess.run([*pip, "install", "--no-deps", "--target", str(site), str(wheel)], check=True)
    result = subprocess.run(
        [sys.executable, "-c", SMOKE, str(site), str(tmp_path / "smoke.sqlite3")],
        cwd=tmp_path,
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "installed service ok" in result.stdout
