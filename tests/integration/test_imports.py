"""Every package of the service imports on its own, first, in a fresh interpreter: a worker or a
script that needs only the API, the outbox or the engine must not depend on the web app having
been imported before it (an import cycle once made ``import peermatch.api`` fail)."""

from __future__ import annotations

import subprocess
import sys

import pytest

MODULES = [
    "peermatch.api",
    "peermatch.api.auth",
    "peermatch.web",
    "peermatch.outbox",
    "peermatch.staffing.invitations",
    "peermatch.staffing.match_runs",
    "peermatch.matching.solver",
    "peermatch.cli",
]


@pytest.mark.parametrize("module", MODULES)
def test_the_module_imports_first_in_a_fresh_interpreter(module):
    result = subprocess.run(
        [sys.executable, "-c", f"import {module}"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
