"""What terminals, cron and Airflow get: plain logs, --json, --dry-run, the rich display."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import elt_process, snapshot

from elt_cli.cli import cli

LOG_LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [a-z-]+: \S.*")
EXAMPLE_DAG = Path(__file__).parent.parent / "examples" / "airflow_dag.py"


def test_plain_log_when_not_a_terminal(awkward_lake, tmp_path):
    done = elt_process("--lake", awkward_lake, "run", "--genre", "Sci-Fi", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stderr and "\r" not in done.stderr
    lines = done.stderr.splitlines()
    assert all(LOG_LINE.fullmatch(line) for line in lines), lines
    assert [line.split(" ", 2)[2] for line in lines if ": started" in line] == [
        "ensure-db: started movielens_elt",
        "create-tables: started movies, ratings",
        "build-subset: started sci_fi",
        "export: started sci_fi",
        "move: started sci_fi",
    ]
    assert any(
        line.endswith(f"move: wrote {awkward_lake}/movielens/sci_fi/sci_fi-movies.csv")
        for line in lines
    )
    assert done.stdout == f"{awkward_lake}/movielens/sci_fi/sci_fi-movies.csv\n"


def test_athena_log_has_one_line_per_state_change_not_per_poll(elt, aws):
    aws.query_time(0.5)
    result = elt("--lake", "s3://lake", "ensure-db")
    assert result.exit_code == 0, result.output
    assert len(aws.sent("GetQueryExecution")) >= 5
    query_lines = [line for line in result.stderr.splitlines() if "create_database" in line]
    assert [re.search(r"create_database (\w+)", line).group(1) for line in query_lines] == [
        "QUEUED",
        "RUNNING",
        "SUCCEEDED",
    ]
    assert all(LOG_LINE.fullmatch(line) for line in result.stderr.splitlines())


def test_retries_are_logged(elt, aws):
    aws.throttles = {"StartQueryExecution": 2}
    result = elt("--lake", "s3://lake", "ensure-db")
    assert result.exit_code == 0, result.output
    retries = [line for line in result.stderr.splitlines() if "throttled" in line]
    assert len(retries) == 2 and "start_query_execution: throttled, retry 1 in" in retries[0]


def test_json_summary_is_all_of_stdout(elt, awkward_lake):
    result = elt("--lake", awkward_lake, "--json", "run", "--genre", "Sci-Fi")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["status"] == "succeeded" and document["exit_code"] == 0
    assert [s["step"] for s in document["steps"]] == [
        "ensure-db",
        "create-tables",
        "build-subset",
        "export",
        "move",
    ]
    assert all(s["status"] == "succeeded" and s["seconds"] >= 0 for s in document["steps"])
    build = [q for q in document["queries"] if q["template"] == "build_subset"]
    assert build == [
        {
            "step": "build-subset",
            "template": "build_subset",
            "subject": "sci_fi",
            "query_id": None,
            "state": "SUCCEEDED",
            "seconds": build[0]["seconds"],
            "bytes_scanned": 0,
            "cost_usd": 0.0,
        }
    ]
    final = str(awkward_lake / "movielens/sci_fi/sci_fi-movies.csv")
    assert {"step": "move", "uri": final, "rows": None} in document["outputs"]
    assert {
        "step": "export",
        "uri": str(awkward_lake / "export/sci_fi/sci_fi.csv"),
        "rows": 10,
    } in document["outputs"]


def test_json_summary_on_failure(elt, awkward_lake):
    result = elt("--lake", awkward_lake, "--json", "run", "--genre", "Westerns")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["status"] == "failed" and document["exit_code"] == 1
    assert document["error"].startswith("no films with genre 'Westerns'")
    assert document["steps"][-1] == {
        **document["steps"][-1],
        "step": "build-subset",
        "status": "failed",
    }


def test_json_on_athena_has_query_ids_and_cost(elt, aws):
    result = elt("--lake", "s3://lake", "--json", "ensure-db")
    document = json.loads(result.stdout)
    (query,) = document["queries"]
    assert query["query_id"] == aws.athena.list_query_executions()["QueryExecutionIds"][0]
    assert query["state"] == "SUCCEEDED"
    assert document["total"]["queries"] == 1


def test_dry_run_leaves_a_local_lake_byte_for_byte_unchanged(elt, awkward_lake):
    for state in ("fresh", "after a run"):
        before = snapshot(awkward_lake)
        result = elt("--lake", awkward_lake, "--dry-run", "run", "--genre", "Sci-Fi")
        assert result.exit_code == 0, (state, result.output)
        assert snapshot(awkward_lake) == before, state
        assert "CREATE TABLE movielens_elt.sci_fi__v" in result.stdout
        assert "CREATE OR REPLACE VIEW movielens_elt.sci_fi AS" in result.stdout
        assert (
            f"-- move {awkward_lake}/export/sci_fi/sci_fi.csv to "
            f"{awkward_lake}/movielens/sci_fi/sci_fi-movies.csv"
        ) in result.stdout
        elt("--lake", awkward_lake, "run", "--genre", "Sci-Fi")


def test_dry_run_plans_the_clean_up_it_would_do(elt, awkward_lake):
    for _ in range(2):  # two versions: the next build keeps the newer, drops the older
        elt("--lake", awkward_lake, "run", "--genre", "Sci-Fi")
        (awkward_lake / "movielens/ratings/ratings-1.csv").touch()  # so it is rebuilt
    result = elt("--lake", awkward_lake, "--dry-run", "run", "--genre", "Sci-Fi")
    assert re.search(
        r"-- delete 1 file\(s\) under .*/tables/movielens_elt/sci_fi/v\w+/", result.stdout
    )
    assert "DROP TABLE IF EXISTS movielens_elt.sci_fi__v" in result.stdout


def test_dry_run_makes_no_state_changing_aws_call(elt, s3_lake, aws):
    result = elt("--lake", s3_lake, "--dry-run", "run", "--genre", "Sci-Fi")
    assert result.exit_code == 0, result.output
    reads = {"GetDatabase", "GetWorkGroup", "GetTable", "GetTables", "ListObjectsV2", "HeadObject"}
    assert {op for op, _ in aws.calls} <= reads
    assert aws.queries() == []
    assert "CREATE DATABASE IF NOT EXISTS movielens_elt;" in result.stdout


def test_forced_progress_shows_a_summary_table_without_colour(elt, awkward_lake):
    result = elt("--lake", awkward_lake, "--progress", "run", "--genre", "Sci-Fi")
    assert result.exit_code == 0, result.output
    assert "summary" in result.stderr and "build_subset" in result.stderr
    assert "│ move" in result.stderr
    assert "\x1b[3" not in result.stderr  # NO_COLOR is set by the test isolation
    assert not LOG_LINE.search(result.stderr)


def test_never_exits_99(elt, awkward_lake):
    # BashOperator reads exit code 99 as "skip"; every outcome maps to 0, 1, 2, 130 or 143.
    codes = {
        elt("--lake", awkward_lake, *args).exit_code
        for args in (
            ["run", "--genre", "Sci-Fi"],
            ["run", "--genre", "Nope"],
            ["--database", "X", "run"],
            ["frobnicate"],
        )
    }
    assert codes == {0, 1, 2}


def test_example_dag_uses_only_documented_settings(elt):
    text = EXAMPLE_DAG.read_text()
    documented = {p.envvar for p in cli.params if p.envvar}
    used = set(re.findall(r'"(ELT_[A-Z_]+)"', text))
    assert used and used <= documented
    for variable in ("s3_dlake", "athena_db", "athena_output"):
        assert f"var.value.{variable}" in text
    assert re.search(r'bash_command="elt run "', text)
    assert elt("run", "--help").exit_code == 0


def test_example_dag_imports_with_airflow():
    pytest.importorskip("airflow")
    import runpy

    namespace = runpy.run_path(str(EXAMPLE_DAG))
    task = namespace["dag"].get_task("elt_run")
    assert task.bash_command == "elt run --genre 'Sci-Fi' --genre 'Comedy'"
