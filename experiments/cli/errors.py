"""How a ``wsim`` command ends on invalid input: one ``error:`` line on stderr, exit code 1."""

from __future__ import annotations

from typing import NoReturn

import typer

EXIT_INVALID = 1  # exit code 2 (usage error) comes from click


def fail(message: str) -> NoReturn:
    """Print one ``error:`` line to stderr and exit with code `EXIT_INVALID`."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(EXIT_INVALID)
