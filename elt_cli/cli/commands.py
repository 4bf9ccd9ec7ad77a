"""The click group and its commands. Each command makes nothing of its own: the group makes one
library object (api.Elt) from the global options, and the command calls one of its methods and
shows the result (cli/app.py)."""

from __future__ import annotations

import json
import os

import click

from elt_cli import __version__
from elt_cli.api import Elt
from elt_cli.cli.app import App, case_lines, make_reporter
from elt_cli.cli.ending import EltGroup
from elt_cli.cli.options import SOURCE_NAMES, global_options
from elt_cli.cli.parameters import JobCommand, given_values, skip_bad_rows_option
from elt_cli.errors import BadInput, TemplateError, TestsFailed


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
    job, or any job folder given with --queries. This one is {job}: {description}.

    \b
    Examples:
      elt sample-data                        # the job's sample data, in ./lake
      elt run {args}
      elt --lake s3://my-lake run {args}
      elt --json run {args} | jq .total
      elt --queries examples/webshop check   # check a job, run nothing
    """
    sources = {k: SOURCE_NAMES.get(ctx.get_parameter_source(k), "default") for k in values}  # type: ignore[arg-type]
    queries = values.pop("queries")
    ctx.command.use_job(queries)  # type: ignore[attr-defined]
    try:
        elt = Elt(queries, dry_run=dry_run, sources=sources, debug=debug, **values)
    except TemplateError:
        raise  # the job is wrong, not the command line
    except BadInput as exc:
        raise click.UsageError(str(exc), ctx) from exc
    elt.reporter = make_reporter(
        ctx.invoked_subcommand, progress, as_json, dry_run, elt.settings.lake
    )
    ctx.obj = App(elt, as_json)


@cli.command("ensure-db", short_help="Create the database if it is missing; say which it was.")
@click.pass_obj
def ensure_db_command(app: App):
    """Create the database if it does not exist, and say which it was."""
    app.show(app.elt.ensure_db())


@cli.command("create-tables", short_help="Create the raw tables over the raw files.")
@click.pass_obj
def create_tables_command(app: App):
    """Create the job's raw tables ({sources}) over the raw files."""
    app.show(app.elt.create_tables(), lines=[])


@cli.command(
    "build-subset", cls=JobCommand, short_help="Build the job's tables, from what they read."
)
@skip_bad_rows_option
@click.pass_obj
def build_subset_command(app: App, skip_bad_rows, **kwargs):
    """(Re)build every model of the job, in the order of what they read: {models}.

    \b
    Example:
      elt build-subset {args}
    """
    values = given_values(app.spec, kwargs)
    app.show(app.elt.build(skip_bad_rows=skip_bad_rows, **values), lines=[])


@cli.command("export", cls=JobCommand, short_help="Write each export as CSV under <lake>/export/.")
@click.pass_obj
def export_command(app: App, **kwargs):
    """Write each of the job's exports as one CSV file under <lake>/export/<table>/, clearing
    old export data first."""
    app.show(app.elt.export(**given_values(app.spec, kwargs)), lines=[])


@cli.command("move", cls=JobCommand, short_help="Move each export to its final place in the lake.")
@click.pass_obj
def move_command(app: App, **kwargs):
    """Move each export to its final place in the lake: {finals}."""
    result = app.elt.move(**given_values(app.spec, kwargs))
    app.show(result, lines=result.value)


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
    """All five steps in order: ensure-db, create-tables, build-subset, export, move. With
    --dry-run it prints the SQL and the file actions, and changes nothing.

    \b
    Examples:
      elt run {args}
      elt --dry-run run {args}
    """
    values = given_values(app.spec, kwargs)
    result = app.elt.run(resume=resume, skip_bad_rows=skip_bad_rows, **values)
    app.show(result, lines=result.value)


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
    given = {
        name: value
        for name, value in {"seed": seed, "ratings": ratings, "movies": movies}.items()
        if ctx.get_parameter_source(name) != click.core.ParameterSource.DEFAULT
    }
    ctx.obj.show(ctx.obj.elt.sample_data(force=force, **given))


def _show_values(app: App, parameter: str, skip_bad_rows: bool) -> None:
    found = app.elt.values(parameter, skip_bad_rows=skip_bad_rows)
    counted = app.spec.parameters[parameter].counted
    found.value = [{parameter: value, counted: count} for value, count in found.value]
    app.show(found, lines=[])
    app.table([parameter, counted], [(v[parameter], v[counted]) for v in found.value])


@cli.command("values", short_help="List the values of a parameter there are in the data.")
@click.argument("parameter")
@skip_bad_rows_option
@click.pass_obj
def values_command(app: App, parameter, skip_bad_rows):
    """List the values of one of the job's parameters there are in the data, with a count each
    (the parameter's `values` query).

    \b
    Example:
      elt values {parameter}
    """
    _show_values(app, parameter, skip_bad_rows)


@cli.command("genres", short_help="The genres in the data with their counts.")
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


@cli.command("test", short_help="Run the job's own test cases on the local engine.")
@click.argument("cases", nargs=-1)
@click.pass_obj
def test_command(app: App, cases):
    """Run the job's test cases (tests/<case>/ in the job folder: input files per source,
    expected/ final files), each in a temporary lake on the local engine, and compare the
    files byte for byte. Needs no AWS and no lake. Exits 1 if a case fails.

    \b
    Example:
      elt --queries examples/webshop test
    """
    try:
        result = app.elt.test(cases)
    except TestsFailed as failed:
        app.lines += case_lines(failed.outcomes)
        raise
    app.show(result, lines=case_lines(result.value))


@cli.command("check", short_help="Check a job without running anything.")
@click.pass_obj
def check_command(app: App):
    """Check the job: job.toml, every SQL file parses as Athena SQL and translates for the
    local engine, every table and placeholder resolves, no cycle. Runs nothing.

    \b
    Example:
      elt --queries examples/webshop check
    """
    app.show(app.elt.check())


@cli.command(
    "iam-policy", cls=JobCommand, short_help="Print the least IAM policy elt needs on AWS."
)
@click.option(
    "--sample-data", is_flag=True, help="Also allow `elt sample-data` to write the raw files."
)
@click.option(
    "--lake-formation",
    is_flag=True,
    help="The account's data is governed by Lake Formation: allow lakeformation:GetDataAccess "
    "(the grants elt and readers need are in the README).",
)
@click.pass_obj
def iam_policy_command(app: App, sample_data, lake_formation, **kwargs):
    """Print the least IAM policy elt needs on AWS for these settings (lake, source prefix,
    database, workgroup, results) and the job. Give parameter values (--genre) to allow
    writing those final files only.

    \b
    Example:
      elt --lake s3://my-lake iam-policy {args} > policy.json
    """
    result = app.elt.iam_policy(
        sample_data=sample_data, lake_formation=lake_formation, **given_values(app.spec, kwargs)
    )
    app.show(result, lines=[json.dumps(result.value, indent=2)])


@cli.command("config", short_help="Print the settings and where each one came from.")
@click.pass_context
def config_command(ctx: click.Context):
    """Print the effective settings and where each came from: a flag, an environment variable
    (named), the config file (named) or the default."""
    app: App = ctx.obj
    result = app.elt.config()
    origin = ctx.parent.meta.get("config_file", "") if ctx.parent else ""
    envvars = {p.name: p.envvar for p in cli.params if getattr(p, "envvar", None)}
    for key, shown in result.value.items():
        if shown["source"] == "config file":
            shown["source"] = origin
        elif shown["source"] == "env":
            shown["source"] = f"env {envvars[key]}"
    if os.environ.get("AWS_ENDPOINT_URL") and app.settings.engine == "athena":
        result.value["aws_endpoint_url"] = {
            "value": os.environ["AWS_ENDPOINT_URL"],
            "source": "env AWS_ENDPOINT_URL",
        }
    app.show(result, lines=[])  # its notes on stderr: `elt config | cut -f2` gets the table
    app.table(
        ["setting", "value", "from"],
        [
            (k, "" if v["value"] is None else v["value"], v["source"])
            for k, v in result.value.items()
        ],
    )


def main() -> None:
    cli(prog_name="elt")
