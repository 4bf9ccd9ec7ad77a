"""A live display at a terminal, then the summary table and the closing line."""

from __future__ import annotations

import time
from dataclasses import dataclass

from elt_cli.report.record import LOCAL_SQL_HEAD, Reporter, _subject
from elt_cli.statements import StepStatus


@dataclass
class RichReporter(Reporter):
    """A live display at a terminal (stderr), then the summary table and the closing line."""

    show_plan: bool = True

    def __post_init__(self):
        from rich.console import Console
        from rich.live import Live

        self.console = Console(stderr=True)
        self.out = Console(soft_wrap=True)  # the plan's SQL keeps its lines, to copy as it is
        self.live = Live(
            console=self.console,
            get_renderable=self._render,
            refresh_per_second=8,
            transient=True,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self.live.start()

    def _render(self):
        from rich.spinner import Spinner
        from rich.table import Table

        now = time.monotonic()
        table = Table.grid(padding=(0, 2))
        table.add_column(no_wrap=True)
        # the only column that wraps (between words), so rich narrows it first: a long list
        # of genres takes two lines, and no outcome is cut short
        table.add_column(overflow="fold")
        table.add_column(no_wrap=True, justify="right")
        table.add_column(no_wrap=True, overflow="ellipsis")
        for step in self.steps:
            done = step.status != StepStatus.RUNNING
            seconds = step.seconds if done else now - step.started
            marks = {
                StepStatus.SUCCEEDED: "[green]✓[/]",
                StepStatus.PLANNED: "[cyan]·[/]",
                StepStatus.SKIPPED: "[yellow]–[/]",
                StepStatus.FAILED: "[red]✗[/]",
                StepStatus.INTERRUPTED: "[red]✗[/]",
            }
            mark = marks[step.status] if done else Spinner("dots", style="cyan")
            table.add_row(
                mark, f"[bold]{step.step}[/] {step.detail}", f"{seconds or 0:.1f}s", step.outcome
            )
            for query in (q for q in self.queries if q.step == step.step):
                finished = query.result is not None
                seconds = query.result.seconds if query.result else now - query.started
                mark = "  " if finished else Spinner("dots", style="yellow")
                table.add_row(
                    mark,
                    f"  {query.template} {_subject(query)}".rstrip(),
                    f"{seconds:.1f}s",
                    query.state,
                )
        return table

    def note(self, message: str) -> None:
        super().note(message)
        self.console.print(f"[dim]{message}[/]", overflow="fold")

    def planned(self, kind: str, text: str) -> None:
        from rich.syntax import Syntax

        super().planned(kind, text)
        if self.show_plan:
            head = LOCAL_SQL_HEAD if kind == "duckdb" else f"-- {self.current_step}"
            self.out.print(f"[dim]{head}[/]")
            if kind in ("sql", "duckdb"):  # highlighted, each line as it is: copied, it runs
                self.out.print(Syntax(text, "sql").highlight(text + ";"), soft_wrap=True)
            else:
                self.out.print(f"[dim]-- would {text}[/]", soft_wrap=True)

    def finish(self, error: str | None = None, interrupted: bool = False) -> None:
        super().finish(error, interrupted)
        self.live.stop()
        if not self.steps:
            return
        if not self.listing:
            self.console.print(self.summary())
        if self.outputs:
            where = " in the lake" if self.root else ""
            self.console.print(f"{'Would write' if self.dry_run else 'Files'}{where}:")
            for o in self.outputs:
                rows = "" if o.rows is None else f" ({o.rows:,} row{'s' if o.rows != 1 else ''})"
                self.console.print(
                    f"  {self.relative(o.uri)}{rows}", overflow="fold", highlight=False
                )
        self.console.print(self.closing_line(error), style="bold", overflow="fold")

    def summary(self):
        """The summary table: nothing in it wraps mid-word (long values end with …)."""
        from rich import box
        from rich.table import Table

        table = Table(box=box.SIMPLE_HEAD, padding=(0, 1, 0, 0), show_edge=False, pad_edge=False)
        table.add_column("step", no_wrap=True)
        table.add_column("for", no_wrap=True, overflow="ellipsis", max_width=18)
        table.add_column("status", no_wrap=True)
        table.add_column("time", no_wrap=True, justify="right")
        table.add_column("rows", no_wrap=True, justify="right")
        table.add_column("details", overflow="fold", ratio=1)
        colour = {"OK": "green", "SKIPPED": "yellow", "PLANNED": "cyan"}
        for line in self.lines():
            table.add_row(
                line.step,
                line.subject,
                f"[{colour.get(line.status, 'red')}]{line.status}[/]",
                "" if line.seconds is None else f"{line.seconds:.1f}s",
                "" if line.rows is None else f"{line.rows:,}",
                line.details,
            )
        return table
