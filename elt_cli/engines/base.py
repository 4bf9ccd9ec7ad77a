"""The interface every engine implements. Steps talk to this, never to DuckDB or boto3."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, NamedTuple

from elt_cli.report import Reporter
from elt_cli.statements import QueryResult, Statement, TableInfo

if TYPE_CHECKING:
    from elt_cli.journal import Journal

__all__ = ["BadRows", "Engine", "QueryResult", "Statement", "TableInfo"]


class BadRows(NamedTuple):
    """Malformed rows of one raw file: how many, what is wrong with the first (`line 2: 2
    fields where the table has 4 (...)`) and its line, where the reader knows it (Athena's
    SQL knows the file only: 0)."""

    file: str
    rows: int
    what: str
    line: int = 0


class Engine(ABC):
    """Runs rendered Athena-dialect statements and the few catalog operations steps need."""

    name: str
    reporter: Reporter  # the CLI sets the one it shows progress with
    journal: Journal | None = None  # `run` sets it: query ids are recorded as soon as they exist
    read_only: bool = False  # a command that changes nothing (elt genres) writes no cache either

    @property
    def places_tables(self) -> bool:
        """False where the engine picks where a CTAS writes (an Athena workgroup that enforces
        its settings refuses an external_location); the catalog then says where each table
        is."""
        return True

    def __init__(self) -> None:
        self.reporter = Reporter()

    @abstractmethod
    def database_exists(self, database: str) -> bool:
        """True if the database is there; only a clear "not found" answer means False."""

    @abstractmethod
    def table_info(self, database: str, name: str) -> TableInfo | None:
        """The table or view of that name, or None when there is none."""

    @abstractmethod
    def tables(self, database: str, prefix: str) -> list[TableInfo]:
        """The tables whose names start with `prefix`."""

    def table_exists(self, database: str, table: str) -> bool:
        return self.table_info(database, table) is not None

    def verify_raw_table(self, database: str, table: str, ddl: str) -> None:
        """After a CREATE EXTERNAL TABLE: the catalog holds how to read the files as the DDL
        says it (raise StepFailed where it does not)."""

    def prune_versions(self, database: str, table: str, keep: int) -> int:
        """Delete all but the newest `keep` versions the catalog keeps of a table; how many
        went (a catalog that keeps none: 0)."""
        return 0

    def reattachable(self, statement: Statement) -> str | None:
        """The id of a killed run's query for this statement that `--resume` re-attaches to."""
        return None

    @property
    def scan_cutoff(self) -> tuple[str, int] | None:
        """(its owner, bytes): what one query may scan before the engine cancels it, if it
        limits that (an Athena workgroup's BytesScannedCutoffPerQuery)."""
        return None

    def owns(self, uri: str) -> bool:
        """True for data the engine placed itself (see places_tables), which elt may delete."""
        return False

    def execute(self, statement: Statement) -> QueryResult:
        """Run one statement to completion; raise StepFailed if it fails."""
        return self.execute_many([statement])[0]

    @abstractmethod
    def execute_many(self, statements: list[Statement]) -> list[QueryResult]:
        """Run independent statements; engines that can run them at once do."""

    def query_many(self, statements: list[Statement]) -> list[QueryResult]:
        """Run independent small SELECTs; each result has its rows (without the header)."""
        return self.execute_many(statements)

    def query(self, statement: Statement) -> QueryResult:
        return self.query_many([statement])[0]

    @abstractmethod
    def export_csv(self, statement: Statement, dest: str) -> QueryResult:
        """Write the SELECT's result as one CSV file with a header to `dest`."""

    def check_templates(self, statements) -> None:
        """Refuse, before anything runs, templates this engine could not run. `statements`
        gives the job's statements, {file: SQL}, rendered with sample values (only when
        called: rendering them costs)."""

    def duckdb_sql(self, label: str, sql: str) -> str:
        """The SQL the engine runs for a statement, where it is not the statement itself."""
        return ""

    def untwinned(self, statements) -> list[str]:
        """The functions the job calls that this engine cannot run (`file: name()` each)."""
        return []

    @contextmanager
    def counting_rejects(self) -> Iterator[list[BadRows]]:
        """Within it, the malformed rows the engine's own reader sets aside (DuckDB's CSV
        rejects, a blank line) are neither refused nor told but added to the list it gives,
        those of a query that failed just before among them: the steps count them with the
        rows the SQL refused, in one error or note. Athena's reader sets none aside
        (use.null.for.invalid.data: the SQL's guard sees every row), so the list stays
        empty."""
        yield []

    def close(self) -> None:
        """Release connections; stop whatever still runs."""
