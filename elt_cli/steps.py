"""The five steps of the workflow as plain functions over a Job (engine, storage, templates)."""

from __future__ import annotations

import difflib
import secrets
import shlex
import time
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from elt_cli import sql
from elt_cli.config import Settings
from elt_cli.engines.base import Engine, QueryResult, Statement
from elt_cli.errors import BadInput, StepFailed
from elt_cli.journal import Journal, digest
from elt_cli.layout import RAW_TABLES, Layout
from elt_cli.report import Reporter
from elt_cli.templates import MAX_TEXT, Templates, identifier, slug


@dataclass(frozen=True)
class Subset:
    """One genre and the table (and file names) it becomes."""

    genre: str
    table: str


def subsets_for(genres: tuple[str, ...] | list[str]) -> list[Subset]:
    """Check the --genre values before anything runs; repeated genres are built once."""
    if not genres:
        raise BadInput("give at least one --genre, e.g. --genre Sci-Fi (see `elt genres`)")
    found: dict[str, Subset] = {}
    for genre in genres:
        if not genre.strip() or len(genre) > MAX_TEXT:
            raise BadInput(
                f"invalid genre {genre!r}: give a genre name of 1 to {MAX_TEXT} characters"
            )
        table = slug(genre)
        if not table:
            raise BadInput(f"invalid genre {genre!r}: it needs at least one letter or digit")
        if table[0].isdigit():
            raise BadInput(
                f"genre {genre!r} gives table name {table!r}, which must not start with a digit"
            )
        identifier(table, "table name for genre")
        if table in RAW_TABLES:
            raise BadInput(f"genre {genre!r} would overwrite the raw {table} table")
        found.setdefault(table, Subset(genre, table))
    return list(found.values())


@dataclass
class Job:
    settings: Settings
    engine: Engine
    storage: Any  # LocalStorage, S3Storage or DryRunStorage
    templates: Templates
    reporter: Reporter
    journal: Journal | None = None  # `run` only
    skip_bad_rows: bool = False
    dry_run: bool = False
    lock: Any = None  # held by hold_lock, released by the CLI when the command ends

    @property
    def layout(self) -> Layout:
        return self.settings.layout

    @property
    def database(self) -> str:
        return self.settings.database

    def render(self, template: str, **values: str) -> str:
        return self.templates.render(template, database=self.database, **values)

    def raw_ddl(self, table: str) -> str:
        """A raw table's CREATE statement: the job's template with elt's additions."""
        template = f"create_{table}_table"
        ddl = self.render(template, table=table, location=self.layout.raw(table))
        return sql.raw_table_ddl(template, ddl)

    @cached_property
    def raw_columns(self) -> dict[str, list[str]]:
        return {t: sql.raw_columns(f"create_{t}_table", self.raw_ddl(t)) for t in RAW_TABLES}

    def select(self, template: str, **values: str) -> tuple[str, tuple[str, ...]]:
        """A SELECT of the job's, every read of raw data guarded against malformed rows, and
        the raw tables it reads."""
        return sql.guard_raw_reads(
            template,
            self.render(template, **values),
            self.database,
            self.raw_columns,
            self.skip_bad_rows,
        )

    def sample_statements(self) -> dict[str, str]:
        """Every statement of the job rendered with sample values, for the engine to check
        before anything runs."""
        return {
            **{f"create_{t}_table": self.raw_ddl(t) for t in RAW_TABLES},
            "build_subset": self.select("build_subset", genre="Sci-Fi")[0],
            "export_subset": self.render("export_subset", table="subset"),
            "list_genres": self.select("list_genres")[0],
        }

    def hold_lock(self) -> None:
        """One writer per lake and database, until the command ends (see lock.py)."""
        if self.lock is None and not self.dry_run:
            from elt_cli.lock import lock_for

            self.lock = lock_for(self.settings, self.storage)
            self.lock.acquire(self.settings.wait_lock)

    def require_database(self, step: str) -> None:
        if not self.engine.database_exists(self.database):
            raise StepFailed(
                step, f"database {self.database} does not exist: run `elt ensure-db` first"
            )


def ensure_db(job: Job) -> str:
    db = job.database
    job.reporter.step_started("ensure-db", db)
    if job.engine.database_exists(db):
        outcome = "exists: left as it is"
    else:
        job.engine.execute(Statement("create_database", sql.create_database(db), db))
        outcome = "is missing: would be created" if job.dry_run else "was missing: created"
    job.reporter.step_finished("ensure-db", outcome)
    return f"database {db} {outcome}"


def check_raw_data(job: Job) -> None:
    for table in RAW_TABLES:
        if not job.storage.list_files(job.layout.raw(table)):
            raise BadInput(
                f"no raw {table} files under {job.layout.raw(table)}: "
                "check --lake and --source-prefix, or run `elt sample-data`"
            )


def create_tables(job: Job) -> None:
    check_raw_data(job)
    job.require_database("create-tables")
    job.reporter.step_started("create-tables", ", ".join(RAW_TABLES))
    # DROP first: CREATE ... IF NOT EXISTS would keep a stale definition (the original's INT
    # ratings) forever. The tables are external, so dropping them leaves the raw files alone.
    job.engine.execute_many(
        [Statement("drop_table", sql.drop_table(job.database, t), t) for t in RAW_TABLES]
    )
    job.engine.execute_many(
        [Statement(f"create_{t}_table", job.raw_ddl(t), t, creates=t) for t in RAW_TABLES]
    )
    job.reporter.step_finished("create-tables")


def read_raw(job: Job, statements: list[Statement], rows: bool = False) -> list[QueryResult]:
    """Run statements that read raw tables (with their rows if asked). One that met a
    malformed row (see sql.guard_raw_reads) fails with how many there are and where; with
    --skip-bad-rows, what was skipped is counted and told."""
    run = job.engine.query_many if rows else job.engine.execute_many
    try:
        results = run(statements)
    except StepFailed as exc:
        if sql.malformed_file(exc.reason) is None:
            raise
        found = _malformed(job, statements)
        raise StepFailed(
            exc.step,
            f"{_describe_malformed(found)}; fix the file, or give --skip-bad-rows to skip and "
            "count them",
            exc.query_id,
        ) from exc
    if job.skip_bad_rows:
        found = _malformed(job, statements)
        if found:
            job.reporter.note(f"{statements[0].template}: skipped {_describe_malformed(found)}")
    return results


def _malformed(job: Job, statements: list[Statement]) -> list[tuple[str, int]]:
    """(file, malformed rows) of the raw tables the statements read, most first; [] in a dry
    run. On Athena this is one more scan of those tables."""
    reads = sorted({t for st in statements for t in st.reads})
    counts = job.engine.query_many(
        [
            Statement("count_malformed", sql.malformed_rows(job.database, t, job.raw_columns[t]), t)
            for t in reads
        ]
    )
    found = [(str(f), int(n)) for result in counts for f, n in result.rows or []]
    return sorted(found, key=lambda fn: (-fn[1], fn[0]))


def _describe_malformed(found: list[tuple[str, int]]) -> str:
    total = sum(n for _, n in found)
    files = ", ".join(f"{n} in {f}" for f, n in found[:3])
    more = f" and {len(found) - 3} more file(s)" if len(found) > 3 else ""
    return (
        f"{total} malformed row(s) in the raw data ({files}{more}): a field missing, extra "
        "or not of its column's type"
    )


def genres_in_data(job: Job) -> list[tuple[str, int]] | None:
    """The genres with their film counts; None in a dry run, where nothing is queried."""
    select, reads = job.select("list_genres")
    (result,) = read_raw(job, [Statement("list_genres", select, reads=reads)], rows=True)
    rows = result.rows
    return None if rows is None else [(str(genre), int(films)) for genre, films in rows]


def check_genres(subsets: list[Subset], known: list[tuple[str, int]] | None) -> None:
    """A genre with no films is refused before anything is built, like click answers a
    mistyped command: with the closest genre there is."""
    if known is None:
        return  # a dry run: nothing was asked
    # genres match case-insensitively: suggest the spelling with the most films
    names = {genre.lower(): genre for genre, _ in sorted(known, key=lambda gf: gf[1])}
    for s in subsets:
        if s.genre.lower() not in names:
            close = difflib.get_close_matches(s.genre.lower(), list(names), n=1, cutoff=0.6)
            hint = (
                f". Did you mean {names[close[0]]!r}?"
                if close
                else "; `elt genres` lists the genres in the data"
            )
            raise BadInput(f"no films with genre {s.genre!r}{hint}")


def raw_tables_exist(job: Job) -> bool:
    return job.engine.database_exists(job.database) and all(
        job.engine.table_exists(job.database, t) for t in RAW_TABLES
    )


def list_genres(job: Job) -> list[tuple[str, int]] | None:
    """`elt genres`: works on a fresh lake too, by doing first what ensure-db and
    create-tables would (and saying so); otherwise it changes nothing."""
    check_raw_data(job)
    if not raw_tables_exist(job):
        job.reporter.note(
            "genres: the raw tables are not there yet: making them, as `elt ensure-db` and "
            "`elt create-tables` do"
        )
        job.hold_lock()
        ensure_db(job)
        create_tables(job)
    job.reporter.step_started("genres")
    found = genres_in_data(job)
    job.reporter.step_finished(
        "genres", "" if found is None else f"{len(found)} genres in the data"
    )
    return found


def new_version() -> str:
    return time.strftime("v%Y%m%dt%H%M%S") + secrets.token_hex(3)


def version_of(table: str) -> tuple[str, str]:
    """`sci_fi__v20261126t010203abcdef` -> (`sci_fi`, `v20261126t010203abcdef`)."""
    view, _, version = table.rpartition("__")
    return view, version


def build_subset(job: Job, subsets: list[Subset], version: str | None = None, known=None) -> None:
    job.require_database("build-subset")
    if not raw_tables_exist(job):
        raise StepFailed("build-subset", "the raw tables are not there: run `elt create-tables`")
    job.reporter.step_started("build-subset", ", ".join(s.genre for s in subsets))
    check_genres(subsets, known if known is not None else genres_in_data(job))
    # Each build is a new table over a fresh location (so a CTAS never meets old files), then
    # the subset's view is pointed at it in one statement: readers see the old complete version
    # or the new one, never a missing or half-built table. The version readers saw before is
    # kept until the next successful build, so a query that was already scanning it finishes.
    version = version or new_version()
    statements = _build_statements(job, subsets, version)
    try:
        read_raw(job, statements)
    except BaseException:
        _discard(job, statements, after_failure=True)
        raise
    for st in statements:
        _publish(job, st)
    job.reporter.step_finished("build-subset")


def _build_statements(job: Job, subsets: list[Subset], version: str) -> list[Statement]:
    """One CTAS per subset into a new version: `<slug>__<version>` over a fresh location."""
    statements = []
    for s in subsets:
        select, reads = job.select("build_subset", genre=s.genre)
        location = job.layout.table_data(s.table, version) if job.engine.places_tables else None
        table = f"{s.table}__{version}"
        statements.append(
            Statement(
                "build_subset",
                sql.ctas(job.database, table, select, location),
                s.genre,
                creates=table,
                reads=reads,
            )
        )
    return statements


def _publish(job: Job, built: Statement) -> None:
    """Point the view at the new version; keep the version it showed before, drop older ones."""
    view, version = version_of(built.creates)
    current = job.engine.table_info(job.database, view)
    previous = current.view_of if current and current.kind == "view" else None
    if current and current.kind == "table":
        # The original workflow's CTAS left a plain table under the subset's name, and
        # CREATE OR REPLACE VIEW cannot replace a table. It is external: its data stays.
        drop = Statement("drop_table", sql.drop_table(job.database, view), built.subject)
        job.engine.execute(drop)
        job.reporter.note(
            f"build-subset: replaced the table {view} (made by an earlier workflow) with a view; "
            f"its data stays at {current.location or 'its location'}"
        )
    publish = sql.publish(job.database, view, built.creates)
    job.engine.execute(Statement("publish", publish, built.subject, creates=view))
    keep = {built.creates, previous}
    old = [t for t in job.engine.tables(job.database, f"{view}__v") if t.name not in keep]
    _discard(job, [Statement("drop_old", "", built.subject, creates=t.name) for t in old])
    kept = {version_of(t)[1] for t in keep if t}
    root = job.layout.table_root(view)
    for folder in {f[len(root) :].split("/", 1)[0] for f in job.storage.list_files(root)} - kept:
        job.storage.delete_prefix(job.layout.table_data(view, folder))  # left by killed runs


def _discard(job: Job, built: list[Statement], after_failure: bool = False) -> None:
    """Drop table versions and delete their data. After a failed (or interrupted) build this
    discards the half-built versions, best effort: the build's own error matters more."""
    for st in built:
        try:
            info = job.engine.table_info(job.database, st.creates)
            label = "discard" if after_failure else "drop_old"
            job.engine.execute(
                Statement(label, sql.drop_table(job.database, st.creates), st.subject)
            )
            if info and info.location:
                job.storage.delete_prefix(info.location)
            view, version = version_of(st.creates)
            if after_failure:  # a cancelled CTAS may have written files and made no table
                job.storage.delete_prefix(job.layout.table_data(view, version))
                job.reporter.note(
                    f"build-subset: discarded the half-built version {st.creates}; the "
                    f"published {view}, if any, is unchanged"
                )
        except Exception as exc:
            if not after_failure:
                raise
            job.reporter.note(f"build-subset: could not clean up {st.creates}: {exc}")


def export(job: Job, subsets: list[Subset]) -> None:
    job.require_database("export")
    for s in subsets:
        if not job.engine.table_exists(job.database, s.table):
            raise StepFailed(
                "export",
                f"the {s.genre} subset is not built: run `elt build-subset --genre "
                f"{shlex.quote(s.genre)}` first",
            )
    job.reporter.step_started("export", ", ".join(s.genre for s in subsets))
    for s in subsets:
        job.storage.delete_prefix(job.layout.export_dir(s.table))
        dest = job.layout.export_file(s.table)
        export = job.render("export_subset", table=s.table)
        result = job.engine.export_csv(Statement("export_subset", export, s.genre), dest)
        job.reporter.output(dest, result.row_count, s.genre)
    job.reporter.step_finished("export")


def move(job: Job, subsets: list[Subset]) -> list[str]:
    job.reporter.step_started("move", ", ".join(s.genre for s in subsets))
    finals = []
    for s in subsets:
        files = job.storage.list_files(job.layout.export_dir(s.table))
        if len(files) != 1:
            found = "nothing" if not files else f"{len(files)} files"
            raise StepFailed(
                "move",
                f"expected one export file under {job.layout.export_dir(s.table)}, found {found}: "
                f"run `elt export --genre {shlex.quote(s.genre)}` first",
            )
        final = job.layout.final_file(s.table)
        job.storage.move(files[0], final)
        job.reporter.moved(files[0], final, s.genre)
        finals.append(final)
    job.reporter.step_finished("move")
    return finals


def run(job: Job, subsets: list[Subset]) -> list[str]:
    """The five steps. With a journal, each finished step is recorded with a digest of the SQL
    it runs (and, for the build, of the raw files); `--resume` skips a step whose digest is
    unchanged, until one step has to run: every step after it runs too."""
    check_raw_data(job)  # before anything changes
    known = None
    if raw_tables_exist(job):  # a mistyped genre is refused before anything changes
        job.reporter.step_started("genres", ", ".join(s.genre for s in subsets))
        known = genres_in_data(job)
        check_genres(subsets, known)
        job.reporter.step_finished(
            "genres", "" if known is None else f"{len(known)} genres in the data"
        )
    journal = job.journal
    names = [s.table for s in subsets]
    fingerprints = [job.storage.fingerprint(job.layout.raw(t)) for t in RAW_TABLES]
    plan = [
        ("ensure-db", [sql.create_database(job.database)], lambda: ensure_db(job)),
        ("create-tables", [job.raw_ddl(t) for t in RAW_TABLES], lambda: create_tables(job)),
        (
            "build-subset",
            [*fingerprints, *[job.select("build_subset", genre=s.genre)[0] for s in subsets]],
            lambda: _build_recorded(job, subsets, chain, known),
        ),
        (
            "export",
            [job.render("export_subset", table=t) for t in names],
            lambda: export(job, subsets),
        ),
        ("move", [job.layout.final_file(t) for t in names], lambda: move(job, subsets)),
    ]
    chain, must_run, finals = "", False, [job.layout.final_file(t) for t in names]
    genres = ", ".join(s.genre for s in subsets)
    for step, parts, action in plan:
        chain = digest(chain, *parts)
        if not must_run and journal and journal.done(step, chain):
            job.reporter.step_skipped(step, "done by an earlier run with the same SQL and data")
            continue
        if step == "build-subset" and _unchanged(job, subsets, chain):
            # A subset depends only on its SQL and the raw files: when neither changed since
            # the last build and the tables are there, they already are the result.
            job.reporter.step_skipped(
                step, "raw files and SQL unchanged since the last build", genres
            )
            journal.finished(step, chain)
            continue
        must_run = True
        result = action()
        if step == "move":
            finals = result
        if journal:
            journal.finished(step, chain)
    return finals


def _unchanged(job: Job, subsets: list[Subset], build_digest: str) -> bool:
    return (
        bool(job.journal)
        and job.journal.unchanged("build-subset", build_digest)
        and all(job.engine.table_exists(job.database, s.table) for s in subsets)
    )


def _build_recorded(job: Job, subsets: list[Subset], build_digest: str, known) -> None:
    """build_subset, resuming the killed run's build where that is safe: same SQL and raw
    files, and every CTAS of it still running, or finished with its table still there.
    Otherwise a new version: a cancelled CTAS may have left files in its location."""
    journal = job.journal
    version = None
    if journal and journal.resume and journal.building_digest == build_digest:
        statements = _build_statements(job, subsets, journal.version)
        if all(job.engine.reattachable(st) for st in statements):
            version = journal.version
    version = version or new_version()
    if journal:
        journal.building(version, build_digest)
    build_subset(job, subsets, version, known)
