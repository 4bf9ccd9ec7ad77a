"""The options of elt itself (before the command) and the config file under them: click
resolves each setting flag > environment variable > config file > default, and says which."""

from __future__ import annotations

from pathlib import Path

import click

from elt_cli.config import DEFAULT_CONFIG, parse_size, read_config_file
from elt_cli.engines.kinds import ENGINES

# How click's parameter sources are named in `elt config`.
SOURCE_NAMES = {
    click.core.ParameterSource.COMMANDLINE: "flag",
    click.core.ParameterSource.ENVIRONMENT: "env",
    click.core.ParameterSource.DEFAULT_MAP: "config file",
    click.core.ParameterSource.DEFAULT: "default",
}


class Size(click.ParamType):
    """A size in bytes: `500MB`, `2GB`, `1TB` (config.parse_size)."""

    name = "SIZE"

    def convert(self, value, param, ctx):
        try:
            return parse_size(value)
        except ValueError as exc:
            self.fail(f"{value!r} {exc}", param, ctx)


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


OPTIONS = [
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
        type=click.Choice(list(ENGINES)),
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
        is_eager=True,  # before --help: the help is the job's
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
        "--queue-timeout",
        envvar="ELT_QUEUE_TIMEOUT",
        type=click.FloatRange(min=0, min_open=True),
        default=1800.0,
        show_default=True,
        help="Seconds an Athena query may wait in Athena's queue before it is stopped.",
    ),
    click.option(
        "--retries",
        envvar="ELT_RETRIES",
        type=click.IntRange(min=0),
        default=2,
        show_default=True,
        help="Resubmissions of a query Athena says may succeed if resubmitted.",
    ),
    click.option(
        "--max-concurrent",
        envvar="ELT_MAX_CONCURRENT",
        type=click.IntRange(min=1),
        default=8,
        show_default=True,
        help="Most Athena queries of the run in flight at once.",
    ),
    click.option(
        "--max-scan",
        envvar="ELT_MAX_SCAN",
        type=Size(),
        help="Refuse a run predicted to scan more on Athena (500MB, 2GB, 1TB), and stop "
        "starting queries once it has [default: no limit].",
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
        "--lock-lease",
        envvar="ELT_LOCK_LEASE",
        type=click.FloatRange(min=1),
        default=180.0,
        show_default=True,
        help="Seconds an s3:// lake's lock outlives a run that stopped renewing it (killed).",
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
    """The options of elt itself, before the command: `elt --lake x run`."""
    for option in reversed(OPTIONS):
        f = option(f)
    return f
