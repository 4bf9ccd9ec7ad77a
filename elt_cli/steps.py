"""The five steps of any job as plain functions over a Job: ensure-db, create-tables (every
source), build-subset (every model, in the order of what they read), export and move (every
export), and run (the five). A Job is the command's Plan (plan.py) with what runs it: the
engine, the lake's storage, the lock, the run record and the reporter."""

from __future__ import annotations

import dataclasses
import difflib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from elt_cli import audit, sql
from elt_cli.engines.base import BadRows, Engine, QueryResult, Statement
from elt_cli.errors import BadInput, ChecksFailed, EltError, MalformedRows, StepFailed
from elt_cli.journal import Builds, Journal, Listings, digest
from elt_cli.plan import Build, Output, Plan
from elt_cli.report import Reporter
from elt_cli.storage import Storage


@dataclass(eq=False, kw_only=True)
class Job(Plan):
    engine: Engine
    storage: Storage
    reporter: Reporter
    journal: Journal | None = None  # `run` only
    dry_run: bool = False
    lock: Any = None  # held by hold_lock, released when the command ends
    # builds not published (their table -> why): a new version failed its checks, or reads
    # one that did; nothing is exported from them
    held: dict[str, tuple[str, str]] = dataclasses.field(default_factory=dict)  # (why, what)
    # `run` leaves alone what did not change since elt made it: a raw table of the same DDL,
    # a final file written from the same model version by the same export SQL
    skip_unchanged: bool = False
    unchanged: set[str] = dataclasses.field(default_factory=set)  # final files left as they are

    # -- state -------------------------------------------------------------------------------------

    def hold_lock(self) -> None:
        """One writer per lake and database, until the command ends (see lock.py)."""
        if self.lock is None and not self.dry_run:
            from elt_cli.lock import lock_for

            self.lock = lock_for(self.settings, self.storage)
            self.lock.acquire(self.settings.wait_lock)

    def still_locked(self) -> None:
        """Before anything readers see changes: the lake's lock is still ours (an S3 lease
        another run may have taken over, presuming this one dead)."""
        if self.lock is not None:
            self.lock.check()

    @cached_property
    def built(self) -> Builds:
        return Builds(self.storage, self.layout.state_dir() + "builds.json")

    @cached_property
    def listings(self) -> Listings:
        return Listings(self.storage, self.layout.state_dir() + "values.json")

    @cached_property
    def digests(self) -> dict[str, str]:
        """Per table to build: a digest of its SQL and of what it reads (see Plan.digests_for).
        Worked out once per command: on S3 it lists the raw files."""
        return self.digests_for(
            {n: self.storage.fingerprint(loc) for n, loc in self.locations.items()}
        )

    def current(self, key: str, key_digest: str, table: str | None = None) -> bool:
        """The table (`key`, or `table` when given) is there and was built from these SQL and
        inputs."""
        return self.built.current(key, key_digest) and self.engine.table_exists(
            self.database, table or key
        )

    def stale_models(self, names) -> set[str]:
        """Of these models (none per value), those not built from the current SQL and data."""
        tables = {name: self.expand(self.spec.model(name).table) for name in names}
        return {n for n, table in tables.items() if not self.current(table, self.digests[table])}

    def require_database(self, step: str) -> None:
        if not self.engine.database_exists(self.database):
            raise StepFailed(
                step, f"database {self.database} does not exist: run `elt ensure-db` first"
            )

    def exist(self, tables) -> bool:
        return self.engine.database_exists(self.database) and all(
            self.engine.table_exists(self.database, t) for t in tables
        )


# -- the steps -------------------------------------------------------------------------------------


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
    """Every source has files: checked once, when a command that reads raw data opens the job
    (before the lock is taken or anything changes)."""
    for name, location in job.locations.items():
        if not job.storage.list_files(location):
            raise BadInput(
                f"no raw {name} files under {location}: check --lake and --source-prefix, or "
                "run `elt sample-data`"
            )


def create_tables(job: Job) -> None:
    job.require_database("create-tables")
    sources = list(job.spec.sources.values())
    job.reporter.step_started("create-tables", ", ".join(s.name for s in sources))
    if job.skip_unchanged:
        for s in [
            s for s in sources if job.current(_source_key(s.name), digest(job.raw_ddl(s)), s.name)
        ]:
            job.reporter.skipped(s.name, "its definition is unchanged")
            sources.remove(s)
    # DROP first: CREATE ... IF NOT EXISTS would keep a stale definition (the original's INT
    # ratings) forever. The tables are external, so dropping them leaves the raw files alone.
    job.engine.execute_many(
        [
            Statement("drop_table", sql.drop_table(job.database, s.name), s.name, drops=s.name)
            for s in sources
        ]
    )
    job.engine.execute_many(
        [
            Statement(f"create_{s.name}_table", job.raw_ddl(s), s.name, creates=s.name)
            for s in sources
        ]
    )
    for s in sources:
        job.engine.verify_raw_table(job.database, s.name, job.raw_ddl(s))
        job.built.record(_source_key(s.name), digest(job.raw_ddl(s)))
    job.reporter.step_finished("create-tables")


def _source_key(name: str) -> str:
    return f"source {name}"  # a raw table's entry in builds.json


def read_raw(job: Job, statements: list[Statement], rows: bool = False) -> list[QueryResult]:
    """Run statements that read raw tables (with their rows if asked). One that met a
    malformed row (see sql.resolve) fails with how many there are and where; with
    --skip-bad-rows, what was skipped is counted and told in one note. Either way the rows the
    SQL refused are counted with those the engine's own reader set aside
    (Engine.counting_rejects)."""
    run = job.engine.query_many if rows else job.engine.execute_many
    if job.skip_bad_rows:
        with job.engine.counting_rejects() as rejected:
            results = run(statements)
            refused = _malformed(job, statements) if any(st.reads for st in statements) else []
        if rejected or refused:
            job.reporter.note(f"{statements[0].template}: skipped {_skipped(refused, rejected)}")
        return results
    try:
        return run(statements)
    except MalformedRows as exc:
        with job.engine.counting_rejects() as rejected:
            found = _malformed(job, statements) or [BadRows(exc.file, 1, "")]
        found = sorted(found + rejected, key=lambda bad: (-bad.rows, bad.file))
        raise StepFailed(
            exc.step,
            f"{_describe_malformed(found)}; fix the file, or give --skip-bad-rows to skip and "
            "count them",
            exc.query_id,
        ) from exc


def _malformed(job: Job, statements: list[Statement]) -> list[BadRows]:
    """(file, malformed rows, what is wrong with one) of the raw tables the statements read,
    most first; [] in a dry run. On Athena this is one more scan of those tables."""
    reads = sorted({t for st in statements for t in st.reads})
    counts = job.engine.query_many(
        [
            Statement("count_malformed", sql.malformed_rows(job.database, t, job.raw_columns[t]), t)
            for t in reads
        ]
    )
    found = [BadRows(str(f), int(n), str(why)) for r in counts for f, n, why in r.rows or []]
    return sorted(found, key=lambda bad: (-bad.rows, bad.file))


def _describe_malformed(found: list[BadRows]) -> str:
    """`3 malformed row(s) in the raw data: 2 in s3://.../bad.csv (column rating is missing,
    empty or not a DOUBLE), 1 in ...`: Athena knows no line numbers, only files."""
    total = sum(bad.rows for bad in found)
    files = ", ".join(
        f"{bad.rows} in {bad.file}" + (f" ({bad.what})" if bad.what else "") for bad in found[:3]
    )
    more = f" and {len(found) - 3} more file(s)" if len(found) > 3 else ""
    return f"{total} malformed row(s) in the raw data: {files}{more}"


def _skipped(refused: list[BadRows], rejected: list[BadRows]) -> str:
    """What --skip-bad-rows skipped: the total, and the first row the reader set aside, by
    file and line (the SQL knows no lines); else the rows the SQL refused, per file."""
    if not rejected:
        return _describe_malformed(refused)
    first = min(rejected, key=lambda bad: (bad.file, bad.line))
    total = sum(bad.rows for bad in refused + rejected)
    return f"{total} malformed row(s), first {first.file} {first.what}"


def values_in_data(job: Job, parameter: str, subject: str = "") -> list[tuple[str, int]] | None:
    """The values of a parameter there are in the data, with their counts (its `values`
    query). A model it reads that is not built, or was built from other SQL or data, is read
    as its SELECT: the values are those of the data as it is now. Where the listing reads
    only built, current models, the values it last gave from them (job.listings) are the
    answer, with no query; a dry run, which queries nothing, has those or None."""
    spec = job.spec
    listing = spec.parameters[parameter]
    models = [r for r in listing.reads if r not in spec.sources]
    unbuilt = job.stale_models(models)
    assert listing.values is not None  # the callers ask only of parameters with one
    select, reads = job.select(listing.values, None, None, frozenset(unbuilt))
    # what the values follow from, where the listing reads built, current models only
    built = ""
    if models == list(listing.reads) and not unbuilt:
        built = digest(select, *(job.digests[job.expand(spec.model(m).table)] for m in models))
    # The same SQL over the same built tables gives the same values: no query (on Athena, no
    # bill) where the last listing read exactly these.
    known = job.listings.get(parameter, built) if built else None
    if known is not None:
        return known
    statement = Statement(f"list_{listing.plural}", select, subject, reads=reads)
    (result,) = read_raw(job, [statement], rows=True)
    if result.rows is None:  # a dry run
        return None
    # a NULL value is no value a user can give (NULL equals no literal): it is left out
    found = [(str(value), int(count)) for value, count in result.rows if value is not None]
    if built:
        job.listings.record(parameter, built, found)
    return found


def check_values(job: Job, parameter: str, known: list[tuple[str, int]] | None) -> None:
    """A value with nothing in the data is refused before it is built, like click answers a
    mistyped command: with the closest value there is."""
    if known is None:
        return  # a dry run: nothing was asked
    plural = job.spec.parameters[parameter].plural
    # values match case-insensitively: suggest the spelling with the most behind it
    names = {value.lower(): value for value, _ in sorted(known, key=lambda vc: vc[1])}
    for value in job.values.get(parameter, []):
        if value.lower() not in names:
            close = difflib.get_close_matches(value.lower(), list(names), n=1, cutoff=0.6)
            hint = (
                f". Did you mean {names[close[0]]!r}?"
                if close
                else f"; `elt values {parameter}` lists the {plural} in the data"
            )
            counted = job.spec.parameters[parameter].counted
            raise BadInput(f"no {counted} with {parameter} {value!r}{hint}")


def list_values(job: Job, parameter: str) -> list[tuple[str, int]] | None:
    """`elt values` (`elt genres`): works on a fresh lake too, by doing first what ensure-db
    and create-tables would (and saying so); otherwise it changes nothing."""
    plural = job.spec.parameters[parameter].plural
    if job.spec.parameters[parameter].values is None:
        raise BadInput(f"the job does not say how to list the {plural} (no values = ...)")
    if not job.exist(job.spec.sources):
        job.reporter.note(
            f"{plural}: the raw tables are not there yet: making them, as `elt ensure-db` "
            "and `elt create-tables` do"
        )
        job.hold_lock()
        ensure_db(job)
        create_tables(job)
    job.reporter.step_started(plural)
    found = values_in_data(job, parameter)
    outcome = "" if found is None else f"{len(found)} {plural} in the data"
    job.reporter.step_finished(plural, outcome)
    if found == []:
        listing = job.spec.parameters[parameter]
        raw = sorted({job.locations[s] for s in _sources_under(job, listing.reads)})
        job.reporter.note(
            f"no {plural} found: {listing.values.path if listing.values else ''} gave no rows "
            f"from {', '.join(f'{job.database}.{t}' for t in listing.reads)} (raw files under "
            f"{', '.join(raw)}); check --lake and --source-prefix, or the data"
        )
    return found


def _sources_under(job: Job, names) -> set[str]:
    """The sources these tables read, through the models between."""
    found: set[str] = set()
    for name in names:
        if name in job.spec.sources:
            found.add(name)
        else:
            found |= _sources_under(job, job.spec.model(name).reads)
    return found


# Glue versions of a view kept after a publish (each CREATE OR REPLACE VIEW adds one): enough
# to see what it pointed at lately, far below Glue's 100,000 a table.
VIEW_VERSIONS_KEPT = 5


def new_version() -> str:
    """`v<UTC time to the second><milliseconds><3 random hex digits>`: later versions sort
    after earlier ones (_drop_earlier_candidates relies on it), and two builds started in
    the same millisecond still differ."""
    now = time.time()
    stamp = time.strftime("v%Y%m%dt%H%M%S", time.gmtime(now))
    return f"{stamp}{int(now * 1000) % 1000:03d}{secrets.token_hex(2)[:3]}"


def version_of(table: str) -> tuple[str, str]:
    """`sci_fi__v20261126t010203abcdef` -> (`sci_fi`, `v20261126t010203abcdef`)."""
    view, _, version = table.rpartition("__")
    return view, version


def build(job: Job, version: str | None = None, checked: set[str] | None = None) -> None:
    """Every model, level by level (a level reads only what earlier ones built): each build
    a new table over a fresh location, then its view pointed at it in one statement, so
    readers see the old complete version or the new one, never a missing or half-built
    table. The version readers saw before is kept until the next successful build, so a
    query that was already scanning it finishes. A model whose SQL and inputs did not change
    since its last build, and whose table is there, is not built again."""
    job.require_database("build-subset")
    if not job.exist(job.spec.sources):
        raise StepFailed("build-subset", "the raw tables are not there: run `elt create-tables`")
    builds = [b for m in job.spec.models for b in job.builds(m)]
    job.reporter.step_started("build-subset", ", ".join(b.subject for b in builds))
    checked = set(checked or ())
    version = version or new_version()
    digests = job.digests
    for level in job.spec.levels():
        for parameter in sorted({m.per for m in level if m.per} - checked):
            if job.spec.parameters[parameter].values is not None:  # else: nothing to check by
                check_values(job, parameter, values_in_data(job, parameter))
            checked.add(parameter)
        todo = []
        for b in (b for m in level for b in job.builds(m)):
            upstream = _held_upstream(job, b)
            if upstream:
                job.held[b.table] = (
                    f"it was not built: it reads {upstream}, which failed its checks",
                    f"{b.subject} (not built: it reads {upstream})",
                )
                job.reporter.skipped(b.subject, f"not built: it reads {upstream}, which failed")
            elif job.current(b.table, digests[b.table]):
                job.reporter.skipped(b.subject, "SQL and inputs unchanged since its build")
            else:
                todo.append(b)
        statements = _build_statements(job, todo, version)
        try:
            results = read_raw(job, statements)
        except BaseException:
            _discard(job, statements, after_failure=True)
            raise
        built = [
            (b, r.creates or st.creates) for b, st, r in zip(todo, statements, results, strict=True)
        ]
        findings = audit.audit(job, job.engine, built)
        for (b, creates), st in zip(built, statements, strict=True):
            found = findings.get(b.table, [])
            if found:
                job.reporter.checked(found)
            failed = [f for f in found if not f.passed]
            if failed:
                job.held[b.table] = (
                    FAILED_CHECKS,
                    f"{b.subject} ({audit.describe(failed)}; kept as {job.database}.{creates})",
                )
                _drop_earlier_candidates(job, b.table, creates, b.subject)
                continue
            _publish(job, dataclasses.replace(st, creates=creates))
            job.built.record(b.table, digests[b.table])
    job.reporter.step_finished("build-subset")


def _held_upstream(job: Job, build: Build) -> str | None:
    """The model (for this value) a build reads that was held back this command, if any."""
    for name in build.model.reads:
        if name in job.spec.sources:
            continue
        read = job.spec.model(name)
        table = job.expand(read.table, {read.per: build.value} if read.per and build.value else {})
        if table in job.held:
            return name if not read.per else f"{name} for {build.value}"
    return None


FAILED_CHECKS = "its build failed its checks"


def _drop_earlier_candidates(job: Job, view: str, candidate: str, subject: str) -> None:
    """Of the versions that failed their checks since the view's published one, keep only
    the newest for inspection: night after failing night they would pile up. Versions are
    named by time, so those after the published one are the failed candidates."""
    current = job.engine.table_info(job.database, view)
    published = version_of(current.view_of)[1] if current and current.view_of else ""
    _, mine = version_of(candidate)
    earlier = [
        t
        for t in job.engine.tables(job.database, f"{view}__v")
        if published < version_of(t.name)[1] < mine and not t.name.startswith(candidate)
    ]
    _discard(job, [Statement("drop_old", "", subject, creates=t.name) for t in earlier])


def refuse_held(job: Job) -> None:
    """The command fails (exit 1) when a build was held back, after everything else ran."""
    if job.held:
        n = sum(why == FAILED_CHECKS for why, _ in job.held.values())
        m = len(job.held) - n
        message = (
            f"{n} build{'s' if n != 1 else ''} failed {'their' if n != 1 else 'its'} checks and "
            f"{'were' if n != 1 else 'was'} not published"
        )
        if m:
            message += (
                f"; {m} that read{'' if m != 1 else 's'} {'them' if n != 1 else 'it'} "
                f"{'were' if m != 1 else 'was'} not built"
            )
        items = "; ".join(what for _, what in job.held.values())
        raise ChecksFailed(
            f"{message} (the views show the versions before; nothing was exported from them): "
            f"{items}"
        )


def _build_statements(job: Job, builds: list[Build], version: str) -> list[Statement]:
    """One CTAS per build into a new version: `<table>__<version>` over a fresh location."""
    return [_ctas(job, b, version) for b in builds]


def _ctas(job: Job, build: Build, version: str, attempt: int = 1) -> Statement:
    """The CTAS of a build; attempt 2 and more (Athena said the one before may succeed if
    resubmitted) into the fresh version `<version>_<attempt>`: the failed one may have left
    files in its location, and a CTAS into a location that holds files fails."""
    select, reads = job.build_select(build)
    this = version if attempt == 1 else f"{version}_{attempt}"
    location = job.layout.table_data(build.table, this) if job.engine.places_tables else None
    table = f"{build.table}__{this}"
    return Statement(
        build.model.name,
        sql.ctas(job.database, table, select, location),
        build.subject,
        creates=table,
        reads=reads,
        again=lambda n: _ctas(job, build, version, n),
    )


def _publish(job: Job, built: Statement) -> None:
    """Point the view at the new version; keep the version it showed before, drop older ones."""
    job.still_locked()
    view, version = version_of(built.creates)
    current = job.engine.table_info(job.database, view)
    previous = current.view_of if current and current.kind == "view" else None
    if current and current.kind == "table":
        # The original workflow's CTAS left a plain table under the subset's name, and
        # CREATE OR REPLACE VIEW cannot replace a table. It is external: its data stays.
        drop = Statement(
            "drop_table", sql.drop_table(job.database, view), built.subject, drops=view
        )
        job.engine.execute(drop)
        job.reporter.note(
            f"build-subset: replaced the table {view} (made by an earlier workflow) with a view; "
            f"its data stays at {current.location or 'its location'}"
        )
    publish = sql.publish(job.database, view, built.creates)
    job.engine.execute(Statement("publish", publish, built.subject, creates=view))
    try:
        job.engine.prune_versions(job.database, view, VIEW_VERSIONS_KEPT)
    except EltError as exc:  # housekeeping: the view is published, the run goes on
        job.reporter.note(f"build-subset: {exc}; `elt iam-policy` prints what elt needs")
    keep = {built.creates, previous}
    old = [t for t in job.engine.tables(job.database, f"{view}__v") if t.name not in keep]
    _discard(job, [Statement("drop_old", "", built.subject, creates=t.name) for t in old])
    kept = {version_of(t)[1] for t in keep if t}
    root = job.layout.table_root(view)
    for folder in {f[len(root) :].split("/", 1)[0] for f in job.storage.list_files(root)} - kept:
        job.storage.delete_prefix(job.layout.table_data(view, folder))  # left by killed runs


def _discard(job: Job, built: list[Statement], after_failure: bool = False) -> None:
    """Drop table versions and delete their data. After a failed (or interrupted) build this
    discards the half-built versions, resubmitted attempts' too, best effort: the build's own
    error matters more."""
    for st in built:
        try:
            view, version = version_of(st.creates)
            tables = [st.creates]
            if after_failure:  # and the attempts Athena said might succeed (`<version>_2`, ...)
                tables += [t.name for t in job.engine.tables(job.database, st.creates + "_")]
            for table in tables:
                _drop_version(job, table, st.subject, "discard" if after_failure else "drop_old")
            if after_failure:  # a cancelled CTAS may have written files and made no table
                root = job.layout.table_root(view)
                folders = {f[len(root) :].split("/", 1)[0] for f in job.storage.list_files(root)}
                for folder in sorted(f for f in folders if f.split("_", 1)[0] == version):
                    job.storage.delete_prefix(job.layout.table_data(view, folder))
                job.reporter.note(
                    f"build-subset: discarded the half-built version {st.creates}; the "
                    f"published {view}, if any, is unchanged"
                )
        except Exception as exc:
            if not after_failure:
                raise
            job.reporter.note(f"build-subset: could not clean up {st.creates}: {exc}")


def _drop_version(job: Job, table: str, subject: str, label: str) -> None:
    info = job.engine.table_info(job.database, table)
    job.engine.execute(Statement(label, sql.drop_table(job.database, table), subject, drops=table))
    if info and info.location:
        job.storage.delete_prefix(info.location)


def export(job: Job) -> None:
    job.require_database("export")
    outputs = job.outputs()
    for o in (o for o in outputs if o.table not in job.held):
        if not job.engine.table_exists(job.database, o.table):
            what = f"the {o.subject} {o.export.model}" if o.values else f"model {o.export.model}"
            raise StepFailed(
                "export",
                f"{what} is not built: run `{job.command('build-subset', o.values)}` first",
            )
    job.reporter.step_started("export", ", ".join(o.subject for o in outputs))
    for o in outputs:
        if o.table in job.held:
            job.reporter.skipped(o.subject, f"not exported: {job.held[o.table][0]}")
            continue
        final = job.final_file(o)
        if job.skip_unchanged and job.built.current(_file_key(final), _file_digest(job, o)):
            job.reporter.skipped(o.subject, "final file written from this version")
            job.unchanged.add(final)
            continue
        job.still_locked()
        job.storage.delete_prefix(job.layout.export_dir(o.table))
        dest = job.export_file(o)
        statement = Statement("export", job.export_select(o), o.subject)
        result = job.engine.export_csv(statement, dest)
        job.reporter.output(dest, result.row_count, o.subject)
    job.reporter.step_finished("export")


def move(job: Job) -> list[str]:
    outputs = job.outputs()
    job.reporter.step_started("move", ", ".join(o.subject for o in outputs))
    finals = []
    for o in outputs:
        if o.table in job.held:
            job.reporter.skipped(o.subject, f"not moved: {job.held[o.table][0]}")
            continue
        if job.final_file(o) in job.unchanged:
            job.reporter.skipped(o.subject, "final file unchanged")
            finals.append(job.final_file(o))
            continue
        files = job.storage.list_files(job.layout.export_dir(o.table))
        if len(files) != 1:
            found = "nothing" if not files else f"{len(files)} files"
            raise StepFailed(
                "move",
                f"expected one export file under {job.layout.export_dir(o.table)}, found {found}: "
                f"run `{job.command('export', o.values)}` first",
            )
        final = job.final_file(o)
        job.still_locked()
        job.storage.move(files[0], final)
        job.reporter.moved(files[0], final, o.subject)
        job.built.record(_file_key(final), _file_digest(job, o))
        finals.append(final)
    job.reporter.step_finished("move")
    return finals


def _file_key(final: str) -> str:
    return f"file {final}"  # a final file's entry in builds.json


def _file_digest(job: Job, output: Output) -> str:
    """What a final file was written from: its export's SQL, the digest of the model version
    it read, and the file as it is now (size and time: a file changed since is written again)."""
    final = job.final_file(output)
    stat = next((f for f in job.storage.stat_files(final) if f.uri == final), None)
    now = f"{stat.size}:{stat.modified}" if stat else "missing"
    return digest(job.export_select(output), job.built.digests.get(output.table, ""), now)


def check_values_early(job: Job) -> set[str]:
    """Refuse a mistyped value before anything changes, where the models that list the values
    are built and current. Otherwise the build checks the values as soon as it has built those
    models, which it would build anyway: no scan of the raw data is paid twice. Returns the
    parameters checked."""
    checked = set()
    for parameter in job.spec.per_value:
        models = [r for r in job.spec.parameters[parameter].reads if r not in job.spec.sources]
        given = ", ".join(job.values[parameter])
        per = [b for m in job.spec.models if m.per == parameter for b in job.builds(m)]
        if (
            job.skip_unchanged
            and per
            and all(job.current(b.table, job.digests[b.table]) for b in per)
        ):
            # every value was built from the data as it is: each had rows then, and has now
            job.reporter.step_skipped("check", "all built from the current data", given)
            checked.add(parameter)
        elif (
            job.spec.parameters[parameter].values
            and job.exist(job.spec.sources)
            and not job.stale_models(models)
        ):
            job.reporter.step_started("check", given)
            known = values_in_data(job, parameter, given)
            check_values(job, parameter, known)
            plural = job.spec.parameters[parameter].plural
            counted = "" if known is None else f"{len(known)} {plural} in the data"
            job.reporter.step_finished("check", counted)
            checked.add(parameter)
    return checked


def run(job: Job) -> list[str]:
    """The five steps. With a journal, each finished step is recorded with a digest of the SQL
    it runs (and, for the build, of what the models read); `--resume` skips a step whose
    digest is unchanged, until one step has to run: every step after it runs too."""
    job.skip_unchanged = True
    checked = check_values_early(job)
    journal = job.journal
    outputs = job.outputs()
    chain = ""
    plan: list[tuple[str, list[str], Callable[[], Any]]] = [
        ("ensure-db", [sql.create_database(job.database)], lambda: ensure_db(job)),
        (
            "create-tables",
            [job.raw_ddl(s) for s in job.spec.sources.values()],
            lambda: create_tables(job),
        ),
        (
            "build-subset",
            sorted(job.digests.values()),
            lambda: _build_recorded(job, chain, checked),
        ),
        ("export", [job.export_select(o) for o in outputs], lambda: export(job)),
        ("move", [job.final_file(o) for o in outputs], lambda: move(job)),
    ]
    chain, must_run = "", False
    finals: list[str] = [job.final_file(o) for o in outputs]
    for step, parts, action in plan:
        chain = digest(chain, *parts)
        if not must_run and journal and journal.done(step, chain):
            job.reporter.step_skipped(step, "done by an earlier run with the same SQL and data")
            continue
        must_run = True
        result = action()
        if step == "move":
            finals = list(result)
        if journal and not job.held:  # a held build is built again by the next run
            journal.finished(step, chain)
    refuse_held(job)
    return finals


def _build_recorded(job: Job, build_digest: str, checked: set[str]) -> None:
    """build, resuming the killed run's build where that is safe: same SQL and raw files, and
    every CTAS it still has to run either started by the killed run and still running (or
    finished, its table still there), or never started, its location empty. Otherwise a new
    version: a cancelled CTAS may have left files in its location."""
    journal = job.journal
    version = None
    if journal and journal.resume and journal.building_digest == build_digest:
        pending = [
            b
            for m in job.spec.models
            for b in job.builds(m)
            if not job.current(b.table, job.digests[b.table])
        ]
        statements = _build_statements(job, pending, journal.version or "")
        if journal.version and all(_resumable(job, journal, st) for st in statements):
            version = journal.version
    version = version or new_version()
    if journal:
        journal.building(version, build_digest)
    build(job, version, checked)


def _resumable(job: Job, journal: Journal, statement: Statement) -> bool:
    if job.engine.reattachable(statement):
        return True
    location = job.layout.table_data(*version_of(statement.creates))
    return not journal.query_for(statement.sql) and not job.storage.list_files(location)
