"""``python -m experiments.cli``: the ``wsim`` command."""

from experiments.cli.main import app

app()
