"""Progress as events. Core code calls a Reporter; the CLI picks which one shows them.

The base Reporter shows nothing and records everything (for `--json` and the summary table);
PlainReporter writes one timestamped line per event (cron mail, Airflow task logs);
RichReporter keeps a live display at a terminal and ends with a summary table.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field
from typing import TextIO

from elt_cli.statements import QueryResult, Statement

PRICE_PER_TB = 5.0  # USD per TB scanned, Athena's list price in most regions
MIN_BILLED_BYTES = 10 * 1000**2  # each query is billed at least 10 MB


def estimated_cost(result: QueryResult) -> float:
    """Athena's bill for one query, by its pricing page: data scanned, rounded up to the
    megabyte, at least 10 MB. DDL and failed queries are free; a cancelled query (a timeout,
    Ctrl-C) is billed for what it scanned before it stopped."""
    if not result.query_id or result.statement_type == "DDL" or result.state == "FAILED":
        return 0.0
    if result.state == "CANCELLED" and not result.bytes_scanned:
        return 0.0
    billed = max(math.ceil(result.bytes_scanned / 1000**2) * 1000**2, MIN_BILLED_BYTES)
    return billed * PRICE_PER_TB / 1000**4


def human_bytes(count: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1000:
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000
    return f"{count:.1f} TB"


@dataclass
class StepRecord:
    step: str
    detail: str
    started: float
    seconds: float | None = None
    outcome: str = ""


@dataclass
class QueryRecord:
    step: str
    template: str
    subject: str
    query_id: str | None
    started: float
    state: str = "RUNNING"
    result: QueryResult | None = None


@dataclass
class Reporter:
    """Records every event; shows nothing."""

    steps: list[StepRecord] = field(default_factory=list)
    queries: list[QueryRecord] = field(default_factory=list)
    outputs: list[dict] = field(default_factory=list)
    plan: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def current_step(self) -> str:
        running = [s for s in self.steps if s.seconds is None]
        return running[-1].step if running else ""

    def step_started(self, step: str, detail: str = "") -> None:
        self.steps.append(StepRecord(step, detail, time.monotonic()))

    def step_finished(self, step: str, outcome: str = "") -> None:
        for record in reversed(self.steps):
            if record.step == step and record.seconds is None:
                record.seconds = time.monotonic() - record.started
                record.outcome = outcome
                break

    def query_started(self, statement: Statement, query_id: str | None = None) -> QueryRecord:
        record = QueryRecord(
            self.current_step,
            statement.template,
            statement.subject,
            query_id,
            time.monotonic(),
            state="QUEUED" if query_id else "RUNNING",
        )
        self.queries.append(record)
        return record

    def query_state(self, query_id: str, state: str) -> bool:
        """A status check saw `state`; True when it changed."""
        for record in self.queries:
            if record.query_id == query_id and record.state != state:
                record.state = state
                return True
        return False

    def query_finished(self, record: QueryRecord, result: QueryResult) -> None:
        record.state, record.result = result.state, result

    def output(self, uri: str, rows: int | None = None) -> None:
        self.outputs.append({"step": self.current_step, "uri": uri, "rows": rows})

    def retry(self, what: str, attempt: int, wait: float) -> None:
        self.note(f"{what}: throttled, retry {attempt} in {wait:.1f}s")

    def note(self, message: str) -> None:
        self.notes.append(message)

    def planned(self, kind: str, text: str) -> None:
        """--dry-run: a statement (kind "sql") or storage action it would run."""
        self.plan.append({"step": self.current_step, "kind": kind, "text": text})

    def finish(self, error: str | None = None) -> None:
        """The command is over, whatever its outcome."""

    # -- summaries --------------------------------------------------------------------------------

    def totals(self) -> dict:
        results = [q.result for q in self.queries if q.result and q.result.query_id]
        return {
            "queries": len(results),
            "bytes_scanned": sum(r.bytes_scanned for r in results),
            "cost_usd": round(sum(estimated_cost(r) for r in results), 6),
        }

    def document(self, command: str, exit_code: int, error: str | None) -> dict:
        """The --json summary of the run."""
        return {
            "command": command,
            "status": "succeeded" if exit_code == 0 else "failed",
            "exit_code": exit_code,
            "error": error,
            "steps": [
                {
                    "step": s.step,
                    "detail": s.detail,
                    "status": "succeeded" if s.seconds is not None else "failed",
                    "seconds": round(s.seconds, 3) if s.seconds is not None else None,
                    "outcome": s.outcome,
                }
                for s in self.steps
            ],
            "queries": [
                {
                    "step": q.step,
                    "template": q.template,
                    "subject": q.subject,
                    "query_id": q.query_id,
                    "state": q.state,
                    "seconds": round(q.result.seconds, 3) if q.result else None,
                    "bytes_scanned": q.result.bytes_scanned if q.result else 0,
                    "cost_usd": round(estimated_cost(q.result), 6) if q.result else 0.0,
                }
                for q in self.queries
            ],
            "outputs": self.outputs,
            "plan": self.plan,
            "notes": self.notes,
            "total": self.totals(),
        }


def _query_line(record: QueryRecord) -> str:
    result = record.result
    text = f"{record.template}"
    if record.subject:
        text += f" [{record.subject}]"
    text += f" {record.state}"
    if result:
        text += f" in {result.seconds:.1f}s"
        if result.query_id:
            text += (
                f", query {result.query_id}, {human_bytes(result.bytes_scanned)} scanned, "
                f"est. ${estimated_cost(result):.6f}"
            )
    elif record.query_id:
        text += f", query {record.query_id}"
    return text


@dataclass
class PlainReporter(Reporter):
    """One timestamped line per event, no colours or carriage returns, nothing per poll."""

    stream: TextIO = field(default_factory=lambda: sys.stderr)
    plan_stream: TextIO = field(default_factory=lambda: sys.stdout)
    show_plan: bool = True

    def _line(self, text: str) -> None:
        print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {text}", file=self.stream, flush=True)

    def step_started(self, step: str, detail: str = "") -> None:
        super().step_started(step, detail)
        self._line(f"{step}: started{' ' + detail if detail else ''}")

    def step_finished(self, step: str, outcome: str = "") -> None:
        super().step_finished(step, outcome)
        seconds = next(s.seconds for s in reversed(self.steps) if s.step == step)
        self._line(f"{step}: done in {seconds:.1f}s{' - ' + outcome if outcome else ''}")

    def query_started(self, statement: Statement, query_id: str | None = None) -> QueryRecord:
        record = super().query_started(statement, query_id)
        if query_id:  # on Athena a query has a life worth logging; locally it is just done
            self._line(f"{record.step}: {_query_line(record)}")
        return record

    def query_state(self, query_id: str, state: str) -> bool:
        changed = super().query_state(query_id, state)
        record = next((q for q in self.queries if q.query_id == query_id), None)
        if changed and record and state not in ("SUCCEEDED", "FAILED", "CANCELLED"):
            self._line(f"{record.step}: {_query_line(record)}")
        return changed

    def query_finished(self, record: QueryRecord, result: QueryResult) -> None:
        super().query_finished(record, result)
        self._line(f"{record.step}: {_query_line(record)}")

    def output(self, uri: str, rows: int | None = None) -> None:
        super().output(uri, rows)
        self._line(f"{self.current_step}: wrote {uri}" + (f" ({rows} rows)" if rows else ""))

    def note(self, message: str) -> None:
        super().note(message)
        self._line(message)

    def planned(self, kind: str, text: str) -> None:
        super().planned(kind, text)
        if self.show_plan:
            print(
                f"-- {self.current_step}\n{text};\n" if kind == "sql" else f"-- {text}\n",
                file=self.plan_stream,
                flush=True,
            )

    def finish(self, error: str | None = None) -> None:
        totals = self.totals()
        if totals["queries"]:
            self._line(
                f"total: {totals['queries']} Athena queries, "
                f"{human_bytes(totals['bytes_scanned'])} scanned, "
                f"est. ${totals['cost_usd']:.6f}"
            )


@dataclass
class RichReporter(Reporter):
    """A live display at a terminal (stderr), then a summary table."""

    show_plan: bool = True

    def __post_init__(self):
        from rich.console import Console
        from rich.live import Live

        self.console = Console(stderr=True)
        self.out = Console()
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
        for step in self.steps:
            done = step.seconds is not None
            seconds = step.seconds if done else now - step.started
            mark = "[green]✓[/]" if done else Spinner("dots", style="cyan")
            table.add_row(
                mark, f"[bold]{step.step}[/] {step.detail}", f"{seconds:.1f}s", step.outcome
            )
            for query in (q for q in self.queries if q.step == step.step):
                finished = query.result is not None
                seconds = query.result.seconds if finished else now - query.started
                scanned = (
                    human_bytes(query.result.bytes_scanned) if finished and query.query_id else ""
                )
                mark = "  " if finished else Spinner("dots", style="yellow")
                table.add_row(
                    mark,
                    f"  {query.template} {query.subject}".rstrip(),
                    f"{seconds:.1f}s",
                    f"{query.state} {scanned}".strip(),
                )
        return table

    def note(self, message: str) -> None:
        super().note(message)
        self.console.print(f"[dim]{message}[/]")

    def planned(self, kind: str, text: str) -> None:
        from rich.syntax import Syntax

        super().planned(kind, text)
        if self.show_plan:
            self.out.print(f"[dim]-- {self.current_step}[/]")
            self.out.print(
                Syntax(text + ";", "sql", word_wrap=True) if kind == "sql" else f"[dim]-- {text}[/]"
            )

    def finish(self, error: str | None = None) -> None:
        from rich.table import Table

        self.live.stop()
        if not self.steps:
            return
        athena = any(q.query_id for q in self.queries)
        table = Table(title="summary", title_justify="left")
        columns = ["step", "query", "genre", "state", "time"]
        columns += ["query id", "scanned", "cost"] if athena else []
        for column in columns + ["output"]:
            table.add_column(
                column,
                justify="right" if column in ("time", "scanned", "cost") else "left",
                overflow="fold",
            )
        for step in self.steps:
            state = "done" if step.seconds is not None else "[red]failed[/]"
            outputs = "\n".join(o["uri"] for o in self.outputs if o["step"] == step.step)
            table.add_row(
                step.step,
                "",
                "",
                state,
                f"{step.seconds or 0:.1f}s",
                *([""] * 3 if athena else []),
                outputs,
                style="bold",
            )
            for q in (q for q in self.queries if q.step == step.step):
                r = q.result
                extra = (
                    [
                        q.query_id or "",
                        human_bytes(r.bytes_scanned) if r else "",
                        f"${estimated_cost(r):.6f}" if r else "",
                    ]
                    if athena
                    else []
                )
                table.add_row(
                    "", q.template, q.subject, q.state, f"{r.seconds:.1f}s" if r else "", *extra, ""
                )
        if athena:
            totals = self.totals()
            table.add_row(
                "total",
                f"{totals['queries']} queries",
                "",
                "",
                "",
                "",
                human_bytes(totals["bytes_scanned"]),
                f"${totals['cost_usd']:.6f}",
                "",
                style="bold",
            )
        self.console.print(table)
