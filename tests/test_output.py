"""What terminals, cron and Airflow get: plain logs, the summary, --json, --dry-run."""

from __future__ import annotations

import json
import re
import shutil

import pytest
from support import FINAL, last_line
from support.data import snapshot
from support.processes import elt_in_terminal, elt_process

ISO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d"
LOG_LINE = re.compile(rf"{ISO} (?:[a-z-]+: \S.*|(?:Done in|Failed after) \d.*|Dry run: .*)")
# 13 queries: 11 of the steps and the audit of each new version (the packaged job's checks)
CLOSING = re.compile(
    r"Done in \d+\.\d s: 1 file written \(10 rows\), 13 queries, 0 failed, 11 checks passed"
)
THREE = ["--genre", "Sci-Fi", "--genre", "Comedy", "--genre", "(no genres listed)"]


# -- the plain log (cron, Airflow) --------------------------------------------------------------


def test_plain_log_when_not_a_terminal(awkward_lake, tmp_path):
    done = elt_process(
        "--lake", awkward_lake, "run", "--genre", "Sci-Fi", cwd=tmp_path, env={"TZ": "Asia/Kolkata"}
    )
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stderr and "\r" not in done.stderr
    lines = done.stderr.splitlines()
    assert all(LOG_LINE.fullmatch(line) for line in lines), lines
    assert all("+05:30 " in line for line in lines)  # the time zone is in every timestamp
    assert [line.split(" ", 1)[1] for line in lines if ": started" in line] == [
        "ensure-db: started movielens_elt",
        "create-tables: started movies, ratings",
        "build-subset: started movie_ratings, Sci-Fi",
        "export: started Sci-Fi",
        "move: started Sci-Fi",
    ]
    assert f"move: moved {awkward_lake}/export/sci_fi/sci_fi.csv to {awkward_lake}/{FINAL}" in (
        done.stderr
    )
    assert CLOSING.fullmatch(lines[-1].split(" ", 1)[1])
    assert done.stdout == f"{awkward_lake}/{FINAL}\n"


def test_athena_log_has_one_line_per_state_change_not_per_poll(elt, aws):
    aws.query_time(0.5)
    result = elt("--lake", "s3://lake", "ensure-db")
    assert result.exit_code == 0, result.output
    assert len(aws.sent("BatchGetQueryExecution")) >= 5
    query_lines = [line for line in result.stderr.splitlines() if "create_database" in line]
    assert [re.search(r"create_database \[\w+\] (\w+)", line).group(1) for line in query_lines] == [
        "QUEUED",
        "RUNNING",
        "SUCCEEDED",
    ]
    assert all(LOG_LINE.fullmatch(line) for line in result.stderr.splitlines())
    assert re.search(
        r"Done in \d+\.\d s: 1 query, 0 failed, 0 B scanned, est\. \$0\.0000$", result.stderr
    )


def test_retries_are_logged(elt, aws):
    aws.throttles = {"StartQueryExecution": 2}
    result = elt("--lake", "s3://lake", "ensure-db")
    assert result.exit_code == 0, result.output
    retries = [line for line in result.stderr.splitlines() if "throttled" in line]
    assert len(retries) == 2 and "start_query_execution: throttled, retry 1 in" in retries[0]


def test_genres_has_its_own_step_in_the_log(elt, awkward_lake):
    elt("--lake", awkward_lake, "ensure-db")
    elt("--lake", awkward_lake, "create-tables")
    result = elt("--lake", awkward_lake, "genres")  # movie_ratings not built: it is queried
    assert " genres: list_genres SUCCEEDED in " in result.stderr
    assert ": list_genres" not in result.stderr.replace("genres: list_genres", "")


# -- the summary at a terminal --------------------------------------------------------------------


def summary_of(result) -> list[str]:
    """The summary table's lines and the closing line, as --progress renders them at 80
    columns (the test isolation sets COLUMNS=80; not a terminal, so the live view is silent)."""
    lines = result.stderr.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:2] == ["step", "for"])
    return lines[start:]


def test_the_summary_has_a_line_per_step_and_genre_and_fits_80_columns(elt, awkward_lake):
    result = elt("--lake", awkward_lake, "--progress", "run", *THREE)
    assert result.exit_code == 0, result.output
    assert all(len(line) <= 80 for line in result.stderr.splitlines())
    summary = summary_of(result)
    steps = ("ensure-db", "create-tables", "build-subset", "export", "move")
    rows = [line.split() for line in summary if line.startswith(steps)]
    assert [r[:3] for r in rows] == [
        ["ensure-db", "movielens_elt", "OK"],
        ["create-tables", "movies", "OK"],
        ["create-tables", "ratings", "OK"],
        ["build-subset", "movie_ratings", "OK"],
        ["build-subset", "list_genres", "OK"],  # the genres checked, once the films are built
        ["build-subset", "Sci-Fi", "OK"],
        ["build-subset", "Comedy", "OK"],
        ["build-subset", "(no", "genres"],
        ["export", "Sci-Fi", "OK"],
        ["export", "Comedy", "OK"],
        ["export", "(no", "genres"],
        ["move", "Sci-Fi", "OK"],
        ["move", "Comedy", "OK"],
        ["move", "(no", "genres"],
    ]
    assert "was missing: created" in summary[2]
    assert [r[-1] for r in rows[11:]] == ["10", "5", "1"]  # rows written per genre
    assert "  movielens/sci_fi/sci_fi-movies.csv (10 rows)" in summary  # relative to the lake
    closing = " ".join(
        " ".join(summary[next(i for i, x in enumerate(summary) if x.startswith("Done")) :]).split()
    )
    assert re.fullmatch(  # 4 of the queries audit each new version: 5 + 3 x 6 checks
        r"Done in \d+\.\d s: 3 files written \(10 \+ 5 \+ 1 rows\), 21 queries, 0 failed, "
        r"23 checks passed",
        closing,
    )
    checks = [line.split() for line in summary if line.startswith("checks  ")]
    assert checks == [
        ["checks", "movie_ratings", "OK", "5", "passed"],
        ["checks", "Sci-Fi", "OK", "6", "passed"],
        ["checks", "Comedy", "OK", "6", "passed"],
        ["checks", "(no", "genres", "listed)", "OK", "6", "passed"],
    ]
    assert len(result.stderr.splitlines()) <= 40  # three genres fit a 40-line terminal
    assert "\x1b[" not in result.stderr  # NO_COLOR is set by the test isolation
    assert not LOG_LINE.search(result.stderr)


def test_a_skipped_build_has_its_line_and_reason(elt, awkward_lake):
    elt("--lake", awkward_lake, "run", "--genre", "Sci-Fi")
    result = elt("--lake", awkward_lake, "--progress", "run", "--genre", "Sci-Fi")
    summary = summary_of(result)
    skipped = [i for i, line in enumerate(summary) if "SKIPPED" in line]
    # nothing changed: every step leaves its work as it is (tests/test_unchanged.py)
    assert [summary[i].split()[:3] for i in skipped] == [
        ["check", "Sci-Fi", "SKIPPED"],
        ["create-tables", "movies", "SKIPPED"],
        ["create-tables", "ratings", "SKIPPED"],
        ["build-subset", "movie_ratings", "SKIPPED"],
        ["build-subset", "Sci-Fi", "SKIPPED"],
        ["export", "Sci-Fi", "SKIPPED"],
        ["move", "Sci-Fi", "SKIPPED"],
    ]
    skipped = skipped[3:5]
    # and no line for the step as a whole: its lines are those two
    assert [line.split()[0] for line in summary].count("build-subset") == 2
    # the reason wraps between words in its column, never cut
    first, second = skipped
    wrapped = [line.strip() for line in summary[first + 1 : second]]
    reason = " ".join([summary[first].split(None, 3)[3].strip(), *wrapped])
    assert reason == "SQL and inputs unchanged since its build"


def test_the_athena_summary_has_a_line_per_query_with_its_id_and_cost(elt, s3_lake, aws):
    header = ["movie_id", "title", "year", "avg_rating", "num_ratings"]
    aws.results = [
        ("SELECT genre", [["genre", "films"], ["Sci-Fi", "1"]]),
        ("SELECT movie_id", [header, ["9", "Alien", "1979", "3.75", "2"]]),
    ]
    aws.stats = {"CREATE TABLE movielens_elt.sci_fi__": (2_500_000_000, "DML")}
    result = elt("--lake", s3_lake, "--progress", "run", "--genre", "Sci-Fi")
    assert result.exit_code == 0, result.output
    assert all(len(line) <= 80 for line in result.stderr.splitlines())
    summary = summary_of(result)
    (ctas,) = [
        e for e in aws.executions() if e["Query"].startswith("CREATE TABLE movielens_elt.sci_fi")
    ]
    build = next(line for line in summary if ctas["QueryExecutionId"][:8] in line)
    assert build.split()[:3] == ["build-subset", "Sci-Fi", "OK"]
    assert re.fullmatch(r"\d+\.\ds", build.split()[3])  # moto gives no time: elt's own
    assert build.rstrip().endswith(f"{ctas['QueryExecutionId'][:8]} 2.5 GB $0.0125")
    closing = " ".join(
        " ".join(summary[next(i for i, x in enumerate(summary) if x.startswith("Done")) :]).split()
    )
    assert re.fullmatch(  # wrapped between words where it does not fit 80 columns
        r"Done in \d+\.\d s: 1 file written \(1 row\), 13 queries, 0 failed, 11 checks passed, "
        r"2\.5 GB scanned, est\. \$0\.0127",
        closing,
    )


# -- --json ---------------------------------------------------------------------------------------


def test_json_is_one_line_so_a_bash_operator_pushes_all_of_it_to_xcom(elt, awkward_lake, tmp_path):
    """Airflow's BashOperator pushes the last line of stdout to XCom: that line is the whole
    document, on success and on failure. At a terminal it is indented, to read."""
    for args, code in ((["run", "--genre", "Sci-Fi"], 0), (["export", "--genre", "Nope"], 1)):
        result = elt("--lake", awkward_lake, "--json", *args)
        assert result.exit_code == code
        assert result.stdout.count("\n") == 1 and result.stdout.endswith("}\n")
        assert json.loads(result.stdout.splitlines()[-1])["exit_code"] == code
    code, shown = elt_in_terminal("--lake", awkward_lake, "--json", "ensure-db", cwd=tmp_path)
    assert code == 0
    assert '\n  "schema_version": 1,\n' in shown


def test_json_is_all_of_stdout_with_counts_that_agree(elt, awkward_lake):
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
    final = str(awkward_lake / FINAL)
    assert document["result"] == [final]
    # the export was moved: the file written is the final one, with the rows it holds
    assert document["outputs"] == [{"step": "move", "subject": "Sci-Fi", "uri": final, "rows": 10}]
    assert document["total"]["queries"] == len(document["queries"]) == 13  # 2 audits
    assert document["total"]["failed"] == 0 and document["total"]["files"] == 1
    build = [q for q in document["queries"] if q["template"] == "subset"]
    assert build == [
        {
            "step": "build-subset",
            "template": "subset",
            "subject": "Sci-Fi",
            "query_id": None,
            "state": "SUCCEEDED",
            "attempt": 1,
            "retried": False,
            "reason": "",
            "seconds": build[0]["seconds"],
            "queued_seconds": 0.0,
            "rows": 10,
            "bytes_scanned": 0,
            "cost_usd": 0.0,
        }
    ]
    again = json.loads(elt("--lake", awkward_lake, "--json", "run", "--genre", "Sci-Fi").stdout)
    built = [s for s in again["skipped"] if s["step"] == "build-subset"]
    assert built == [
        {
            "step": "build-subset",
            "subject": subject,
            "reason": "SQL and inputs unchanged since its build",
        }
        for subject in ("movie_ratings", "Sci-Fi")
    ]
    assert again["queries"] == []  # nothing changed: no query at all (tests/test_unchanged.py)


def test_json_on_failure_has_the_error_without_the_debug_hint(elt, awkward_lake):
    (awkward_lake / "movielens/ratings/bad.csv").write_text(
        "userId,movieId,rating,timestamp\n5,9,,1\n"
    )
    result = elt("--lake", awkward_lake, "--json", "run", "--genre", "Sci-Fi")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["status"] == "failed" and document["exit_code"] == 1
    assert document["error"].startswith("movie_ratings failed: 1 malformed row(s) in the raw data")
    assert "--debug" not in document["error"]
    assert document["steps"][-1]["step"] == "build-subset"
    assert document["steps"][-1]["status"] == "failed"


def test_json_of_genres_and_config_carries_their_result(elt, awkward_lake):
    genres = json.loads(elt("--lake", awkward_lake, "--json", "genres").stdout)
    assert {"genre": "Sci-Fi", "films": 9} in genres["result"]  # rated films
    assert len(genres["result"]) == 15
    config = json.loads(elt("--lake", awkward_lake, "--json", "config").stdout)
    assert config["result"]["lake"] == {"value": str(awkward_lake), "source": "flag"}
    assert config["result"]["timeout"] == {"value": "1800.0", "source": "default"}


def test_json_on_athena_has_query_ids_and_cost(elt, aws):
    result = elt("--lake", "s3://lake", "--json", "ensure-db")
    document = json.loads(result.stdout)
    (query,) = document["queries"]
    assert query["query_id"] == aws.athena.list_query_executions()["QueryExecutionIds"][0]
    assert query["state"] == "SUCCEEDED"
    assert document["total"]["queries"] == 1


# -- genres ---------------------------------------------------------------------------------------


def test_genres_works_on_a_fresh_lake_and_says_what_it_made(elt, awkward_lake):
    result = elt("--lake", awkward_lake, "genres")
    assert result.exit_code == 0, result.output
    assert "Sci-Fi\t9\n" in result.stdout and "(no genres listed)\t1\n" in result.stdout
    assert (
        "genres: the raw tables are not there yet: making them, as `elt ensure-db` and "
        "`elt create-tables` do"
    ) in result.stderr
    before = snapshot(awkward_lake)
    again = elt("--lake", awkward_lake, "genres")
    assert again.stdout == result.stdout and "making them" not in again.stderr
    assert snapshot(awkward_lake) == before  # a second time it changes nothing


def test_genres_is_an_aligned_table_at_a_terminal(elt, awkward_lake, tmp_path):
    code, text = elt_in_terminal("--lake", awkward_lake, "genres", cwd=tmp_path)
    assert code == 0, text
    rows = [line for line in text.splitlines() if line.startswith(("genre ", "Sci-Fi ", "War "))]
    assert [r.split() for r in rows] == [["genre", "films"], ["Sci-Fi", "9"], ["War", "2"]]
    assert len({r.index(r.split()[1]) for r in rows}) == 1  # the counts start in one column
    assert "\t" not in text


# -- --dry-run ------------------------------------------------------------------------------------


def test_dry_run_leaves_a_local_lake_byte_for_byte_unchanged_and_says_would(elt, awkward_lake):
    for state in ("fresh", "after a run"):
        before = snapshot(awkward_lake)
        result = elt("--lake", awkward_lake, "--dry-run", "run", "--genre", "Sci-Fi")
        assert result.exit_code == 0, (state, result.output)
        assert snapshot(awkward_lake) == before, state
        assert "CREATE TABLE movielens_elt.sci_fi__v" in result.stdout
        assert "CREATE OR REPLACE VIEW movielens_elt.sci_fi AS" in result.stdout
        assert (
            f"-- would move {awkward_lake}/export/sci_fi/sci_fi.csv to {awkward_lake}/{FINAL}"
        ) in result.stdout
        words = result.output.lower()
        assert not re.search(r"\bwrote\b|\bdone in\b|\bmoved\b|(?<!would be )created", words)
        assert "would write" in words and result.stderr.splitlines()[-1].split(" ", 1)[1] == (
            "Dry run: 1 file would be written, "
            + re.search(r"(\d+ planned statements and actions)", result.stderr).group(1)
            + "; nothing was changed"
        )
        elt("--lake", awkward_lake, "run", "--genre", "Sci-Fi")
        with (awkward_lake / "movielens/ratings/ratings-1.csv").open("a") as f:
            f.write("9,9,4.0,1\n")  # new data: the next run builds again


def test_dry_run_predicts_the_skip_of_an_unchanged_build_as_the_run_decides(elt, awkward_lake):
    for _ in range(2):
        assert elt("--lake", awkward_lake, "run", "--genre", "Sci-Fi").exit_code == 0
    planned = elt("--lake", awkward_lake, "--dry-run", "run", "--genre", "Sci-Fi")
    for built in ("movie_ratings", "Sci-Fi"):
        reason = f"{built} would skip, SQL and inputs unchanged since its build"
        assert f"build-subset: {reason}" in planned.stderr
    assert "CREATE TABLE" not in planned.stdout
    ran = elt("--lake", awkward_lake, "run", "--genre", "Sci-Fi")
    assert "build-subset: Sci-Fi skipped, SQL and inputs unchanged since its build" in ran.stderr
    with (awkward_lake / "movielens/ratings/ratings-1.csv").open("a") as f:
        f.write("9,9,4.0,1\n")
    planned = elt("--lake", awkward_lake, "--dry-run", "run", "--genre", "Sci-Fi")
    assert "build-subset: Sci-Fi would skip" not in planned.stderr
    assert "create-tables: ratings would skip, its definition is unchanged" in planned.stderr
    assert "CREATE TABLE movielens_elt.sci_fi__" in planned.stdout


def test_dry_run_sql_is_never_rewrapped_to_the_terminal(elt, awkward_lake):
    """At a terminal the plan is highlighted, but each statement keeps its own lines:
    copied, it runs."""
    plain = elt("--lake", awkward_lake, "--dry-run", "run", "--genre", "Sci-Fi")
    narrow = elt(
        "--lake", awkward_lake, "--progress", "--dry-run", "run", "--genre", "Sci-Fi",
        env={"COLUMNS": "40"},
    )  # fmt: skip

    def versionless(text: str) -> str:  # each run builds a version of its own
        return re.sub(r"v\d{8}t\d{6}[0-9a-f]{6}", "VERSION", text)

    statements = [s.strip() for s in plain.stdout.split(";\n") if "CREATE TABLE" in s]
    (ctas,) = [s for s in statements if "movie_ratings__" in s]
    ctas = versionless(ctas.split("\n", 1)[1])  # without its "-- build-subset" line
    assert max(len(line) for line in ctas.splitlines()) > 40
    assert ctas in versionless(narrow.stdout)


def test_dry_run_plans_the_clean_up_it_would_do(elt, awkward_lake):
    for _ in range(2):  # two versions: the next build keeps the newer, drops the older
        elt("--lake", awkward_lake, "run", "--genre", "Sci-Fi")
        (awkward_lake / "movielens/ratings/ratings-1.csv").touch()  # so it is rebuilt
    result = elt("--lake", awkward_lake, "--dry-run", "run", "--genre", "Sci-Fi")
    assert re.search(
        r"-- would delete 1 file\(s\) under .*/tables/movielens_elt/sci_fi/v\w+/", result.stdout
    )
    assert "DROP TABLE IF EXISTS movielens_elt.sci_fi__v" in result.stdout


def test_dry_run_makes_no_state_changing_aws_call(elt, s3_lake, aws):
    result = elt("--lake", s3_lake, "--dry-run", "run", "--genre", "Sci-Fi")
    assert result.exit_code == 0, result.output
    reads = {"GetDatabase", "GetWorkGroup", "GetTable", "GetTables", "ListObjectsV2", "GetObject"}
    assert {op for op, _ in aws.calls} <= reads
    assert aws.queries() == []
    assert "CREATE DATABASE IF NOT EXISTS movielens_elt;" in result.stdout


def test_never_exits_99(elt, awkward_lake, tmp_path):
    """BashOperator reads exit code 99 as "skip": every outcome is one of the contract's."""
    shutil.copytree(awkward_lake, tmp_path / "bad")
    (tmp_path / "bad/movielens/ratings/bad.csv").write_text("userId,movieId,rating,timestamp\n1\n")
    for lake, args, code in (
        (awkward_lake, ["run", "--genre", "Sci-Fi"], 0),
        (tmp_path / "bad", ["run", "--genre", "Sci-Fi"], 1),  # a malformed row: a step failed
        (awkward_lake, ["run", "--genre", "Nope"], 2),  # no such genre: nothing changed
        (awkward_lake, ["--database", "X", "run"], 2),
        (awkward_lake, ["frobnicate"], 2),
    ):
        assert elt("--lake", lake, *args).exit_code == code, args


def test_a_failed_step_is_never_ok_in_the_summary_and_the_rows_are_a_number(elt, awkward_lake):
    """The genre check's query went well, then the value was refused: the step failed."""
    assert elt("--lake", awkward_lake, "run", "--genre", "Sci-Fi").exit_code == 0
    result = elt("--lake", awkward_lake, "--progress", "run", "--genre", "Sci-fy")
    assert result.exit_code == 2
    (line,) = [line.split() for line in summary_of(result) if line.startswith("check")]
    assert line[:3] == ["check", "Sci-fy", "FAILED"]
    document = json.loads(elt("--lake", awkward_lake, "--json", "run", "--genre", "Comedy").stdout)
    assert document["total"]["rows"] == sum(o["rows"] for o in document["outputs"]) > 0


def test_a_dry_run_summary_says_planned_for_every_unit_it_would_run(elt, awkward_lake):
    """#21 item 3: what a dry run would do is PLANNED (never OK), the new genre's build has
    its line, and nothing has a time."""
    assert elt("--lake", awkward_lake, "run", "--genre", "Sci-Fi").exit_code == 0
    result = elt("--lake", awkward_lake, "--progress", "--dry-run", "run", "--genre", "Horror")
    assert result.exit_code == 0, result.output
    rows = [line.split() for line in summary_of(result)[2:] if not line.startswith(" ")]
    rows = [r for r in rows if r[0] in ("build-subset", "export", "move")]
    assert [r[:3] for r in rows] == [
        ["build-subset", "movie_ratings", "SKIPPED"],
        ["build-subset", "Horror", "PLANNED"],
        ["export", "Horror", "PLANNED"],
        ["move", "Horror", "PLANNED"],
    ]
    assert all(len(r) == 3 for r in rows[1:])  # no time, rows or details
    document = json.loads(
        elt("--lake", awkward_lake, "--json", "--dry-run", "run", "--genre", "Horror").stdout
    )
    assert {q["state"] for q in document["queries"]} == {"PLANNED"}
    assert document["total"]["queries"] == 0  # none was sent


def test_a_dry_run_refuses_a_mistyped_value_as_the_run_would(elt, awkward_lake):
    """#21 item 1: with the listing built and current, the dry run knows the answer the run
    gives, and gives it (exit 2) without changing anything."""
    assert elt("--lake", awkward_lake, "run", "--genre", "Sci-Fi").exit_code == 0
    before = snapshot(awkward_lake)
    planned = elt("--lake", awkward_lake, "--dry-run", "run", "--genre", "Sci-fy")
    assert snapshot(awkward_lake) == before
    ran = elt("--lake", awkward_lake, "run", "--genre", "Sci-fy")
    assert (planned.exit_code, ran.exit_code) == (2, 2)
    assert (
        last_line(planned)
        == last_line(ran)
        == ("Error: no films with genre 'Sci-fy'. Did you mean 'Sci-Fi'?")
    )
    assert elt("--lake", awkward_lake, "--dry-run", "run", "--genre", "Comedy").exit_code == 0
    with (awkward_lake / "movielens/ratings/ratings-1.csv").open("a") as f:
        f.write("9,9,4.0,1\n")  # new data: the films are built again, the answer is not known
    assert elt("--lake", awkward_lake, "--dry-run", "run", "--genre", "Sci-fy").exit_code == 0


def test_a_query_in_flight_when_a_signal_came_is_interrupted_in_the_record():
    """#21 item 4: a signal may land between a query's start and its result being recorded;
    the record then ends it INTERRUPTED (never RUNNING), and no failure."""
    from elt_cli.report import Reporter
    from elt_cli.statements import Statement

    record = Reporter()
    record.step_started("build-subset", "movie_ratings")
    record.query_started(Statement("movie_ratings", "SELECT 1", "movie_ratings"))
    record.finish("interrupted", interrupted=True)
    document = record.document("run", 130, "interrupted")
    assert [q["state"] for q in document["queries"]] == ["INTERRUPTED"]
    assert document["steps"][0]["status"] == "interrupted"
    assert [(line.status, line.seconds is not None) for line in record.lines()] == [
        ("INTERRUPTED", True)
    ]
    assert record.closing_line("interrupted").startswith("Interrupted after ")
    assert record.closing_line("interrupted").endswith(": 1 query, 0 failed, 1 interrupted")


def test_at_a_terminal_an_error_wraps_between_words_keeping_a_command_whole(elt, awkward_lake):
    """#21 item 9: 81 characters, which the terminal would break inside `elt create-tables`."""
    assert elt("--lake", awkward_lake, "ensure-db").exit_code == 0
    message = "Error: build-subset failed: the raw tables are not there: run `elt create-tables`"
    piped = elt("--lake", awkward_lake, "build-subset", "--genre", "Sci-Fi")
    assert last_line(piped) == message  # one line in a pipe or a log
    code, text = elt_in_terminal(
        "--lake", awkward_lake, "build-subset", "--genre", "Sci-Fi", cwd=awkward_lake.parent
    )
    assert code == 1
    lines = text.rstrip("\n").splitlines()
    assert lines[-2:] == [
        "Error: build-subset failed: the raw tables are not there: run",
        "`elt create-tables`",
    ]


def test_the_live_view_cuts_no_outcome_short_at_80_columns(awkward_lake):
    """#21 item 9: a long list of genres takes two lines; `was missing: created` stays whole."""
    code, text = elt_in_terminal("--lake", awkward_lake, "run", *THREE, cwd=awkward_lake.parent)
    assert code == 0, text
    live = text.split("\nstep ", 1)[0]  # the frames of the live view, before the summary
    assert re.search(r"✓   ensure-db movielens_elt +\d\.\ds  was missing: created", live), live
    assert "…" not in live


def test_the_sample_data_summary_has_each_file_with_its_rows_and_time(elt, tmp_path):
    """#21 item 10: `for`, `time` and `rows` filled, a line per file."""
    result = elt("--lake", tmp_path / "lake", "--progress", "sample-data", "--ratings", "5000")
    assert result.exit_code == 0, result.output
    rows = [line.split() for line in summary_of(result) if line.startswith("sample-data")]
    assert [(r[1], r[2], r[4]) for r in rows] == [
        ("movies", "OK", "9,742"),
        ("ratings", "OK", "5,000"),
    ]
    assert all(re.fullmatch(r"\d+\.\ds", r[3]) for r in rows)


@pytest.mark.parametrize("listing", [["genres"], ["values", "genre"]])
def test_a_listing_draws_no_step_table(elt, awkward_lake, listing):
    """#21 item 10: `elt genres` (and `elt values genre`, the same listing: api.Elt.values)
    answers with its table of genres, not a table of steps; another command has its table."""
    result = elt("--lake", awkward_lake, "--progress", "run", "--genre", "Sci-Fi")
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("step ")
    result = elt("--lake", awkward_lake, "--progress", *listing)
    assert result.exit_code == 0, result.output
    assert "step " not in result.stderr and "genres " not in result.stderr
    # the genres the run's listing gave from the same movie_ratings: no query
    assert re.fullmatch(r"Done in \d+\.\d s: 0 queries, 0 failed\n", result.stderr)
    assert "Sci-Fi\t9\n" in result.stdout
