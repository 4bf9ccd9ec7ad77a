"""The click commands: parse options, build Settings, call a step, show the result."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import click

from elt_cli import __version__
from elt_cli.config import CONFIG_KEYS, DEFAULT_CONFIG, Settings, read_config_file
from elt_cli.errors import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_TERMINATED,
    BadInput,
    EltError,
    Terminated,
)

_SOURCE_NAMES = {
    click.core.ParameterSource.COMMANDLINE: "flag",
    click.core.ParameterSource.ENVIRONMENT: "env",
    click.core.ParameterSource.DEFAULT_MAP: "config file",
    click.core.ParameterSource.DEFAULT: "default",
}


@dataclass
class App:
    """What every command gets: the settings and how to report."""

    settings: Settings
    reporter: object
    json: bool
    dry_run: bool
    lines: list[str] = field(default_factory=list)

    def echo(self, text: str) -> None:
        """A command's result for stdout, printed once progress is off the terminal."""
        self.lines.append(text)

    def flush(self, command: str | None, error: BaseException | None) -> None:
        code, message = outcome(error)
        self.reporter.finish(message)
        if not self.json:
            for line in self.lines:
                click.echo(line)
        elif not isinstance(error, click.exceptions.Exit):
            # Under --json the document is all of stdout, so `elt --json run | jq` works.
            click.echo(json.dumps(self.reporter.document(command, code, message), indent=2))


def outcome(exc: BaseException | None) -> tuple[int, str | None]:
    """The exit code and one-line message for how a command ended (DESIGN.md's contract)."""
    if exc is None:
        return EXIT_OK, None
    if isinstance(exc, click.exceptions.Exit):
        return exc.exit_code, None
    if isinstance(exc, click.ClickException):
        hint = ""
        if isinstance(exc, click.UsageError) and exc.ctx is not None:
            hint = f" (see `{exc.ctx.command_path} --help`)"
        return exc.exit_code, exc.format_message() + hint
    if isinstance(exc, EltError):
        return exc.exit_code, str(exc)
    if isinstance(exc, (KeyboardInterrupt, click.exceptions.Abort)):
        return EXIT_INTERRUPTED, "interrupted"
    if isinstance(exc, Terminated):
        return EXIT_TERMINATED, "terminated"
    return (
        EXIT_FAILED,
        f"unexpected {type(exc).__name__}: {exc} (run with --debug for the traceback)",
    )


class EltGroup(click.Group):
    """Turns every ending into one line on stderr and the exit code of DESIGN.md."""

    def invoke(self, ctx: click.Context):
        error: BaseException | None = None
        try:
            return super().invoke(ctx)
        except BaseException as exc:
            error = exc
            raise
        finally:
            if isinstance(ctx.obj, App):
                ctx.obj.flush(ctx.invoked_subcommand, error)

    def main(self, args=None, prog_name=None, **extra):
        extra.pop("standalone_mode", None)
        argv = list(sys.argv[1:] if args is None else args)
        debug = "--debug" in argv or os.environ.get("ELT_DEBUG", "") not in ("", "0", "false")
        previous_term, previous_int = _on_signals()
        try:
            code = super().main(argv, prog_name or "elt", standalone_mode=False, **extra)
            code = code if isinstance(code, int) else EXIT_OK
        except Exception as exc:
            unexpected = not isinstance(
                exc, (click.ClickException, click.exceptions.Abort, EltError)
            )
            if unexpected and "PYTEST_CURRENT_TEST" in os.environ and not debug:
                raise  # unexpected errors must surface in tests, not hide as "Error: ..."
            if debug and not isinstance(exc, click.ClickException):
                _traceback()
            code, message = outcome(exc)
            click.echo(f"Error: {message}", err=True)
        except (KeyboardInterrupt, Terminated) as exc:
            code, message = outcome(exc)
            click.echo(f"Error: {message}", err=True)
        finally:
            with contextlib.suppress(ValueError, TypeError):  # not the main thread
                signal.signal(signal.SIGTERM, previous_term)
                signal.signal(signal.SIGINT, previous_int)
        sys.exit(code)


def _traceback() -> None:
    from rich.console import Console

    Console(stderr=True).print_exception()


def _raise_terminated(signum, frame):
    raise Terminated()


def _on_signals():
    """SIGTERM unwinds like Ctrl-C, so running queries are stopped on the way out. SIGINT is
    made to raise KeyboardInterrupt even when the parent started us with it ignored (as a shell
    does for background jobs), so an interrupt is never a kill that leaves queries running."""
    try:
        previous = signal.signal(signal.SIGTERM, _raise_terminated), signal.getsignal(signal.SIGINT)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        return previous
    except ValueError:  # not the main thread
        return signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)


def _load_config(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Eager: the config file becomes click's default_map, so flag > env > file > default."""
    path = Path(value) if value else Path(DEFAULT_CONFIG)
    if not value and not path.is_file():
        pyproject = Path("pyproject.toml")
        if not (pyproject.is_file() and "[tool.elt]" in pyproject.read_text(errors="replace")):
            return None
        path = pyproject
    try:
        ctx.default_map = read_config_file(path)
    except BadInput as exc:
        raise click.BadParameter(str(exc), ctx, param) from exc
    ctx.meta["config_file"] = str(path)
    return str(path)


_OPTIONS = [
    click.option(
        "--config",
        "config_file",
        envvar="ELT_CONFIG",
        is_eager=True,
        callback=_load_config,
        type=click.Path(dir_okay=False),
        help=f"Config file [default: ./{DEFAULT_CONFIG}, or [tool.elt] in ./pyproject.toml].",
    ),
    click.option(
        "--engine",
        type=click.Choice(["local", "athena"]),
        envvar="ELT_ENGINE",
        help="Where the SQL runs [default: athena for an s3:// lake, else local].",
    ),
    click.option(
        "--lake",
        envvar="ELT_LAKE",
        default="./lake",
        show_default=True,
        help="Data lake root: s3://bucket[/prefix] or a local folder.",
    ),
    click.option(
        "--database",
        envvar="ELT_DATABASE",
        default="movielens_elt",
        show_default=True,
        help="Athena/Glue (or local) database.",
    ),
    click.option(
        "--source-prefix",
        envvar="ELT_SOURCE_PREFIX",
        default="movielens",
        show_default=True,
        help="Raw files live under <lake>/<P>/movies/ and <lake>/<P>/ratings/.",
    ),
    click.option(
        "--results",
        envvar="ELT_RESULTS",
        help="Athena query result location [default: <lake>/athena-results/].",
    ),
    click.option(
        "--workgroup",
        envvar="ELT_WORKGROUP",
        default="primary",
        show_default=True,
        help="Athena workgroup.",
    ),
    click.option("--region", envvar="AWS_REGION", help="AWS region [default: boto3's]."),
    click.option("--profile", envvar="AWS_PROFILE", help="AWS profile [default: boto3's]."),
    click.option(
        "--queries",
        envvar="ELT_QUERIES",
        type=click.Path(file_okay=False, path_type=Path),
        help="Folder of SQL templates [default: the packaged queries/].",
    ),
    click.option(
        "--timeout",
        envvar="ELT_TIMEOUT",
        type=click.FloatRange(min=0, min_open=True),
        default=1800.0,
        show_default=True,
        help="Seconds one query may run before it is stopped.",
    ),
    click.option(
        "--poll-max",
        envvar="ELT_POLL_MAX",
        type=click.FloatRange(min=0, min_open=True),
        default=5.0,
        show_default=True,
        help="Longest wait in seconds between two status checks of a query.",
    ),
    click.option(
        "--wait-lock",
        envvar="ELT_WAIT_LOCK",
        type=click.FloatRange(min=0),
        default=0.0,
        show_default=True,
        help="Seconds to wait for another run on the same lake and database.",
    ),
    click.option(
        "--dry-run", is_flag=True, help="Print every statement and storage action; change nothing."
    ),
    click.option(
        "--json",
        "as_json",
        is_flag=True,
        help="Print a JSON summary of the run on stdout (and nothing else there).",
    ),
    click.option(
        "--progress/--no-progress",
        default=None,
        help="Live progress display [default: on when stderr is a terminal].",
    ),
    click.option("--debug", envvar="ELT_DEBUG", is_flag=True, help="Show tracebacks."),
]


def global_options(f):
    for option in reversed(_OPTIONS):
        f = option(f)
    return f


def make_reporter(progress: bool | None, as_json: bool, dry_run: bool):
    """Rich at a terminal, plain timestamped lines otherwise (cron, Airflow, pipes)."""
    from elt_cli.report import PlainReporter, RichReporter

    if progress is None:
        progress = sys.stderr.isatty() and os.environ.get("TERM") != "dumb"
    show_plan = dry_run and not as_json
    return RichReporter(show_plan=show_plan) if progress else PlainReporter(show_plan=show_plan)


@click.group(
    "elt",
    cls=EltGroup,
    context_settings={"help_option_names": ["-h", "--help"], "auto_envvar_prefix": None},
)
@global_options
@click.version_option(__version__, "--version", prog_name="elt")
@click.pass_context
def cli(ctx: click.Context, config_file, debug, dry_run, as_json, progress, **values):
    """Run the MovieLens ELT workflow on Amazon Athena or an embedded DuckDB engine.

    \b
    Examples:
      elt sample-data                   # write sample data into ./lake
      elt run --genre Sci-Fi            # all five steps, locally
      elt --lake s3://my-lake run --genre Sci-Fi --genre Comedy   # on Athena
      elt --json run --genre Sci-Fi | jq .total
    """
    sources = {k: _SOURCE_NAMES.get(ctx.get_parameter_source(k), "default") for k in values}
    try:
        settings = Settings.build(debug=debug, sources=sources, **values)
    except BadInput as exc:
        raise click.UsageError(str(exc), ctx) from exc
    if ctx.invoked_subcommand in (None, "config"):
        reporter = make_reporter(False, as_json, dry_run)
    else:
        reporter = make_reporter(progress, as_json, dry_run)
    ctx.obj = App(settings, reporter, as_json, dry_run)


def genre_option(f):
    return click.option(
        "--genre",
        "genres",
        multiple=True,
        required=True,
        metavar="GENRE",
        help="A genre, e.g. Sci-Fi; repeat for several.",
    )(f)


def skip_bad_rows_option(f):
    return click.option(
        "--skip-bad-rows",
        is_flag=True,
        help="Skip and count malformed raw rows instead of failing (local engine).",
    )(f)


@contextmanager
def open_job(
    app: App,
    *,
    lock: bool = True,
    skip_bad_rows: bool = False,
    journal: bool = False,
    resume: bool = False,
):
    """Build what a step needs: engine, storage, templates, the lake's lock and (for `run`) its
    run record. The engine is closed and the lock released on every way out, signals included."""
    from elt_cli.engines import open_engine
    from elt_cli.steps import Job
    from elt_cli.storage import open_storage
    from elt_cli.templates import Templates

    settings = app.settings
    templates = Templates.load(settings.queries)
    if settings.engine == "local" and not Path(settings.lake).is_dir():
        raise BadInput(
            f"lake folder {settings.lake} does not exist: run `elt sample-data` or give --lake"
        )
    storage = open_storage(settings)
    engine = open_engine(settings, skip_bad_rows)
    # elt deletes only under the lake prefixes it owns, and table data the engine placed itself
    owned = storage.may_delete
    storage.may_delete = lambda uri: owned(uri) or engine.owns(uri)
    if app.dry_run:
        from elt_cli.dryrun import DryRunEngine, DryRunStorage

        storage = DryRunStorage(storage, app.reporter)
        engine = DryRunEngine(engine, storage, app.reporter)
    engine.reporter = app.reporter
    held = None
    try:
        job = Job(settings, engine, storage, templates, app.reporter, skip_bad_rows=skip_bad_rows)
        engine.check_templates(job.sample_statements())
        if lock and not app.dry_run:
            from elt_cli.lock import lock_for

            held = lock_for(settings, storage)
            held.acquire(settings.wait_lock)
        if journal and not app.dry_run:
            from elt_cli.journal import Journal

            job.journal = Journal(storage, settings.layout.state_dir() + "run.json", resume)
            engine.journal = job.journal
        yield job
    finally:
        try:
            engine.close()
        finally:
            if held is not None:
                held.release()


@cli.command("ensure-db")
@click.pass_obj
def ensure_db_command(app: App):
    """Create the database if it does not exist, and say which it was."""
    from elt_cli import steps

    with open_job(app) as job:
        app.echo(steps.ensure_db(job))


@cli.command("create-tables")
@click.pass_obj
def create_tables_command(app: App):
    """Create the movies and ratings external tables over the raw files."""
    from elt_cli import steps

    with open_job(app) as job:
        steps.create_tables(job)


@cli.command("build-subset")
@genre_option
@skip_bad_rows_option
@click.pass_obj
def build_subset_command(app: App, genres, skip_bad_rows):
    """(Re)build one table per genre: its films with their average rating.

    \b
    Example:
      elt build-subset --genre Sci-Fi    # table sci_fi
    """
    from elt_cli import steps

    subsets = steps.subsets_for(genres)
    with open_job(app, skip_bad_rows=skip_bad_rows) as job:
        steps.build_subset(job, subsets)


@cli.command("export")
@genre_option
@click.pass_obj
def export_command(app: App, genres):
    """Write each subset as CSV under <lake>/export/<slug>/, clearing old export data first."""
    from elt_cli import steps

    subsets = steps.subsets_for(genres)
    with open_job(app) as job:
        steps.export(job, subsets)


@cli.command("move")
@genre_option
@click.pass_obj
def move_command(app: App, genres):
    """Move each export to <lake>/<source-prefix>/<slug>/<slug>-movies.csv."""
    from elt_cli import steps

    subsets = steps.subsets_for(genres)
    with open_job(app) as job:
        for final in steps.move(job, subsets):
            app.echo(final)


@cli.command("run")
@genre_option
@click.option(
    "--resume",
    is_flag=True,
    help="Skip steps an earlier (killed) run finished with the same SQL and data, and "
    "re-attach to its Athena queries still running.",
)
@skip_bad_rows_option
@click.pass_obj
def run_command(app: App, genres, resume, skip_bad_rows):
    """All five steps in order: ensure-db, create-tables, build-subset, export, move.

    \b
    Examples:
      elt run --genre Sci-Fi
      elt run --genre Sci-Fi --genre Comedy
      elt --dry-run run --genre Sci-Fi     # show the SQL and file actions, change nothing
    """
    from elt_cli import steps

    subsets = steps.subsets_for(genres)
    with open_job(app, skip_bad_rows=skip_bad_rows, journal=True, resume=resume) as job:
        for final in steps.run(job, subsets):
            app.echo(final)


@cli.command("sample-data")
@click.option("--seed", type=int, default=42, show_default=True, help="Random seed.")
@click.option(
    "--ratings",
    type=click.IntRange(1, 25_000_095),
    default=100_836,
    show_default=True,
    help="Number of ratings (ml-latest-small has 100,836).",
)
@click.option(
    "--movies",
    type=click.IntRange(100, 100_000),
    default=9_742,
    show_default=True,
    help="Number of films.",
)
@click.option("--force", is_flag=True, help="Replace raw files that are already there.")
@click.pass_obj
def sample_data_command(app: App, seed, ratings, movies, force):
    """Write a MovieLens-format data set into the lake, so `elt run` works on a fresh machine.

    \b
    Example:
      elt sample-data --ratings 25000095   # ml-25m size
    """
    from elt_cli.sample_data import write_sample_data

    app.echo(
        write_sample_data(
            app.settings,
            app.reporter,
            seed=seed,
            ratings=ratings,
            movies=movies,
            force=force,
            dry_run=app.dry_run,
        )
    )


@cli.command("genres")
@skip_bad_rows_option
@click.pass_obj
def genres_command(app: App, skip_bad_rows):
    """List the genres in the data with their number of films."""
    from elt_cli import steps

    with open_job(app, lock=False, skip_bad_rows=skip_bad_rows) as job:
        job.require_database("genres")
        for genre, films in steps.genres_in_data(job) or []:
            app.echo(f"{genre}\t{films}")


@cli.command("iam-policy")
@click.option(
    "--genre",
    "genres",
    multiple=True,
    metavar="GENRE",
    help="Allow writing the final files of these genres only; repeat for several.",
)
@click.option(
    "--sample-data", is_flag=True, help="Also allow `elt sample-data` to write the raw files."
)
@click.pass_obj
def iam_policy_command(app: App, genres, sample_data):
    """Print the least IAM policy elt needs on AWS for these settings (lake, source prefix,
    database, workgroup, results).

    \b
    Example:
      elt --lake s3://my-lake --workgroup etl iam-policy --genre Sci-Fi > elt-policy.json
    """
    from elt_cli.iam import policy
    from elt_cli.steps import subsets_for

    settings = app.settings
    if settings.engine != "athena":
        raise BadInput(
            "iam-policy is for an s3:// lake on Athena: give --lake s3://bucket[/prefix]"
        )
    slugs = [s.table for s in subsets_for(genres)] if genres else None
    output, keys = None, []
    try:
        from elt_cli import aws
        from elt_cli.engines.athena import read_workgroup

        workgroup = read_workgroup(aws.client(aws.session(settings), "athena"), settings.workgroup)
        output = workgroup.output if workgroup.enforced else None
        keys = list(workgroup.kms_keys)
    except EltError as exc:
        click.echo(
            f"Note: could not read workgroup {settings.workgroup} ({exc}); the policy assumes it "
            "does not enforce its settings and encrypts nothing with KMS",
            err=True,
        )
    document = policy(
        settings,
        genres_slugs=slugs,
        workgroup_output=output,
        kms_keys=keys,
        sample_data=sample_data,
    )
    app.echo(json.dumps(document, indent=2))


@cli.command("config")
@click.pass_context
def config_command(ctx: click.Context):
    """Print the effective settings and where each came from."""
    app: App = ctx.obj
    origin = ctx.parent.meta.get("config_file", "")
    for key in CONFIG_KEYS:
        if not hasattr(app.settings, key):
            continue
        source = app.settings.sources.get(key, "derived")
        if source == "config file":
            source = origin
        value = getattr(app.settings, key)
        app.echo(f"{key} = {'' if value is None else value}\t({source})")


def main() -> None:
    cli(prog_name="elt")
