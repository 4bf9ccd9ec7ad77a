"""Athena as AWS documents it, not as moto lets it pass: enforced workgroups, stopping before
cleaning up, resuming safely, malformed raw rows, one CSV form, encrypted and managed results,
the original workflow's table, the kept previous version, botocore's floor. moto is made strict
by moto_athena.AthenaRules (see there); each test fails without the fix it is named after."""

from __future__ import annotations

import json
import os
import signal
import threading
import time

import duckdb
import pytest
from support import last_line
from support.data import AWKWARD_MOVIES, AWKWARD_RATINGS, csv_bytes, expected_subset, make_lake
from support.processes import elt_process, kill_at, start_elt

HEADER = ["movie_id", "title", "year", "avg_rating", "num_ratings"]
FINAL_KEY = "movielens/sci_fi/sci_fi-movies.csv"
CTAS = "CREATE TABLE movielens_elt.sci_fi__"
RAW_CTAS = "CREATE TABLE movielens_elt.movie_ratings__"  # the one query reading the raw files
DROP_STAGING = "DROP TABLE IF EXISTS movielens_elt.sci_fi__"
EXPORT = "SELECT movie_id, title, year"
GENRES = ("SELECT genre", [["genre", "films"], ["Sci-Fi", "10"]])


def rows_of(lake, genre="Sci-Fi") -> list[list[str | None]]:
    """The export's rows as Athena's result holds them: text, None for NULL."""
    return [HEADER] + [
        [str(r["movie_id"]), r["title"], None if r["year"] is None else str(r["year"]),
         str(float(r["avg_rating"])), str(r["num_ratings"])]  # avg_rating: a DOUBLE
        for r in expected_subset(lake, genre)
    ]  # fmt: skip


@pytest.fixture
def expected(tmp_path):
    return rows_of(make_lake(tmp_path / "expected", AWKWARD_MOVIES, AWKWARD_RATINGS))


@pytest.fixture
def results(aws, expected):
    aws.results = [GENRES, (EXPORT, expected)]
    return aws


def view_target(aws, view="sci_fi") -> str:
    """The table a view reads, from the Presto view Athena keeps in Glue."""
    import base64

    text = aws.glue.get_table(DatabaseName="movielens_elt", Name=view)["Table"]["ViewOriginalText"]
    document = json.loads(base64.b64decode(text.removeprefix("/* Presto View: ")[:-3]))
    return document["originalSql"].rsplit(".", 1)[1]


def new_ratings(aws, n: int) -> None:
    """Change the raw data, so the next run builds again."""
    aws.put(
        "movielens/ratings/more.csv", f"userId,movieId,rating,timestamp\n{n},9,4.0,1\n".encode()
    )


# -- 2. workgroups that enforce their configuration --------------------------------------------


@pytest.mark.slow
def test_enforcing_workgroup_gets_no_external_location_and_clean_up_goes_through_glue(
    elt, s3_lake, results
):
    aws = results
    aws.enforcing_workgroup()
    tables = []
    for n in range(3):
        new_ratings(aws, n)
        result = elt("--lake", s3_lake, "--workgroup", "etl", "run", "--genre", "Sci-Fi")
        assert result.exit_code == 0, result.output
        tables.append((view_target(aws, "movie_ratings"), view_target(aws)))
    ctas = [q for q in aws.queries() if q.startswith(("CREATE TABLE", RAW_CTAS))]
    assert len(ctas) == 6 and not [q for q in ctas if "external_location" in q]
    # results and table data went where the workgroup says, nothing to --results
    assert aws.keys("athena-results/") == [] and aws.keys("tables/") == []
    data = {k.split("/")[2] for k in aws.keys("wg-results/tables/")}
    ids = {e["QueryExecutionId"]: e["Query"] for e in aws.executions()}
    # the first versions' data was found through Glue and deleted; the previous ones are kept
    kept = [t for pair in tables[1:] for t in pair]
    assert sorted(ids[q].split()[2].split(".")[1] for q in data) == sorted(kept)
    assert aws.glue_tables() == sorted(["movies", "ratings", "movie_ratings", "sci_fi", *kept])
    assert aws.get(FINAL_KEY) == csv_bytes(aws.results[1][1])


def test_without_the_rule_moto_would_have_passed_the_external_location(elt, s3_lake, results):
    """AthenaRules fails a CTAS naming an external_location in an enforcing workgroup, as AWS
    documents: the test above is meaningful only because this holds."""
    aws = results
    aws.enforcing_workgroup()
    qid = aws.athena.start_query_execution(
        QueryString="CREATE TABLE movielens_elt.t WITH (format = 'PARQUET', "
        "external_location = 's3://lake/x/') AS SELECT 1 AS a",
        WorkGroup="etl",
    )["QueryExecutionId"]
    status = aws.athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]
    assert status["State"] == "FAILED"
    assert "Please remove the 'external_location' property" in status["StateChangeReason"]


# -- 3. stop before you clean up; never trip over a cancelled CTAS; resume safely --------------


def test_sigterm_during_a_ctas_stops_it_and_sees_it_final_before_any_clean_up(
    elt, s3_lake, results
):
    aws = results
    aws.rules.hold.add(CTAS)

    def terminate_when_the_ctas_runs():
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            states = [p for op, p in aws.calls if op == "QueryState" and p["state"] == "RUNNING"]
            if any(aws.query_of(p["id"]).startswith(CTAS) for p in states[-2:]):
                break
            time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=terminate_when_the_ctas_runs, daemon=True).start()
    result = elt("--lake", s3_lake, "run", "--genre", "Sci-Fi")
    assert result.exit_code == 143, result.output
    assert last_line(result) == (
        "Error: terminated; run it again with --resume to pick up where it stopped"
    )
    (ctas_id,) = [e["QueryExecutionId"] for e in aws.executions() if e["Query"].startswith(CTAS)]
    order = [
        (op, p)
        for op, p in aws.calls
        if (op == "StopQueryExecution" and p["QueryExecutionId"] == ctas_id)
        or (op == "QueryState" and p["id"] == ctas_id and p["state"] == "CANCELLED")
        or (op == "StartQueryExecution" and p["QueryString"].startswith(DROP_STAGING))
        or (op == "DeleteObjects" and "/sci_fi/" in str(p["Delete"]))
    ]
    assert [op for op, _ in order][:2] == ["StopQueryExecution", "QueryState"]
    assert {op for op, _ in order[2:]} == {"StartQueryExecution", "DeleteObjects"}
    # the staging data it left (AthenaRules writes a CTAS's files as it starts) is gone
    assert aws.keys("tables/movielens_elt/sci_fi/") == []
    assert all(
        e["Status"]["State"] == "CANCELLED" for e in aws.executions() if e["Query"].startswith(CTAS)
    )


@pytest.mark.parametrize("journal_lost", [False, True], ids=["query-recorded", "query-unrecorded"])
@pytest.mark.slow
def test_a_cancelled_ctas_leaves_files_that_never_fail_the_next_run(
    aws, s3_lake, tmp_path, journal_lost
):
    """kill -9 while a CTAS runs; the CTAS is then cancelled (by the user, or a timeout) and
    its partial files stay. Neither a resumed nor a plain run meets HIVE_PATH_ALREADY_EXISTS,
    even when the kill came before the run's record named the query (then only the files in
    its location tell that the version cannot be resumed)."""
    aws.results = [GENRES, (EXPORT, [HEADER])]
    aws.rules.hold.add(RAW_CTAS)
    process = start_elt("--lake", s3_lake, "run", "--genre", "Sci-Fi")
    assert kill_at(process, "movie_ratings RUNNING")
    (ctas,) = [e for e in aws.executions() if e["Query"].startswith(RAW_CTAS)]
    aws.athena.stop_query_execution(QueryExecutionId=ctas["QueryExecutionId"])
    leftovers = aws.keys("tables/movielens_elt/movie_ratings/")
    assert leftovers  # the cancelled CTAS's partial files
    if journal_lost:
        record = json.loads(aws.get("_elt/movielens_elt/run.json"))
        assert record["queries"] and record["version"] in ctas["Query"]
        record["queries"] = {}
        aws.put("_elt/movielens_elt/run.json", json.dumps(record).encode())
    aws.rules.hold.clear()
    for args in (["--resume"], []):
        result = elt_process("--lake", s3_lake, "run", "--genre", "Sci-Fi", *args, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert "HIVE_PATH_ALREADY_EXISTS" not in result.stderr
    assert not set(leftovers) & set(aws.keys("tables/"))  # cleaned up by the plain run


@pytest.mark.slow
def test_resume_reattaches_to_the_raw_scan_the_killed_run_left_running(elt, s3_lake, results):
    """kill -9 while the one query that reads the raw files runs: --resume waits for that
    query instead of paying for the scan again, and builds the rest in its version."""
    aws = results
    aws.rules.hold.add(RAW_CTAS)
    process = start_elt("--lake", s3_lake, "run", "--genre", "Sci-Fi")
    assert kill_at(process, "movie_ratings RUNNING")
    aws.rules.hold.clear()  # it finishes after the kill
    result = elt("--lake", s3_lake, "run", "--genre", "Sci-Fi", "--resume")
    assert result.exit_code == 0, result.output
    (ctas,) = [e for e in aws.executions() if e["Query"].startswith(RAW_CTAS)]
    assert f"re-attached to query {ctas['QueryExecutionId']} (movie_ratings)" in result.stderr
    version = ctas["Query"].split()[2].split("__")[1]
    assert view_target(aws, "movie_ratings") == f"movie_ratings__{version}"
    assert view_target(aws) == f"sci_fi__{version}"
    assert aws.get(FINAL_KEY) == csv_bytes(aws.results[1][1])


def kill_after_the_build(s3_lake) -> None:
    process = start_elt("--lake", s3_lake, "run", "--genre", "Sci-Fi")
    assert kill_at(process, "subset [Sci-Fi] SUCCEEDED")


@pytest.mark.slow
def test_resume_does_not_reattach_to_a_ctas_whose_table_was_dropped(elt, s3_lake, results):
    aws = results
    aws.results = [GENRES, GENRES, *aws.results]
    kill_after_the_build(s3_lake)
    (killed,) = [t for t in aws.glue_tables() if t.startswith("sci_fi__")]
    aws.glue.delete_table(DatabaseName="movielens_elt", Name=killed)  # a sibling failed, say
    result = elt("--lake", s3_lake, "run", "--genre", "Sci-Fi", "--resume")
    assert result.exit_code == 0, result.output
    assert len([e for e in aws.executions() if e["Query"].startswith(CTAS)]) == 2  # built again
    assert view_target(aws) in aws.glue_tables() and view_target(aws) != killed


@pytest.mark.slow
def test_resume_does_not_reattach_to_a_build_of_older_raw_files(elt, s3_lake, results):
    aws = results
    aws.results = [GENRES, GENRES, *aws.results]
    kill_after_the_build(s3_lake)
    new_ratings(aws, 1)
    result = elt("--lake", s3_lake, "run", "--genre", "Sci-Fi", "--resume")
    assert result.exit_code == 0, result.output
    attached = " ".join(line for line in result.stderr.splitlines() if "re-attached" in line)
    assert "(movie_ratings)" not in attached and "(subset)" not in attached
    for prefix in (RAW_CTAS, CTAS):  # both models built again, from the new raw files
        ctas = [e["Query"] for e in aws.executions() if e["Query"].startswith(prefix)]
        assert len(ctas) == 2 and ctas[0] != ctas[1]


# -- 4. malformed raw rows ---------------------------------------------------------------------

BAD = "s3://lake/movielens/ratings/bad.csv"
MALFORMED = f"INVALID_CAST_ARGUMENT: Cannot cast 'elt: malformed row in <{BAD}>' to INT"
COUNT_RATINGS = 'SELECT "$path" AS file, COUNT(*) AS malformed, ARBITRARY('
COUNT_MOVIES = COUNT_RATINGS
HEAD = ["file", "malformed", "example"]
WHY = "column rating is missing, empty or not a DOUBLE"


def test_malformed_rows_on_athena_fail_naming_the_file_and_the_count(elt, s3_lake, results):
    aws = results
    aws.failures[RAW_CTAS] = MALFORMED  # what the guard makes Athena answer (moto runs no SQL)
    aws.results += [
        (COUNT_MOVIES + ' CASE WHEN "movieId"', [HEAD]),
        (
            COUNT_RATINGS + ' CASE WHEN "userId"',
            [HEAD, [BAD, "2", WHY], [BAD + ".2", "1", "a field more than the table has"]],
        ),
    ]
    result = elt("--lake", s3_lake, "run", "--genre", "Sci-Fi")
    assert result.exit_code == 1
    (ctas,) = [e for e in aws.executions() if e["Query"].startswith(RAW_CTAS)]
    assert last_line(result) == (
        f"Error: movie_ratings failed (query {ctas['QueryExecutionId']}): 3 malformed row(s) in "
        f"the raw data: 2 in {BAD} ({WHY}), 1 in {BAD}.2 (a field more than the table has); "
        "fix the file, or give --skip-bad-rows to skip and count them"
    )
    counts = [q for q in aws.queries() if " ".join(q.split()).startswith(COUNT_RATINGS)]
    assert [" ".join(q.split()).split(" FROM ")[1].split()[0] for q in counts] == [
        "movielens_elt.movies",
        "movielens_elt.ratings",
    ]
    assert aws.keys("movielens/sci_fi/") == []


def test_skip_bad_rows_on_athena_leaves_them_out_and_counts_them(elt, s3_lake, results):
    aws = results
    # the counts of the two raw tables: one query each, told apart by the table they read
    aws.results.insert(1, (COUNT_MOVIES + ' CASE WHEN "movieId"', [HEAD]))
    aws.results += [(COUNT_RATINGS + ' CASE WHEN "userId"', [HEAD, [BAD, "2", WHY]])]
    result = elt("--lake", s3_lake, "run", "--genre", "Sci-Fi", "--skip-bad-rows")
    assert result.exit_code == 0, result.output
    (ctas,) = [q for q in aws.queries() if q.startswith(RAW_CTAS)]
    ctas = " ".join(ctas.split())
    assert 'WHERE NOT ( "userId" IS NULL OR "movieId" IS NULL OR "rating" IS NULL' in ctas
    assert "malformed row in" not in ctas
    assert f"movie_ratings: skipped 2 malformed row(s) in the raw data: 2 in {BAD} ({WHY})" in (
        result.stderr
    )


# -- 5. one CSV, whatever the engine -----------------------------------------------------------


@pytest.mark.parametrize(
    "workgroup",
    [
        None,
        {  # results encrypted client-side: the file is ciphertext, GetQueryResults is not
            "ResultConfiguration": {
                "OutputLocation": "s3://lake/secure-results/",
                "EncryptionConfiguration": {"EncryptionOption": "CSE_KMS", "KmsKey": "arn:key"},
            },
            "EnforceWorkGroupConfiguration": True,
        },
        {  # results kept by Athena: no file, and no result location may be sent
            "ManagedQueryResultsConfiguration": {"Enabled": True},
            "EnforceWorkGroupConfiguration": False,
        },
    ],
    ids=["plain", "cse-kms", "managed"],
)
def test_the_same_data_gives_the_same_bytes_on_both_engines(elt, aws, tmp_path, workgroup):
    movies = [*AWKWARD_MOVIES, (16, "(2001)", "Sci-Fi")]  # an empty title, not NULL
    ratings = [*AWKWARD_RATINGS, (1, 16, 4.0)]
    local = make_lake(tmp_path / "local", movies, ratings)
    assert elt("--lake", local, "run", "--genre", "Sci-Fi").exit_code == 0
    upload = make_lake(tmp_path / "upload", movies, ratings)
    for path in sorted(p for p in upload.rglob("*") if p.is_file()):
        aws.put(str(path.relative_to(upload)), path.read_bytes())
    aws.results = [GENRES, (EXPORT, rows_of(upload))]
    args = []
    if workgroup:
        aws.athena.create_work_group(Name="wg", Configuration=workgroup)
        args = ["--workgroup", "wg"]
    result = elt("--lake", "s3://lake", *args, "run", "--genre", "Sci-Fi")
    assert result.exit_code == 0, result.output
    final = (local / FINAL_KEY).read_bytes()
    assert b'16,"",2001,' in final
    assert aws.get(FINAL_KEY) == final
    if workgroup and "ManagedQueryResultsConfiguration" in workgroup:
        assert not [p for p in aws.sent("StartQueryExecution") if "ResultConfiguration" in p]


# -- 6. the original workflow's table ----------------------------------------------------------


def test_a_table_left_by_the_original_workflow_is_replaced_by_the_view(elt, s3_lake, results):
    aws = results
    aws.glue_table("sci_fi", "s3://lake/athena-results/tables/1234/")
    aws.put("athena-results/tables/1234/part-0.gz", b"the old CTAS data")
    result = elt("--lake", s3_lake, "run", "--genre", "Sci-Fi")
    assert result.exit_code == 0, result.output
    assert (
        "build-subset: replaced the table sci_fi (made by an earlier workflow) with a view; its "
        "data stays at s3://lake/athena-results/tables/1234/"
    ) in result.stderr
    assert aws.get("athena-results/tables/1234/part-0.gz") == b"the old CTAS data"
    table = aws.glue.get_table(DatabaseName="movielens_elt", Name="sci_fi")["Table"]
    assert table["TableType"] == "VIRTUAL_VIEW"


def test_a_table_named_like_the_subset_is_replaced_locally_too(elt, awkward_lake):
    assert elt("--lake", awkward_lake, "ensure-db").exit_code == 0
    catalog = awkward_lake / "_elt/movielens_elt/catalog.json"
    old = awkward_lake / "old/sci_fi"
    old.mkdir(parents=True)
    duckdb.sql(f"COPY (SELECT 1 AS movie_id) TO '{old}/data.parquet' (FORMAT PARQUET)")
    before = (old / "data.parquet").read_bytes()
    data = json.loads(catalog.read_text())
    data["tables"]["sci_fi"] = {"kind": "parquet", "location": "old/sci_fi/"}
    catalog.write_text(json.dumps(data))
    result = elt("--lake", awkward_lake, "run", "--genre", "Sci-Fi")
    assert result.exit_code == 0, result.output
    assert "replaced the table sci_fi" in result.stderr
    assert (old / "data.parquet").read_bytes() == before


# -- 7. readers during a rebuild keep the previous version -------------------------------------


@pytest.mark.slow
def test_the_previous_version_is_kept_until_the_next_successful_build(elt, s3_lake, results):
    aws = results
    published = []
    for n in range(3):
        new_ratings(aws, n)
        assert elt("--lake", s3_lake, "run", "--genre", "Sci-Fi").exit_code == 0
        published.append(view_target(aws))
        versions = {t for t in aws.glue_tables() if t.startswith("sci_fi__")}
        assert versions == set(published[-2:])
        on_s3 = {k.split("/")[3] for k in aws.keys("tables/movielens_elt/sci_fi/")}
        assert on_s3 == {t.split("__")[1] for t in published[-2:]}


# -- 9. the botocore floor ---------------------------------------------------------------------


def test_a_botocore_without_conditional_writes_gets_a_clear_error(
    elt, s3_lake, aws, tmp_path, monkeypatch
):
    """botocore before 1.35.69 has no IfMatch on PutObject: simulated with its own S3 model
    minus the conditional-write parameters, loaded through AWS_DATA_PATH as botocore does."""
    import gzip

    import botocore

    folder = tmp_path / "models/s3/2006-03-01"
    folder.mkdir(parents=True)
    source = os.path.join(
        os.path.dirname(botocore.__file__), "data/s3/2006-03-01/service-2.json.gz"
    )
    model = json.loads(gzip.decompress(open(source, "rb").read()))
    for name in ("IfMatch", "IfNoneMatch"):
        del model["shapes"]["PutObjectRequest"]["members"][name]
    (folder / "service-2.json").write_text(json.dumps(model))
    monkeypatch.setenv("AWS_DATA_PATH", str(tmp_path / "models"))
    result = elt("--lake", s3_lake, "run", "--genre", "Sci-Fi")
    assert result.exit_code == 2
    assert last_line(result) == (
        f"Error: botocore {botocore.__version__} cannot make the S3 conditional writes the "
        "lake's lock needs: pip install --upgrade 'boto3>=1.35.69'"
    )
    assert aws.queries() == []


# -- workgroups that do not exist --------------------------------------------------------------


def test_an_unknown_workgroup_is_bad_input(elt, s3_lake, aws):
    result = elt("--lake", s3_lake, "--workgroup", "nope", "run", "--genre", "Sci-Fi")
    assert result.exit_code == 2
    assert last_line(result) == "Error: Athena workgroup 'nope' not found: check --workgroup"
    assert aws.queries() == []


@pytest.mark.slow
def test_kill_9_during_a_build_on_s3_then_a_plain_rerun(elt, s3_lake, results, expected):
    """The killed run leaves its lock (its pid is dead on this host: taken over), a CTAS
    still running and its files; a plain re-run completes and clears what was left."""
    aws = results
    aws.results = [GENRES, *aws.results]
    aws.rules.hold.add(CTAS)
    assert kill_at(start_elt("--lake", s3_lake, "run", "--genre", "Sci-Fi"), "[Sci-Fi] RUNNING")
    assert "_elt/movielens_elt/lock.json" in aws.keys()
    (killed,) = {k.split("/")[3] for k in aws.keys("tables/movielens_elt/sci_fi/")}
    aws.rules.hold.clear()
    result = elt("--lake", s3_lake, "run", "--genre", "Sci-Fi")
    assert result.exit_code == 0, result.output
    assert aws.get(FINAL_KEY) == csv_bytes(expected)
    versions = {k.split("/")[3] for k in aws.keys("tables/movielens_elt/sci_fi/")}
    assert killed not in versions and versions == {view_target(aws).split("__")[1]}
    assert "_elt/movielens_elt/lock.json" not in aws.keys()
