"""What every command gets (the job on its lake, as a library object, and how to report) and
how its result reaches stdout: text or a table, or the `--json` document."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from typing import Any

import click

from elt_cli.api import Elt, Result
from elt_cli.cli.ending import for_terminal, outcome
from elt_cli.config import Settings
from elt_cli.errors import EXIT_INTERRUPTED, EXIT_TERMINATED
from elt_cli.job import JobSpec
from elt_cli.report import PlainReporter, Reporter, RichReporter


@dataclass
class App:
    elt: Elt
    json: bool
    lines: list[Any] = field(default_factory=list)  # for stdout: text, or rich tables

    @property
    def reporter(self) -> Reporter:
        return self.elt.reporter

    @property
    def spec(self) -> JobSpec:
        return self.elt.spec

    @property
    def settings(self) -> Settings:
        return self.elt.settings

    def echo(self, text: str) -> None:
        """A command's result for stdout, printed once progress is off the terminal."""
        self.lines.append(text)

    def show(self, result: Result, lines: list[str] | None = None) -> None:
        """A command's result: `value` in the --json document, `lines` (or the value, if it
        is text) on stdout, its notes on stderr."""
        self.reporter.result = result.value
        if lines is not None:
            self.lines += lines
        elif isinstance(result.value, str):
            self.lines.append(result.value)
        for note in result.notes:
            click.echo(for_terminal(f"Note: {note}"), err=True)

    def table(self, headers: list[str], rows: list[tuple]) -> None:
        """A result table: aligned at a terminal, tab-separated lines for a pipe."""
        if sys.stdout.isatty():
            from rich.table import Table

            table = Table(*headers, box=None, pad_edge=False)
            for row in rows:
                table.add_row(*map(str, row))
            self.lines.append(table)
        else:
            self.lines += ["\t".join(map(str, row)) for row in rows]

    def flush(self, command: str | None, error: BaseException | None) -> None:
        code, message = outcome(error, hint=False)
        self.reporter.finish(message, interrupted=code in (EXIT_INTERRUPTED, EXIT_TERMINATED))
        if not self.json:
            from rich.console import Console

            console = Console(soft_wrap=True)
            for line in self.lines:
                if isinstance(line, str):
                    click.echo(line)
                else:
                    console.print(line)
        elif not isinstance(error, click.exceptions.Exit):
            # Under --json the document is all of stdout, so `elt --json run | jq` works, and
            # one line (indented only at a terminal): a BashOperator pushes the last line of
            # stdout to XCom.
            document = self.reporter.document(command or "", code, message)
            click.echo(json.dumps(document, indent=2 if sys.stdout.isatty() else None))


def make_reporter(
    command: str | None, progress: bool | None, as_json: bool, dry_run: bool, root: str
) -> Reporter:
    """Rich at a terminal, plain timestamped lines otherwise (cron, Airflow, pipes); none at
    all for a command that shows only its answer."""
    if command in (None, "config", "check", "test"):
        progress = False
    elif progress is None:
        progress = sys.stderr.isatty() and os.environ.get("TERM") != "dumb"
    if not progress:
        return PlainReporter(dry_run=dry_run, root=root, show_plan=dry_run and not as_json)
    return RichReporter(dry_run=dry_run, root=root, show_plan=dry_run and not as_json)


def case_lines(outcomes: list[dict]) -> list[str]:
    """`ok    sci_fi (1 file)`, or `FAIL  sci_fi` and what differs, indented."""
    lines = []
    for o in outcomes:
        files = f" ({len(o['files'])} file{'s' if len(o['files']) != 1 else ''})"
        lines.append(f"{'ok' if o['passed'] else 'FAIL':<5} {o['case']}{files * o['passed']}")
        lines += [f"      {problem}" for problem in o["problems"]]
    return lines
