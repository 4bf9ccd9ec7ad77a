"""--dry-run: the real engine and storage for reading, a plan instead of every change.

Reads (does the database exist, which files are there) go to the real lake, so the plan names
the real files it would delete. Statements are rendered and shown, never sent; storage actions
are shown, never done. Files the plan would write are remembered, so later steps plan as they
would run (move finds the file export would have written).
"""

from __future__ import annotations

from pathlib import Path

from elt_cli.engines.base import Engine, QueryResult, Statement, TableInfo
from elt_cli.statements import QueryState
from elt_cli.storage import Storage


class DryRunStorage:
    def __init__(self, storage: Storage, reporter):
        self.storage, self.reporter = storage, reporter
        self.may_delete = storage.may_delete
        self.written: set[str] = set()
        self.deleted: list[str] = []

    def list_files(self, prefix: str) -> list[str]:
        real = [
            f
            for f in self.storage.list_files(prefix)
            if not any(f.startswith(d) for d in self.deleted)
        ]
        return sorted(set(real) | {f for f in self.written if f.startswith(prefix)})

    def fingerprint(self, prefix: str) -> str:
        return self.storage.fingerprint(prefix)

    def stat_files(self, prefix: str):
        return self.storage.stat_files(prefix)

    def open_read(self, uri: str, first: int | None = None):
        return self.storage.open_read(uri, first)

    def delete_prefix(self, prefix: str) -> int:
        if not self.may_delete(prefix):  # the same refusal a real run would meet
            return self.storage.delete_prefix(prefix)
        files = self.list_files(prefix)
        if files:
            self.reporter.planned("storage", f"delete {len(files)} file(s) under {prefix}")
        self.deleted.append(prefix)
        self.written = {f for f in self.written if not f.startswith(prefix)}
        return len(files)

    def move(self, src: str, dst: str) -> None:
        self.reporter.planned("storage", f"move {src} to {dst}")
        self.written.discard(src)
        self.written.add(dst)

    def read_text(self, uri: str) -> str | None:
        return self.storage.read_text(uri)

    def write_text(self, uri: str, text: str) -> None:
        """elt's own run record: read for the plan, never written by it."""

    def put_file(self, local_path: Path, uri: str) -> None:
        self.write(uri)

    def write(self, uri: str) -> None:
        self.reporter.planned("storage", f"write {uri}")
        self.written.add(uri)


class DryRunEngine(Engine):
    def __init__(self, engine: Engine, storage: DryRunStorage, reporter, local_sql: bool = False):
        self.engine, self.storage, self.reporter = engine, storage, reporter
        # `--dry-run --debug` on the local engine: also the DuckDB SQL it would run
        self.local_sql = local_sql
        self.name = engine.name
        self.created_database = False
        self.planned: dict[str, bool] = {}  # tables the plan creates (True) or drops (False)

    def database_exists(self, database: str) -> bool:
        return self.created_database or self.engine.database_exists(database)

    @property
    def places_tables(self) -> bool:
        return self.engine.places_tables

    def owns(self, uri: str) -> bool:
        return self.engine.owns(uri)

    @property
    def scan_cutoff(self):
        return self.engine.scan_cutoff

    def table_info(self, database: str, name: str):
        if name in self.planned:
            return TableInfo(name, "table") if self.planned[name] else None
        return self.engine.table_info(database, name) if self.engine_has(database) else None

    def tables(self, database: str, prefix: str):
        return self.engine.tables(database, prefix) if self.engine_has(database) else []

    def engine_has(self, database: str) -> bool:
        """The real engine knows the database (it may exist only in the plan)."""
        return self.engine.database_exists(database)

    def execute_many(self, statements: list[Statement]) -> list[QueryResult]:
        results = []
        for statement in statements:
            self.reporter.planned("sql", statement.sql)
            if self.local_sql and (
                duckdb := self.engine.duckdb_sql(statement.template, statement.sql)
            ):
                self.reporter.planned("duckdb", duckdb)
            self.created_database |= statement.template == "create_database"
            if statement.creates:
                self.planned[statement.creates] = True
            elif statement.drops:
                self.planned[statement.drops] = False
            result = QueryResult(
                statement.template, statement.subject, state=QueryState.PLANNED, rows=None
            )
            self.reporter.query_finished(self.reporter.query_started(statement), result)
            results.append(result)
        return results

    def export_csv(self, statement: Statement, dest: str) -> QueryResult:
        result = self.execute(statement)
        self.storage.write(dest)
        return result

    def verify_raw_table(self, database: str, table: str, ddl: str) -> None:
        """Nothing was created to read back."""

    def check_templates(self, statements) -> None:
        self.engine.check_templates(statements)

    def untwinned(self, statements) -> list[str]:
        return self.engine.untwinned(statements)

    def close(self) -> None:
        self.engine.close()
