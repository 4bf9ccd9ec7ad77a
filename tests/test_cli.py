"""The command line itself: help, version, config precedence, exit codes."""

from __future__ import annotations

import pytest

from elt_cli.cli import cli
from elt_cli.errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_TERMINATED, EXIT_USAGE


def test_exit_codes_are_the_documented_ones():
    assert (EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED, EXIT_TERMINATED) == (
        0,
        1,
        2,
        130,
        143,
    )


@pytest.mark.parametrize("command", sorted(cli.commands))
def test_every_command_has_help(elt, command):
    result = elt(command, "--help")
    assert result.exit_code == 0
    assert cli.commands[command].help, command
    assert result.stdout.startswith(f"Usage: elt {command} [OPTIONS]")


def test_version(elt):
    assert elt("--version").stdout.startswith("elt, version ")


def test_unknown_command_is_a_usage_error(elt):
    result = elt("frobnicate")
    assert result.exit_code == 2
    assert result.stderr == "Error: No such command 'frobnicate'. (see `elt --help`)\n"


def test_config_precedence_flag_over_env_over_file_over_default(elt, tmp_path):
    (tmp_path / "elt.toml").write_text(
        'database = "from_file"\nworkgroup = "wg_file"\ntimeout = 60\n'
    )
    result = elt(
        "--database",
        "from_flag",
        "config",
        env={"ELT_DATABASE": "from_env", "ELT_WORKGROUP": "wg_env"},
    )
    lines = dict(line.split(" = ", 1) for line in result.stdout.splitlines())
    assert lines["database"] == "from_flag\t(flag)"
    assert lines["workgroup"] == "wg_env\t(env)"
    assert lines["timeout"] == "60.0\t(elt.toml)"
    assert lines["source_prefix"] == "movielens\t(default)"
    assert lines["engine"] == "local\t(default)"
    assert lines["lake"] == f"{tmp_path / 'lake'}\t(default)"


def test_pyproject_tool_elt_table_is_read(elt, tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.elt]\ndatabase = "from_pyproject"\n'
    )
    lines = dict(line.split(" = ", 1) for line in elt("config").stdout.splitlines())
    assert lines["database"] == "from_pyproject\t(pyproject.toml)"


def test_s3_lake_selects_athena(elt):
    lines = dict(
        line.split(" = ", 1)
        for line in elt("--lake", "s3://my-lake/data/", "config").stdout.splitlines()
    )
    assert lines["engine"] == "athena\t(default)"
    assert lines["lake"] == "s3://my-lake/data\t(flag)"
    assert lines["results"] == "s3://my-lake/data/athena-results/\t(default)"


def test_debug_adds_the_traceback(elt, tmp_path):
    plain = elt("--lake", tmp_path / "missing", "ensure-db")
    debug = elt("--lake", tmp_path / "missing", "--debug", "ensure-db")
    assert plain.exit_code == debug.exit_code == 2
    assert "Traceback" not in plain.stderr
    assert "Traceback" in debug.stderr and "BadInput" in debug.stderr
    assert debug.stderr.strip().splitlines()[-1] == plain.stderr.strip().splitlines()[-1]
