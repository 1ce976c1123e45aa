"""How every ``peermatch`` command fails: one line on stderr, never a traceback.

Exit codes: 2 for bad arguments or input, 1 when something else fails (the database, the
solver, a file that cannot be written).
"""

from __future__ import annotations

from typing import Any

import click

EXIT_INPUT = 2
EXIT_FAILURE = 1


class InputError(click.ClickException):
    """Bad arguments or input: one line on stderr, exit code 2."""

    exit_code = EXIT_INPUT

    def show(self, file: Any = None) -> None:
        click.echo(f"Error: {self.format_message()}", err=True)


class Failure(InputError):
    """Well-formed input that could not be carried out: one line on stderr, exit code 1."""

    exit_code = EXIT_FAILURE


def _one_line(exc: click.UsageError, name: str | None) -> Exception:
    if isinstance(exc, click.exceptions.NoArgsIsHelpError) and exc.ctx is not None:
        # A bare group name is a request for help, not a mistake.
        click.echo(exc.ctx.get_help())
        return click.exceptions.Exit(0)
    return InputError(f"{name}: {exc.format_message()}" if name else exc.format_message())


class OneLineCommand(click.Command):
    """A bad option is reported as one line instead of click's usage block."""

    def make_context(self, info_name, args, parent=None, **extra):  # type: ignore[no-untyped-def]
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.UsageError as exc:
            raise _one_line(exc, info_name) from None


class OneLineGroup(click.Group):
    command_class = OneLineCommand
    group_class = type  # subgroups made with @group.group() are OneLineGroups too

    def make_context(self, info_name, args, parent=None, **extra):  # type: ignore[no-untyped-def]
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.UsageError as exc:
            raise _one_line(exc, info_name) from None

    def resolve_command(self, ctx, args):  # type: ignore[no-untyped-def]
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as exc:
            raise _one_line(exc, ctx.info_name) from None
