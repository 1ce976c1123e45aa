"""``peermatch`` command line. Each subject registers its commands from its own module.

Exit codes: 0 success, 1 failure, 2 bad arguments or input (one-line message on stderr).
"""

from __future__ import annotations

import importlib

import click

# Modules that add commands to ``main``; each defines ``register(main: click.Group)``.
_COMMAND_MODULES = ("peermatch.cli.matching", "peermatch.cli.service", "peermatch.cli.registry")


@click.group()
def main() -> None:
    """PeerMatch: staff safeguarding peer reviews through regional reciprocal arrangements."""


for _name in _COMMAND_MODULES:
    try:
        _module = importlib.import_module(_name)
    except ModuleNotFoundError as exc:  # a subject not built yet
        if exc.name != _name:
            raise
        continue
    _module.register(main)
