"""`elt test`: a job's own test cases (input files per source, the expected final files) run on
the local engine in a temporary lake, compared byte for byte: a job tested in CI, no AWS."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from support import last_line

from elt_cli.templates import packaged_queries

WEBSHOP = Path(__file__).parent.parent / "examples" / "webshop"


def copied_job(tmp_path: Path) -> Path:
    job = tmp_path / "job"
    shutil.copytree(packaged_queries(), job)
    return job


def test_the_shipped_jobs_pass_their_own_cases_without_aws_or_a_lake(elt, tmp_path):
    for job, case in ((packaged_queries(), "sci_fi"), (WEBSHOP, "germany")):
        result = elt("--queries", job, "--lake", "s3://no-such-lake", "test")
        assert result.exit_code == 0, result.output
        assert result.stdout == f"ok    {case} (1 file)\n"
    assert list(tmp_path.iterdir()) == []  # the temporary lakes are gone


def test_a_difference_exits_1_with_the_first_differing_rows(elt, tmp_path):
    job = copied_job(tmp_path)
    expected = job / "tests" / "sci_fi" / "expected" / "movielens" / "sci_fi" / "sci_fi-movies.csv"
    expected.write_text(expected.read_text().replace("4.1667", "4.1666"))
    result = elt("--queries", job, "test")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "FAIL  sci_fi",
        "      movielens/sci_fi/sci_fi-movies.csv differs:",
        "        --- expected/movielens/sci_fi/sci_fi-movies.csv",
        "        +++ movielens/sci_fi/sci_fi-movies.csv",
        "        @@ -4 +4 @@",
        "        -4,Babylon 5,,4.1666,3",
        "        +4,Babylon 5,,4.1667,3",
    ]
    assert last_line(result) == "Error: 1 of 1 test case failed: sci_fi"


def test_a_case_may_expect_a_check_to_fail_and_then_nothing_is_written(elt, tmp_path):
    job = copied_job(tmp_path)
    with (job / "job.toml").open("a") as toml:
        toml.write('\n[[checks]]\nmodel = "subset"\nnot_null = ["year"]\n')  # Babylon 5
    result = elt("--queries", job, "test")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "FAIL  sci_fi",
        "      check Sci-Fi: not_null year failed",
        "      expected movielens/sci_fi/sci_fi-movies.csv, which the run did not write",
    ]
    case = job / "tests" / "sci_fi"
    shutil.rmtree(case / "expected")
    with (case / "case.toml").open("a") as toml:
        toml.write('failed_checks = ["Sci-Fi: not_null year"]\n')
    result = elt("--queries", job, "test")
    assert result.exit_code == 0, result.output
    assert result.stdout == "ok    sci_fi (0 files)\n"


def test_the_json_document_has_each_case(elt, tmp_path):
    job = copied_job(tmp_path)
    shutil.copytree(job / "tests" / "sci_fi", job / "tests" / "no_ratings")
    shutil.rmtree(job / "tests" / "no_ratings" / "ratings")
    result = elt("--queries", job, "--json", "test")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["result"] == [
        {
            "case": "no_ratings",
            "passed": False,
            "files": [],
            "problems": [
                f"no input for source ratings: add {job / 'tests' / 'no_ratings' / 'ratings'}/ "
                "with its files"
            ],
        },
        {
            "case": "sci_fi",
            "passed": True,
            "files": ["movielens/sci_fi/sci_fi-movies.csv"],
            "problems": [],
        },
    ]
    assert document["error"] == "1 of 2 test cases failed: no_ratings"


def test_cases_can_be_named_and_a_job_without_cases_is_told_how_to_add_one(elt, tmp_path):
    job = copied_job(tmp_path)
    result = elt("--queries", job, "test", "sci-fi")
    assert result.exit_code == 2
    assert last_line(result) == f"Error: no test case 'sci-fi' in {job / 'tests'} (it has: sci_fi)"
    shutil.rmtree(job / "tests")
    result = elt("--queries", job, "test")
    assert result.exit_code == 2
    assert last_line(result) == (
        f"Error: job movielens has no test cases: add {job / 'tests'}/<case>/ with an input "
        "folder per source and expected/ (see the README, 'Testing a job')"
    )


def test_a_case_says_why_its_run_failed_naming_its_own_files(elt, tmp_path):
    job = copied_job(tmp_path)
    toml = (job / "job.toml").read_text()
    toml = toml.replace(
        'name = "ratings"\nsql = "ratings.sql"',
        'name = "ratings"\nsql = "ratings.sql"\nheader = true\nmax_age = "1h"',
    )
    (job / "job.toml").write_text(toml)  # fmt: skip
    case = job / "tests" / "sci_fi"
    old = 1_000_000_000  # fixtures are old files: the case's copies are new, max_age passes
    __import__("os").utime(case / "ratings" / "ratings.csv", (old, old))
    assert elt("--queries", job, "test").exit_code == 0
    ratings = case / "ratings" / "ratings.csv"
    ratings.write_text(ratings.read_text().replace("userId,movieId", "movieId,userId", 1))
    result = elt("--queries", job, "test")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[1] == (
        f"      the run failed: source ratings: {ratings} has the header "
        "'movieId,userId,rating,timestamp', not the declared columns "
        "'userId,movieId,rating,timestamp' (a renamed, added or swapped column): fix the "
        f"file, or the columns in {job / 'ratings.sql'}"
    )


def test_a_wrong_case_is_refused_or_told(elt, tmp_path):
    job = copied_job(tmp_path)
    case = job / "tests" / "sci_fi"
    (case / "case.toml").write_text('values = { genre = "Sci-Fi" }\nfailed_checks = "Sci-Fi"\n')
    result = elt("--queries", job, "test")
    assert result.exit_code == 2
    assert last_line(result) == (
        f"Error: {case / 'case.toml'}: failed_checks must be a list such as "
        '["Sci-Fi: not_null year"]'
    )
    (case / "case.toml").write_text('values = { genres = "Sci-Fi" }\n')
    result = elt("--queries", job, "test")
    assert last_line(result) == (
        f"Error: {case / 'case.toml'}: values must be a table of the job's parameters (genre), "
        "not 'genres'"
    )
    (case / "case.toml").write_text(
        'values = { genre = "Sci-Fi" }\nfailed_checks = ["Sci-Fi: not_nul year"]\n'
    )
    (case / "rating").mkdir()
    result = elt("--queries", job, "test")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[1] == (
        "      rating/ is no source of the job (its sources: movies, ratings; the final files go "
        "in expected/)"
    )
    assert lines[2].startswith("      check Sci-Fi: not_nul year did not run (those that ran: ")
    assert "Sci-Fi: not_null title" in lines[2]
