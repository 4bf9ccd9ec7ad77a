"""The command line: a thin click layer over the Python API (api.py). `ending` turns every way
out into the exit code and one line; `app` shows a command's result; `options` and `parameters`
are the global options and the job's; `commands` the commands themselves."""

from elt_cli.cli.commands import cli, main

__all__ = ["cli", "main"]
