"""The embedded engine: DuckDB on a local folder, running the Athena-dialect templates.

Statements are parsed with sqlglot's Athena dialect. SELECTs are translated to DuckDB. The
Hive DDL of an external table becomes a DuckDB view over the files of its location; a CTAS
writes Parquet under its external_location. A small JSON catalog in the lake
(`_elt/<database>/catalog.json`) remembers the tables, so separate processes see each other's work.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from elt_cli import csvform, signals
from elt_cli.athena_sql import LAZY_SIMPLE_SERDE, OPEN_CSV_SERDE
from elt_cli.engines import rawfiles
from elt_cli.engines.base import BadRows, Engine, QueryResult, Statement, TableInfo
from elt_cli.errors import MalformedRows, QueryFailed, StepFailed, TemplateError, Terminated
from elt_cli.lazy import LazyModule
from elt_cli.sql import EXTRA_COLUMN, parse
from elt_cli.statements import QueryState
from elt_cli.storage.local import LocalStorage
from elt_cli.templates import quoted_name, sql_string

if TYPE_CHECKING:
    from elt_cli.engines import twin
else:
    twin = LazyModule("elt_cli.engines.twin")  # sqlglot: only once a statement is translated

# DuckDB reads this field as NULL, and no field is it: every field of a raw file is a value
# (an empty one in a STRING column is '' on Athena, and in a number column not a number).
NO_NULL_FIELD = "\u0001elt: no field is NULL\u0001"


class LocalEngine(Engine):
    name = "local"

    @classmethod
    def open(cls, settings, skip_bad_rows: bool = False) -> LocalEngine:
        return cls(Path(settings.lake), skip_bad_rows)

    def __init__(self, lake: Path, skip_bad_rows: bool = False):
        super().__init__()
        self.lake = lake
        self.skip_bad_rows = skip_bad_rows
        self._rejects_seen = 0  # DuckDB numbers its CSV scans; rejects of older scans are told
        self._rejects_told: set[tuple[str, int]] = set()
        self._macros = False  # twin.install, before the first statement that may call them
        self._attached: set[str] = set()
        self._files_checked: set[tuple[str, str]] = set()
        self._counted: list[BadRows] | None = None  # within counting_rejects: the reader's rejects

    @functools.cached_property
    def con(self):
        """The DuckDB connection, made on first use: a run that the lake's state answers
        (nothing changed) never imports DuckDB."""
        import duckdb

        return duckdb.connect()

    @property
    def _duckdb_error(self) -> type[Exception]:
        import duckdb

        return duckdb.Error

    # -- catalog -------------------------------------------------------------------------------

    def _catalog_path(self, database: str) -> Path:
        return self.lake / "_elt" / database / "catalog.json"

    def _catalog(self, database: str) -> dict:
        path = self._catalog_path(database)
        if not path.exists():
            raise StepFailed("catalog", f"database {database} does not exist: run `elt ensure-db`")
        return json.loads(path.read_text(encoding="utf-8"))

    def _save(self, database: str, catalog: dict) -> None:
        # Atomic: another process reads the old catalog or the new one.
        LocalStorage().write_text(
            str(self._catalog_path(database)), json.dumps(catalog, indent=2, sort_keys=True)
        )

    def _abs(self, location: str) -> Path:
        return self.lake / location if not os.path.isabs(location) else Path(location)

    def _rel(self, location: str) -> str:
        """Store locations relative to the lake, so a lake folder can be moved."""
        path = Path(location).resolve()
        try:
            return path.relative_to(self.lake).as_posix() + "/"
        except ValueError:
            return str(path) + "/"

    def _install_macros(self) -> None:
        if not self._macros:
            twin.install(self.con)
            self._macros = True

    def _attach(self, database: str) -> None:
        """Create the DuckDB schema and one view per catalog table, once per process."""
        if database in self._attached:
            return
        self._install_macros()  # a view's SQL may call them
        catalog = self._catalog(database)
        self.con.execute(f'CREATE SCHEMA IF NOT EXISTS "{database}"')
        # Tables first: a DuckDB view is bound to what it reads when it is created.
        for table, entry in sorted(catalog["tables"].items(), key=lambda t: t[1]["kind"] == "view"):
            self._create_view(database, table, entry)
        self._attached.add(database)

    def _create_view(self, database: str, table: str, entry: dict) -> None:
        if entry["kind"] == "view":
            sql = entry["sql"]
        elif entry["kind"] == "parquet":
            sql = f"SELECT * FROM {self._source(entry)}"
        else:
            # Athena's hidden "$path" column, and elt's extra-fields column: DuckDB refuses a
            # row with extra fields itself (a reject, with its line), so it is always NULL here.
            names = ", ".join(quoted_name(n) for n, _ in entry["columns"])
            sql = (
                f'SELECT {names}, filename AS "$path", NULL::VARCHAR AS {EXTRA_COLUMN} '
                f"FROM {self._source(entry)}"
            )
        self.con.execute(f'CREATE OR REPLACE VIEW "{database}"."{table}" AS {sql}')

    def reader_sql(self, database: str, table: str) -> str:
        """What DuckDB reads a raw table's files with, as every query here does (bench/ times
        it)."""
        return self._source(self._catalog(database)["tables"][table])

    def _source(self, entry: dict) -> str:
        """What DuckDB reads a catalog table's files with: a table function, or for CSV files
        a subquery over one."""
        location = self._abs(entry["location"])
        if entry["kind"] == "parquet":
            return f"read_parquet({sql_string(str(location / '*.parquet'))})"
        files = LocalStorage().list_files(str(location))
        types = {n: _read_type(t) for n, t in entry["columns"]}
        columns = ", ".join(f"{sql_string(n)}: {sql_string(t)}" for n, t in types.items())
        text = ", ".join(sql_string(n) for n, t in types.items() if t == "VARCHAR")
        header = int(entry["header"])  # the lines Athena skips (skip.header.line.count)
        # DuckDB converts only the columns a query uses, and Athena's guard checks every field
        # of a row (sql.resolve): a condition on each typed column, true of every row read (no
        # field is NULL), makes the reader convert them all, so a mistyped field in a column the
        # query does not read is refused here too.
        typed = [quoted_name(n) for n, t in types.items() if t != "VARCHAR"]
        every_field = f" WHERE {' OR '.join(f'{c} IS NOT NULL' for c in typed)}" if typed else ""
        return (
            "(SELECT * FROM "
            f"read_csv([{', '.join(map(sql_string, files)) or sql_string(str(location))}], "
            f"columns={{{columns}}}, header={'true' if header else 'false'}, "
            f"skip={max(header - 1, 0)}, "
            f"delim={sql_string(entry['delimiter'])}, quote={sql_string(entry['quote'])}, "
            f"escape={sql_string(entry['quote'])}, auto_detect=false, filename=true, "
            f"nullstr={sql_string(NO_NULL_FIELD)}, "
            + (f"force_not_null=[{text}], " if text else "")
            +
            # Malformed rows are set aside and counted, then reported (or refused) per query.
            f"ignore_errors=true, store_rejects=true){every_field})"
        )

    def _schema(self, database: str) -> dict:
        """{table: {column: Athena type}} of a database, for the twin translation."""
        catalog = self._catalog(database)["tables"]
        schema: dict[str, dict[str, str]] = {}
        for name, entry in sorted(catalog.items(), key=lambda t: t[1]["kind"] == "view"):
            if entry["kind"] == "csv":
                schema[name] = {n: t for n, t in entry["columns"]}
                schema[name].update({"$path": "VARCHAR", EXTRA_COLUMN: "VARCHAR"})
            elif entry["kind"] == "parquet" and entry.get("columns"):
                schema[name] = {n: t or "UNKNOWN" for n, t in entry["columns"]}
            elif entry.get("of") in schema:
                schema[name] = schema[entry["of"]]
            else:
                self._attach(database)
                described = self.con.execute(f'DESCRIBE "{database}"."{name}"').fetchall()
                schema[name] = {c[0]: _athena_type(c[1]) for c in described}
        return schema

    # -- Engine --------------------------------------------------------------------------------

    def database_exists(self, database: str) -> bool:
        return self._catalog_path(database).exists()

    def table_info(self, database: str, name: str) -> TableInfo | None:
        if not self.database_exists(database):
            return None
        entry = self._catalog(database)["tables"].get(name)
        return None if entry is None else self._info(name, entry)

    def tables(self, database: str, prefix: str) -> list[TableInfo]:
        if not self.database_exists(database):
            return []
        entries = self._catalog(database)["tables"].items()
        return [self._info(n, e) for n, e in sorted(entries) if n.startswith(prefix)]

    def _info(self, name: str, entry: dict) -> TableInfo:
        if entry["kind"] == "view":
            return TableInfo(name, "view", view_of=entry.get("of"))
        return TableInfo(name, "table", location=str(self._abs(entry["location"])) + "/")

    def check_templates(self, statements) -> None:
        from sqlglot import exp
        from sqlglot.errors import SqlglotError

        for label, sql in statements().items():
            tree = self.translate(label, sql)
            query = tree.expression if isinstance(tree, exp.Create) else tree
            if isinstance(tree, exp.Create) and tree.kind == "TABLE" and not query:
                self._external_table(label, tree)  # refuses what it could not read
                continue
            if not isinstance(query, exp.Query):
                continue  # other DDL: read by the engine itself, not translated
            try:
                twin.translate(query, {}, strict=True)  # what the local engine would run
            except SqlglotError as exc:
                raise TemplateError(
                    f"{label}: cannot run on the local engine: {_first_lines(str(exc), 1)}"
                ) from exc

    def untwinned(self, statements) -> list[str]:
        """The Athena functions a job calls that the local engine has no twin for (geospatial,
        format_datetime, ...): `file: name()` each. They run on Athena only."""
        from sqlglot import exp

        self._install_macros()
        known = _duckdb_functions(self.con) | set(twin.FUNCTIONS)
        found = []
        for label, sql in statements().items():
            for node in self.translate(label, sql).find_all(exp.Anonymous):
                if node.name.lower() not in known:
                    found.append(f"{label}: {node.name.lower()}()")
        return list(dict.fromkeys(found))

    def translate(self, label: str, sql: str):
        """Parse Athena SQL; a template the local engine cannot read is named in the error."""
        return parse(label, sql)

    def execute_many(self, statements: list[Statement]) -> list[QueryResult]:
        with self._shared_scans(statements):
            return [self._reported(st, self._execute) for st in statements]

    @contextmanager
    def _shared_scans(self, statements: list[Statement]):
        """Statements run together (one per genre) that read the same raw CSV table share one
        scan of it: the columns they use are read into memory once, and the table's view reads
        from there until they are done. Parsing the CSV is most of the work; N genres then cost
        little more than one."""
        readers: dict[tuple[str, str], list[set[str]]] = {}
        for statement in statements if len(statements) > 1 else []:
            for key, columns in self._raw_columns(statement).items():
                readers.setdefault(key, []).append(columns)
        shared = {key: set().union(*uses) for key, uses in readers.items() if len(uses) > 1}
        try:
            with self._looking(statements if shared else []):
                for (database, table), columns in shared.items():
                    self._attach(database)
                    entry = self._catalog(database)["tables"][table]
                    names = [quoted_name(n) for n, _ in entry["columns"] if n.lower() in columns]
                    if "$path" in columns:
                        names.append('filename AS "$path"')
                    memory = f'"__shared_{database}_{table}"'
                    self.con.execute(
                        f"CREATE OR REPLACE TEMP TABLE {memory} AS SELECT "
                        f"{', '.join(names)} FROM {self._source(entry)}"
                    )
                    self._set_aside(statements[0].template, self._rejects())
                    self.con.execute(
                        f'CREATE OR REPLACE VIEW "{database}"."{table}" AS '
                        f"SELECT *, NULL::VARCHAR AS {EXTRA_COLUMN} FROM {memory}"
                    )
            yield
        finally:
            for database, table in shared:
                self._create_view(database, table, self._catalog(database)["tables"][table])
                self.con.execute(f'DROP TABLE IF EXISTS "__shared_{database}_{table}"')

    def _raw_columns(self, statement: Statement) -> dict[tuple[str, str], set[str]]:
        """The raw CSV tables a statement reads, with the (lower-cased) columns it uses."""
        from sqlglot import exp
        from sqlglot.errors import SqlglotError
        from sqlglot.optimizer.qualify import qualify

        tree = self.translate(statement.template, statement.sql)
        query = tree.expression if isinstance(tree, exp.Create) else tree
        if not isinstance(query, exp.Query):
            return {}
        schema: dict = {}
        for table in _tables(query):
            if table.db and self.database_exists(table.db):
                for name, entry in self._catalog(table.db)["tables"].items():
                    if entry["kind"] == "csv":
                        columns = {n: t for n, t in entry["columns"]}
                        columns.update({"$path": "VARCHAR", EXTRA_COLUMN: "VARCHAR"})
                        schema.setdefault(table.db, {})[name] = columns
        try:
            qualified = qualify(
                query.copy(), schema=schema, dialect="athena", validate_qualify_columns=False
            )
        except SqlglotError:
            return {}  # not sure what it reads: no sharing, nothing lost but time
        tables = {t.alias_or_name: (t.db, t.name) for t in qualified.find_all(exp.Table)}
        used: dict[tuple[str, str], set[str]] = {}
        for column in qualified.find_all(exp.Column):
            key = tables.get(column.table)
            if key and key[1] in schema.get(key[0], {}):
                used.setdefault(key, set()).add(column.name.lower())
        return used

    def export_csv(self, statement: Statement, dest: str) -> QueryResult:
        return self._reported(statement, lambda st: self._export_csv(st, dest))

    def _reported(self, statement: Statement, run) -> QueryResult:
        record = self.reporter.query_started(statement)
        started = time.monotonic()
        try:
            with self._looking([statement]):
                result = run(statement)
                self._set_aside(statement.template, self._rejects())
        except BaseException as exc:
            # DuckDB turns the exception our signal handler raised into its own RuntimeError
            interrupted = signals.received()
            if interrupted is None and isinstance(exc, (KeyboardInterrupt, Terminated)):
                interrupted = exc
            state = QueryState.INTERRUPTED if interrupted else QueryState.FAILED
            seconds = time.monotonic() - started
            self.reporter.query_finished(
                record, QueryResult(statement.template, statement.subject, state, seconds=seconds)
            )
            if interrupted is not None and interrupted is not exc:
                raise interrupted from None
            raise
        result = dataclasses.replace(result, seconds=time.monotonic() - started)
        self.reporter.query_finished(record, result)
        return result

    @contextmanager
    def counting_rejects(self) -> Iterator[list[BadRows]]:
        # a query that failed on a row the SQL refused left its reader's rejects unread
        self._counted = counted = self._rejects()
        try:
            yield counted
        finally:
            self._counted = None

    def _set_aside(self, label: str, found: list[BadRows]) -> None:
        """Rows the reader could not read: counted (counting_rejects), else refused, or
        skipped and told."""
        if self._counted is not None:
            self._counted += found
        elif found:
            first = found[0]
            self._malformed(label, sum(bad.rows for bad in found), f"{first.file} {first.what}")

    def _rejects(self) -> list[BadRows]:
        """The rows the CSV scans since the last look set aside, not told before: (file, rows,
        the first one's line and what is wrong with it), per file."""
        if "con" not in self.__dict__:  # nothing read yet
            return []
        try:
            rejected = self.con.execute(
                "SELECT DISTINCT s.file_path, e.line, e.error_type, e.column_name, e.csv_line, "
                "e.scan_id, e.error_message, e.column_idx FROM reject_errors e JOIN reject_scans "
                "s ON e.scan_id = s.scan_id AND e.file_id = s.file_id WHERE e.scan_id > ? "
                # a short line has an error per missing column: the first counts its fields
                "ORDER BY s.file_path, e.line, e.column_idx",
                [self._rejects_seen],
            ).fetchall()
        except self._duckdb_error:  # no CSV scan yet: no reject tables either
            return []
        if not rejected:
            return []
        self._rejects_seen = max(row[5] for row in rejected)
        # Several queries may read one file (the genre list, the build): each bad row is
        # told once.
        rejected = [r for r in rejected if (r[0], r[1]) not in self._rejects_told]
        rows = sorted({(path, line) for path, line, *_ in rejected})
        self._rejects_told.update(rows)
        found = []
        for file in dict.fromkeys(r[0] for r in rejected):
            path, line, error, column, text, _, message, _ = next(
                r for r in rejected if r[0] == file
            )
            what = f"line {line}{_what_is_wrong(error, column, message)} ({text!r})"
            found.append(BadRows(file, sum(1 for p, _ in rows if p == file), what, line))
        return found

    def _malformed(self, label: str, count: int, where: str) -> None:
        if self.skip_bad_rows:
            self.reporter.note(f"{label}: skipped {count} malformed row(s), first {where}")
            return
        raise StepFailed(
            label,
            f"{count} malformed row(s) in the raw data, first {where}; "
            "fix the file, or give --skip-bad-rows to skip and count them",
        )

    @contextmanager
    def _looking(self, statements: list[Statement]):
        """Run the body (the statements' queries) while a thread looks at the raw files they
        read, as Athena's OpenCSVSerDe reads them (rawfiles.py): a blank line is a row of
        NULLs there (a malformed row), which DuckDB would skip; a line break inside a quoted
        field splits the row there, which DuckDB would keep whole. The look is Python reading
        bytes and a query runs in DuckDB's own threads, so where a core is free the look adds
        no time. What it finds is told first, before anything the body raised: it is the
        cause. Each file is looked at once a command."""
        wanted = [w for statement in statements for w in self._to_look_at(statement)]
        if not wanted:
            yield
            return
        from concurrent.futures import ThreadPoolExecutor  # 30 ms: not for a re-run

        stop = threading.Event()

        def look() -> list[tuple[str, dict, dict[str, rawfiles.Lines] | rawfiles.Unreadable]]:
            found: list = []
            for label, database, entry, files in wanted:
                try:
                    lines = self._lines_of(database, files, entry["quote"], stop)
                    found.append((label, entry, lines))
                except rawfiles.Unreadable as exc:
                    found.append((label, entry, exc))
            return found

        with ThreadPoolExecutor(1, thread_name_prefix="elt-look") as pool:
            looked = pool.submit(look)
            try:
                try:
                    yield
                except Exception:
                    self._tell(looked.result())
                    raise
                self._tell(looked.result())
            finally:
                stop.set()  # Ctrl-C or SIGTERM, in the query or waiting: stop at its next chunk

    def _to_look_at(self, statement: Statement) -> list[tuple[str, str, dict, list[str]]]:
        """(label, database, catalog entry, files) of the quoted CSV tables a statement reads
        whose files this command has not looked at yet."""
        wanted = []
        database = self._database_of(statement) if statement.reads else ""
        for table in statement.reads:
            if (database, table) in self._files_checked or not database:
                continue
            self._files_checked.add((database, table))
            entry = self._catalog(database)["tables"].get(table)
            if entry and entry["kind"] == "csv" and entry["quote"]:
                files = LocalStorage().list_files(str(self._abs(entry["location"])))
                wanted.append((statement.template, database, entry, files))
        return wanted

    def _tell(self, looked) -> None:
        """What the look found: refused, or (blank lines, with --skip-bad-rows) counted."""
        for label, entry, found in looked:
            if isinstance(found, rawfiles.Unreadable):
                raise StepFailed(label, str(found)) from found
            broken = [(f, n) for f, lines in found.items() for n in lines.broken]
            if broken:
                path, line = broken[0]
                raise StepFailed(
                    label,
                    f"{path} line {line}: a quoted field holds a line break, which Athena's "
                    "OpenCSVSerDe does not support (it splits the row there): remove the "
                    f"line break{'s' if len(broken) > 1 else ''} from the file "
                    f"({len(broken)} in all)",
                )
            header = int(entry["header"])  # Athena skips these lines, blank or not
            set_aside = []
            for path, lines in found.items():
                blank = [n for n in lines.blank if n > header]
                if blank:
                    what = f"line {blank[0]}: a blank line (Athena reads it as a row of NULLs)"
                    set_aside.append(BadRows(path, len(blank), what, blank[0]))
            self._set_aside(label, set_aside)

    def _lines_of(
        self, database: str, files: list[str], quote: str, stop: threading.Event
    ) -> dict[str, rawfiles.Lines]:
        """rawfiles.check, for the files not known to be clean: a file found clean is kept in
        clean-files.json by path, size, modification time and inode, so an unchanged file is
        read once in its life, not once a command (a lost update only costs a second look)."""
        memo_path = self._catalog_path(database).with_name("clean-files.json")
        try:
            memo = json.loads(memo_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            memo = {}
        stats = {f: os.stat(f) for f in files}
        key = {f: [s.st_size, s.st_mtime_ns, s.st_ino] for f, s in stats.items()}
        found = rawfiles.check([f for f in files if memo.get(f) != key[f]], quote, stop)
        clean = {f: key[f] for f, lines in found.items() if not lines.blank and not lines.broken}
        if clean and not self.read_only and any(memo.get(f) != k for f, k in clean.items()):
            known = {f: k for f, k in memo.items() if isinstance(k, list) and os.path.exists(f)}
            LocalStorage().write_text(str(memo_path), json.dumps(known | clean, sort_keys=True))
        return found

    def _database_of(self, statement: Statement) -> str:
        from sqlglot import exp

        tree = self.translate(statement.template, statement.sql)
        return next((t.db for t in tree.find_all(exp.Table) if t.db), "")

    def _execute(self, statement: Statement) -> QueryResult:
        from sqlglot import exp

        label = statement.template
        tree = self.translate(label, statement.sql)
        try:
            rows, row_count, columns = None, None, tuple[str, ...]()
            if isinstance(tree, exp.Create) and tree.kind == "DATABASE":
                self._create_database(tree.this.name)
            elif isinstance(tree, exp.Drop) and tree.kind == "TABLE":
                table = tree.this if tree.this else tree.args["tables"][0]
                self._drop_table(table.db, table.name)
            elif isinstance(tree, exp.Create) and tree.kind == "VIEW":
                self._create_or_replace_view(label, tree)
            elif isinstance(tree, exp.Create) and tree.kind == "TABLE" and tree.expression:
                row_count = self._create_table_as(label, tree)
            elif isinstance(tree, exp.Create) and tree.kind == "TABLE":
                self._create_external_table(label, tree)
            else:
                cursor = self.con.execute(self._duckdb_sql(tree))
                rows = cursor.fetchall()
                columns = tuple(d[0] for d in cursor.description or ())
        except self._duckdb_error as exc:
            raise _failure(label, str(exc)) from exc
        return QueryResult(
            label, statement.subject, rows=rows, row_count=row_count, columns=columns
        )

    def _export_csv(self, statement: Statement, dest: str) -> QueryResult:
        label = statement.template
        tree = self.translate(label, statement.sql)
        target = Path(dest)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        try:
            # DuckDB quotes a field only when it must and doubles inner quotes: RFC 4180. Each
            # value is printed as Athena's result file prints it (a DOUBLE as Java does).
            translated = self.twin(tree)
            texts = ", ".join(
                f"{twin.as_text(quoted_name(name), kind)} AS {quoted_name(name)}"
                for name, kind in translated.columns
            )
            select = f"SELECT {texts} FROM ({translated.sql}) AS elt_export"
            rows = self._copy(select, tmp, csvform.DUCKDB_COPY_OPTIONS)
            os.replace(tmp, target)  # readers never see a half-written file under its name
        except self._duckdb_error as exc:
            raise StepFailed(label, _first_lines(str(exc))) from exc
        finally:
            tmp.unlink(missing_ok=True)
        return QueryResult(label, statement.subject, row_count=rows)

    def close(self) -> None:
        if "con" in self.__dict__:
            self.con.close()

    # -- statements ----------------------------------------------------------------------------

    def twin(self, tree, pretty: bool = False) -> twin.Translation:
        """A query as DuckDB SQL that computes what Athena computes (see twin.py), with the
        databases it reads attached."""
        self._install_macros()
        schema: dict = {}
        for table in _tables(tree):
            if table.db and table.db not in schema and self.database_exists(table.db):
                self._attach(table.db)
                schema[table.db] = self._schema(table.db)
        return twin.translate(tree, schema, pretty)

    def _duckdb_sql(self, tree) -> str:
        return self.twin(tree).sql

    def duckdb_sql(self, label: str, sql: str) -> str:
        """What the local engine runs for a statement (`--dry-run --debug` shows it)."""
        from sqlglot import exp

        tree = self.translate(label, sql)
        query = tree.expression if isinstance(tree, exp.Create) else tree
        if not isinstance(query, exp.Query):
            return ""
        try:
            return self.twin(query, pretty=True).sql
        except (StepFailed, self._duckdb_error):  # its tables are not there yet: types unknown
            return twin.translate(query, {}, pretty=True).sql

    def _copy(self, select: str, path: Path, options: str) -> int:
        sql = f"COPY ({select}) TO {sql_string(str(path))} ({options})"
        return int(self.con.execute(sql).fetchall()[0][0])

    def _create_database(self, database: str) -> None:
        if not self.database_exists(database):
            self._save(database, {"tables": {}})

    def _drop_table(self, database: str, table: str) -> None:
        catalog = self._catalog(database)
        if catalog["tables"].pop(table, None) is not None:
            self._save(database, catalog)
            self.con.execute(f'DROP VIEW IF EXISTS "{database}"."{table}"')

    def _create_external_table(self, label: str, tree) -> None:
        table = tree.this.this
        entry = self._external_table(label, tree)
        if not tree.args.get("exists") or not self._has_table(table.db, table.name):
            self._register(table.db, table.name, entry)

    def _external_table(self, label: str, tree) -> dict:
        """The catalog entry for a CREATE EXTERNAL TABLE: how DuckDB reads its files."""
        from sqlglot import exp

        schema = tree.this
        props = {type(p).__name__: p for p in tree.args["properties"].expressions}
        serde = props.get("RowFormatSerdeProperty")
        serde_name = serde.this.name if serde else LAZY_SIMPLE_SERDE
        serde_props = {
            p.this.name: p.args["value"].name
            for p in (serde.args.get("serde_properties").expressions if serde else [])
        }
        table_props = {
            p.this.name: p.args["value"].name
            for p in tree.args["properties"].expressions
            if type(p) is exp.Property
        }
        if serde_name == OPEN_CSV_SERDE:
            delimiter = serde_props.get("separatorChar", ",")
            quote = serde_props.get("quoteChar", '"')
            if serde_props.get("escapeChar", "\\") != "\0":
                # OpenCSVSerDe drops an escape character before any other (`a\b` reads as
                # `ab`), which DuckDB cannot reproduce: refuse rather than differ from Athena.
                raise TemplateError(
                    f"{label}: OpenCSVSerde's escape character (by default the "
                    "backslash) drops characters from the data on Athena; add "
                    "'escapeChar' = '\\u0000' to its SERDEPROPERTIES to read every character "
                    "as written"
                )
        elif serde_name == LAZY_SIMPLE_SERDE:
            delimiter, quote = serde_props.get("field.delim", "\x01"), ""
        else:
            raise TemplateError(
                f"{label}: the local engine reads "
                f"OpenCSVSerde and LazySimpleSerDe tables, not {serde_name}"
            )
        location = props.get("LocationProperty")
        if location is None:
            raise TemplateError(f"{label}: has no LOCATION")
        from elt_cli.validate import athena_type_of

        return {
            "kind": "csv",
            "location": self._rel(location.this.name),
            "columns": [
                [c.this.name, athena_type_of(c.args["kind"])]
                for c in schema.expressions
                if c.this.name.lower() != EXTRA_COLUMN
            ],
            "delimiter": delimiter,
            "quote": quote,
            "header": int(table_props.get("skip.header.line.count", "0")),
        }

    def _create_table_as(self, label: str, tree) -> int:
        table = tree.this
        props = {
            p.this.name.lower(): p.args["value"].name
            for p in tree.args["properties"].expressions
            if p.args.get("value") is not None
        }
        location = props.get("external_location")
        if props.get("format", "parquet").lower() != "parquet" or not location:
            raise TemplateError(
                f"{label}: the local engine builds tables "
                "WITH (format = 'PARQUET', external_location = ...)"
            )
        folder = Path(location)
        if folder.exists() and any(folder.iterdir()):
            # What Athena answers with HIVE_PATH_ALREADY_EXISTS.
            raise StepFailed(label, f"target location {location} is not empty")
        if self._has_table(table.db, table.name):
            raise StepFailed(label, f"table {table.db}.{table.name} already exists")
        folder.mkdir(parents=True, exist_ok=True)
        translated = self.twin(tree.expression)
        codec = _PARQUET_CODECS[props.get("write_compression", "GZIP").upper()]
        options = f"FORMAT PARQUET, COMPRESSION {codec}"
        rows = self._copy(translated.sql, folder / "data.parquet", options)
        columns = [[n, t.sql("trino") if t is not None else None] for n, t in translated.columns]
        entry = {"kind": "parquet", "location": self._rel(location), "columns": columns}
        self._register(table.db, table.name, entry)
        return rows

    def _create_or_replace_view(self, label: str, tree) -> None:
        view, select = tree.this, tree.expression
        existing = self._catalog(view.db)["tables"].get(view.name)
        if existing and existing["kind"] != "view":
            raise StepFailed(label, f"Table already exists: {view.db}.{view.name} is not a view")
        read = {t.name for t in _tables(select)}
        entry = {"kind": "view", "sql": self._duckdb_sql(select)}
        self._register(view.db, view.name, {**entry, "of": read.pop()} if len(read) == 1 else entry)

    def _has_table(self, database: str, table: str) -> bool:
        return table in self._catalog(database)["tables"]

    def _register(self, database: str, table: str, entry: dict) -> None:
        catalog = self._catalog(database)
        catalog["tables"][table] = entry
        self._save(database, catalog)
        if database in self._attached:
            self._create_view(database, table, entry)


# A CTAS's write_compression -> DuckDB's codec: those Athena engine v3 writes Parquet with,
# GZIP when not told (compression-support-hive.html)
_PARQUET_CODECS = {
    "GZIP": "GZIP",
    "SNAPPY": "SNAPPY",
    "ZSTD": "ZSTD",
    "NONE": "UNCOMPRESSED",
    "UNCOMPRESSED": "UNCOMPRESSED",
}

_DUCKDB_FUNCTIONS: set[str] = set()


def _duckdb_functions(con) -> set[str]:
    """The functions DuckDB has (they do not change while elt runs)."""
    if not _DUCKDB_FUNCTIONS:
        query = "SELECT DISTINCT lower(function_name) FROM duckdb_functions()"
        _DUCKDB_FUNCTIONS.update(name for (name,) in con.execute(query).fetchall())
    return _DUCKDB_FUNCTIONS


def _read_type(athena: str) -> str:
    """The DuckDB type a raw column of this Athena type is read as."""

    from elt_cli.athena_types import build

    kind = twin.duckdb_type(build(athena))
    return kind.sql("duckdb") if kind is not None else "VARCHAR"


def _athena_type(duckdb_type: str) -> str:
    """The Athena type of a DuckDB column (of a table made before types were kept)."""
    upper = duckdb_type.upper()
    if upper in ("HUGEINT", "UBIGINT"):
        return "BIGINT"
    if upper.startswith("TIMESTAMP") and "TIME ZONE" not in upper:
        return "TIMESTAMP(3)"
    if upper == "FLOAT":
        return "REAL"
    return duckdb_type


def _what_is_wrong(error: str, column: str, message: str) -> str:
    """What DuckDB's CSV reader found wrong with a line, in the words of a person."""
    import re

    if error == "CAST":
        found = re.search(r'Could not convert string "(.*)" to \'(\w+)', message, re.S)
        if found and found.group(1) == "":
            return f", column {column}: empty, not a {found.group(2)}"
        if found:
            article = "an" if found.group(2)[:1] in "AEIOU" else "a"
            return f", column {column}: {found.group(1)!r} is not {article} {found.group(2)}"
    counts = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", message)
    if error in ("MISSING COLUMNS", "TOO MANY COLUMNS") and counts:
        return f": {counts.group(2)} fields where the table has {counts.group(1)}"
    if error == "UNQUOTED VALUE":
        return ": a quote inside a field that is not quoted"
    if error == "INVALID UNICODE":
        return ": not UTF-8"
    return f": {message}"


def _failure(label: str, message: str) -> QueryFailed:
    """DuckDB's error as the project's exception of its kind."""
    from elt_cli.sql import malformed_file

    reason = _first_lines(message)
    if "Division by zero" in message:  # Trino's words, not DuckDB's advice on its settings
        reason = "Division by zero"
    file = malformed_file(message)
    if file is not None:
        return MalformedRows(label, reason, None, file)
    return QueryFailed(label, reason)


def _tables(tree):
    from sqlglot import exp

    return tree.find_all(exp.Table)


def _first_lines(message: str, limit: int = 3) -> str:
    return " ".join(line.strip() for line in message.strip().splitlines()[:limit])
