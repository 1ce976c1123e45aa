"""``peermatch`` command line. Each subject adds its commands from its own module.

Exit codes: 0 success, 1 failure, 2 bad arguments or input (one-line message on stderr).
"""

from __future__ import annotations

import click

from peermatch.cli import emails, matching, outbox, registry, runs, service
from peermatch.cli.errors import OneLineGroup


@click.group(cls=OneLineGroup)
def main() -> None:
    """PeerMatch: staff safeguarding peer reviews through regional reciprocal arrangements."""


for _subject in (matching, service, registry, runs, outbox, emails):
    _subject.register(main)
