"""The command line itself: help, version, config precedence, exit codes."""

from __future__ import annotations

import subprocess
import sys

import pytest

from elt_cli.cli import cli
from elt_cli.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE


def last_line(result) -> str:
    return result.stderr.strip().splitlines()[-1]


def settings_of(result) -> dict[str, tuple[str, str]]:
    """`elt config` piped: one `setting<TAB>value<TAB>where from` line per setting."""
    rows = [line.split("\t") for line in result.stdout.splitlines() if "\t" in line]
    return {name: (value, source) for name, value, source in rows}


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["run", "--genre", "Sci-Fi"], EXIT_OK),
        (["export", "--genre", "Sci-Fi"], EXIT_FAILED),  # nothing built yet: a step failed
        (["run", "--genre", "Sci-fy"], EXIT_USAGE),  # bad input, nothing changed
        (["--timeout", "never", "run", "--genre", "Sci-Fi"], EXIT_USAGE),
    ],
)
def test_real_commands_exit_with_the_documented_codes(elt, awkward_lake, args, code):
    """0, 1 and 2 here; 130 and 143 with real signals in test_interrupts.py."""
    if code == EXIT_USAGE or args[0] == "export":
        assert elt("--lake", awkward_lake, "ensure-db").exit_code == EXIT_OK
        assert elt("--lake", awkward_lake, "create-tables").exit_code == EXIT_OK
    assert elt("--lake", awkward_lake, *args).exit_code == code


def test_a_bare_elt_prints_the_help_once(elt):
    result = elt()
    assert result.exit_code == 2
    assert result.stdout.count("Usage: elt [OPTIONS] COMMAND [ARGS]...") == 1
    assert "Error" not in result.output


def test_help_lists_the_commands_in_step_order_with_whole_lines(elt):
    help_text = elt("--help").stdout
    commands = [line.split()[0] for line in help_text.split("Commands:\n", 1)[1].splitlines()]
    assert commands == list(cli.commands)
    assert commands[:6] == ["ensure-db", "create-tables", "build-subset", "export", "move", "run"]
    assert "..." not in help_text.split("Commands:", 1)[1]


def test_a_global_option_after_the_command_is_told_where_it_goes(elt, awkward_lake):
    result = elt("run", "--genre", "Sci-Fi", "--lake", awkward_lake, "--json")
    assert result.exit_code == 2
    assert last_line(result) == (
        "Error: --lake is an option of elt itself: put it before the command: "
        f"elt --lake {awkward_lake} --json run --genre Sci-Fi"
    )


def test_help_does_not_import_boto3_duckdb_or_sqlglot():
    """`elt --help` answers at once: the heavy libraries load only when a command needs them."""
    code = (
        "import sys\n"
        "from elt_cli.cli import main\n"
        "sys.argv = ['elt', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('boto3', 'botocore', 'duckdb', 'sqlglot') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"


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
    settings = settings_of(result)
    assert settings["database"] == ("from_flag", "flag")
    assert settings["timeout"] == ("60.0", "elt.toml")
    assert settings["source_prefix"] == ("movielens", "default")
    assert settings["engine"] == ("local", "default")
    assert settings["lake"] == (str(tmp_path / "lake"), "default")
    # a local lake: the Athena settings are left out, and it says so
    assert "workgroup" not in settings
    assert result.stdout.splitlines()[-1] == (
        "(for Athena only, so left out for a local lake: results, workgroup, region, profile, "
        "poll_max)"
    )
    athena = settings_of(elt("--lake", "s3://my-lake", "config", env={"ELT_WORKGROUP": "wg_env"}))
    assert athena["workgroup"] == ("wg_env", "env ELT_WORKGROUP")


def test_pyproject_tool_elt_table_is_read(elt, tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.elt]\ndatabase = "from_pyproject"\n'
    )
    assert settings_of(elt("config"))["database"] == ("from_pyproject", "pyproject.toml")


def test_s3_lake_selects_athena(elt):
    settings = settings_of(
        elt("--lake", "s3://my-lake/data/", "config", env={"AWS_ENDPOINT_URL": "http://x:1"})
    )
    assert settings["engine"] == ("athena", "default")
    assert settings["lake"] == ("s3://my-lake/data", "flag")
    assert settings["results"] == ("s3://my-lake/data/athena-results/", "default")
    assert settings["aws_endpoint_url"] == ("http://x:1", "env AWS_ENDPOINT_URL")


def test_debug_adds_the_traceback(elt, tmp_path):
    plain = elt("--lake", tmp_path / "missing", "ensure-db")
    debug = elt("--lake", tmp_path / "missing", "--debug", "ensure-db")
    assert plain.exit_code == debug.exit_code == 2
    assert "Traceback" not in plain.stderr
    # not a terminal: Python's plain traceback, no rich boxes
    assert "Traceback (most recent call last):" in debug.stderr and "BadInput" in debug.stderr
    assert "│" not in debug.stderr and "╭" not in debug.stderr
    assert debug.stderr.strip().splitlines()[-1] == plain.stderr.strip().splitlines()[-1]


def test_debug_drops_the_hint_to_run_with_debug(elt, awkward_lake, monkeypatch):
    from elt_cli import steps

    def broken(job):
        raise ValueError("something no one expected")

    monkeypatch.setattr(steps, "ensure_db", broken)
    monkeypatch.delenv("PYTEST_CURRENT_TEST")  # as a user meets it, not as a test fails
    plain = elt("--lake", awkward_lake, "ensure-db")
    debug = elt("--lake", awkward_lake, "--debug", "ensure-db")
    assert last_line(plain) == (
        "Error: unexpected ValueError: something no one expected (run with --debug for the "
        "traceback)"
    )
    assert last_line(debug) == "Error: unexpected ValueError: something no one expected"
