"""The athena engine against moto over HTTP: the calls Athena receives and what lands in S3."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest
from support import last_line
from support.data import AWKWARD_MOVIES, AWKWARD_RATINGS, csv_bytes, expected_subset, make_lake
from support.processes import replay_on_duckdb

HEADER = ["movie_id", "title", "year", "avg_rating", "num_ratings"]
GENRE_ROWS = [["genre", "films"], ["Comedy", "4"], ["Horror", "1"], ["Sci-Fi", "10"]]
EXPORT_PREFIX = "SELECT movie_id, title, year"
FINAL_KEY = "movielens/sci_fi/sci_fi-movies.csv"


def export_rows(tmp_path) -> list[list[str | None]]:
    """What Athena's SELECT gives for the awkward data (moto cannot run SQL: we tell it),
    computed independently of elt: the header, then values as text, None for NULL."""
    lake = make_lake(tmp_path / "expected", AWKWARD_MOVIES, AWKWARD_RATINGS)
    return [HEADER] + [
        [
            str(r["movie_id"]),
            r["title"],
            None if r["year"] is None else str(r["year"]),
            str(float(r["avg_rating"])),  # a DOUBLE, as Athena prints it
            str(r["num_ratings"]),
        ]
        for r in expected_subset(lake, "Sci-Fi")
    ]


@pytest.fixture
def athena_results(aws, tmp_path):
    aws.results = [("SELECT genre", GENRE_ROWS), (EXPORT_PREFIX, export_rows(tmp_path))]
    return aws


def one_line(sql: str) -> str:
    return re.sub(r" \)", ")", re.sub(r"\( ", "(", " ".join(sql.split())))


GUARD = (
    'CASE WHEN {nulls} OR NOT "elt_extra" IS NULL THEN CAST(CONCAT('
    "CAST('elt: malformed row in <' AS VARCHAR), CAST(\"$path\" AS VARCHAR), CAST('>' AS VARCHAR))"
    " AS INTEGER) = 0 ELSE TRUE END"
)


def guarded(table: str, columns: list[str]) -> str:
    nulls = " OR ".join(f'"{c}" IS NULL' for c in columns)
    names = ", ".join(f'"{c}"' for c in columns)
    return f"SELECT {names} FROM movielens_elt.{table} WHERE " + GUARD.format(nulls=nulls)


def test_run_sends_what_athena_needs_and_writes_the_csv(elt, s3_lake, athena_results, tmp_path):
    aws = athena_results
    result = elt("--lake", s3_lake, "run", "--genre", "Sci-Fi")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"s3://lake/{FINAL_KEY}\n"

    sent = aws.queries()
    queries = [one_line(q) for q in sent]  # elt prints the SQL it generates on lines
    version = queries[5].split("movie_ratings__", 1)[1].split()[0]
    assert queries[:3] == [
        "CREATE DATABASE IF NOT EXISTS movielens_elt",
        "DROP TABLE IF EXISTS movielens_elt.movies",
        "DROP TABLE IF EXISTS movielens_elt.ratings",
    ]
    # the job's DDL as written, with elt's column for extra fields and invalid data as NULL
    for ddl, table, last in (
        (sent[3], "movies", "genres STRING"),
        (sent[4], "ratings", "`timestamp` BIGINT"),
    ):
        assert ddl.startswith(f"CREATE EXTERNAL TABLE movielens_elt.{table} (\n")
        assert f"  {last},\n  elt_extra STRING\n)" in ddl
        assert "'escapeChar' = '\\u0000'" in ddl
        assert f"LOCATION 's3://lake/movielens/{table}/'" in ddl
        assert ddl.endswith(
            "TBLPROPERTIES ('skip.header.line.count' = '1', 'use.null.for.invalid.data' = 'true')"
        )
    movies = guarded("movies", ["movieId", "title", "genres"])
    ratings = guarded("ratings", ["userId", "movieId", "rating", "timestamp"])
    # the one query that reads the raw files: every rated film, published as movie_ratings
    assert sent[5].startswith(
        f"CREATE TABLE movielens_elt.movie_ratings__{version}\n"
        "WITH (format = 'PARQUET', write_compression = 'ZSTD', "
        f"external_location = 's3://lake/tables/movielens_elt/movie_ratings/{version}/')\nAS\n"
        "SELECT"
    )
    assert f"FROM ({movies}) AS m JOIN (SELECT movieId," in queries[5]
    assert (
        f"FROM ({ratings}) AS ratings GROUP BY movieId) AS r ON r.movieId = m.movieId"
        in (queries[5])
    )
    # its new version is checked (the job's [[checks]]: one query, every check) before the
    # view is pointed at it
    assert sent[6] == (
        'SELECT count(*), count_if("movie_id" IS NULL), count_if("avg_rating" IS NULL), '
        'count_if("num_ratings" IS NULL), count("movie_id") - count(DISTINCT "movie_id"), '
        f"count(*) FROM movielens_elt.movie_ratings__{version}"
    )
    assert sent[7] == (
        f"CREATE OR REPLACE VIEW movielens_elt.movie_ratings AS\n"
        f"SELECT * FROM movielens_elt.movie_ratings__{version}"
    )
    # the genre is checked against the built films, then its subset cut from them
    assert queries[8] == (
        "SELECT genre, COUNT(*) AS films FROM movielens_elt.movie_ratings AS movie_ratings "
        "CROSS JOIN UNNEST(SPLIT(genres, '|')) AS t(genre) GROUP BY genre ORDER BY genre"
    )
    assert sent[9].startswith(
        f"CREATE TABLE movielens_elt.sci_fi__{version}\n"
        "WITH (format = 'PARQUET', write_compression = 'ZSTD', "
        f"external_location = 's3://lake/tables/movielens_elt/sci_fi/{version}/')\nAS\nSELECT"
    )
    assert queries[9].endswith(
        "FROM movielens_elt.movie_ratings AS movie_ratings "
        "WHERE CONTAINS(SPLIT(LOWER(genres), '|'), LOWER('Sci-Fi'))"
    )
    # the check SQL reads the new version, not the view
    assert queries[10].startswith('SELECT count(*), count_if("movie_id" IS NULL)')
    assert queries[10].endswith(
        f"AS subset WHERE NOT avg_rating BETWEEN 0.5 AND 5 OR num_ratings < 1) AS failing) "
        f"FROM movielens_elt.sci_fi__{version}"
    )
    assert f"FROM movielens_elt.sci_fi__{version} AS subset WHERE" in queries[10]
    assert sent[11] == (
        f"CREATE OR REPLACE VIEW movielens_elt.sci_fi AS\n"
        f"SELECT * FROM movielens_elt.sci_fi__{version}"
    )
    # Athena sorts NULLs last whatever the direction, so sqlglot leaves out NULLS LAST
    assert queries[12:] == [
        "SELECT movie_id, title, year, avg_rating, num_ratings "
        "FROM movielens_elt.sci_fi AS subset ORDER BY year DESC, title, movie_id"
    ]
    for params in aws.sent("StartQueryExecution"):
        assert params["WorkGroup"] == "primary"
        assert params["ResultConfiguration"] == {"OutputLocation": "s3://lake/athena-results/"}
    # the export is the SELECT's result, in the one CSV form; it was moved, not copied
    assert aws.get(FINAL_KEY) == csv_bytes(export_rows(tmp_path))
    assert aws.keys("export/") == []
    assert aws.keys("movielens/movies/") == ["movielens/movies/movies.csv"]


def test_ensure_db_creates_only_when_missing(elt, aws):
    first = elt("--lake", "s3://lake", "ensure-db")
    assert first.exit_code == 0, first.output
    assert first.stdout == "database movielens_elt was missing: created\n"
    assert aws.queries() == ["CREATE DATABASE IF NOT EXISTS movielens_elt"]
    assert aws.sent("GetDatabase") == [
        {"CatalogName": "AwsDataCatalog", "DatabaseName": "movielens_elt"}
    ]
    second = elt("--lake", "s3://lake", "ensure-db")
    assert second.stdout == "database movielens_elt exists: left as it is\n"
    assert len(aws.queries()) == 1


def test_ensure_db_does_not_create_on_access_denied(elt, aws):
    aws.errors["GetDatabase"] = ("AccessDeniedException", "User is not authorized")
    result = elt("--lake", "s3://lake", "ensure-db")
    assert result.exit_code == 1
    assert last_line(result) == (
        "Error: cannot look up database movielens_elt: access denied (AccessDeniedException: "
        "User is not authorized); `elt iam-policy` prints the permissions elt needs"
    )
    assert aws.queries() == []


def test_a_query_that_goes_back_from_running_to_queued_is_checked_on(elt, aws):
    aws.states = {"CREATE DATABASE": ["QUEUED", "RUNNING", "QUEUED", "RUNNING"]}
    result = elt("--lake", "s3://lake", "ensure-db")
    assert result.exit_code == 0, result.output
    states = re.findall(r"create_database \[movielens_elt\] (\w+)", result.stderr)
    assert states == ["QUEUED", "RUNNING", "QUEUED", "RUNNING", "SUCCEEDED"]


@pytest.mark.slow
def test_genres_are_built_by_queries_started_together_and_checked_together(
    elt, s3_lake, athena_results
):
    aws = athena_results
    assert elt("--lake", s3_lake, "ensure-db").exit_code == 0
    assert elt("--lake", s3_lake, "create-tables").exit_code == 0
    aws.query_time(0.3)
    aws.calls.clear(), aws.times.clear()
    aws.results = [("SELECT genre", [["genre", "films"], ["Sci-Fi", "10"], ["Comedy", "4"]])]
    genres = ["Sci-Fi", "Comedy", "Horror"]
    aws.results[0][1].append(["Horror", "1"])
    result = elt("--lake", s3_lake, "build-subset", *[a for g in genres for a in ("--genre", g)])
    assert result.exit_code == 0, result.output

    def subset_ctas(op, p):
        return (
            op == "StartQueryExecution"
            and p["QueryString"].startswith("CREATE TABLE")
            and not p["QueryString"].startswith("CREATE TABLE movielens_elt.movie_ratings__")
        )

    ops = [(op, p) for op, p in aws.calls if op in ("StartQueryExecution", "QueryState")]
    starts = [i for i, (op, p) in enumerate(ops) if subset_ctas(op, p)]
    first_check = next(i for i, (op, _) in enumerate(ops) if op == "QueryState" and i > starts[0])
    assert len(starts) == 3 and starts[-1] < first_check  # all three started, then checked
    ctas = {p["QueryString"].split()[2] for op, p in ops if subset_ctas(op, p)}
    assert {t.split(".")[1].split("__")[0] for t in ctas} == {"sci_fi", "comedy", "horror"}
    # checked together: the three took about as long as one (0.6 s each), not three times
    (begin,) = [t for t, (op, p) in zip(aws.times, aws.calls, strict=True)
                if subset_ctas(op, p) and "sci_fi" in p["QueryString"]]  # fmt: skip
    ids = {
        e["QueryExecutionId"]
        for e in aws.executions()
        if e["Query"].startswith("CREATE TABLE movielens_elt.") and "__v" in e["Query"]
        and not e["Query"].startswith("CREATE TABLE movielens_elt.movie_ratings__")
    }  # fmt: skip
    end = max(t for t, (op, p) in zip(aws.times, aws.calls, strict=True)
              if op == "QueryState" and p["id"] in ids and p["state"] == "SUCCEEDED")  # fmt: skip
    assert end - begin < 1.5


def test_timeout_counts_running_time_only_and_stops_the_query(elt, aws):
    """On a busy account a query may sit QUEUED long before it runs: --timeout is the time it
    RUNS (here QUEUED 1.5 s, then RUNNING until it is stopped, 1 s later)."""
    aws.query_time(1.5)
    aws.rules.hold.add("CREATE DATABASE")
    started = time.monotonic()
    result = elt("--lake", "s3://lake", "--timeout", "1", "ensure-db")
    took = time.monotonic() - started
    assert result.exit_code == 1
    assert 2.5 <= took < 10  # not stopped while it was queued
    (execution,) = aws.executions()
    qid = execution["QueryExecutionId"]
    assert last_line(result) == (
        f"Error: create_database failed (query {qid}): timed out after 1s of running and was "
        "stopped (--timeout)"
    )
    assert aws.sent("StopQueryExecution") == [{"QueryExecutionId": qid}]
    assert execution["Status"]["State"] == "CANCELLED"


def test_a_query_that_never_leaves_athenas_queue_is_stopped_at_the_queue_timeout(elt, aws):
    aws.query_time(60)  # QUEUED for a minute
    started = time.monotonic()
    result = elt("--lake", "s3://lake", "--queue-timeout", "1", "--json", "ensure-db")
    assert time.monotonic() - started < 10
    assert result.exit_code == 1
    (execution,) = aws.executions()
    qid = execution["QueryExecutionId"]
    assert last_line(result) == (
        f"Error: create_database failed (query {qid}): waited more than 1s in Athena's queue and "
        "was stopped: the account's queries fill its capacity (--queue-timeout)"
    )
    assert execution["Status"]["State"] == "CANCELLED"
    (query,) = json.loads(result.stdout)["queries"]
    assert query["state"] == "CANCELLED" and 1 <= query["queued_seconds"] < 5


def test_throttling_bursts_are_survived(elt, aws):
    aws.query_time(0.1)
    aws.throttles = {"GetDatabase": 6, "StartQueryExecution": 6, "BatchGetQueryExecution": 6}
    result = elt("--lake", "s3://lake", "ensure-db")
    assert result.exit_code == 0, result.output
    assert len(aws.sent("GetDatabase")) == 7
    starts = aws.sent("StartQueryExecution")
    assert len(starts) == 7
    # every retry carried the same token, so Athena started the query once
    assert len({p["ClientRequestToken"] for p in starts}) == 1
    assert len(aws.executions()) == 1


@pytest.mark.parametrize(
    "code", ["ThrottlingException", "Throttling", "RequestLimitExceeded", "SlowDown"]
)
def test_every_kind_of_throttling_answer_is_retried(elt, s3_lake, aws, code):
    aws.throttle_code = code
    aws.throttles = {"GetDatabase": 3, "ListObjectsV2": 3}  # an Athena call, an S3 one
    result = elt("--lake", s3_lake, "ensure-db")
    assert result.exit_code == 0, result.output
    assert len(aws.sent("GetDatabase")) == 4
    assert result.stderr.count("throttled, retry") == 3  # ensure-db lists nothing in S3
    listing = elt("--lake", s3_lake, "create-tables")
    assert listing.exit_code == 0, listing.output


def test_the_throttling_wait_grows_with_full_jitter_up_to_a_cap():
    """The backoff itself, without sleeping: exponential (0.5 s doubling), full jitter (any
    wait from 0 to the bound), capped at 20 s."""
    import random
    from types import SimpleNamespace

    from elt_cli.aws import throttle_wait

    wait = throttle_wait()
    random.seed(3)
    for attempt, bound in (
        (1, 0.5),
        (2, 1.0),
        (3, 2.0),
        (5, 8.0),
        (6, 16.0),
        (7, 20.0),
        (12, 20.0),
    ):
        samples = [wait(SimpleNamespace(attempt_number=attempt)) for _ in range(400)]
        assert 0 <= min(samples) < 0.1 * bound and 0.9 * bound < max(samples) <= bound
        assert len(set(samples)) > 300  # jittered: concurrent runs do not retry in step


def test_throttling_that_never_ends_is_an_error(elt, aws):
    aws.throttles = {"GetDatabase": 100}
    result = elt("--lake", "s3://lake", "ensure-db")
    assert result.exit_code == 1
    assert last_line(result).endswith("TooManyRequestsException: Rate exceeded")
    assert len(aws.sent("GetDatabase")) == 10
    assert aws.queries() == []


def test_failed_query_stops_the_run_with_its_reason(elt, s3_lake, athena_results):
    aws = athena_results
    aws.failures["CREATE TABLE movielens_elt.sci_fi__"] = "HIVE_BAD_DATA: Error parsing field"
    result = elt("--lake", s3_lake, "run", "--genre", "Sci-Fi")
    assert result.exit_code == 1
    failed = [
        e for e in aws.executions() if e["Query"].startswith("CREATE TABLE movielens_elt.sci_fi__")
    ]
    assert last_line(result) == (
        f"Error: subset failed (query {failed[0]['QueryExecutionId']}): "
        "FAILED: HIVE_BAD_DATA: Error parsing field"
    )
    assert not [
        q
        for q in map(one_line, aws.queries())
        if q.startswith(("CREATE OR REPLACE VIEW movielens_elt.sci_fi ", EXPORT_PREFIX))
    ]
    assert aws.keys("movielens/sci_fi/") == []


def test_clean_up_touches_only_owned_prefixes(elt, s3_lake, athena_results):
    aws = athena_results
    keep = [
        "movielens/movies/movies.csv",
        "tables/other_db/sci_fi/v1/data",
        "tables/movielens_elt/sci_fi.txt",
        "exports/sci_fi/x.csv",
        "movielens/sci_fi/notes.txt",
        "athena-results/old.csv",
    ]
    for key in keep[1:]:
        aws.put(key, b"keep me")
    # a version a killed run left without a table, and an old version with its table
    aws.put("tables/movielens_elt/sci_fi/v20200101t000000aaaaaa/part-0", b"old version")
    aws.put("tables/movielens_elt/sci_fi/v20190101t000000bbbbbb/part-0", b"older version")
    aws.glue_table(
        "sci_fi__v20190101t000000bbbbbb",
        "s3://lake/tables/movielens_elt/sci_fi/v20190101t000000bbbbbb",
    )
    aws.put("export/sci_fi/stale-part-1.gz", b"old export")
    result = elt("--lake", s3_lake, "run", "--genre", "Sci-Fi")
    assert result.exit_code == 0, result.output
    for key in keep:
        assert key in aws.keys(), key
    (version,) = {k.split("/")[3] for k in aws.keys("tables/movielens_elt/sci_fi/")}
    assert version not in ("v20200101t000000aaaaaa", "v20190101t000000bbbbbb")
    assert "DROP TABLE IF EXISTS movielens_elt.sci_fi__v20190101t000000bbbbbb" in aws.queries()
    assert aws.glue_tables() == [
        "movie_ratings",
        f"movie_ratings__{version}",
        "movies",
        "ratings",
        "sci_fi",
        f"sci_fi__{version}",
    ]
    assert aws.keys("export/") == []


def test_move_keeps_the_old_file_when_the_copy_fails(elt, s3_lake, athena_results):
    aws = athena_results
    aws.put(FINAL_KEY, b"the previous good file\n")
    assert elt("--lake", s3_lake, "run", "--genre", "Sci-Fi").exit_code == 0
    good = aws.get(FINAL_KEY)
    assert elt("--lake", s3_lake, "export", "--genre", "Sci-Fi").exit_code == 0
    aws.errors["CopyObject"] = ("InternalError", "We encountered an internal error")
    result = elt("--lake", s3_lake, "move", "--genre", "Sci-Fi")
    assert result.exit_code == 1
    assert "InternalError" in last_line(result)
    assert aws.get(FINAL_KEY) == good
    assert aws.keys("export/sci_fi/") == ["export/sci_fi/sci_fi.csv"]


@pytest.mark.slow
def test_move_checks_the_copy_is_whole_before_it_deletes_the_export(elt, s3_lake, athena_results):
    aws = athena_results
    assert elt("--lake", s3_lake, "run", "--genre", "Sci-Fi").exit_code == 0
    assert elt("--lake", s3_lake, "export", "--genre", "Sci-Fi").exit_code == 0
    export = aws.get("export/sci_fi/sci_fi.csv")
    aws.short_copies = True
    result = elt("--lake", s3_lake, "move", "--genre", "Sci-Fi")
    assert result.exit_code == 1
    assert last_line(result) == (
        f"Error: copy of s3://lake/export/sci_fi/sci_fi.csv to s3://lake/{FINAL_KEY} is "
        "incomplete; the source was kept"
    )
    assert aws.get("export/sci_fi/sci_fi.csv") == export  # nothing lost: move can run again
    aws.short_copies = False
    assert elt("--lake", s3_lake, "move", "--genre", "Sci-Fi").exit_code == 0
    assert aws.get(FINAL_KEY) == export and aws.keys("export/") == []


@pytest.mark.parametrize("how", ["flag", "env"])
def test_results_go_where_results_says(elt, s3_lake, athena_results, how):
    aws = athena_results
    aws.s3.create_bucket(Bucket="results")
    where = "s3://results/elt/"
    args = ["--results", where] if how == "flag" else []
    env = {"ELT_RESULTS": where} if how == "env" else {}
    result = elt("--lake", s3_lake, *args, "run", "--genre", "Sci-Fi", env=env)
    assert result.exit_code == 0, result.output
    sent = {p["ResultConfiguration"]["OutputLocation"] for p in aws.sent("StartQueryExecution")}
    assert sent == {where}
    assert aws.keys("athena-results/") == []
    ids = aws.athena.list_query_executions()["QueryExecutionIds"]
    written = {
        aws.athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"][
            "ResultConfiguration"
        ]["OutputLocation"].rsplit("/", 1)[0]
        for qid in ids
    }
    assert written == {"s3://results/elt", "s3://results/elt/tables"}  # tables: CTAS manifests
    assert aws.get(FINAL_KEY) == csv_bytes(aws.results[1][1])  # the export was read from there
    # and each result file was deleted once read
    assert "Contents" not in aws.s3.list_objects_v2(Bucket="results", Prefix="elt/")


@pytest.mark.slow
def test_an_unchanged_rerun_on_athena_skips_the_build_and_its_scan(elt, s3_lake, athena_results):
    aws = athena_results
    aws.results = [aws.results[0], *aws.results]  # the genre check before the second run
    assert elt("--lake", s3_lake, "run", "--genre", "Sci-Fi").exit_code == 0
    first = aws.get(FINAL_KEY)
    aws.calls.clear()
    result = elt("--lake", s3_lake, "run", "--genre", "Sci-Fi")
    assert result.exit_code == 0, result.output
    for built in ("movie_ratings", "Sci-Fi"):
        assert (
            f"build-subset: {built} skipped, SQL and inputs unchanged since its build"
        ) in result.stderr
    assert not [q for q in aws.queries() if q.startswith("CREATE TABLE")]
    assert aws.get(FINAL_KEY) == first


def test_ensure_db_on_a_network_error_exits_1(elt, aws, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    result = elt("--lake", "s3://lake", "ensure-db")
    assert result.exit_code == 1
    assert last_line(result).startswith(
        "Error: cannot read the settings of Athena workgroup primary: cannot reach "
        "http://127.0.0.1:9/"
    )


def test_sample_data_uploads_to_an_s3_lake(elt, aws):
    result = elt("--lake", "s3://lake", "sample-data", "--movies", "200", "--ratings", "500")
    assert result.exit_code == 0, result.output
    assert aws.keys("movielens/") == [
        "movielens/movies/movies.csv",
        "movielens/ratings/ratings.csv",
    ]
    assert aws.get("movielens/ratings/ratings.csv").count(b"\n") == 501


def test_each_query_reports_id_data_scanned_and_cost(elt, s3_lake, athena_results):
    aws = athena_results
    aws.stats = {
        "CREATE TABLE movielens_elt.sci_fi__": (2_500_000_000, "DML"),
        "SELECT genre": (1_000, "DML"),
    }
    result = elt("--lake", s3_lake, "run", "--genre", "Sci-Fi")
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    build = next(line for line in lines if "subset [Sci-Fi] SUCCEEDED" in line)
    assert build.endswith("2.5 GB scanned, est. $0.012500")  # $5 per TB
    genres = next(line for line in lines if "list_genres SUCCEEDED" in line)
    assert genres.endswith("1.0 KB scanned, est. $0.000050")  # billed as 10 MB
    ddl = next(line for line in lines if "create_movies_table [movies] SUCCEEDED" in line)
    assert ddl.endswith("0 B scanned, est. $0.000000")
    assert re.fullmatch(
        r"\S+ Done in [0-9.]+ s: 1 file written \(10 rows\), 13 queries, 0 failed, "
        r"11 checks passed, 2\.5 GB scanned, est\. \$0\.0127",  # each audit billed as 10 MB
        lines[-1],
    )


def test_cancelled_queries_are_billed_and_failed_ones_are_not(elt, s3_lake, athena_results):
    """Athena's pricing: a cancelled query is billed for the data it scanned; DDL and failed
    queries are free."""
    aws = athena_results
    aws.stats = {"CREATE TABLE movielens_elt.sci_fi__": (300_000_000, "DML")}
    aws.rules.hold.add("CREATE TABLE movielens_elt.sci_fi__")
    result = elt("--lake", s3_lake, "--timeout", "1", "run", "--genre", "Sci-Fi")
    assert result.exit_code == 1
    build = next(line for line in result.stderr.splitlines() if "subset [Sci-Fi] CANC" in line)
    assert build.endswith("300.0 MB scanned, est. $0.001500")
    assert re.search(
        r"Failed after [0-9.]+ s: 11 queries, 1 failed, 5 checks passed, 300\.0 MB scanned, "
        r"est\. \$0\.001[567]",
        result.stderr,
    )

    aws.rules.hold.clear()
    aws.failures["CREATE TABLE movielens_elt.sci_fi__"] = "HIVE_BAD_DATA: Error parsing field"
    result = elt("--lake", s3_lake, "run", "--genre", "Sci-Fi")
    assert result.exit_code == 1
    build = next(line for line in result.stderr.splitlines() if "subset [Sci-Fi] FAIL" in line)
    assert build.endswith("300.0 MB scanned, est. $0.000000")


@pytest.mark.parametrize(
    ("signum", "code", "word"),
    [(signal.SIGTERM, 143, "terminated"), (signal.SIGINT, 130, "interrupted")],
)
@pytest.mark.slow
def test_signal_stops_every_running_query(aws, tmp_path, signum, code, word):
    aws.query_time(60)
    process = subprocess.Popen(
        [sys.executable, "-m", "elt_cli", "--lake", "s3://lake", "ensure-db"],
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 20
    while not aws.athena.list_query_executions()["QueryExecutionIds"]:
        assert time.monotonic() < deadline and process.poll() is None, process.stderr.read()
        time.sleep(0.05)
    time.sleep(0.5)  # it is polling now
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == code, stderr
    assert stderr.strip().splitlines()[-1] == f"Error: {word}"
    assert [e["Status"]["State"] for e in aws.executions()] == ["CANCELLED"]
    assert aws.keys("_elt/") == []  # the lake's lock was released on the way out


def test_workgroup_region_and_profile(elt, aws, monkeypatch, tmp_path):
    west = __import__("boto3").client("athena", endpoint_url=aws.url, region_name="eu-west-1")
    west.create_work_group(
        Name="etl",
        Configuration={
            "ResultConfiguration": {"OutputLocation": "s3://lake/wg-results/"},
            "EnforceWorkGroupConfiguration": True,
        },
    )
    result = elt("--lake", "s3://lake", "--workgroup", "etl", "--region", "eu-west-1", "ensure-db")
    assert result.exit_code == 0, result.output
    assert aws.sent("StartQueryExecution")[0]["WorkGroup"] == "etl"
    (qid,) = west.list_query_executions(WorkGroup="etl")["QueryExecutionIds"]
    assert aws.athena.list_query_executions()["QueryExecutionIds"] == []  # not us-east-1
    # the workgroup enforces its result location: the results went there, not to --results
    execution = west.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
    assert execution["ResultConfiguration"]["OutputLocation"] == f"s3://lake/wg-results/{qid}.csv"
    assert aws.keys("wg-results/") == []  # deleted once read, there too
    assert aws.keys("athena-results/") == []

    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    result = elt("--lake", "s3://lake", "--profile", "nobody", "ensure-db")
    assert result.exit_code == 2
    assert last_line(result) == (
        "Error: AWS profile 'nobody' not found: check --profile or AWS_PROFILE (`aws configure "
        "list-profiles` lists them)"
    )


@pytest.mark.parametrize(
    ("setup", "code", "message"),
    [
        (
            {"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None},
            2,
            "Error: cannot read the settings of Athena workgroup primary: no AWS credentials "
            "found: set AWS_PROFILE (or --profile) to a configured profile, run `aws "
            "configure`, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
        ),
        (
            {"AWS_ENDPOINT_URL": "http://127.0.0.1:9"},
            1,
            "Error: cannot read the settings of Athena workgroup primary: cannot reach "
            "http://127.0.0.1:9/: check the network connection, --region and AWS_ENDPOINT_URL",
        ),
        (
            {"AWS_DEFAULT_REGION": None},
            2,
            "Error: no AWS region set: give --region, set AWS_REGION, or run `aws configure set "
            "region <region>`",
        ),
    ],
    ids=["no-credentials", "unreachable", "no-region"],
)
def test_aws_set_up_problems_are_one_line_saying_what_to_do(
    elt, s3_lake, aws, monkeypatch, tmp_path, setup, code, message
):
    for name in ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.setenv(name, str(tmp_path / "none"))  # no profile to fall back on
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name, value in setup.items():
        if value is None:
            monkeypatch.delenv(name)
        else:
            monkeypatch.setenv(name, value)
    before = aws.keys()
    result = elt("--lake", s3_lake, "run", "--genre", "Sci-Fi")
    assert (result.exit_code, last_line(result)) == (code, message)
    assert "Traceback" not in result.output
    assert aws.keys() == before and aws.queries() == []


def test_the_sql_athena_is_sent_computes_the_contract(elt, s3_lake, athena_results, tmp_path):
    """moto runs no SQL, so the statements Athena received are run here, verbatim, on DuckDB
    over the same data: they must give the output contract (independent oracle), in order."""
    assert elt("--lake", s3_lake, "run", "--genre", "Sci-Fi").exit_code == 0
    sent = athena_results.queries()
    built = [q for q in sent if q.startswith(("CREATE TABLE", "CREATE OR REPLACE VIEW"))]
    assert len(built) == 4  # movie_ratings and sci_fi: each a CTAS and its publish
    local = make_lake(tmp_path / "local", AWKWARD_MOVIES, AWKWARD_RATINGS)
    for step in ("ensure-db", "create-tables"):
        assert elt("--lake", local, step).exit_code == 0
    rows = replay_on_duckdb([*built, sent[-1]], local, "movielens_elt", tmp_path / "built")
    expected = [
        (r["movie_id"], r["title"], r["year"], float(r["avg_rating"]), r["num_ratings"])
        for r in expected_subset(local, "Sci-Fi")
    ]
    assert rows == expected


@pytest.mark.slow
def test_a_run_with_four_genres_reads_the_raw_files_in_one_query(elt, s3_lake, aws):
    """The raw CSVs are scanned once per run however many genres: movie_ratings reads them,
    and the genre check and every subset read movie_ratings."""
    genres = ["Sci-Fi", "Comedy", "Drama", "War"]
    aws.results = [
        ("SELECT genre", [["genre", "films"], *[[g, "1"] for g in genres]]),
        (EXPORT_PREFIX, [["movie_id", "title", "year", "avg_rating", "num_ratings"]]),
    ]
    result = elt("--lake", s3_lake, "run", *[a for g in genres for a in ("--genre", g)])
    assert result.exit_code == 0, result.output
    reads_raw = [
        q for q in aws.queries() if re.search(r"\bFROM movielens_elt\.(movies|ratings)\b", q)
    ]
    assert len(reads_raw) == 1 and reads_raw[0].startswith(
        "CREATE TABLE movielens_elt.movie_ratings__"
    )
    subsets = [
        q
        for q in aws.queries()
        if q.startswith("CREATE TABLE") and "FROM movielens_elt.movie_ratings AS" in q
    ]
    assert len(subsets) == 4


def test_a_run_lists_each_raw_prefix_at_most_twice(elt, s3_lake, athena_results):
    """Once to see that there is raw data before anything changes, once for the digest of the
    raw files the build reads: a listing is a paid request, and a raw prefix may hold
    thousands of files."""
    aws = athena_results
    result = elt("--lake", s3_lake, "run", "--genre", "Sci-Fi")
    assert result.exit_code == 0, result.output
    for raw in ("movielens/movies/", "movielens/ratings/"):
        listings = [p for p in aws.sent("ListObjectsV2") if p.get("Prefix") == raw]
        assert 1 <= len(listings) <= 2, (raw, len(listings))


def test_the_result_location_elt_sends_carries_the_workgroups_encryption(elt, aws):
    """A workgroup that does not enforce its settings: elt's ResultConfiguration replaces the
    workgroup's, so it carries the workgroup's SSE-KMS key and ACL (a bucket policy demanding
    them would otherwise deny Athena's writes)."""
    writes = {
        "EncryptionConfiguration": {
            "EncryptionOption": "SSE_KMS",
            "KmsKey": "arn:aws:kms:us-east-1:123456789012:key/results",
        },
        "AclConfiguration": {"S3AclOption": "BUCKET_OWNER_FULL_CONTROL"},
    }
    aws.athena.create_work_group(
        Name="kms",
        Configuration={
            "ResultConfiguration": {"OutputLocation": "s3://lake/wg-results/", **writes},
            "EnforceWorkGroupConfiguration": False,
        },
    )
    result = elt("--lake", "s3://lake", "--workgroup", "kms", "ensure-db")
    assert result.exit_code == 0, result.output
    (sent,) = {json.dumps(p["ResultConfiguration"], sort_keys=True)
               for p in aws.sent("StartQueryExecution")}  # fmt: skip
    assert json.loads(sent) == {"OutputLocation": "s3://lake/athena-results/", **writes}


def test_a_dry_run_refuses_a_mistyped_genre_from_the_last_listing_with_no_query(
    elt, s3_lake, athena_results
):
    """#21 item 1 on Athena: the answer comes from what the run listed, not from a query."""
    aws = athena_results
    assert elt("--lake", s3_lake, "run", "--genre", "Sci-Fi").exit_code == 0
    sent = len(aws.queries())
    result = elt("--lake", s3_lake, "--dry-run", "run", "--genre", "Sci-fy")
    assert result.exit_code == 2
    assert last_line(result) == "Error: no films with genre 'Sci-fy'. Did you mean 'Sci-Fi'?"
    assert len(aws.queries()) == sent


@pytest.mark.slow
def test_ctrl_c_shows_the_stopped_query_interrupted_and_says_how_to_resume(aws, s3_lake, tmp_path):
    """#21 item 4: the query Athena was running when Ctrl-C came is INTERRUPTED in the
    summary and --json (never RUNNING, never a failure), and the error says what to do."""
    aws.query_time(60)
    process = subprocess.Popen(
        [sys.executable, "-m", "elt_cli", "--lake", s3_lake, "--progress", "--json", "run",
         "--genre", "Sci-Fi"],
        env={**os.environ, "COLUMNS": "80"}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while not aws.athena.list_query_executions()["QueryExecutionIds"]:
        assert time.monotonic() < deadline and process.poll() is None, process.stderr.read()
        time.sleep(0.05)
    time.sleep(0.5)  # it is polling now
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stderr
    lines = [line for line in stderr.splitlines() if line]
    assert lines[-1] == (
        "Error: interrupted; run it again with --resume to pick up where it stopped"
    )
    (row,) = [line.split() for line in lines if line.startswith("ensure-db")]
    assert row[:3] == ["ensure-db", "movielens_elt", "INTERRUPTED"]
    at = next(i for i, line in enumerate(lines) if line.startswith("Interrupted"))
    closing = " ".join(" ".join(lines[at:-1]).split())  # folded at 80 columns
    assert re.fullmatch(
        r"Interrupted after [0-9.]+ s: 1 query, 0 failed, 1 interrupted, 0 B scanned, "
        r"est\. \$0\.0000",
        closing,
    ), stderr
    document = json.loads(stdout)
    assert document["status"] == "interrupted"
    assert [(s["step"], s["status"]) for s in document["steps"]] == [("ensure-db", "interrupted")]
    assert [q["state"] for q in document["queries"]] == ["INTERRUPTED"]
    assert document["total"]["failed"] == 0


def test_the_summary_names_what_each_athena_query_did_with_its_scan_and_cost(
    elt, s3_lake, athena_results
):
    """#21 item 5: per query, at 80 columns: what it did (a raw table's drop, then its
    create), its id, the data it scanned and its cost, as the README promises."""
    aws = athena_results
    aws.stats = {"CREATE TABLE movielens_elt.sci_fi__": (2_500_000_000, "DML")}
    result = elt("--lake", s3_lake, "--progress", "run", "--genre", "Sci-Fi")
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert all(len(line) <= 80 for line in lines)
    ids = {e["QueryExecutionId"][:8]: e["Query"] for e in aws.executions()}
    rows = [line.split() for line in lines if line.startswith("create-tables")]
    assert [(r[1], r[4]) for r in rows] == [
        ("movies", "drop"), ("ratings", "drop"), ("movies", "create"), ("ratings", "create"),
    ]  # fmt: skip
    for r in rows:
        assert ids[r[5]].startswith("DROP TABLE" if r[4] == "drop" else "CREATE EXTERNAL TABLE")
        assert r[6:] == ["0", "B", "$0.0000"]  # DDL: free
    (build,) = [i for i, line in enumerate(lines) if " subset " in line]
    folded = " ".join(" ".join(lines[build : build + 2]).split())
    assert re.search(r"build-subset Sci-Fi OK \d\.\ds subset \w{8} 2\.5 GB \$0\.0125", folded)
