"""``peermatch serve`` refuses an unsafe configuration before it listens on anything."""

from __future__ import annotations

from click.testing import CliRunner

from peermatch.cli import main


def test_it_refuses_to_serve_production_with_the_demo_secret():
    result = CliRunner().invoke(
        main,
        ["serve"],
        env={"PEERMATCH_MODE": "production", "PEERMATCH_DATABASE_URL": "sqlite:///x.db"},
    )
    assert result.exit_code == 2
    assert result.output.count("\n") == 1
    assert "PEERMATCH_SECRET_KEY" in result.output


def test_it_refuses_a_port_that_is_not_a_port():
    result = CliRunner().invoke(main, ["serve", "--port", "99999"])
    assert result.exit_code == 2
