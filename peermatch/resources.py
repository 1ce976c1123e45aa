"""Where PeerMatch's own files are: the checkout's ``templates/`` and ``data/`` folders when it
runs from a checkout (editable install, tests), else the copies packaged inside the installed
``peermatch`` (setup.py ships them as ``peermatch/templates`` and ``peermatch/data``)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from peermatch.settings import PROJECT_ROOT


def resource_dir(name: str) -> Path:
    """The ``templates`` or ``data`` folder."""
    checkout = PROJECT_ROOT / name
    if checkout.is_dir():
        return checkout
    return Path(str(files("peermatch") / name))
