"""The command line itself: help, version, config precedence, exit codes."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support import last_line

from elt_cli.cli import cli
from elt_cli.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from elt_cli.templates import packaged_queries


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
    assert settings["source_prefix"] == ("movielens", "job")  # the job's [defaults]
    assert settings["engine"] == ("local", "default")
    assert settings["lake"] == (str(tmp_path / "lake"), "default")
    # the job in use, the packaged one by default
    assert settings["queries"] == (str(packaged_queries()), "default")
    # a local lake: the Athena settings are left out, and it says so on stderr: stdout is the
    # table alone, for `elt config | cut -f2`
    assert "workgroup" not in settings
    assert all(len(line.split("\t")) == 3 for line in result.stdout.splitlines())
    assert result.stderr.splitlines()[-1] == (
        "Note: for Athena only, so left out for a local lake: results, workgroup, region, "
        "profile, queue_timeout, retries, max_concurrent, max_scan, poll_max, lock_lease"
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
    plain = elt("--lake", awkward_lake, "ensure-db", unexpected=True)
    debug = elt("--lake", awkward_lake, "--debug", "ensure-db", unexpected=True)
    assert last_line(plain) == (
        "Error: unexpected ValueError: something no one expected (run with --debug for the "
        "traceback)"
    )
    assert last_line(debug) == "Error: unexpected ValueError: something no one expected"


@pytest.mark.parametrize("how", ["flag", "env"])
def test_the_engine_can_be_named_and_must_fit_the_lake(elt, awkward_lake, how):
    def engine(name, lake):
        if how == "flag":
            return elt("--engine", name, "--lake", lake, "ensure-db")
        return elt("--lake", lake, "ensure-db", env={"ELT_ENGINE": name})

    assert engine("local", awkward_lake).exit_code == 0
    wrong = engine("athena", awkward_lake)
    assert (wrong.exit_code, last_line(wrong)) == (
        2,
        "Error: the athena engine needs an s3://bucket[/prefix] lake (see `elt --help`)",
    )
    wrong = engine("local", "s3://my-lake")
    assert (wrong.exit_code, last_line(wrong)) == (
        2,
        "Error: the local engine needs a local lake folder, not an s3:// URI (see `elt --help`)",
    )


@pytest.mark.parametrize("how", ["flag", "env"])
def test_a_config_file_can_be_named(elt, tmp_path, how):
    path = tmp_path / "conf" / "team.toml"
    path.parent.mkdir()
    path.write_text('database = "team_db"\n')
    if how == "flag":
        result = elt("--config", path, "config")
    else:
        result = elt("config", env={"ELT_CONFIG": str(path)})
    assert settings_of(result)["database"] == ("team_db", str(path))


def test_elt_debug_in_the_environment_shows_tracebacks(elt, tmp_path):
    result = elt("--lake", tmp_path / "missing", "ensure-db", env={"ELT_DEBUG": "1"})
    assert result.exit_code == 2
    assert "Traceback (most recent call last):" in result.stderr


def test_timeout_poll_max_and_wait_lock_come_from_the_environment(elt, awkward_lake, aws):
    settings = settings_of(
        elt(
            "--lake", "s3://lake", "config",
            env={"ELT_TIMEOUT": "7", "ELT_POLL_MAX": "0.5", "ELT_WAIT_LOCK": "3"},
        )
    )  # fmt: skip
    assert settings["timeout"] == ("7.0", "env ELT_TIMEOUT")
    assert settings["poll_max"] == ("0.5", "env ELT_POLL_MAX")
    assert settings["wait_lock"] == ("3.0", "env ELT_WAIT_LOCK")
    aws.rules.hold.add("CREATE DATABASE")
    result = elt("--lake", "s3://lake", "ensure-db", env={"ELT_TIMEOUT": "1"})
    assert result.exit_code == 1 and "timed out after 1s of running and was stopped" in last_line(
        result
    )


def test_no_progress_at_a_terminal_gives_the_plain_log(awkward_lake, tmp_path):
    from support.processes import elt_in_terminal

    code, text = elt_in_terminal("--lake", awkward_lake, "--no-progress", "ensure-db", cwd=tmp_path)
    assert code == 0
    lines = [line for line in text.splitlines() if line.strip()]
    assert lines[0].split(" ", 1)[1] == "ensure-db: started movielens_elt"
    assert "step " not in text  # no summary table


@pytest.mark.parametrize("no_color", [True, False])
def test_no_color_is_honoured_at_a_terminal(awkward_lake, tmp_path, no_color):
    import os
    import pty
    import select

    master, slave = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env.update({"TERM": "xterm-256color", "COLUMNS": "80"})
    if no_color:
        env["NO_COLOR"] = "1"
    process = subprocess.Popen(
        [sys.executable, "-m", "elt_cli", "--lake", str(awkward_lake), "run", "--genre", "Sci-Fi"],
        env=env, cwd=tmp_path, stdin=slave, stdout=slave, stderr=slave, close_fds=True,
    )  # fmt: skip
    os.close(slave)
    output = b""
    while process.poll() is None or select.select([master], [], [], 0.1)[0]:
        if select.select([master], [], [], 0.1)[0]:
            try:
                output += os.read(master, 65536)
            except OSError:
                break
    os.close(master)
    assert process.wait() == 0
    # a colour is an SGR code 30-38 or 90-97 (bold or dim are not colours, and stay)
    colours = [
        code
        for sgr in re.findall(rb"\x1b\[([0-9;]*)m", output)
        for code in sgr.split(b";")
        if code and (30 <= int(code) <= 38 or 90 <= int(code) <= 97)
    ]
    assert bool(colours) is not no_color


def test_an_option_given_before_and_after_the_command_is_moved_once(elt, awkward_lake):
    result = elt("--lake", awkward_lake, "run", "--genre", "Sci-Fi", "--lake", awkward_lake)
    assert result.exit_code == 2
    assert last_line(result) == (
        "Error: --lake is an option of elt itself: put it before the command: "
        f"elt --lake {awkward_lake} run --genre Sci-Fi"
    )


WEBSHOP = Path(__file__).parent.parent / "examples" / "webshop"


def test_the_help_is_in_the_words_of_the_job_in_use(elt):
    """#21 item 7: another job's help shows its own parameter in the examples and no
    MovieLens command or genre; the packaged job's keeps them."""
    for given in (["--queries", WEBSHOP], []):
        env = {} if given else {"ELT_QUERIES": str(WEBSHOP)}  # given or from the environment
        top = elt(*given, "--help", env=env).stdout
        run = elt(*given, "run", "--help", env=env).stdout
        build = elt(*given, "build-subset", "--help", env=env).stdout
        assert "    elt run --country Germany\n" in top
        assert "    elt --dry-run run --country Germany\n" in run
        assert "customer_totals, country_customers (one table per country)" in build
        for text in (top, run, build):
            assert not re.search(r"genre|Sci-Fi|MovieLens job's", text), text
        assert "  genres " not in top.split("Commands:", 1)[1]
        assert "This one is webshop: Each country's customers" in " ".join(top.split())
    movielens = elt("--help").stdout
    assert "    elt run --genre Sci-Fi\n" in movielens
    assert "  genres " in movielens.split("Commands:", 1)[1]


def test_the_help_of_a_job_whose_sql_is_broken_reads_job_toml_alone(tmp_path):
    """The help is read from job.toml (job.read_job), in a fresh process: a model that does
    not parse and a source with missing markers (whose columns are the SQL's to check) leave
    it whole, and no SQL is parsed for it."""
    job = tmp_path / "shop"
    shutil.copytree(WEBSHOP, job)
    (job / "customer_totals.sql").write_text("SELEC broken FROM\n")
    toml = job / "job.toml"
    toml.write_text(toml.read_text().replace('"orders.sql"', '"orders.sql"\nmissing = ["NA"]'))
    code = (
        "import sys\n"
        "from elt_cli.cli import main\n"
        f"sys.argv = ['elt', '--queries', {str(job)!r}, '--help']\n"
        "try:\n    main()\nexcept SystemExit as exit:\n    print('exit', exit.code)\n"
        "print('sqlglot' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.splitlines()[-2:] == ["exit 0", "False"], done.stderr
    assert "    elt run --country Germany\n" in done.stdout
    assert "This one is webshop: Each country's customers" in " ".join(done.stdout.split())
    assert "  genres " not in done.stdout.split("Commands:", 1)[1]


@pytest.mark.parametrize("job", ["movielens", "webshop"])
def test_every_help_fits_80_columns(elt, job):
    """#21 item 9: nothing in a help passes 80 columns, for the terminal to break anywhere."""
    given = ["--queries", WEBSHOP] if job == "webshop" else []
    for command in ["", *cli.commands]:
        text = elt(*given, *([command] if command else []), "--help").stdout
        assert max(len(line) for line in text.splitlines()) <= 80, (command, text)
