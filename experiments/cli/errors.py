"""How a ``wsim`` command ends on invalid input: one ``error:`` line on stderr.

Invalid input (a scenario, a spec, an option value, an output directory) exits with code
1 (`fail`); a usage error (an unknown command or option, a missing argument, a value of
the wrong type) with code 2, in the same one-line style (`UsageInErrorStyle`).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any, NoReturn

import typer
from typer.core import TyperGroup

EXIT_INVALID = 1  # invalid input; usage errors keep the code 2 they come with
NO_COMMAND = "NoArgsIsHelpError"  # the usage error of `wsim` alone (Typer does not export it)


def fail(message: str) -> NoReturn:
    """Print one ``error:`` line to stderr and exit with code `EXIT_INVALID`."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(EXIT_INVALID)


class UsageInErrorStyle(TyperGroup):
    """The ``wsim`` command group, whose usage errors read like every other error.

    Typer prints a usage error as a usage line, a hint and a boxed message; here it is one
    ``error: <what> (see 'wsim <command> --help')`` line on stderr, with the usage
    error's exit code (2). Asking for no command still prints the help.
    """

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """Run the command line; in standalone mode, exit with its code."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, False, **extra)
        except typer.TyperException as err:
            _show(err)
            sys.exit(err.exit_code)
        except typer.Abort:
            typer.echo("error: aborted", err=True)
            sys.exit(EXIT_INVALID)
        sys.exit(code if isinstance(code, int) else 0)


def _show(err: typer.TyperException) -> None:
    """Print a usage error as one ``error:`` line (nothing more when it is the help)."""
    if type(err).__name__ == NO_COMMAND:  # the help, already printed, is the answer
        return
    context = getattr(err, "ctx", None)
    message = err.format_message()
    if context is None:
        typer.echo(f"error: {message}", err=True)
    else:
        typer.echo(f"error: {message} (see '{context.command_path} --help')", err=True)


def needs(extra: str) -> None:
    """Fail with one ``error:`` line if a package of the pip extra `extra` is missing."""
    from experiments.extras import MissingExtraError, require

    try:
        require(extra)
    except MissingExtraError as err:
        fail(str(err))
