"""A cost budget on Athena (--max-scan) and the workgroup's per-query cutoff: the bytes each
query will scan are predicted from the listing of the raw files and the models' files before
any query starts; a run over budget is refused with nothing started, and a run that passes
its budget while it runs starts nothing more."""

from __future__ import annotations

import json

import pytest
from support import last_line

FINAL_KEY = "movielens/sci_fi/sci_fi-movies.csv"
GENRES = [["genre", "films"], ["Sci-Fi", "8"], ["Horror", "1"]]
EXPORT = [
    ["movie_id", "title", "year", "avg_rating", "num_ratings"],
    ["9", "Alien", "1979", "4.0", "2"],
]


@pytest.fixture
def big_lake(aws, s3_lake):
    """The awkward lake with 3 MB more of ratings (one valid row repeated)."""
    rows = b"userId,movieId,rating,timestamp\n" + b"1,9,4.0,1000000000\n" * 160_000
    aws.put("movielens/ratings/more.csv", rows)
    aws.results = [("SELECT genre", GENRES), ("SELECT movie_id", EXPORT)]
    return s3_lake


def raw_bytes(aws) -> int:
    pages = aws.s3.list_objects_v2(Bucket="lake", Prefix="movielens/")["Contents"]
    return sum(o["Size"] for o in pages if "/movies/" in o["Key"] or "/ratings/" in o["Key"])


def test_a_run_predicted_over_the_budget_starts_no_query(elt, aws, big_lake):
    aws.put(FINAL_KEY, b"the published file\n")
    result = elt("--lake", big_lake, "--max-scan", "2MB", "run", "--genre", "Sci-Fi")
    assert result.exit_code == 2, result.output
    assert aws.queries() == []
    # never built: each model is predicted at what it is built from, the raw files' 3.0 MB
    assert raw_bytes(aws) == pytest.approx(3.0e6, rel=0.02)
    assert last_line(result).startswith(
        "Error: the run is predicted to scan 21.3 MB, more than --max-scan "
        "2.0 MB (build movie_ratings 3.0 MB, checks movie_ratings 3.0 MB, values genres "
        "3.0 MB, build Sci-Fi 3.0 MB, checks Sci-Fi 6.1 MB, export Sci-Fi 3.0 MB)"
    )
    assert last_line(result).endswith(
        ": nothing was started; raise --max-scan, or give fewer values"
    )
    assert aws.get(FINAL_KEY) == b"the published file\n"


def test_a_run_within_its_budget_shows_predicted_against_scanned(elt, aws, big_lake):
    aws.stats = {"CREATE TABLE movielens_elt.movie_ratings__": (2_900_000, "DML")}
    result = elt("--lake", big_lake, "--max-scan", "1GB", "--json", "run", "--genre", "Sci-Fi")
    assert result.exit_code == 0, result.output
    total = json.loads(result.stdout)["total"]
    assert total["bytes_scanned"] == 2_900_000
    assert total["predicted_bytes"] > raw_bytes(aws)  # the build, then what reads its output
    plain = elt("--lake", big_lake, "--max-scan", "1GB", "run", "--genre", "Horror")
    (closing,) = [line for line in plain.stderr.splitlines() if " Done in " in line]
    assert " scanned (predicted " in closing


def test_a_run_that_passes_its_budget_while_it_runs_starts_nothing_more(elt, aws, s3_lake):
    """The raw files are small, but the build scans far more than predicted (as when a
    source's files are replaced mid-run): no query is started once the total passes."""
    aws.results = [("SELECT genre", GENRES)]
    aws.put(FINAL_KEY, b"the published file\n")
    aws.stats = {"CREATE TABLE movielens_elt.movie_ratings__": (2_500_000_000, "DML")}
    result = elt("--lake", s3_lake, "--max-scan", "1GB", "run", "--genre", "Sci-Fi")
    assert result.exit_code == 1, result.output
    assert last_line(result) == (
        "Error: audit failed: not started: the run has scanned 2.5 GB, more than --max-scan 1.0 GB"
    )
    started = aws.queries()
    assert started[-1].startswith("CREATE TABLE movielens_elt.movie_ratings__")
    assert aws.get(FINAL_KEY) == b"the published file\n"


def test_a_query_over_the_workgroups_cutoff_is_refused_before_it_starts(elt, aws, big_lake):
    aws.put(
        "movielens/ratings/most.csv",
        b"userId,movieId,rating,timestamp\n" + b"1,9,4.0,0\n" * 900_000,
    )
    aws.athena.create_work_group(
        Name="capped",
        Configuration={
            "ResultConfiguration": {"OutputLocation": "s3://lake/athena-results/"},
            "BytesScannedCutoffPerQuery": 10_000_000,  # the least Athena accepts
        },
    )
    result = elt("--lake", big_lake, "--workgroup", "capped", "run", "--genre", "Sci-Fi")
    assert result.exit_code == 2, result.output
    assert last_line(result) == (
        "Error: build movie_ratings is predicted to scan 12.0 MB, more than workgroup capped's "
        "BytesScannedCutoffPerQuery of 10.0 MB, so Athena would cancel it: raise the "
        "workgroup's limit, or run in another workgroup"
    )
    assert aws.queries() == []


def test_a_dry_run_shows_the_predicted_scan_and_cost_of_each_query(elt, aws, big_lake):
    result = elt("--lake", big_lake, "--dry-run", "run", "--genre", "Sci-Fi")
    assert result.exit_code == 0, result.output
    (note,) = [line for line in result.stderr.splitlines() if "predicted scan: " in line]
    assert "build movie_ratings 3.0 MB $0.0001" in note  # billed as 10 MB at least
    assert "export Sci-Fi 3.0 MB $0.0001" in note
    assert aws.queries() == []


def test_an_unchanged_model_is_not_predicted_to_be_built_again(elt, aws, big_lake):
    assert elt("--lake", big_lake, "run", "--genre", "Sci-Fi").exit_code == 0
    aws.calls.clear()
    result = elt("--lake", big_lake, "--dry-run", "run", "--genre", "Sci-Fi")
    (note,) = [line for line in result.stderr.splitlines() if "predicted scan: " in line]
    assert "build " not in note and "checks " not in note
    assert "values genres" in note and "export Sci-Fi" in note


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("2 gigs", "is not a size such as 500MB, 2GB or 1TB"),
        ("-1GB", "is not a size such as 500MB, 2GB or 1TB"),
        ("GB", "is not a size such as 500MB, 2GB or 1TB"),
        ("0MB", "must be more than 0 bytes"),
    ],
)
def test_a_wrong_budget_is_refused_naming_where_it_came_from(elt, tmp_path, value, reason):
    result = elt("--lake", "s3://lake", "--max-scan", value, "run", "--genre", "Sci-Fi")
    assert result.exit_code == 2
    assert last_line(result) == (
        f"Error: Invalid value for '--max-scan': {value!r} {reason} (see `elt --help`)"
    )
    result = elt("--lake", "s3://lake", "run", "--genre", "Sci-Fi", env={"ELT_MAX_SCAN": value})
    assert last_line(result) == f"Error: ELT_MAX_SCAN={value} {reason}"
    (tmp_path / "elt.toml").write_text(f'max_scan = "{value}"\n')
    result = elt("--lake", "s3://lake", "run", "--genre", "Sci-Fi")
    assert last_line(result) == f'Error: elt.toml: max_scan = "{value}" {reason}'
