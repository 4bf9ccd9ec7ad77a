"""What engines are given (a Statement) and give back (a QueryResult)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum


class QueryState(StrEnum):
    """Where a query is: Athena's states, and elt's own for what it did not send."""

    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    INTERRUPTED = "INTERRUPTED"  # stopped for Ctrl-C or SIGTERM (on Athena: cancelled by elt)
    WAITING = "WAITING"  # not sent yet: the run has --max-concurrent queries in flight
    PLANNED = "PLANNED"  # a dry run's: not sent
    SKIPPED = "SKIPPED"  # not needed: its table is current


FINAL = frozenset(
    {QueryState.SUCCEEDED, QueryState.FAILED, QueryState.CANCELLED, QueryState.INTERRUPTED}
)
FAILURES = FINAL - {QueryState.SUCCEEDED}


class StepStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    INTERRUPTED = "interrupted"  # Ctrl-C or SIGTERM
    SKIPPED = "skipped"
    PLANNED = "planned"


@dataclass(frozen=True)
class Statement:
    """One rendered template, ready to send."""

    template: str  # e.g. "build_subset"
    sql: str
    subject: str = ""  # the subset (genre table) it is for, if any
    creates: str = ""  # the table a CTAS creates, if it is one
    drops: str = ""  # the table a DROP TABLE drops, if it is one
    reads: tuple[str, ...] = ()  # the raw tables it reads
    # What to send as attempt n (2, 3, ...) when Athena says a failed attempt may succeed if
    # resubmitted: a CTAS goes to a fresh version and location. None: the same statement.
    again: Callable[[int], Statement] | None = field(default=None, compare=False, repr=False)

    def attempt(self, number: int) -> Statement:
        return self.again(number) if self.again and number > 1 else self


@dataclass(frozen=True)
class QueryResult:
    """One statement as run: where it ran, how long, what it scanned."""

    template: str
    subject: str = ""
    state: QueryState = QueryState.SUCCEEDED
    query_id: str | None = None
    seconds: float = 0.0
    bytes_scanned: int = 0
    rows: list[tuple] | None = None  # for small SELECTs, from Engine.query
    columns: tuple[str, ...] = ()  # their names
    row_count: int | None = None  # rows written, where the engine knows it
    output_location: str = ""  # Athena: the query's result file
    statement_type: str = ""  # Athena: DDL, DML or UTILITY (DDL is not billed)
    cost_usd: float = 0.0  # what the engine charges for it (Athena's estimate; 0 locally)
    queued_seconds: float = 0.0  # Athena: time in its queue before it ran
    attempt: int = 1  # Athena: 2 and more when it was resubmitted (Statement.again)
    creates: str = ""  # the table the query made, when a CTAS (its attempt's name)
    result_files: tuple[str, ...] = ()  # Athena: what it wrote beside the results (see athena)


@dataclass(frozen=True)
class TableInfo:
    """A table or view as the catalog has it."""

    name: str
    kind: str  # "table" or "view"
    location: str | None = None  # a table's data, as a prefix
    view_of: str | None = None  # the one table a view selects from, when it is that simple


@dataclass(frozen=True)
class Finding:
    """One check on one new version: passed, or how it failed and (up to 5) failing rows."""

    subject: str  # the build's: Sci-Fi, movie_ratings
    table: str  # the version checked: sci_fi__v2026...
    check: str  # `not_null avg_rating`, `min_rows 1`, `sql checks/range.sql`
    passed: bool
    detail: str = ""  # `2 rows`, `0 rows, at least 1`
    columns: tuple[str, ...] = ()
    rows: tuple[tuple[str | None, ...], ...] = ()
