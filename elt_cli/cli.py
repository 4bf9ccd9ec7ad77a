"""The click commands: parse options, build Settings, call a step, show the result."""

from __future__ import annotations

import difflib
import json
import os
import re
import shlex
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import click

from elt_cli import __version__, signals
from elt_cli.config import ATHENA_ONLY, CONFIG_KEYS, DEFAULT_CONFIG, Settings, read_config_file
from elt_cli.errors import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_TERMINATED,
    BadInput,
    EltError,
    TemplateError,
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
    spec: object = None  # the job (job.JobSpec)
    lines: list = field(default_factory=list)

    def echo(self, text: str) -> None:
        """A command's result for stdout, printed once progress is off the terminal."""
        self.lines.append(text)

    def result(self, value) -> None:
        """What the command gives, as `result` in the --json document."""
        self.reporter.result = value

    def table(self, headers: list[str], rows: list[tuple]) -> None:
        """A result table: aligned at a terminal, tab-separated lines for a pipe."""
        if sys.stdout.isatty():
            from rich.table import Table

            table = Table(*headers, box=None, pad_edge=False)
            for row in rows:
                table.add_row(*map(str, row))
            self.lines.append(table)
        else:
            self.lines += ["\t".join(map(str, row)) for row in rows]

    def flush(self, command: str | None, error: BaseException | None) -> None:
        code, message = outcome(error, hint=False)
        self.reporter.finish(message)
        if not self.json:
            from rich.console import Console

            console = Console(soft_wrap=True)
            for line in self.lines:
                if isinstance(line, str):
                    click.echo(line)
                else:
                    console.print(line)
        elif not isinstance(error, click.exceptions.Exit):
            # Under --json the document is all of stdout, so `elt --json run | jq` works.
            click.echo(json.dumps(self.reporter.document(command, code, message), indent=2))


def outcome(exc: BaseException | None, hint: bool = True) -> tuple[int, str | None]:
    """The exit code and one-line message for how a command ended (DESIGN.md's contract);
    `hint`: say how to see the traceback of an unexpected error."""
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
    more = " (run with --debug for the traceback)" if hint else ""
    return EXIT_FAILED, f"unexpected {type(exc).__name__}: {exc}{more}"


class EltGroup(click.Group):
    """Turns every ending into one line on stderr and the exit code of DESIGN.md."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)  # in step order, as they are defined

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
        restore_signals = signals.install()
        try:
            code = super().main(argv, prog_name or "elt", standalone_mode=False, **extra)
            code = code if isinstance(code, int) else EXIT_OK
        except click.exceptions.NoArgsIsHelpError as exc:
            click.echo(exc.ctx.get_help())  # a bare `elt`: the help, once
            code = exc.exit_code
        except click.NoSuchOption as exc:
            code, message = outcome(_global_option_misplaced(exc, argv) or exc)
            click.echo(f"Error: {message}", err=True)
        except click.BadParameter as exc:
            code, message = outcome(_bad_value(exc) or exc)
            click.echo(f"Error: {message}", err=True)
        except Exception as exc:
            unexpected = not isinstance(
                exc, (click.ClickException, click.exceptions.Abort, EltError)
            )
            if unexpected and "PYTEST_CURRENT_TEST" in os.environ and not debug:
                raise  # unexpected errors must surface in tests, not hide as "Error: ..."
            if debug and not isinstance(exc, click.ClickException):
                _traceback()
            code, message = outcome(exc, hint=not debug)
            click.echo(f"Error: {message}", err=True)
        except (KeyboardInterrupt, Terminated) as exc:
            code, message = outcome(exc)
            click.echo(f"Error: {message}", err=True)
        finally:
            restore_signals()
        sys.exit(code)


def _global_option_misplaced(exc: click.NoSuchOption, argv: list[str]) -> BadInput | None:
    """`elt run --genre Sci-Fi --lake x`: say where a global option goes, with the command
    line it gives."""
    options = {o: p for p in cli.params for o in p.opts + p.secondary_opts}
    if exc.option_name not in options or exc.ctx is None or exc.ctx.parent is None:
        return None
    command = exc.ctx.info_name
    at = argv.index(command)
    before, after, moved = argv[:at], [], []
    rest = iter(argv[at + 1 :])
    for word in rest:
        name = word.split("=", 1)[0]
        if name in options:
            moved.append(word)
            if "=" not in word and not options[name].is_flag:
                moved.append(next(rest, ""))
        else:
            after.append(word)
    line = shlex.join(["elt", *before, *moved, command, *after])
    return BadInput(
        f"{exc.option_name} is an option of elt itself: put it before the command: {line}"
    )


def _bad_value(exc: click.BadParameter) -> BadInput | None:
    """A bad setting named by where it came from: `ELT_TIMEOUT=abc: ...`, `elt.toml: timeout
    = "fast" ...`, not a flag nobody gave."""
    param, ctx = exc.param, exc.ctx
    if param is None or ctx is None or not param.name:
        return None
    source = ctx.get_parameter_source(param.name)
    if source == click.core.ParameterSource.ENVIRONMENT:
        value = os.environ.get(param.envvar, "")
        where = f"{param.envvar}={value}"
    elif source == click.core.ParameterSource.DEFAULT_MAP:
        value = (ctx.default_map or {}).get(param.name)
        where = f"{ctx.meta.get('config_file', DEFAULT_CONFIG)}: {param.name} = {json.dumps(value)}"
    else:
        return None
    try:
        float(value)
        reason = re.sub(r"^\S+ (is not)", r"\1", exc.message).rstrip(".")
    except (TypeError, ValueError):
        reason = "is not a number" if isinstance(param.type, click.FloatRange) else exc.message
    return BadInput(f"{where} {reason}")


def _traceback() -> None:
    """rich's traceback at a terminal; Python's plain one in a log file or a pipe."""
    if sys.stderr.isatty():
        from rich.console import Console

        Console(stderr=True).print_exception()
    else:
        import traceback

        traceback.print_exc(file=sys.stderr)


def _load_config(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Eager: the config file becomes click's default_map, so flag > env > file > default."""
    path = Path(value) if value else Path(DEFAULT_CONFIG)
    if not value and not path.is_file():
        pyproject = Path("pyproject.toml")
        if not (pyproject.is_file() and "[tool.elt]" in pyproject.read_text(errors="replace")):
            return None
        path = pyproject
    ctx.default_map = read_config_file(path)
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
        help="Athena/Glue (or local) database [default: the job's; MovieLens: movielens_elt].",
    ),
    click.option(
        "--source-prefix",
        envvar="ELT_SOURCE_PREFIX",
        help="The raw files' folder in the lake [default: the job's; MovieLens: movielens].",
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
        help="The job: a folder with job.toml and its SQL [default: the packaged MovieLens job].",
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


def make_reporter(progress: bool | None, as_json: bool, dry_run: bool, root: str):
    """Rich at a terminal, plain timestamped lines otherwise (cron, Airflow, pipes)."""
    from elt_cli.report import PlainReporter, RichReporter

    if progress is None:
        progress = sys.stderr.isatty() and os.environ.get("TERM") != "dumb"
    kind = RichReporter if progress else PlainReporter
    return kind(dry_run=dry_run, root=root, show_plan=dry_run and not as_json)


@click.group(
    "elt",
    cls=EltGroup,
    context_settings={"help_option_names": ["-h", "--help"], "auto_envvar_prefix": None},
)
@global_options
@click.version_option(__version__, "--version", prog_name="elt")
@click.pass_context
def cli(ctx: click.Context, config_file, debug, dry_run, as_json, progress, **values):
    """Run SQL ELT jobs on Amazon Athena or an embedded DuckDB engine: the packaged MovieLens
    job, or any job folder given with --queries.

    \b
    Examples:
      elt sample-data                   # write sample data into ./lake
      elt run --genre Sci-Fi            # all five steps, locally
      elt --lake s3://my-lake run --genre Sci-Fi --genre Comedy   # on Athena
      elt --json run --genre Sci-Fi | jq .total
      elt --queries examples/webshop check   # check a job without running it
    """
    from elt_cli.job import load_job
    from elt_cli.templates import packaged_queries

    sources = {k: _SOURCE_NAMES.get(ctx.get_parameter_source(k), "default") for k in values}
    spec = load_job(values["queries"] or packaged_queries())
    for key in ("database", "source_prefix"):  # flag > env > config file > the job > elt's
        if values[key] is None:
            values[key] = spec.defaults.get(key) or (
                f"{spec.name}_elt" if key == "database" else spec.name
            )
            sources[key] = "job" if key in spec.defaults else "default"
    try:
        settings = Settings.build(debug=debug, sources=sources, **values)
    except BadInput as exc:
        raise click.UsageError(str(exc), ctx) from exc
    if ctx.invoked_subcommand in (None, "config", "check"):
        reporter = make_reporter(False, as_json, dry_run, settings.lake)
    else:
        reporter = make_reporter(progress, as_json, dry_run, settings.lake)
    ctx.obj = App(settings, reporter, as_json, dry_run, spec)


class JobCommand(click.Command):
    """A command with the job's parameters as options (`--genre`, repeatable where the
    parameter repeats, and `--param NAME=VALUE` for any), known once the global options
    have said which job it is."""

    def make_context(self, info_name, args, parent=None, **extra):
        app = parent.obj if parent is not None else None
        if isinstance(app, App):
            own = [p for p in self.params if not getattr(p, "job_parameter", False)]
            self.params = [*_parameter_options(app.spec), *own]
        return super().make_context(info_name, args, parent=parent, **extra)


def _parameter_options(spec) -> list[click.Option]:
    options = []
    for p in spec.parameters.values():
        example = f" (e.g. {p.example})" if p.example and "e.g." not in p.help else ""
        option = click.Option(
            [p.option, f"param_{p.name}"],
            multiple=True,
            metavar=p.name.upper(),
            help=p.help + example + ("" if p.repeat else " Give it once."),
        )
        option.job_parameter = True
        options.append(option)
    option = click.Option(
        ["--param", "param_pairs"],
        multiple=True,
        metavar="NAME=VALUE",
        help="Any of the job's parameters, as NAME=VALUE; repeat for several.",
    )
    option.job_parameter = True
    return [*options, option]


def parameter_values(app: App, kwargs: dict, required: bool = True) -> dict[str, list[str]]:
    """The job's parameter values given on the command line, checked (steps.parameter_values)."""
    from elt_cli.steps import parameter_values as check

    given = {p: list(kwargs.pop(f"param_{p}", ()) or ()) for p in app.spec.parameters}
    for pair in kwargs.pop("param_pairs", ()) or ():
        name, sep, value = pair.partition("=")
        if not sep or name not in app.spec.parameters:
            known = ", ".join(app.spec.parameters) or "none"
            close = difflib.get_close_matches(name, list(app.spec.parameters), n=1)
            hint = f"; did you mean {close[0]}={value}?" if sep and close else ""
            raise BadInput(
                f"--param {pair!r}: give NAME=VALUE with a NAME of the job's ({known}){hint}"
            )
        given[name].append(value)
    return check(app.spec, given, required)


def skip_bad_rows_option(f):
    return click.option(
        "--skip-bad-rows",
        is_flag=True,
        help="Skip and count malformed raw rows instead of failing.",
    )(f)


@contextmanager
def open_job(
    app: App,
    *,
    lock: bool = True,
    raw: bool = False,
    skip_bad_rows: bool = False,
    journal: bool = False,
    resume: bool = False,
    values: dict[str, list[str]] | None = None,
):
    """Build what a step needs: engine, storage, the job, the lake's lock and (for `run`) its
    run record. A step that reads raw data (`raw`) finds it before anything changes. The engine
    is closed and the lock released on every way out, signals included."""
    from elt_cli.engines import open_engine
    from elt_cli.steps import Job, check_raw_data
    from elt_cli.storage import open_storage

    settings = app.settings
    if settings.engine == "local" and not Path(settings.lake).is_dir():
        raise BadInput(
            f"lake folder {settings.lake} does not exist: give the right --lake, or write "
            f"sample data there with `elt --lake {shlex.quote(settings.lake)} sample-data`"
        )
    storage = open_storage(settings)
    engine = open_engine(settings, skip_bad_rows)
    if app.dry_run:
        from elt_cli.dryrun import DryRunEngine, DryRunStorage

        storage = DryRunStorage(storage, app.reporter)
        engine = DryRunEngine(engine, storage, app.reporter, local_sql=settings.debug)
    engine.reporter = app.reporter
    job = Job(
        app.spec,
        settings,
        engine,
        storage,
        app.reporter,
        values=values or {},
        skip_bad_rows=skip_bad_rows,
        dry_run=app.dry_run,
    )
    # elt deletes only under the lake prefixes it owns (never the job's raw files), and
    # table data the engine placed itself
    real = storage.storage if app.dry_run else storage
    real.may_delete = lambda uri: job.layout.is_owned(uri) or engine.owns(uri)
    try:
        from elt_cli.validate import check_job

        check_job(app.spec)  # what Athena would refuse, refused first
        engine.check_templates(job.sample_statements)
        if settings.engine == "local":
            from elt_cli.engines.local import LocalEngine

            local = engine.engine if app.dry_run else engine
            missing = (
                local.untwinned(job.sample_statements) if isinstance(local, LocalEngine) else []
            )
            if missing:
                raise TemplateError(
                    f"{missing[0]} runs on Athena, but the local engine has no twin for it "
                    '(see the README, "Local engine and Athena"): run the job on Athena, or '
                    "write it with other functions"
                )
        if raw:
            check_raw_data(job)
        if lock:
            job.hold_lock()
        if journal:
            from elt_cli.journal import Journal

            # a dry run reads the record, to plan exactly what a run would skip; never writes it
            record = Journal(storage, settings.layout.state_dir() + "run.json", resume)
            job.journal = engine.journal = record
        yield job
    finally:
        try:
            engine.close()
        finally:
            if job.lock is not None:
                job.lock.release()


@cli.command("ensure-db", short_help="Create the database if it is missing; say which it was.")
@click.pass_obj
def ensure_db_command(app: App):
    """Create the database if it does not exist, and say which it was."""
    from elt_cli import steps

    with open_job(app) as job:
        app.echo(steps.ensure_db(job))


@cli.command("create-tables", short_help="Create the raw tables over the raw files.")
@click.pass_obj
def create_tables_command(app: App):
    """Create the job's raw tables (for MovieLens: movies and ratings) over the raw files."""
    from elt_cli import steps

    with open_job(app, raw=True) as job:
        steps.create_tables(job)


@cli.command(
    "build-subset", cls=JobCommand, short_help="Build the job's tables (each genre's subset)."
)
@skip_bad_rows_option
@click.pass_obj
def build_subset_command(app: App, skip_bad_rows, **kwargs):
    """(Re)build every model of the job, in the order of what they read: for MovieLens, the
    rated films (movie_ratings) and one table per genre with its films and average rating.

    \b
    Example:
      elt build-subset --genre Sci-Fi    # table sci_fi
    """
    from elt_cli import steps

    values = parameter_values(app, kwargs)
    with open_job(app, raw=True, skip_bad_rows=skip_bad_rows, values=values) as job:
        steps.build(job)


@cli.command("export", cls=JobCommand, short_help="Write each export as CSV under <lake>/export/.")
@click.pass_obj
def export_command(app: App, **kwargs):
    """Write each of the job's exports (for MovieLens: each genre's subset) as one CSV file
    under <lake>/export/<table>/, clearing old export data first."""
    from elt_cli import steps

    values = parameter_values(app, kwargs)
    with open_job(app, values=values) as job:
        steps.export(job)


@cli.command("move", cls=JobCommand, short_help="Move each export to its final place in the lake.")
@click.pass_obj
def move_command(app: App, **kwargs):
    """Move each export to its final place in the lake (for MovieLens:
    <lake>/<source-prefix>/<slug>/<slug>-movies.csv)."""
    from elt_cli import steps

    values = parameter_values(app, kwargs)
    with open_job(app, values=values) as job:
        finals = steps.move(job)
    app.result(finals)
    for final in finals:
        app.echo(final)


@cli.command("run", cls=JobCommand, short_help="The five steps above, in order.")
@click.option(
    "--resume",
    is_flag=True,
    help="Skip steps an earlier (killed) run finished with the same SQL and data, and "
    "re-attach to its Athena queries still running.",
)
@skip_bad_rows_option
@click.pass_obj
def run_command(app: App, resume, skip_bad_rows, **kwargs):
    """All five steps in order: ensure-db, create-tables, build-subset, export, move.

    \b
    Examples:
      elt run --genre Sci-Fi
      elt run --genre Sci-Fi --genre Comedy
      elt --dry-run run --genre Sci-Fi     # show the SQL and file actions, change nothing
    """
    from elt_cli import steps

    values = parameter_values(app, kwargs)
    with open_job(
        app, raw=True, skip_bad_rows=skip_bad_rows, journal=True, resume=resume, values=values
    ) as job:
        finals = steps.run(job)
    app.result(finals)
    for final in finals:
        app.echo(final)


@cli.command("sample-data", short_help="Write the job's sample data into the lake.")
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
@click.pass_context
def sample_data_command(ctx: click.Context, seed, ratings, movies, force):
    """Write the job's sample data into the lake, so `elt run` works on a fresh machine: for
    the MovieLens job a MovieLens-format data set of any size (--seed, --ratings, --movies);
    for another job the files of its sample folder.

    \b
    Example:
      elt sample-data --ratings 25000095   # ml-25m size
    """
    from elt_cli.sample_data import write_sample_data

    app = ctx.obj
    sized = [
        f"--{n}" for n in ("seed", "ratings", "movies")
        if ctx.get_parameter_source(n) != click.core.ParameterSource.DEFAULT
    ]  # fmt: skip
    if sized and app.spec.sample.get("generator") != "movielens":
        raise BadInput(
            f"{', '.join(sized)}: job {app.spec.name} has sample files of its own, not the "
            "MovieLens generator; give no size"
        )

    app.echo(
        write_sample_data(
            app.settings,
            app.spec,
            app.reporter,
            seed=seed,
            ratings=ratings,
            movies=movies,
            force=force,
            dry_run=app.dry_run,
        )
    )


def _show_values(app: App, parameter: str, skip_bad_rows: bool) -> None:
    from elt_cli import steps

    with open_job(app, lock=False, raw=True, skip_bad_rows=skip_bad_rows) as job:
        found = steps.list_values(job, parameter) or []
    counted = app.spec.parameters[parameter].counted
    app.result([{parameter: value, counted: count} for value, count in found])
    app.table([parameter, counted], found)


@cli.command("values", short_help="List the values of a parameter there are in the data.")
@click.argument("parameter")
@skip_bad_rows_option
@click.pass_obj
def values_command(app: App, parameter, skip_bad_rows):
    """List the values of one of the job's parameters there are in the data, with a count each
    (the parameter's `values` query).

    \b
    Example:
      elt values genre        # what `elt genres` lists
    """
    if parameter not in app.spec.parameters:
        known = ", ".join(app.spec.parameters) or "none"
        raise BadInput(f"the job has no parameter {parameter!r} (it has: {known})")
    _show_values(app, parameter, skip_bad_rows)


@cli.command("genres", short_help="The MovieLens job's genres with their film counts.")
@skip_bad_rows_option
@click.pass_obj
def genres_command(app: App, skip_bad_rows):
    """List the genres in the data with their number of films (`elt values genre`)."""
    if "genre" not in app.spec.parameters:
        known = ", ".join(app.spec.parameters) or "none"
        raise BadInput(
            f"job {app.spec.name} has no genre parameter; `elt values NAME` lists the values of "
            f"one of its parameters ({known})"
        )
    _show_values(app, "genre", skip_bad_rows)


@cli.command("check", short_help="Check a job without running anything.")
@click.pass_obj
def check_command(app: App):
    """Check the job: job.toml, every SQL file parses as Athena SQL and translates for the
    local engine, every table and placeholder resolves, no cycle. Runs nothing.

    \b
    Example:
      elt --queries examples/webshop check
    """
    from elt_cli.check import check_job

    app.echo(check_job(app.spec, app.settings))


@cli.command(
    "iam-policy", cls=JobCommand, short_help="Print the least IAM policy elt needs on AWS."
)
@click.option(
    "--sample-data", is_flag=True, help="Also allow `elt sample-data` to write the raw files."
)
@click.pass_obj
def iam_policy_command(app: App, sample_data, **kwargs):
    """Print the least IAM policy elt needs on AWS for these settings (lake, source prefix,
    database, workgroup, results) and the job. Give parameter values (--genre) to allow
    writing those final files only.

    \b
    Example:
      elt --lake s3://my-lake --workgroup etl iam-policy --genre Sci-Fi > elt-policy.json
    """
    from elt_cli import steps
    from elt_cli.iam import policy

    settings = app.settings
    if settings.engine != "athena":
        raise BadInput(
            "iam-policy is for an s3:// lake on Athena: give --lake s3://bucket[/prefix]"
        )
    values = parameter_values(app, kwargs, required=False)
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
        raw=list(steps.source_locations(app.spec, settings).values()),
        finals=steps.final_patterns(app.spec, settings, values),
        exact=any(values.values()),
        workgroup_output=output,
        kms_keys=keys,
        sample_data=sample_data,
    )
    app.echo(json.dumps(document, indent=2))


@cli.command("config", short_help="Print the settings and where each one came from.")
@click.pass_context
def config_command(ctx: click.Context):
    """Print the effective settings and where each came from: a flag, an environment variable
    (named), the config file (named) or the default."""
    app: App = ctx.obj
    settings = app.settings
    origin = ctx.parent.meta.get("config_file", "")
    envvars = {p.name: p.envvar for p in cli.params if p.envvar}
    shown, left_out = {}, []
    for key in CONFIG_KEYS:
        if settings.engine == "local" and key in ATHENA_ONLY:
            left_out.append(key)
            continue
        source = settings.sources.get(key, "derived")
        if source == "config file":
            source = origin
        elif source == "env":
            source = f"env {envvars[key]}"
        value = getattr(settings, key)
        shown[key] = {"value": None if value is None else str(value), "source": source}
    if os.environ.get("AWS_ENDPOINT_URL") and settings.engine == "athena":
        shown["aws_endpoint_url"] = {
            "value": os.environ["AWS_ENDPOINT_URL"],
            "source": "env AWS_ENDPOINT_URL",
        }
    app.result(shown)
    app.table(
        ["setting", "value", "from"],
        [(k, "" if v["value"] is None else v["value"], v["source"]) for k, v in shown.items()],
    )
    if left_out:
        app.echo(f"(for Athena only, so left out for a local lake: {', '.join(left_out)})")


def main() -> None:
    cli(prog_name="elt")
