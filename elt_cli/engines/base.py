"""The interface every engine implements. Steps talk to this, never to DuckDB or boto3."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass


@dataclass(frozen=True)
class QueryResult:
    """One statement as run: where it ran, how long, what it scanned."""

    label: str  # the template it came from, e.g. "build_subset"
    state: str = "SUCCEEDED"
    query_id: str | None = None
    seconds: float = 0.0
    bytes_scanned: int = 0
    rows: list[tuple] | None = None  # for small SELECTs, from Engine.query
    row_count: int | None = None  # rows written, where the engine knows it
    output_location: str = ""  # Athena: the query's result file
    statement_type: str = ""  # Athena: DDL, DML or UTILITY (DDL is not billed)


class Engine(ABC):
    """Runs rendered Athena-dialect statements and the few catalog operations steps need."""

    name: str

    @abstractmethod
    def database_exists(self, database: str) -> bool:
        """True if the database is there; only a clear "not found" answer means False."""

    @abstractmethod
    def execute(self, label: str, sql: str) -> QueryResult:
        """Run one statement to completion; raise StepFailed if it fails."""

    def query(self, label: str, sql: str) -> QueryResult:
        """Run a small SELECT and return its rows (without the header)."""
        return self.execute(label, sql)

    def execute_many(self, statements: list[tuple[str, str]]) -> list[QueryResult]:
        """Run independent statements; engines that can run them at once do."""
        return [self.execute(label, sql) for label, sql in statements]

    @abstractmethod
    def export_csv(self, label: str, sql: str, dest: str) -> QueryResult:
        """Write the SELECT's result as one CSV file with a header to `dest`."""

    def check_templates(self, rendered: dict[str, str]) -> None:
        """Refuse, before anything runs, templates this engine could not run."""

    def close(self) -> None:
        """Release connections; stop whatever still runs."""
