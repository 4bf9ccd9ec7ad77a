"""The interface every engine implements. Steps talk to this, never to DuckDB or boto3."""

from __future__ import annotations

from abc import ABC, abstractmethod

from elt_cli.report import Reporter
from elt_cli.statements import QueryResult, Statement

__all__ = ["Engine", "QueryResult", "Statement"]


class Engine(ABC):
    """Runs rendered Athena-dialect statements and the few catalog operations steps need."""

    name: str
    reporter: Reporter  # the CLI sets the one it shows progress with
    journal = None  # `run` sets its Journal: query ids are recorded as soon as they exist

    def __init__(self) -> None:
        self.reporter = Reporter()

    @abstractmethod
    def database_exists(self, database: str) -> bool:
        """True if the database is there; only a clear "not found" answer means False."""

    @abstractmethod
    def table_exists(self, database: str, table: str) -> bool:
        """True if the table or view is there (False when unsure: the caller then rebuilds)."""

    def execute(self, statement: Statement) -> QueryResult:
        """Run one statement to completion; raise StepFailed if it fails."""
        return self.execute_many([statement])[0]

    @abstractmethod
    def execute_many(self, statements: list[Statement]) -> list[QueryResult]:
        """Run independent statements; engines that can run them at once do."""

    def query(self, statement: Statement) -> QueryResult:
        """Run a small SELECT and return its rows (without the header)."""
        return self.execute(statement)

    @abstractmethod
    def export_csv(self, statement: Statement, dest: str) -> QueryResult:
        """Write the SELECT's result as one CSV file with a header to `dest`."""

    def check_templates(self, rendered: dict[str, str]) -> None:
        """Refuse, before anything runs, templates this engine could not run."""

    def close(self) -> None:
        """Release connections; stop whatever still runs."""
