"""The Python API: everything a command does, from Python (an Airflow task, a notebook, a test),
with the same results and the same exceptions.

    from elt_cli import Elt

    elt = Elt(lake="lake")                  # the packaged MovieLens job on ./lake
    result = elt.run(genre="Sci-Fi")
    result.value                            # ['/…/lake/movielens/sci_fi/sci_fi-movies.csv']
    result.document()                       # what `elt --json run --genre Sci-Fi` prints

An `Elt` is a job on a lake, as the CLI's global options describe it; each command of the CLI
is one of its methods, and the CLI is one client of them (cli/commands.py). A method returns a
Result; a failure raises the project's exceptions (errors.py), each with the `exit_code` the
CLI exits with. Events go to the Reporter given (the base one records and shows nothing).
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from elt_cli.config import Settings, settings_for_job
from elt_cli.errors import BadInput, TemplateError, Terminated
from elt_cli.job import JobSpec, load_job
from elt_cli.report import Reporter

if TYPE_CHECKING:  # steps imports sqlglot: a command that needs no SQL should not wait for it
    from elt_cli.steps import Job

Values = Mapping[str, "str | Iterable[str]"]


@dataclass
class Result:
    """What a command gave: its `value` (the final files of `run` and `move`, the values of
    `values`, the policy of `iam_policy`...), its record and its notes for the user."""

    command: str
    value: Any = None
    record: Reporter = field(default_factory=Reporter)
    notes: list[str] = field(default_factory=list)

    def document(self) -> dict:
        """The `--json` document of the command, which succeeded."""
        self.record.result = self.value
        return self.record.document(self.command, 0, None)


class Elt:
    """A job (a folder of job.toml and SQL; the packaged MovieLens job by default) on a lake.

    Settings are keyword arguments named like the CLI's options (`lake`, `engine`, `database`,
    `source_prefix`, `results`, `workgroup`, `region`, `profile`, `timeout`, `queue_timeout`,
    `retries`, `max_concurrent`, `max_scan`, `poll_max`, `wait_lock`, `lock_lease`, `debug`);
    a setting not given is the job's default, then elt's. Environment variables and elt.toml are the
    CLI's business: give what you read from them."""

    def __init__(
        self,
        queries: str | Path | None = None,
        *,
        reporter: Reporter | None = None,
        dry_run: bool = False,
        sources: dict[str, str] | None = None,
        **settings: Any,
    ):
        from elt_cli.templates import packaged_queries

        self.spec: JobSpec = load_job(Path(queries) if queries else packaged_queries())
        given = {k: str(v) if isinstance(v, Path) else v for k, v in settings.items()}
        if queries is not None:
            given["queries"] = Path(queries)
        sources = {k: "argument" for k in given} | (sources or {})
        self.settings: Settings = settings_for_job(self.spec, sources, **given)
        self.dry_run = dry_run
        self.reporter = reporter or Reporter(dry_run=dry_run, root=self.settings.lake)

    # -- the commands ----------------------------------------------------------------------------

    def ensure_db(self) -> Result:
        """Create the database if it does not exist; the value says which it was."""
        from elt_cli import steps

        with self._job() as job:
            return self._result("ensure-db", steps.ensure_db(job))

    def create_tables(self) -> Result:
        """(Re)create the job's raw tables over the raw files."""
        from elt_cli import steps

        with self._job(raw=True) as job:
            steps.create_tables(job)
        return self._result("create-tables")

    def build(self, *, skip_bad_rows: bool = False, **values: str | Iterable[str]) -> Result:
        """(Re)build every model, in the order of what they read."""
        from elt_cli import budget, steps

        checked = self.parameter_values(values)
        with self._job(raw=True, skip_bad_rows=skip_bad_rows, values=checked, builds=True) as job:
            budget.enforce(job, exports=False)
            steps.build(job)
            steps.refuse_held(job)
        return self._result("build-subset")

    def export(self, **values: str | Iterable[str]) -> Result:
        """Write each export as one CSV file under <lake>/export/."""
        from elt_cli import steps

        with self._job(values=self.parameter_values(values)) as job:
            steps.export(job)
        return self._result("export")

    def move(self, **values: str | Iterable[str]) -> Result:
        """Move each export to its final place; the value is the final files."""
        from elt_cli import steps

        with self._job(values=self.parameter_values(values)) as job:
            return self._result("move", steps.move(job))

    def run(
        self, *, resume: bool = False, skip_bad_rows: bool = False, **values: str | Iterable[str]
    ) -> Result:
        """All five steps; the value is the final files. `resume`: skip the steps a killed run
        finished with the same SQL and data, and re-attach to its Athena queries."""
        from elt_cli import budget, steps

        checked = self.parameter_values(values)
        try:
            with self._job(
                raw=True,
                skip_bad_rows=skip_bad_rows,
                journal=True,
                resume=resume,
                values=checked,
                builds=True,
            ) as job:
                budget.enforce(job)
                return self._result("run", steps.run(job))
        except (KeyboardInterrupt, Terminated) as stopped:
            if self.dry_run:
                raise
            # the run record has the steps it finished and the Athena queries it started
            resume_hint = "run it again with --resume to pick up where it stopped"
            raise type(stopped)(resume_hint) from stopped

    def values(self, parameter: str, *, skip_bad_rows: bool = False) -> Result:
        """The values of a parameter there are in the data, with a count each: the value is a
        list of (value, count)."""
        from elt_cli import steps

        if parameter not in self.spec.parameters:
            known = ", ".join(self.spec.parameters) or "none"
            raise BadInput(f"the job has no parameter {parameter!r} (it has: {known})")
        with self._job(listing=True, raw=True, skip_bad_rows=skip_bad_rows) as job:
            found = steps.list_values(job, parameter) or []
        return self._result("values", found)

    def sample_data(
        self,
        *,
        seed: int | None = None,
        ratings: int | None = None,
        movies: int | None = None,
        force: bool = False,
    ) -> Result:
        """Write the job's sample data into the lake (sizes for the MovieLens generator only);
        the value says what was written."""
        from elt_cli.sample_data import write_sample_data

        sized = {"seed": seed, "ratings": ratings, "movies": movies}
        given = [f"--{name}" for name, value in sized.items() if value is not None]
        if given and self.spec.sample.get("generator") != "movielens":
            raise BadInput(
                f"{', '.join(given)}: job {self.spec.name} has sample files of its own, not the "
                "MovieLens generator; give no size"
            )
        text = write_sample_data(
            self.settings,
            self.spec,
            self.reporter,
            seed=42 if seed is None else seed,
            ratings=100_836 if ratings is None else ratings,
            movies=9_742 if movies is None else movies,
            force=force,
            dry_run=self.dry_run,
        )
        return self._result("sample-data", text)

    def test(self, cases: Iterable[str] = ()) -> Result:
        """Run the job's own test cases (`tests/<case>/` in the job folder) on the local
        engine, each in a temporary lake; the value is each case's outcome (jobtests.py).
        A case that fails raises TestsFailed (exit 1), with every outcome."""
        from elt_cli.errors import TestsFailed
        from elt_cli.jobtests import find_cases, run_case

        found = find_cases(self.spec, list(cases))
        cases_run = [run_case(self.spec, case, Elt) for case in found]
        outcomes = [o.document() for o in cases_run]
        self.reporter.result = outcomes
        failed = [o.name for o in cases_run if not o.passed]
        if failed:
            raise TestsFailed(
                f"{len(failed)} of {len(outcomes)} test case{'s' if len(outcomes) != 1 else ''} "
                f"failed: {', '.join(failed)}",
                outcomes,
            )
        return self._result("test", outcomes)

    def check(self) -> Result:
        """Check the job without running anything: what Athena would refuse is refused
        (TemplateError, naming the file and line); the value says what the job is."""
        from elt_cli.check import check_job
        from elt_cli.memo import remembered, validation_digest

        passed = (str(self.spec.folder), validation_digest(self.spec, self.settings, False))
        return self._result(
            "check", remembered("check", passed, lambda: check_job(self.spec, self.settings))
        )

    def iam_policy(
        self,
        *,
        sample_data: bool = False,
        lake_formation: bool = False,
        **values: str | Iterable[str],
    ) -> Result:
        """The least IAM policy elt needs on AWS for these settings and the job (the value, a
        policy document); parameter values name the final files exactly. `lake_formation`:
        the account's data is governed by Lake Formation (its grants are in the README)."""
        from elt_cli import aws
        from elt_cli.engines.athena import read_workgroup
        from elt_cli.errors import EltError
        from elt_cli.iam import policy
        from elt_cli.plan import final_patterns, source_locations

        settings = self.settings
        if settings.engine != "athena":
            raise BadInput(
                "iam-policy is for an s3:// lake on Athena: give --lake s3://bucket[/prefix]"
            )
        checked = self.parameter_values(values, required=False)
        output, keys, notes = None, [], []
        try:
            client = aws.client(aws.session(settings), "athena")
            workgroup = read_workgroup(client, settings.workgroup)
            output = workgroup.output if workgroup.enforced else None
            keys = list(workgroup.kms_keys)
        except EltError as exc:
            notes.append(
                f"could not read workgroup {settings.workgroup} ({exc}); the policy assumes it "
                "does not enforce its settings and encrypts nothing with KMS"
            )
        document = policy(
            settings,
            raw=list(source_locations(self.spec, settings).values()),
            finals=final_patterns(self.spec, settings, checked),
            exact=any(checked.values()),
            workgroup_output=output,
            kms_keys=keys,
            sample_data=sample_data,
            lake_formation=lake_formation,
        )
        return Result("iam-policy", document, self.reporter, notes)

    def config(self) -> Result:
        """The effective settings with where each came from: {key: {value, source}}, for the
        settings the engine reads; `notes` names the ones left out."""
        from elt_cli.config import CONFIG_KEYS
        from elt_cli.engines.kinds import ENGINE_SETTINGS, ENGINES

        settings = self.settings
        used = set(ENGINES[settings.engine].settings)
        shown, left_out = {}, []
        for key in CONFIG_KEYS:
            if key in ENGINE_SETTINGS and key not in used:
                left_out.append(key)
                continue
            value = getattr(settings, key)
            if key == "queries" and value is None:
                value = self.spec.folder  # the packaged job: say which folder that is
            shown[key] = {
                "value": None if value is None else str(value),
                "source": settings.sources.get(key, "derived"),
            }
        notes = (
            [f"for Athena only, so left out for a local lake: {', '.join(left_out)}"]
            if left_out
            else []
        )
        return Result("config", shown, self.reporter, notes)

    # -- helpers -----------------------------------------------------------------------------------

    def parameter_values(self, given: Values, required: bool = True) -> dict[str, list[str]]:
        """The job's parameter values, {name: value or values}, checked before anything
        runs (plan.parameter_values)."""
        from elt_cli.plan import parameter_values

        values: dict[str, list[str]] = {name: [] for name in self.spec.parameters}
        for name, value in given.items():
            if name not in self.spec.parameters:
                import difflib

                known = ", ".join(self.spec.parameters) or "none"
                close = difflib.get_close_matches(name, list(self.spec.parameters), n=1)
                hint = f"; did you mean {close[0]}?" if close else ""
                raise BadInput(f"the job has no parameter {name!r} (it has: {known}){hint}")
            values[name] += [value] if isinstance(value, str) else list(value)
        return parameter_values(self.spec, values, required)

    def _result(self, command: str, value: Any = None) -> Result:
        return Result(command, value, self.reporter)

    @contextmanager
    def _job(
        self,
        *,
        listing: bool = False,
        raw: bool = False,
        skip_bad_rows: bool = False,
        journal: bool = False,
        resume: bool = False,
        values: dict[str, list[str]] | None = None,
        builds: bool = False,
    ) -> Iterator[Job]:
        """What a step needs: the plan, the engine, the storage (deleting only what elt owns),
        the lake's lock and (for `run`) its run record, after the job is checked. A `listing`
        (`values`) changes nothing: it takes no lock, and the reporter knows its answer is a
        table of its own (Reporter.listing: no table of steps beside it). A step that
        reads raw data (`raw`) finds it before anything changes; one that `builds` checks the
        sources as the job says (audit.check_sources) before any query. The engine is closed and the
        lock released on every way out, signals included."""
        from elt_cli.engines import open_engine
        from elt_cli.plan import Plan
        from elt_cli.steps import Job, check_raw_data
        from elt_cli.storage import open_storage

        settings, reporter = self.settings, self.reporter
        reporter.listing = listing
        if settings.engine == "local" and not Path(settings.lake).is_dir():
            raise BadInput(
                f"lake folder {settings.lake} does not exist: give the right --lake, or write "
                f"sample data there with `elt --lake {shlex.quote(settings.lake)} sample-data`"
            )
        plan = Plan(self.spec, settings, values or {}, skip_bad_rows)
        engine = open_engine(settings, skip_bad_rows)
        engine.read_only = listing or self.dry_run
        layout = plan.layout

        def may_delete(uri: str) -> bool:
            # under the lake prefixes elt owns (never the raw files), or table data the engine
            # placed itself
            return layout.is_owned(uri) or engine.owns(uri)

        storage = open_storage(settings, may_delete)
        if self.dry_run:
            from elt_cli.dryrun import DryRunEngine, DryRunStorage

            storage = DryRunStorage(storage, reporter)
            engine = DryRunEngine(engine, storage, reporter, local_sql=settings.debug)
        engine.reporter = reporter
        job = Job(
            spec=self.spec,
            settings=settings,
            values=plan.values,
            skip_bad_rows=skip_bad_rows,
            engine=engine,
            storage=storage,
            reporter=reporter,
            dry_run=self.dry_run,
        )
        try:
            validated = self._refuse_before_anything(job)
            if raw:
                check_raw_data(job)
            if builds:
                from elt_cli.audit import check_sources

                passed = check_sources(job, storage)
                if passed:
                    reporter.note(f"sources checked: {'; '.join(passed)}")
            if not listing:
                job.hold_lock()
            if journal:
                from elt_cli.journal import Journal

                # a dry run reads the record, to plan exactly what a run would skip; never
                # writes it
                record = Journal(storage, settings.layout.state_dir() + "run.json", resume)
                job.journal = engine.journal = record
            yield job
            if validated:
                job.storage.write_text(*validated)
        finally:
            try:
                engine.close()
            finally:
                if job.lock is not None:
                    job.lock.release()

    def _refuse_before_anything(self, job: Job) -> tuple[str, str] | None:
        """What Athena would refuse, then what the engine could not run; skipped when this job,
        with these settings, passed on this lake with this elt before (validated.json in the
        lake's state: a digest of all that decides it, so a stale entry never matches), or on
        another lake of this machine (the memo, memo.py). Returns
        the record to write once the command has succeeded: a refused one changes nothing."""
        import json

        from elt_cli.memo import validation_digest

        record = self.settings.layout.state_dir() + "validated.json"
        passed = validation_digest(self.spec, self.settings, job.skip_bad_rows)
        try:
            known = json.loads(job.storage.read_text(record) or "[]")
        except ValueError:
            known = []  # a damaged record: checked again, and written anew
        if isinstance(known, list) and passed in known:
            return None
        from elt_cli.memo import remembered

        def validate() -> bool:
            from elt_cli.validate import check_job  # sqlglot: only when it checks

            self._validate(job, check_job)
            return True

        # Nothing of the lake decides it: a job folder that passed on another lake of this
        # machine (each case of `elt test` is one) is not checked again here.
        remembered("validated", (str(self.spec.folder), passed), validate)
        if not self.dry_run:  # the last few, so runs with other settings keep theirs
            kept = [d for d in known if isinstance(d, str)][-7:] if isinstance(known, list) else []
            return record, json.dumps([*kept, passed])
        return None

    def _validate(self, job: Job, check_job) -> None:
        check_job(self.spec)
        job.engine.check_templates(job.sample_statements)
        untwinned = job.engine.untwinned(job.sample_statements)
        if untwinned:
            raise TemplateError(
                f"{untwinned[0]} runs on Athena, but the local engine has no twin for it "
                '(see the README, "Local engine and Athena"): run the job on Athena, or write '
                "it with other functions"
            )
