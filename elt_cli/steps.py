"""The five steps of the workflow as plain functions over a Job (engine, storage, templates)."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

from elt_cli.config import Settings
from elt_cli.engines.base import Engine, Statement
from elt_cli.errors import BadInput, EltError, StepFailed
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

    @property
    def layout(self) -> Layout:
        return self.settings.layout

    def sql(self, template: str, subject: str = "", **values: str) -> Statement:
        sql = self.templates.render(template, database=self.settings.database, **values)
        return Statement(template, sql, subject)

    def require_database(self, step: str) -> None:
        if not self.engine.database_exists(self.settings.database):
            raise StepFailed(
                step, f"database {self.settings.database} does not exist: run `elt ensure-db` first"
            )


def ensure_db(job: Job) -> str:
    db = job.settings.database
    job.reporter.step_started("ensure-db", db)
    if job.engine.database_exists(db):
        outcome = f"database {db} exists: left as it is"
    else:
        job.engine.execute(job.sql("create_database"))
        outcome = f"database {db} was missing: created"
    job.reporter.step_finished("ensure-db", outcome)
    return outcome


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
    job.engine.execute_many([job.sql("drop_table", t, table=t) for t in RAW_TABLES])
    job.engine.execute_many(
        [job.sql(f"create_{t}_table", t, table=t, location=job.layout.raw(t)) for t in RAW_TABLES]
    )
    job.reporter.step_finished("create-tables")


def genres_in_data(job: Job) -> list[tuple[str, int]] | None:
    """The genres with their film counts; None in a dry run, where nothing is queried."""
    rows = job.engine.query(job.sql("list_genres")).rows
    return None if rows is None else [(str(genre), int(films)) for genre, films in rows]


def new_version() -> str:
    return time.strftime("v%Y%m%dt%H%M%S") + secrets.token_hex(3)


def build_subset(job: Job, subsets: list[Subset], version: str | None = None) -> None:
    job.require_database("build-subset")
    job.reporter.step_started("build-subset", ", ".join(s.table for s in subsets))
    known = genres_in_data(job)
    if known is not None:
        names = {genre.lower() for genre, _ in known}
        unknown = [s.genre for s in subsets if s.genre.lower() not in names]
        if unknown:
            listing = ", ".join(f"{g} ({n})" for g, n in known) or "none"
            raise EltError(
                f"no films with genre {', '.join(map(repr, unknown))}; "
                f"genres in the data: {listing}"
            )
    # Each build is a new table over a fresh location (so a CTAS never meets old files), then
    # the subset's view is pointed at it in one statement: readers see the old complete version
    # or the new one, never a missing or half-built table. Older versions are removed after.
    version = version or new_version()
    staged = [
        (s, f"{s.table}__{version}", job.layout.table_data(s.table, version)) for s in subsets
    ]
    try:
        job.engine.execute_many(
            [
                job.sql("build_subset", s.table, table=table, location=location, genre=s.genre)
                for s, table, location in staged
            ]
        )
    except BaseException:
        _discard_staged(job, staged)
        raise
    for s, table, _ in staged:
        job.engine.execute(job.sql("publish_subset", s.table, view=s.table, table=table))
        _remove_old_versions(job, s.table, keep=version)
    job.reporter.step_finished("build-subset")


def _remove_old_versions(job: Job, subset: str, keep: str) -> None:
    root = job.layout.table_root(subset)
    versions = {f[len(root) :].split("/", 1)[0] for f in job.storage.list_files(root)}
    for version in sorted(versions - {keep}):
        job.engine.execute(job.sql("drop_table", subset, table=f"{subset}__{version}"))
        job.storage.delete_prefix(job.layout.table_data(subset, version))


def _discard_staged(job: Job, staged: list) -> None:
    """Best effort after a failed build: drop staging names and their half-written data."""
    for s, staging, location in staged:
        try:
            job.engine.execute(job.sql("drop_table", s.table, table=staging))
            job.storage.delete_prefix(location)
        except Exception as exc:  # the build's own error matters more than this one
            job.reporter.note(f"build-subset: could not clean up {location}: {exc}")


def export(job: Job, subsets: list[Subset]) -> None:
    job.require_database("export")
    job.reporter.step_started("export", ", ".join(s.table for s in subsets))
    for s in subsets:
        job.storage.delete_prefix(job.layout.export_dir(s.table))
        dest = job.layout.export_file(s.table)
        result = job.engine.export_csv(job.sql("export_subset", s.table, table=s.table), dest)
        job.reporter.output(dest, result.row_count)
    job.reporter.step_finished("export")


def move(job: Job, subsets: list[Subset]) -> list[str]:
    job.reporter.step_started("move", ", ".join(s.table for s in subsets))
    finals = []
    for s in subsets:
        files = job.storage.list_files(job.layout.export_dir(s.table))
        if len(files) != 1:
            found = "nothing" if not files else f"{len(files)} files"
            raise StepFailed(
                "move",
                f"expected one export file under {job.layout.export_dir(s.table)}, found {found}: "
                f"run `elt export --genre {s.genre!r}` first",
            )
        final = job.layout.final_file(s.table)
        job.storage.move(files[0], final)
        job.reporter.output(final)
        finals.append(final)
    job.reporter.step_finished("move")
    return finals


def run(job: Job, subsets: list[Subset]) -> list[str]:
    """The five steps. With a journal, each finished step is recorded with a digest of the SQL
    it runs (and, for the build, of the raw files); `--resume` skips a step whose digest is
    unchanged, until one step has to run: every step after it runs too."""
    check_raw_data(job)  # before ensure-db changes anything
    journal = job.journal
    # Re-attaching to a killed run's queries needs the very same statements, so a resumed run
    # reuses its build version; where no query ids were recorded (local) a new one is cleaner.
    resuming = journal and journal.resume and journal.version and journal.queries
    version = journal.version if resuming else new_version()
    names = [s.table for s in subsets]
    fingerprints = [job.storage.fingerprint(job.layout.raw(t)) for t in RAW_TABLES]

    def render(template: str, **values: str) -> str:
        return job.sql(template, **values).sql

    plan = [
        ("ensure-db", [render("create_database")], lambda: ensure_db(job)),
        (
            "create-tables",
            [render(f"create_{t}_table", table=t, location=job.layout.raw(t)) for t in RAW_TABLES],
            lambda: create_tables(job),
        ),
        (
            "build-subset",
            [
                *fingerprints,
                *[
                    render("build_subset", table=t, location="", genre=s.genre)
                    for s, t in zip(subsets, names, strict=True)
                ],
            ],
            lambda: _build_recorded(job, subsets, version),
        ),
        ("export", [render("export_subset", table=t) for t in names], lambda: export(job, subsets)),
        ("move", [job.layout.final_file(t) for t in names], lambda: move(job, subsets)),
    ]
    chain, must_run, finals = "", False, [job.layout.final_file(t) for t in names]
    for step, parts, action in plan:
        chain = digest(chain, *parts)
        if not must_run and journal and journal.done(step, chain):
            job.reporter.note(f"{step}: skipped, done by an earlier run with the same SQL and data")
            continue
        if step == "build-subset" and _unchanged(job, subsets, chain):
            # A subset depends only on its SQL and the raw files: when neither changed since
            # the last build and the tables are there, they already are the result.
            job.reporter.note(
                "build-subset: skipped, raw files and SQL unchanged since the last build"
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
        and all(job.engine.table_exists(job.settings.database, s.table) for s in subsets)
    )


def _build_recorded(job: Job, subsets: list[Subset], version: str) -> None:
    if job.journal:
        job.journal.building(version)  # a resumed run rebuilds the same statements
    build_subset(job, subsets, version)
