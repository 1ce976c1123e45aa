"""Reading and writing the files named on the command line, with one-line errors."""

from __future__ import annotations

from pathlib import Path

import click

from peermatch.cli.errors import Failure, InputError


def read_bytes(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None


def read_text(path: str) -> str:
    try:
        return read_bytes(path).decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None


def check_writable(path: str | None) -> None:
    """Refuse an impossible ``--out`` before any work is done (exit 2)."""
    if path is None:
        return
    target = Path(path)
    if target.is_dir():
        raise InputError(f"{path}: is a directory")
    if not target.parent.is_dir():
        raise InputError(f"{path}: no such directory {str(target.parent)!r}")


def write_output(path: str | None, text: str) -> None:
    """Print ``text``, or write it to ``path`` (a failure there, after the check, exits 1)."""
    if path is None:
        click.echo(text, nl=False)
        return
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise Failure(f"{path}: cannot write ({exc.strerror or exc})") from None
