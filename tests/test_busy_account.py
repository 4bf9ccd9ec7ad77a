"""A run every night on a busy account: transient failures resubmitted, the account's query
quota shared, throttling outlasted, queue time and run time told apart (on moto, made as strict
as Athena: see support/moto_athena.py)."""

from __future__ import annotations

import json
import re

import pytest
from support import last_line
from support.moto_athena import INTERNAL_ERROR, QUOTA_MESSAGE, Failure, starts, transient

from elt_cli.engines.athena import _table_info
from elt_cli.engines.flight import retryable

HEADER = ["movie_id", "title", "year", "avg_rating", "num_ratings"]
ALIEN = ["9", "Alien", "1979", "3.75", "2"]
GENRES = [f"Genre {i:02d}" for i in range(1, 31)]
CTAS = "CREATE TABLE movielens_elt."
SCI_FI_CTAS = "CREATE TABLE movielens_elt.sci_fi__"


@pytest.fixture
def answers(aws):
    aws.results = [
        ("SELECT genre", [["genre", "films"], ["Sci-Fi", "10"], *([g, "1"] for g in GENRES)]),
        ("SELECT movie_id", [HEADER, ALIEN]),
    ]
    return aws


def genre_args(genres) -> list[str]:
    return [arg for g in genres for arg in ("--genre", g)]


def ctas_sent(aws, prefix: str = SCI_FI_CTAS) -> list[str]:
    return [q for q in aws.queries() if q.startswith(prefix)]


# -- the policy: which failures are resubmitted --------------------------------------------------


@pytest.mark.parametrize(
    ("error", "resubmitted"),
    [
        ({"ErrorCategory": 1, "ErrorType": 100, "Retryable": True}, True),  # internal error
        ({"ErrorCategory": 1, "ErrorType": 401, "Retryable": True}, True),  # writing results
        ({"ErrorCategory": 1, "ErrorType": 100, "Retryable": False}, False),  # Athena says no
        ({"ErrorCategory": 2, "ErrorType": 1000, "Retryable": True}, False),  # the user's
        ({"ErrorCategory": 1, "ErrorType": 3, "Retryable": True}, False),  # exhausted resources
        ({"ErrorCategory": 1, "ErrorType": 206, "Retryable": True}, False),  # query timeout
        ({"ErrorCategory": 3, "ErrorType": 100, "Retryable": True}, False),  # other
        ({}, False),  # no AthenaError at all
    ],
)
def test_only_a_system_error_athena_calls_retryable_is_resubmitted(error, resubmitted):
    status = {"State": "FAILED", "StateChangeReason": "x", "AthenaError": error}
    assert retryable(status) is resubmitted
    assert not retryable({**status, "State": "CANCELLED"})


# -- transient failures --------------------------------------------------------------------------


def test_a_ctas_that_fails_once_with_a_retryable_error_succeeds_on_a_fresh_version(
    elt, s3_lake, answers
):
    aws = answers
    aws.failures[SCI_FI_CTAS] = transient(times=1)
    result = elt("--lake", s3_lake, "--json", "run", "--genre", "Sci-Fi")
    assert result.exit_code == 0, result.output
    first, second = ctas_sent(aws)
    version = first.split("__", 1)[1].split()[0]
    # the second attempt is its own version, in its own location (the first may have left files)
    assert f"sci_fi__{version}_2" in second
    assert f"external_location = 's3://lake/tables/movielens_elt/sci_fi/{version}_2/'" in second
    view = aws.glue.get_table(DatabaseName="movielens_elt", Name="sci_fi")["Table"]
    assert _table_info(view).view_of == f"sci_fi__{version}_2"
    # what the failed attempt wrote is gone; the published version's files are there
    folders = {k.split("/")[3] for k in aws.keys("tables/movielens_elt/sci_fi/")}
    assert folders == {f"{version}_2"}
    assert aws.get("movielens/sci_fi/sci_fi-movies.csv") == (
        b"movie_id,title,year,avg_rating,num_ratings\n9,Alien,1979,3.75,2\n"
    )
    document = json.loads(result.stdout)
    attempts = [q for q in document["queries"] if q["template"] == "subset"]
    assert [(q["state"], q["attempt"], q["retried"]) for q in attempts] == [
        ("FAILED", 1, True),
        ("SUCCEEDED", 2, False),
    ]
    assert attempts[0]["reason"] == INTERNAL_ERROR
    assert document["total"]["failed"] == 0 and document["total"]["retried"] == 1
    assert f"FAILED with an error Athena calls retryable ({INTERNAL_ERROR}); resubmitted, " in (
        result.stderr
    )
    assert "attempt 2 of 3" in result.stderr
    assert " Done in " in last_line(result)
    assert "queries (1 resubmitted), 0 failed" in last_line(result)


def test_the_summary_shows_the_retried_attempt_and_the_one_that_succeeded(elt, s3_lake, answers):
    answers.failures[SCI_FI_CTAS] = transient(times=1)
    result = elt("--lake", s3_lake, "--progress", "run", "--genre", "Sci-Fi")
    assert result.exit_code == 0, result.output
    lines = [line.split() for line in result.stderr.splitlines()]
    build = [i for i, line in enumerate(lines) if line[:2] == ["build-subset", "Sci-Fi"]]
    # the CTAS twice, the audit of its version, the view
    assert [lines[i][2] for i in build] == ["RETRIED", "OK", "OK", "OK"]
    assert lines[build[1] + 1] == ["attempt", "2"]  # its details, folded at 80 columns
    assert all(len(line) <= 80 for line in result.stderr.splitlines())


@pytest.mark.parametrize(
    "failure",
    [
        Failure("COLUMN_NOT_FOUND: line 3:8: Column 'x' cannot be resolved"),  # the user's
        Failure("Query exhausted resources at this scale factor", True, 1, 3),
        Failure("Query timeout", True, 1, 206),
        Failure(INTERNAL_ERROR, retryable=False, category=1, error_type=100),
    ],
    ids=["user-error", "exhausted-resources", "query-timeout", "not-retryable"],
)
def test_a_failure_athena_does_not_call_a_passing_system_error_is_never_resubmitted(
    elt, s3_lake, answers, failure
):
    answers.failures[SCI_FI_CTAS] = failure
    result = elt("--lake", s3_lake, "run", "--genre", "Sci-Fi")
    assert result.exit_code == 1
    assert len(ctas_sent(answers)) == 1
    assert f"FAILED: {failure.reason}" in last_line(result)
    assert "resubmitted" not in result.stderr


def test_when_every_attempt_fails_the_run_fails_and_every_attempt_is_discarded(
    elt, s3_lake, answers
):
    aws = answers
    aws.failures[SCI_FI_CTAS] = transient(times=3)
    result = elt("--lake", s3_lake, "--retries", "2", "run", "--genre", "Sci-Fi")
    assert result.exit_code == 1
    assert len(ctas_sent(aws)) == 3
    assert last_line(result).startswith("Error: subset failed (query ")
    assert last_line(result).endswith(f"FAILED: {INTERNAL_ERROR}")
    assert not [t for t in aws.glue_tables() if t.startswith("sci_fi")]
    assert aws.keys("tables/movielens_elt/sci_fi/") == []
    assert "movielens/sci_fi/sci_fi-movies.csv" not in aws.keys()


def test_retries_0_resubmits_nothing(elt, s3_lake, answers):
    answers.failures[SCI_FI_CTAS] = transient(times=1)
    result = elt("--lake", s3_lake, "--retries", "0", "run", "--genre", "Sci-Fi")
    assert result.exit_code == 1 and len(ctas_sent(answers)) == 1


def test_a_read_that_fails_with_a_retryable_error_is_resubmitted_as_it_was(elt, s3_lake, answers):
    answers.failures["SELECT genre"] = transient(times=1)
    result = elt("--lake", s3_lake, "genres")
    assert result.exit_code == 0, result.output
    first, second = [q for q in answers.queries() if starts(q, "SELECT genre")]
    assert first == second
    assert "Sci-Fi\t10" in result.stdout


# -- the account's query quota -------------------------------------------------------------------


def test_thirty_genres_against_a_quota_of_25_keep_to_max_concurrent(elt, s3_lake, answers):
    aws = answers
    aws.rules.quota = 25
    aws.rules.slow[CTAS] = 1.0  # each build runs a second: they overlap for certain
    result = elt("--lake", s3_lake, "--json", "run", *genre_args(GENRES))
    assert result.exit_code == 0, result.output
    assert aws.rules.peak == 8  # the default --max-concurrent, and no more
    starts = aws.sent("StartQueryExecution")
    assert len(starts) == len(aws.executions())  # no start was refused for the quota
    document = json.loads(result.stdout)
    builds = [q for q in document["queries"] if q["template"] == "subset"]
    assert len(builds) == 30 and {q["state"] for q in builds} == {"SUCCEEDED"}
    assert "22 of 30 queries wait in elt: at most 8 are in flight at once" in result.stderr
    finals = [k for k in aws.keys("movielens/") if k.endswith("-movies.csv")]
    assert len(finals) == 30


def test_more_concurrency_than_the_quota_waits_for_its_own_queries(elt, s3_lake, answers):
    """--max-concurrent above what the account has free: a start refused for the quota waits
    for one of the run's own queries to end, and the run goes through. (Each build runs 4 s,
    past botocore's own retries of a throttled call, so refusals reach elt.)"""
    aws = answers
    aws.rules.quota = 5
    aws.rules.slow[CTAS + "genre_"] = 4.0
    result = elt("--lake", s3_lake, "--json", "run", *genre_args(GENRES[:8]))
    assert result.exit_code == 0, result.output
    assert aws.rules.peak == 5
    refused = len(aws.sent("StartQueryExecution")) - len(aws.executions())
    assert refused >= 1
    builds = [e for e in aws.executions() if e["Query"].startswith(CTAS + "genre_")]
    assert len(builds) == 8  # each started once
    assert len(json.loads(result.stdout)["outputs"]) == 8


def test_a_long_throttling_window_with_nothing_in_flight_is_waited_out(elt, aws):
    """Ten throttled answers in a row used to end the run; with nothing of its own in flight
    a start keeps trying (with backoff) for up to --queue-timeout."""
    aws.throttles = {"StartQueryExecution": 25}
    result = elt("--lake", "s3://lake", "ensure-db")
    assert result.exit_code == 0, result.output
    starts = aws.sent("StartQueryExecution")
    assert len(starts) == 26 and len({p["ClientRequestToken"] for p in starts}) == 1
    assert len(aws.executions()) == 1


def test_a_quota_that_never_frees_up_fails_at_the_queue_timeout_in_words(elt, aws):
    aws.rules.quota = 0
    result = elt("--lake", "s3://lake", "--queue-timeout", "1", "ensure-db")
    assert result.exit_code == 1
    assert last_line(result).startswith(
        "Error: create_database failed: Athena refused to start it for 1s "
        "(create_database: cannot start the query: TooManyRequestsException: "
        f"{QUOTA_MESSAGE}): the account's active-query quota is in use; lower "
        "--max-concurrent, raise --queue-timeout, or ask AWS for a higher quota"
    )
    assert aws.executions() == []


def test_the_query_athena_would_not_start_is_the_failed_line_of_the_summary(elt, s3_lake, aws):
    """#21 item 5: the refused query's line says FAILED, not started; the queries after it in
    the step were never started for that reason; none was sent."""
    assert elt("--lake", s3_lake, "ensure-db").exit_code == 0
    aws.rules.quota = 0
    result = elt("--lake", s3_lake, "--progress", "--queue-timeout", "0.2", "create-tables")
    assert result.exit_code == 1
    rows = [line.split() for line in result.stderr.splitlines() if line.startswith("create")]
    assert rows == [
        ["create-tables", "movies", "FAILED", "not", "started"],
        [
            "create-tables",
            "ratings",
            "SKIPPED",
            "not",
            "started:",
            "the",
            "run",
            "stopped",
            "first",
        ],
    ]  # the drop of movies was refused: its create, and ratings', never started
    assert re.search(r"Failed after [\d.]+ s: 0 queries, 0 failed\n", result.stderr)


# -- what piles up -------------------------------------------------------------------------------


def test_each_publish_prunes_the_views_old_glue_versions(elt, s3_lake, answers):
    """Every CREATE OR REPLACE VIEW adds a version to the view in Glue (at most 100,000 a
    table): after each publish only the newest few are kept."""
    aws = answers
    for step in ("ensure-db", "create-tables"):
        assert elt("--lake", s3_lake, step).exit_code == 0
    for i in range(8):  # new raw data each night: a new build and a new publish
        aws.put(f"movielens/ratings/night-{i}.csv", b"userId,movieId,rating,timestamp\n")
        result = elt("--lake", s3_lake, "build-subset", "--genre", "Sci-Fi")
        assert result.exit_code == 0, result.output
    versions = aws.glue.get_table_versions(DatabaseName="movielens_elt", TableName="sci_fi")
    kept = sorted(int(v["VersionId"]) for v in versions["TableVersions"])
    assert kept == [4, 5, 6, 7, 8]  # the newest five of eight
    current = aws.glue.get_table(DatabaseName="movielens_elt", Name="sci_fi")["Table"]
    (last,) = [q for q in aws.queries() if q.startswith(SCI_FI_CTAS)][-1:]
    assert _table_info(current).view_of == last.split()[2].split(".")[1]


def test_the_files_athena_leaves_for_elts_queries_are_deleted_once_read(elt, s3_lake, answers):
    """Each query leaves `<id>.csv` and `<id>.csv.metadata` in the result location (a CTAS its
    manifest and metadata under tables/): night after night they pile up unless removed.
    Another tool's result files there are not elt's to delete."""
    aws = answers
    aws.put("athena-results/0b9a5c2e-0000-4000-8000-000000000000.csv", b"someone else's")
    aws.failures["SELECT genre"] = transient(times=1)  # a failed attempt leaves its files too
    result = elt("--lake", s3_lake, "run", "--genre", "Sci-Fi")
    assert result.exit_code == 0, result.output
    assert aws.keys("athena-results/") == [
        "athena-results/0b9a5c2e-0000-4000-8000-000000000000.csv"
    ]
    assert aws.get("movielens/sci_fi/sci_fi-movies.csv").endswith(b"9,Alien,1979,3.75,2\n")


def test_in_an_enforcing_workgroup_only_the_published_versions_data_stays(elt, s3_lake, answers):
    aws = answers
    workgroup = aws.enforcing_workgroup()
    for night in range(2):
        aws.put(f"movielens/ratings/night-{night}.csv", b"userId,movieId,rating,timestamp\n")
        result = elt("--lake", s3_lake, "--workgroup", workgroup, "run", "--genre", "Sci-Fi")
        assert result.exit_code == 0, result.output
    left = aws.keys("wg-results/")
    # the data of the versions the views show (and the one kept before each), nothing else
    assert left and all(re.fullmatch(r"wg-results/tables/[0-9a-f-]{36}/[0-9a-f-]{36}_00000", k)
                        for k in left)  # fmt: skip
    views = [_table_info(t) for t in aws.glue.get_tables(DatabaseName="movielens_elt")["TableList"]]
    shown = {v.view_of for v in views if v.kind == "view"}
    locations = {
        t["StorageDescriptor"]["Location"]
        for t in aws.glue.get_tables(DatabaseName="movielens_elt")["TableList"]
        if t["Name"] in shown
    }
    assert {loc.removeprefix("s3://lake/") for loc in locations} <= {
        k.rsplit("/", 1)[0] + "/" for k in left
    }


def test_a_policy_that_cannot_delete_result_files_keeps_them_and_says_so_once(elt, aws):
    """An older policy without s3:DeleteObject on the results prefix: the run's work is done,
    so it succeeds, and the files stay as they did before elt deleted them."""
    aws.errors["DeleteObjects"] = ("AccessDenied", "Access Denied")
    result = elt("--lake", "s3://lake", "ensure-db")
    assert result.exit_code == 0, result.output
    assert aws.keys("athena-results/")  # kept
    notes = [line for line in result.stderr.splitlines() if "result files are kept" in line]
    assert len(notes) == 1, result.stderr
    assert notes[0].endswith(
        "query result files are kept: cannot delete query result files in s3://lake: access "
        "denied (AccessDenied: Access Denied); `elt iam-policy` prints the permissions elt needs"
    )
