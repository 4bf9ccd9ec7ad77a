"""A re-run in which nothing changed starts no query at all, on either engine: the raw tables
are left as elt created them, the models as built, the values are known good, and a final file
elt wrote from the published version with the same export SQL is left as it is. Anything that
changed is done again, and only that."""

from __future__ import annotations

import json
import re
import shutil

from support import FINAL
from support.data import AWKWARD_MOVIES, AWKWARD_RATINGS, make_lake

from elt_cli.templates import packaged_queries


def queries_of(result) -> list[tuple[str, str]]:
    return [(q["step"], q["template"]) for q in json.loads(result.stdout)["queries"]]


def test_a_rerun_with_nothing_changed_starts_no_query_and_leaves_the_file(elt, tmp_path):
    lake = make_lake(tmp_path, AWKWARD_MOVIES, AWKWARD_RATINGS)
    assert elt("--lake", lake, "run", "--genre", "Sci-Fi").exit_code == 0
    before = (lake / FINAL).stat().st_mtime_ns
    result = elt("--lake", lake, "--json", "run", "--genre", "Sci-Fi")
    assert result.exit_code == 0, result.output
    assert queries_of(result) == []
    document = json.loads(result.stdout)
    assert document["result"] == [str(lake / FINAL)]
    assert {(s["step"], s["reason"]) for s in document["skipped"]} >= {
        ("create-tables", "its definition is unchanged"),
        ("export", "final file written from this version"),
        ("move", "final file unchanged"),
    }
    assert (lake / FINAL).stat().st_mtime_ns == before


def test_what_changed_is_done_again_and_only_that(elt, tmp_path):
    lake = make_lake(tmp_path, AWKWARD_MOVIES, AWKWARD_RATINGS)
    job = tmp_path / "job"
    shutil.copytree(packaged_queries(), job)
    assert elt("--queries", job, "--lake", lake, "run", "--genre", "Sci-Fi").exit_code == 0
    written = (lake / FINAL).read_bytes()
    # the final file edited by hand: written again from the same version, nothing rebuilt
    (lake / FINAL).write_text("edited\n")
    result = elt("--queries", job, "--lake", lake, "--json", "run", "--genre", "Sci-Fi")
    assert queries_of(result) == [("export", "export")]
    assert (lake / FINAL).read_bytes() == written
    # the export's SQL changed: exported again, nothing rebuilt
    export = job / "export.sql"
    export.write_text(export.read_text().replace("ORDER BY year DESC", "ORDER BY year ASC"))
    result = elt("--queries", job, "--lake", lake, "--json", "run", "--genre", "Sci-Fi")
    assert queries_of(result) == [("export", "export")]
    assert (lake / FINAL).read_bytes() != written
    # a source's DDL changed: the raw tables made again, and what reads them rebuilt
    ratings = job / "ratings.sql"
    ratings.write_text(ratings.read_text().replace("'skip.header.line.count' = '1'",
                                                   "'skip.header.line.count'='1'"))  # fmt: skip
    result = elt("--queries", job, "--lake", lake, "--json", "run", "--genre", "Sci-Fi")
    steps = {step for step, _ in queries_of(result)}
    assert {"create-tables", "build-subset", "export"} <= steps
    # a new value: only its own build, check and export (the values are checked for it)
    result = elt("--queries", job, "--lake", lake, "--json", "run", "--genre", "Sci-Fi",
                 "--genre", "Horror")  # fmt: skip
    subjects = {q["subject"] for q in json.loads(result.stdout)["queries"]}
    assert "Sci-Fi" not in subjects - {"Sci-Fi, Horror"}


def test_on_athena_a_rerun_with_nothing_changed_starts_no_query(elt, aws, s3_lake):
    aws.results = [
        ("SELECT genre", [["genre", "films"], ["Sci-Fi", "8"]]),
        ("SELECT movie_id", [["movie_id", "title", "year", "avg_rating", "num_ratings"],
                             ["9", "Alien", "1979", "3.75", "2"]]),
    ]  # fmt: skip
    assert elt("--lake", s3_lake, "run", "--genre", "Sci-Fi").exit_code == 0
    first = aws.get("movielens/sci_fi/sci_fi-movies.csv")
    aws.calls.clear()
    result = elt("--lake", s3_lake, "run", "--genre", "Sci-Fi")
    assert result.exit_code == 0, result.output
    assert aws.sent("StartQueryExecution") == []
    assert result.stderr.splitlines()[-1].endswith(
        "Done in " + result.stderr.split("Done in ")[-1].strip()
    )
    assert ": 0 queries, 0 failed" in result.stderr.splitlines()[-1]
    assert aws.get("movielens/sci_fi/sci_fi-movies.csv") == first


def test_on_athena_a_new_genre_is_checked_without_a_query(elt, aws, s3_lake):
    """The genre listing over the same built movie_ratings gives the same genres: a run adding
    a genre answers its check from values.json, with no billed listing query, and a mistyped
    genre is still refused with the closest one."""
    aws.results = [
        ("SELECT genre", [["genre", "films"], ["Sci-Fi", "8"], ["Comedy", "3"]]),
        ("SELECT movie_id", [["movie_id", "title", "year", "avg_rating", "num_ratings"],
                             ["9", "Alien", "1979", "3.75", "2"]]),
    ]  # fmt: skip
    assert elt("--lake", s3_lake, "run", "--genre", "Sci-Fi").exit_code == 0
    aws.calls.clear()
    result = elt("--lake", s3_lake, "run", "--genre", "Comedy")
    assert result.exit_code == 0, result.output
    sent = [call["QueryString"] for call in aws.sent("StartQueryExecution")]
    assert sent and not [q for q in sent if "SELECT genre" in q], sent
    assert re.search(r" check: done in \d\.\ds - 2 genres in the data\n", result.stderr)
    aws.calls.clear()
    result = elt("--lake", s3_lake, "run", "--genre", "Comedie")
    assert result.exit_code == 2
    assert "no films with genre 'Comedie'. Did you mean 'Comedy'?" in result.stderr
    assert aws.sent("StartQueryExecution") == []


def test_a_job_that_passed_its_checks_is_not_checked_again_until_a_file_changes(
    elt, tmp_path, monkeypatch
):
    import elt_cli.validate

    lake = make_lake(tmp_path, AWKWARD_MOVIES, AWKWARD_RATINGS)
    job = tmp_path / "job"
    shutil.copytree(packaged_queries(), job)
    calls = []
    real = elt_cli.validate.check_job
    monkeypatch.setattr(elt_cli.validate, "check_job", lambda spec: calls.append(1) or real(spec))
    for _ in range(2):
        assert elt("--queries", job, "--lake", lake, "run", "--genre", "Sci-Fi").exit_code == 0
    assert len(calls) == 1  # the second run trusted the record of the first
    # a file of the job changed: checked again, and what Athena would refuse is refused
    subset = job / "subset.sql"
    subset.write_text(subset.read_text().replace("contains(", "list_contains("))
    result = elt("--queries", job, "--lake", lake, "run", "--genre", "Sci-Fi")
    assert result.exit_code == 2
    assert "list_contains" in result.stderr.splitlines()[-1]
    assert len(calls) == 2
    # put back as it was when it passed: that record still holds
    subset.write_text(subset.read_text().replace("list_contains(", "contains("))
    assert elt("--queries", job, "--lake", lake, "run", "--genre", "Sci-Fi").exit_code == 0
    assert len(calls) == 2
    # another setting that reaches the SQL: checked again
    assert elt("--queries", job, "--lake", lake, "--database", "other", "run", "--genre",
               "Sci-Fi").exit_code == 0  # fmt: skip
    assert len(calls) == 3


def test_a_job_that_passed_on_one_lake_is_not_checked_again_on_another(elt, tmp_path, monkeypatch):
    """Nothing of the lake decides whether a job passes its checks: a second lake on the same
    machine (a new environment, each case of `elt test`) trusts the memo, and still keeps its
    own record, validated.json, for a worker without that memo."""
    import elt_cli.validate

    job = tmp_path / "job"
    shutil.copytree(packaged_queries(), job)
    calls = []
    real = elt_cli.validate.check_job
    monkeypatch.setattr(elt_cli.validate, "check_job", lambda spec: calls.append(1) or real(spec))
    for name in ("one", "two"):
        lake = make_lake(tmp_path / name, AWKWARD_MOVIES, AWKWARD_RATINGS)
        assert elt("--queries", job, "--lake", lake, "run", "--genre", "Sci-Fi").exit_code == 0
        assert (lake / "_elt/movielens_elt/validated.json").exists()
    assert len(calls) == 1
    monkeypatch.setenv("ELT_CACHE_DIR", str(tmp_path / "new-machine"))
    monkeypatch.setattr("elt_cli.memo._entries", None)
    lake = make_lake(tmp_path / "three", AWKWARD_MOVIES, AWKWARD_RATINGS)
    assert elt("--queries", job, "--lake", lake, "run", "--genre", "Sci-Fi").exit_code == 0
    assert len(calls) == 2  # another machine's memo: checked


# -- the memo of parsed SQL (memo.py) ---------------------------------------------------------


def test_an_unchanged_job_is_not_parsed_or_checked_again(elt, tmp_path, monkeypatch):
    """What elt worked out from a job's SQL is kept by digest of every input: a second
    command parses nothing (sqlglot is most of the start-up), a second `elt check` checks
    nothing, and an edited file is parsed and checked again, so an error in it is found."""
    import elt_cli.check
    from elt_cli import job as job_module

    job = tmp_path / "job"
    shutil.copytree(packaged_queries(), job)
    monkeypatch.setenv("ELT_CACHE_DIR", str(tmp_path / "memo"))
    monkeypatch.setattr("elt_cli.memo._entries", None)
    first = elt("--queries", job, "check")
    assert first.exit_code == 0, first.output

    def must_not_run(*args):
        raise AssertionError("parsed or checked again")

    monkeypatch.setattr(job_module, "_tables_read", must_not_run)
    monkeypatch.setattr(elt_cli.check, "check_job", must_not_run)
    again = elt("--queries", job, "check")
    assert again.exit_code == 0, again.output
    assert again.output == first.output
    monkeypatch.undo()
    monkeypatch.setenv("ELT_CACHE_DIR", str(tmp_path / "memo"))
    subset = job / "subset.sql"
    text = subset.read_text()
    assert "FROM ${database}.movie_ratings" in text
    subset.write_text(
        text.replace("FROM ${database}.movie_ratings", "FROM ${database}.movie_ratingz")
    )
    edited = elt("--queries", job, "check")
    assert edited.exit_code == 2
    assert "movie_ratingz" in edited.output


def test_a_memo_folder_elt_may_not_write_only_means_nothing_is_kept(tmp_path):
    """ELT_CACHE_DIR naming a file: every command works as without a memo."""
    import subprocess
    import sys

    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    lake = make_lake(tmp_path / "lake", AWKWARD_MOVIES, AWKWARD_RATINGS)
    env = {**__import__("os").environ, "ELT_CACHE_DIR": str(blocked / "elt")}
    for args in (["check"], ["--lake", str(lake), "run", "--genre", "Sci-Fi"]):
        done = subprocess.run([sys.executable, "-m", "elt_cli", *args], env=env,
                              capture_output=True, text=True)  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr
    assert (lake / FINAL).exists()


def test_a_rerun_with_nothing_changed_loads_neither_sqlglot_nor_duckdb(tmp_path):
    """sqlglot takes longer to import than DuckDB, and DuckDB longer than the rest of elt: a
    re-run that the memo, validated.json and builds.json answer imports neither (nor does
    `elt check` of an unchanged job)."""
    import os
    import subprocess
    import sys

    lake = make_lake(tmp_path / "lake", AWKWARD_MOVIES, AWKWARD_RATINGS)
    env = {**os.environ, "ELT_CACHE_DIR": str(tmp_path / "memo")}
    probe = (
        "import sys\nfrom elt_cli.cli import main\nsys.argv[0] = 'elt'\ntry:\n    main()\n"
        "except SystemExit as end:\n    assert end.code == 0, end.code\n"
        "print([m for m in ('sqlglot', 'duckdb') if m in sys.modules])"
    )
    for args in (["check"], ["--lake", str(lake), "run", "--genre", "Sci-Fi"]):
        first, again = (
            subprocess.run(
                [sys.executable, "-c", probe, *args],
                env=env,
                capture_output=True,
                text=True,
                cwd=tmp_path,
            )  # fmt: skip
            for _ in range(2)
        )
        assert first.returncode == 0 and again.returncode == 0, again.stderr
        assert first.stdout.splitlines()[-1] == "['sqlglot', 'duckdb']"  # it did, the first time
        assert again.stdout.splitlines()[-1] == "[]", args
