"""Write-audit-publish: a job's [[checks]] run on a model's new version after its build and
before its view is switched to it, on both engines. A version that fails is not published
(readers keep the version before), nothing is exported from it or built from it, it is kept
for inspection, and the command exits 1 naming the check with up to 5 failing rows."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from support import FINAL, last_line
from support.data import AWKWARD_MOVIES, AWKWARD_RATINGS, make_lake, write_csv

from elt_cli.engines.local import LocalEngine
from elt_cli.templates import packaged_queries


def job_with(tmp_path: Path, checks: str, files: dict[str, str] | None = None) -> Path:
    """The packaged MovieLens job with more [[checks]] (and their SQL files)."""
    job = tmp_path / "job"
    shutil.copytree(packaged_queries(), job)
    with (job / "job.toml").open("a", encoding="utf-8") as toml:
        toml.write("\n" + checks)
    for name, text in (files or {}).items():
        (job / name).parent.mkdir(parents=True, exist_ok=True)
        (job / name).write_text(text, encoding="utf-8")
    return job


def view_of(lake: Path, view: str) -> str | None:
    engine = LocalEngine(lake)
    try:
        info = engine.table_info("movielens_elt", view)
        return info.view_of if info else None
    finally:
        engine.close()


def versions(lake: Path, view: str) -> list[str]:
    return sorted(p.name for p in (lake / "tables" / "movielens_elt" / view).iterdir())


NO_YEAR = '[[checks]]\nmodel = "subset"\nnot_null = ["year"]\n'  # Babylon 5 has none


@pytest.fixture
def built(elt, tmp_path):
    """A lake whose Sci-Fi subset was built and published by the packaged job."""
    lake = make_lake(tmp_path, AWKWARD_MOVIES, AWKWARD_RATINGS)
    assert elt("--lake", lake, "run", "--genre", "Sci-Fi").exit_code == 0
    return lake


def test_a_failing_check_leaves_the_view_and_the_final_file_as_they_were(elt, tmp_path, built):
    final = (built / FINAL).read_bytes()
    published = view_of(built, "sci_fi")
    job = job_with(tmp_path, NO_YEAR)
    result = elt("--queries", job, "--lake", built, "run", "--genre", "Sci-Fi")
    assert result.exit_code == 1, result.output
    assert (built / FINAL).read_bytes() == final
    assert view_of(built, "sci_fi") == published
    assert not (built / "export" / "sci_fi").exists() or not any(
        (built / "export" / "sci_fi").iterdir()
    )
    # the candidate is kept for inspection, named in the message
    (candidate,) = [v for v in versions(built, "sci_fi") if f"sci_fi__{v}" != published]
    assert last_line(result) == (
        "Error: 1 build failed its checks and was not published (the views show the versions "
        "before; nothing was exported from them): Sci-Fi (not_null year (1 row); kept as "
        f"movielens_elt.sci_fi__{candidate})"
    )
    assert (built / "tables" / "movielens_elt" / "sci_fi" / candidate).is_dir()
    # the failing row is shown as it is in the table
    assert "build-subset: Sci-Fi failed check not_null year (1 row): 3,Babylon 5,NULL,4.6667,3" in (
        result.stderr
    )


def test_the_json_document_names_the_failed_check_with_its_rows_and_the_passing_ones(
    elt, tmp_path, built
):
    job = job_with(
        tmp_path,
        '[[checks]]\nmodel = "subset"\naccepted_values = { year = [1979] }\n',
    )
    result = elt("--queries", job, "--lake", built, "--json", "run", "--genre", "Sci-Fi")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["status"] == "failed"
    failed = [c for c in document["checks"] if not c["passed"]]
    assert [(c["subject"], c["check"], c["detail"]) for c in failed] == [
        ("Sci-Fi", "accepted_values year", "7 rows")  # 8 films, 1 from 1979, NULL passes
    ]
    assert failed[0]["columns"] == ["movie_id", "title", "year", "avg_rating", "num_ratings"]
    assert len(failed[0]["rows"]) == 5  # at most 5 of the 7
    assert failed[0]["table"].startswith("sci_fi__v")
    passing = {(c["subject"], c["check"]) for c in document["checks"] if c["passed"]}
    assert ("Sci-Fi", "unique movie_id") in passing
    assert ("Sci-Fi", "sql checks/ratings_in_range.sql") in passing
    assert [s["subject"] for s in document["skipped"] if s["step"] in ("export", "move")] == [
        "Sci-Fi",
        "Sci-Fi",
    ]
    assert document["total"]["files"] == 0


def test_a_model_reading_one_that_failed_is_not_built(elt, tmp_path, built):
    final = (built / FINAL).read_bytes()
    job = job_with(tmp_path, '[[checks]]\nmodel = "movie_ratings"\nmin_rows = 1000\n')
    result = elt("--queries", job, "--lake", built, "run", "--genre", "Sci-Fi")
    assert result.exit_code == 1
    assert "build-subset: Sci-Fi skipped, not built: it reads movie_ratings" in result.stderr
    assert not [line for line in result.stderr.splitlines() if "subset [Sci-Fi]" in line]
    assert last_line(result).endswith(
        "movie_ratings (min_rows 1000 (14 rows); kept as movielens_elt.movie_ratings__"
        f"{versions(built, 'movie_ratings')[-1]}); Sci-Fi (not built: it reads movie_ratings)"
    )
    assert (built / FINAL).read_bytes() == final


def test_max_change_compares_with_the_published_version(elt, tmp_path):
    lake = make_lake(tmp_path, AWKWARD_MOVIES, AWKWARD_RATINGS)
    job = job_with(tmp_path, '[[checks]]\nmodel = "movie_ratings"\nmax_change = 0.5\n')
    first = elt("--queries", job, "--lake", lake, "run", "--genre", "Sci-Fi")
    assert first.exit_code == 0, first.output  # nothing published yet: nothing to compare
    # a feed that lost most of its films
    write_csv(lake / "movielens" / "movies" / "movies.csv", ["movieId", "title", "genres"],
              AWKWARD_MOVIES[:4])  # fmt: skip
    result = elt("--queries", job, "--lake", lake, "--json", "run", "--genre", "Sci-Fi")
    assert result.exit_code == 1
    (failed,) = [c for c in json.loads(result.stdout)["checks"] if not c["passed"]]
    assert (failed["check"], failed["detail"]) == (
        "max_change 0.5",
        "4 rows against 14 published, -71%",
    )


def test_a_failed_build_is_built_again_and_failed_candidates_do_not_pile_up(elt, tmp_path, built):
    published = view_of(built, "sci_fi")
    job = job_with(tmp_path, NO_YEAR)
    for _ in range(3):
        result = elt("--queries", job, "--lake", built, "run", "--genre", "Sci-Fi")
        assert result.exit_code == 1
        assert "build-subset: Sci-Fi skipped" not in result.stderr  # not taken for current
    kept = versions(built, "sci_fi")
    assert len(kept) == 2  # the published version and the newest failed one
    assert f"sci_fi__{kept[0]}" == published
    # a check that passes: the next run publishes, keeping the version before, not the failed
    fixed = job_with(tmp_path / "fixed", '[[checks]]\nmodel = "subset"\nnot_null = ["title"]\n')
    result = elt("--queries", fixed, "--lake", built, "run", "--genre", "Sci-Fi")
    assert result.exit_code == 0, result.output
    now = view_of(built, "sci_fi")
    assert now != published
    assert [f"sci_fi__{v}" for v in versions(built, "sci_fi")] == [published, now]


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (
            '[[checks]]\nmodel = "subset"\nnot_null = ["titel"]\n',
            "not_null names column titel, which model subset does not have; did you mean title?",
        ),
        (
            '[[checks]]\nmodel = "subsets"\nmin_rows = 1\n',
            "unknown model 'subsets'; did you mean 'subset'?",
        ),
        (
            '[[checks]]\nmodel = "subset"\n',
            "the check checks nothing: give not_null, unique, accepted_values, min_rows, "
            "max_change or sql",
        ),
        (
            '[[checks]]\nmodel = "subset"\nmax_change = "half"\n',
            "max_change must be a fraction above 0 (at most 10), e.g. 0.5 for a row count "
            "within 50 %",
        ),
        (
            '[[checks]]\nmodel = "subset"\nmax_change = 50\n',
            "max_change must be a fraction above 0 (at most 10), e.g. 0.5 for a row count "
            "within 50 %",
        ),
        (
            '[[checks]]\nmodel = "subset"\naccepted_values = { year = ["1979"] }\n',
            "accepted_values.year must list whole numbers: column year of model subset is INTEGER",
        ),
        (
            '[[checks]]\nmodel = "subset"\naccepted_values = { title = [1] }\n',
            "accepted_values.title must list texts: column title of model subset is VARCHAR",
        ),
        (
            '[[checks]]\nmodel = "ratings"\nmin_rows = 1\n',
            "unknown model 'ratings'; did you mean 'movie_ratings'?; ratings is a source: its "
            "checks (max_age, header, min_rows) go in its [[sources]] table",
        ),
        (
            '[[checks]]\nmodel = "subset"\nunique = "movie_id"\n',
            'unique must be a list of columns, e.g. ["id"]',
        ),
        (
            '[[checks]]\nmodel = "subset"\nnot_nul = ["title"]\n',
            "unknown key 'not_nul' in [[checks]]; did you mean 'not_null'?",
        ),
    ],
)
def test_a_wrong_check_is_refused_before_anything_runs(elt, tmp_path, toml, message):
    job = job_with(tmp_path, toml)
    lines = (job / "job.toml").read_text().splitlines()
    at = max(i for i, line in enumerate(lines) if line.strip() == "[[checks]]") + 1
    for command in (["check"], ["--lake", tmp_path, "run", "--genre", "Sci-Fi"]):
        result = elt("--queries", job, *command)
        assert result.exit_code == 2
        where, said = last_line(result).removeprefix(f"Error: {job / 'job.toml'}:").split(": ", 1)
        assert said == message
        assert at <= int(where) <= len(lines)  # the line of the check or of its key
        key = message.split()[0].split(".")[0]
        if any(line.startswith(f"{key} =") for line in lines[at:]):
            assert lines[int(where) - 1].startswith(f"{key} ="), (where, key)  # the key's line
    assert not (tmp_path / "movielens").exists()


def test_a_check_sql_that_reads_another_table_is_refused(elt, tmp_path):
    job = job_with(
        tmp_path,
        '[[checks]]\nmodel = "subset"\nsql = "checks/odd.sql"\n',
        {"checks/odd.sql": "SELECT movie_id FROM ${database}.movie_ratings WHERE year < 1900\n"},
    )
    result = elt("--queries", job, "check")
    assert result.exit_code == 2
    assert (
        last_line(result)
        == f"Error: {job / 'checks/odd.sql'}:1: a check of subset must read subset"
    )


# -- on Athena ---------------------------------------------------------------------------------


def test_on_athena_a_failing_check_publishes_and_exports_nothing(elt, aws, s3_lake):
    aws.put("movielens/sci_fi/sci_fi-movies.csv", b"the published file\n")
    header = ["rows", *(f"c{i}" for i in range(6))]
    aws.results = [
        ("SELECT genre", [["genre", "films"], ["Sci-Fi", "8"]]),
        # the subset's audit: 8 rows, the second check (not_null title) fails twice
        (
            'SELECT count(*), count_if("movie_id" IS NULL), count_if("title"',
            [header, ["8", "0", "2", "0", "0", "8", "0"]],
        ),  # fmt: skip
        ("SELECT * FROM movielens_elt.sci_fi__", [["movie_id", "title"], ["3", None], ["5", None]]),
    ]
    result = elt("--lake", s3_lake, "--json", "run", "--genre", "Sci-Fi")
    assert result.exit_code == 1, result.output
    sent = aws.queries()
    assert not [q for q in sent if q.startswith("CREATE OR REPLACE VIEW movielens_elt.sci_fi")]
    assert not [q for q in sent if "ORDER BY year DESC" in q]  # no export query
    assert aws.get("movielens/sci_fi/sci_fi-movies.csv") == b"the published file\n"
    (rows_query,) = [q for q in sent if q.startswith("SELECT * FROM movielens_elt.sci_fi__")]
    assert rows_query.endswith('WHERE "title" IS NULL LIMIT 5')
    candidate = rows_query.split()[3].split(".")[1]
    assert aws.glue.get_table(DatabaseName="movielens_elt", Name=candidate)  # kept
    (failed,) = [c for c in json.loads(result.stdout)["checks"] if not c["passed"]]
    assert failed == {
        "subject": "Sci-Fi",
        "table": candidate,
        "check": "not_null title",
        "passed": False,
        "detail": "2 rows",
        "columns": ["movie_id", "title"],
        "rows": [["3", None], ["5", None]],
    }


# -- source checks, before any query ------------------------------------------------------------


def job_with_sources(tmp_path: Path, **ratings: str) -> Path:
    """The packaged job, its ratings source with these keys (TOML values as written)."""
    job = tmp_path / "job"
    shutil.copytree(packaged_queries(), job)
    toml = (job / "job.toml").read_text(encoding="utf-8")
    keys = "".join(f"\n{k} = {v}" for k, v in ratings.items())
    toml = toml.replace(
        'name = "ratings"\nsql = "ratings.sql"', f'name = "ratings"\nsql = "ratings.sql"{keys}'
    )
    (job / "job.toml").write_text(toml, encoding="utf-8")
    return job


def test_a_stale_feed_fails_the_run_before_any_query(elt, tmp_path):
    lake = make_lake(tmp_path, AWKWARD_MOVIES, AWKWARD_RATINGS)
    job = job_with_sources(tmp_path, max_age='"26h"')
    old = __import__("time").time() - 27 * 3600
    for f in (p for p in (lake / "movielens" / "ratings").rglob("*") if p.is_file()):
        __import__("os").utime(f, (old, old))
    result = elt("--queries", job, "--lake", lake, "run", "--genre", "Sci-Fi")
    assert result.exit_code == 1
    assert last_line(result).startswith("Error: source ratings is stale: its newest file, ")
    assert last_line(result).endswith("was written 27.0h ago, more than its max_age of 26h")
    assert not (lake / "_elt").exists() and not (lake / "tables").exists()  # nothing ran
    fresh = __import__("time").time()
    __import__("os").utime(lake / "movielens" / "ratings" / "ratings-1.csv", (fresh, fresh))
    result = elt("--queries", job, "--lake", lake, "--no-progress", "run", "--genre", "Sci-Fi")
    assert result.exit_code == 0, result.output
    assert "sources checked: ratings (newest file " in result.stderr


def test_a_swapped_column_in_any_file_fails_the_run_naming_the_file(elt, tmp_path):
    lake = make_lake(tmp_path, AWKWARD_MOVIES, AWKWARD_RATINGS)
    job = job_with_sources(tmp_path, header="true")
    ok = elt("--queries", job, "--lake", lake, "--no-progress", "run", "--genre", "Sci-Fi")
    assert ok.exit_code == 0, ok.output
    assert "ratings (2 headers as declared)" in ok.stderr  # a plain and a .gz file
    final = (lake / FINAL).read_bytes()
    (gz,) = (lake / "movielens" / "ratings").rglob("*.gz")
    import gzip

    text = gzip.decompress(gz.read_bytes()).decode()
    gz.write_bytes(gzip.compress(text.replace("userId,movieId", "movieId,userId", 1).encode()))
    result = elt("--queries", job, "--lake", lake, "run", "--genre", "Sci-Fi")
    assert result.exit_code == 1
    assert last_line(result) == (
        f"Error: source ratings: {gz} has the header 'movieId,userId,rating,timestamp', not the "
        "declared columns 'userId,movieId,rating,timestamp' (a renamed, added or swapped "
        f"column): fix the file, or the columns in {job / 'ratings.sql'}"
    )
    assert (lake / FINAL).read_bytes() == final


def test_a_short_feed_fails_the_run(elt, tmp_path):
    lake = make_lake(tmp_path, AWKWARD_MOVIES, AWKWARD_RATINGS)
    job = job_with_sources(tmp_path, min_rows=str(len(AWKWARD_RATINGS) + 1))
    result = elt("--queries", job, "--lake", lake, "run", "--genre", "Sci-Fi")
    assert result.exit_code == 1
    assert last_line(result) == (
        f"Error: source ratings has {len(AWKWARD_RATINGS)} rows in 2 file(s) under "
        f"{lake / 'movielens' / 'ratings'}/, fewer than its min_rows of {len(AWKWARD_RATINGS) + 1}"
    )
    job = job_with_sources(tmp_path / "enough", min_rows=str(len(AWKWARD_RATINGS)))
    assert elt("--queries", job, "--lake", lake, "run", "--genre", "Sci-Fi").exit_code == 0


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("max_age", '"26 hours"', 'max_age must be a duration such as "26h", "90m" or "2d"'),
        ("header", '"yes"', "header must be true or false"),
        ("min_rows", "-1", "min_rows must be a whole number, 0 or more"),
    ],
)
def test_a_wrong_source_check_is_refused(elt, tmp_path, key, value, message):
    job = job_with_sources(tmp_path, **{key: value})
    result = elt("--queries", job, "check")
    assert result.exit_code == 2
    assert last_line(result).endswith(f": {message}")
    assert last_line(result).startswith(f"Error: {job / 'job.toml'}:")


def test_on_athena_source_checks_read_s3_and_start_no_query(elt, aws, s3_lake, tmp_path,
                                                           monkeypatch):  # fmt: skip
    job = job_with_sources(tmp_path, max_age='"2d"', header="true", min_rows="1")
    import elt_cli.audit

    later = __import__("time").time() + 3 * 86400
    with monkeypatch.context() as patched:
        patched.setattr(elt_cli.audit.time, "time", lambda: later)  # three days from now
        result = elt("--queries", job, "--lake", s3_lake, "run", "--genre", "Sci-Fi")
    assert result.exit_code == 1, result.output
    assert "Error: source ratings is stale: its newest file, s3://lake/movielens/ratings/" in (
        last_line(result)
    )
    assert aws.queries() == []
    # a swapped header in S3, read from the first bytes of the file only
    aws.put("movielens/ratings/swapped.csv", b"movieId,userId,rating,timestamp\n1,1,4.0,0\n")
    result = elt("--queries", job, "--lake", s3_lake, "run", "--genre", "Sci-Fi")
    assert result.exit_code == 1
    assert last_line(result).startswith(
        "Error: source ratings: s3://lake/movielens/ratings/swapped.csv has the header "
        "'movieId,userId,rating,timestamp'"
    )
    assert aws.queries() == []
    gets = [p for op, p in aws.calls if op == "GetObject" and p["Key"].endswith("swapped.csv")]
    assert gets and all(p.get("Range") == "bytes=0-65535" for p in gets)


def test_on_a_fresh_lake_a_failed_first_build_exports_nothing_and_names_the_check(elt, tmp_path):
    """No version published yet: the failed one is not exported, and the error is its check,
    not a missing table."""
    lake = make_lake(tmp_path, AWKWARD_MOVIES, AWKWARD_RATINGS)
    result = elt("--queries", job_with(tmp_path, NO_YEAR), "--lake", lake, "run", "--genre",
                 "Sci-Fi")  # fmt: skip
    assert result.exit_code == 1
    assert last_line(result).startswith("Error: 1 build failed its checks and was not published")
    assert not (lake / FINAL).exists()
    assert view_of(lake, "sci_fi") is None
