"""The matching engine is pure: importing all of it pulls in no database, web or template code."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import peermatch.matching

FORBIDDEN = ("sqlmodel", "sqlalchemy", "litestar", "jinja2", "alembic", "psycopg")

PROBE = """
import importlib, pkgutil, sys
import peermatch.matching as package
names = [m.name for m in pkgutil.walk_packages(package.__path__, "peermatch.matching.")]
for name in names:
    importlib.import_module(name)
print(",".join(names))
print(",".join(sorted({m.split(".")[0] for m in sys.modules})))
"""


def test_matching_modules_import_no_database_or_web_code():
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=True
    )
    imported, loaded = (line.split(",") for line in result.stdout.strip().splitlines())
    expected = {
        m.name for m in pkgutil.walk_packages(peermatch.matching.__path__, "peermatch.matching.")
    }
    assert set(imported) == expected and "peermatch.matching.io" in expected
    assert [name for name in FORBIDDEN if name in loaded] == []
