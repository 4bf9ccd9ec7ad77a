"""The workflow on the embedded engine: outputs against the contract of docs/DESIGN.md."""

from __future__ import annotations

import json
import re
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from support import FINAL
from support.data import (
    AWKWARD_MOVIES,
    AWKWARD_RATINGS,
    MOVIES_HEADER,
    RATINGS_HEADER,
    expected_subset,
    make_lake,
    read_output,
    snapshot,
    write_csv,
)
from support.processes import elt_process

from elt_cli.templates import packaged_queries


def test_run_handles_every_awkward_input(elt, awkward_lake):
    result = elt("--lake", awkward_lake, "run", "--genre", "Sci-Fi")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(awkward_lake / FINAL)
    rows = read_output(awkward_lake / FINAL)
    by_id = {r["movie_id"]: r for r in rows}
    # quoted comma, doubled quotes, no year, year range, trailing space, non-ASCII
    assert by_id[1]["title"] == "American President, The" and by_id[1]["year"] == 1995
    assert by_id[2]["title"] == 'Dr. "Strangelove" Returns' and by_id[2]["year"] == 1964
    assert by_id[3]["title"] == "Babylon 5" and by_id[3]["year"] is None
    assert by_id[4]["title"] == "Battlestar Galactica" and by_id[4]["year"] == 2003
    assert by_id[5]["title"] == "Stranger Things" and by_id[5]["year"] == 2016
    assert by_id[6]["title"] == "Amélie Poulain en Orbite"
    assert by_id[7]["title"] == "攻殻機動隊"
    # half stars count; ratings from the plain and the .gz file are both read
    assert by_id[3]["avg_rating"] == Decimal("4.6667") and by_id[3]["num_ratings"] == 3
    assert by_id[5]["avg_rating"] == Decimal("2.75")
    # two films with one title stay two rows, ordered by movie_id
    assert [(r["movie_id"], r["avg_rating"]) for r in rows if r["title"] == "Alien"] == [
        (9, Decimal("3.75")),
        (10, Decimal("1.0")),
    ]
    # whole genre names, case-insensitive: a "Sci-Fi" title or "Sci-Fi-Fantasy" genre is not in
    assert 14 in by_id and 8 not in by_id and 15 not in by_id
    # unrated films are left out; ratings of unknown films change nothing
    assert 11 not in by_id and 99 not in by_id
    # year descending, films without a year last
    assert rows[-1]["movie_id"] == 3
    assert rows == expected_subset(awkward_lake, "Sci-Fi")


def test_output_file_is_standard_csv(elt, awkward_lake):
    elt("--lake", awkward_lake, "run", "--genre", "Sci-Fi")
    raw = (awkward_lake / FINAL).read_bytes()
    assert raw.startswith(b"movie_id,title,year,avg_rating,num_ratings\n")
    assert b'1,"American President, The",1995,3.75,2\n' in raw
    assert b'2,"Dr. ""Strangelove"" Returns",1964,0.5,1\n' in raw
    assert b"\n3,Babylon 5,,4.6667,3\n" in raw
    raw.decode("utf-8")


def test_no_genres_listed_is_a_genre(elt, awkward_lake):
    result = elt("--lake", awkward_lake, "run", "--genre", "(no genres listed)")
    assert result.exit_code == 0, result.output
    rows = read_output(awkward_lake / "movielens/no_genres_listed/no_genres_listed-movies.csv")
    assert [(r["movie_id"], r["title"]) for r in rows] == [(13, "Nothing To See")]


def test_matches_independent_computation_on_sample_data(elt, tmp_path):
    lake = tmp_path / "lake"
    assert (
        elt(
            "--lake", lake, "sample-data", "--ratings", "20000", "--movies", "1500", "--seed", "7"
        ).exit_code
        == 0
    )
    genres = ["Sci-Fi", "Comedy", "Film-Noir", "(no genres listed)"]
    result = elt("--lake", lake, "run", *[a for g in genres for a in ("--genre", g)])
    assert result.exit_code == 0, result.output
    for genre, slug in zip(
        genres, ["sci_fi", "comedy", "film_noir", "no_genres_listed"], strict=True
    ):
        rows = read_output(lake / "movielens" / slug / f"{slug}-movies.csv")
        assert rows, genre
        assert rows == expected_subset(lake, genre)


@pytest.mark.slow
def test_steps_one_by_one_in_separate_processes_equal_run(tmp_path):
    one = make_lake(tmp_path / "one", AWKWARD_MOVIES, [(1, 1, 4.0), (1, 3, 3.5), (2, 9, 2.0)])
    two = tmp_path / "two"
    shutil.copytree(one, two)
    for step in (
        ["ensure-db"],
        ["create-tables"],
        ["build-subset", "--genre", "Sci-Fi"],
        ["export", "--genre", "Sci-Fi"],
        ["move", "--genre", "Sci-Fi"],
    ):
        done = elt_process("--lake", one, *step, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
    done = elt_process("--lake", two, "run", "--genre", "Sci-Fi", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (one / FINAL).read_bytes() == (two / FINAL).read_bytes()
    assert len(read_output(one / FINAL)) == 3


def test_two_runs_in_a_row_give_the_same_files(elt, awkward_lake):
    elt("--lake", awkward_lake, "run", "--genre", "Sci-Fi")
    first = snapshot(awkward_lake)
    result = elt("--lake", awkward_lake, "run", "--genre", "Sci-Fi")
    assert result.exit_code == 0, result.output
    second = snapshot(awkward_lake)
    assert second[FINAL] == first[FINAL]
    tables = lambda snap: [k for k in snap if k.startswith("tables/")]  # noqa: E731
    # one version of each table (movie_ratings, sci_fi): the second run rebuilt nothing
    assert tables(first) == tables(second) and len(tables(second)) == 2
    assert not [k for k in second if k.startswith("export/")]  # moved, not copied


def test_rerun_rebuilds_the_subset_with_current_data(elt, tmp_path):
    lake = make_lake(tmp_path / "lake", AWKWARD_MOVIES, [(1, 9, 4.0)])
    elt("--lake", lake, "run", "--genre", "Sci-Fi")
    assert [r["movie_id"] for r in read_output(lake / FINAL)] == [9]
    make_lake(lake, AWKWARD_MOVIES, [(1, 9, 4.0), (1, 1, 2.0), (1, 1, 3.0)])
    assert elt("--lake", lake, "run", "--genre", "Sci-Fi").exit_code == 0
    rows = read_output(lake / FINAL)
    assert [(r["movie_id"], r["avg_rating"]) for r in rows] == [
        (1, Decimal("2.5")),
        (9, Decimal("4.0")),
    ]


def test_several_genres_in_one_run(elt, awkward_lake):
    result = elt(
        "--lake", awkward_lake, "run", "--genre", "Sci-Fi", "--genre", "comedy", "--genre", "Sci-Fi"
    )
    assert result.exit_code == 0, result.output
    comedy = read_output(awkward_lake / "movielens/comedy/comedy-movies.csv")
    assert {r["movie_id"] for r in comedy} == {1, 2, 6, 14, 15}
    assert comedy == expected_subset(awkward_lake, "Comedy")
    assert read_output(awkward_lake / FINAL) == expected_subset(awkward_lake, "Sci-Fi")


def test_ensure_db_says_which_branch_it_took(elt, awkward_lake):
    first = elt("--lake", awkward_lake, "ensure-db")
    second = elt("--lake", awkward_lake, "ensure-db")
    assert first.stdout == "database movielens_elt was missing: created\n"
    assert second.stdout == "database movielens_elt exists: left as it is\n"


def test_genres_lists_films_per_genre(elt, awkward_lake):
    """The rated films of each genre, as the data spells it: the films a subset can hold
    (Never Rated, a Sci-Fi film, is not counted)."""
    elt("--lake", awkward_lake, "ensure-db")
    elt("--lake", awkward_lake, "create-tables")
    result = elt("--lake", awkward_lake, "genres")
    assert "Sci-Fi\t9\n" in result.stdout and "sci-fi\t1\n" in result.stdout
    assert "(no genres listed)\t1\n" in result.stdout


def test_genres_are_checked_before_the_build_only_from_a_current_movie_ratings(
    elt, awkward_lake, tmp_path
):
    """A current movie_ratings answers the genre check before anything changes; a stale one
    (its SQL changed) is not read for that: the build checks the genres once it has rebuilt
    movie_ratings, so the raw files are not read twice."""
    assert elt("--lake", awkward_lake, "run", "--genre", "Sci-Fi").exit_code == 0
    result = elt("--lake", awkward_lake, "run", "--genre", "Comedy")
    assert result.exit_code == 0, result.output
    # the genres the last listing gave from this movie_ratings: no query at all
    assert re.search(r" check: done in \d\.\ds - \d+ genres in the data", result.stderr)
    assert ": list_genres " not in result.stderr
    queries = tmp_path / "queries"
    shutil.copytree(packaged_queries(), queries)
    sql = queries / "movie_ratings.sql"
    sql.write_text(
        sql.read_text().replace("GROUP BY movieId", "WHERE rating >= 0 GROUP BY movieId")
    )
    result = elt("--lake", awkward_lake, "--queries", queries, "run", "--genre", "Drama")
    assert result.exit_code == 0, result.output
    assert " check:" not in result.stderr
    assert " build-subset: movie_ratings SUCCEEDED" in result.stderr
    assert " build-subset: list_genres SUCCEEDED" in result.stderr


def test_genres_lists_what_the_raw_files_hold_now_not_the_last_build(elt, awkward_lake):
    """New raw files since the last run: movie_ratings is built but stale. `elt genres` lists
    the genres of the data as it is now (the new Zombie film), and changes nothing."""
    assert elt("--lake", awkward_lake, "run", "--genre", "Sci-Fi").exit_code == 0
    raw = awkward_lake / "movielens"
    write_csv(raw / "movies" / "extra.csv", MOVIES_HEADER, [(9001, "Undead (2001)", "Zombie")])
    write_csv(raw / "ratings" / "extra.csv", RATINGS_HEADER, [(7, 9001, "4.5", 1_700_000_000)])
    before = snapshot(awkward_lake)
    result = elt("--lake", awkward_lake, "genres")
    assert result.exit_code == 0, result.output
    assert "Zombie\t1\n" in result.stdout and "Sci-Fi\t9\n" in result.stdout
    assert snapshot(awkward_lake) == before
    result = elt("--lake", awkward_lake, "run", "--genre", "Zombie")
    assert result.exit_code == 0, result.output
    assert [r["movie_id"] for r in read_output(Path(result.stdout.split()[0]))] == [9001]


@pytest.mark.parametrize("genre", ["Sci'Fi", "x') OR 1=1 --", "Sci-Fi'; DROP TABLE movies; --"])
def test_genre_values_are_literal_text_not_sql(elt, tmp_path, genre):
    """Films whose genre is the hostile text are found, and only they: were the value pasted
    into the SQL, `x') OR 1=1 --` would match every film, and the others would not parse."""
    movies = [*AWKWARD_MOVIES, (20, "Hostile (2020)", f"Drama|{genre}")]
    lake = make_lake(tmp_path / "lake", movies, [(1, 20, 4.0), (1, 1, 3.0), (1, 9, 2.0)])
    result = elt("--lake", lake, "run", "--genre", genre)
    assert result.exit_code == 0, result.output
    (final,) = result.stdout.split()
    assert [r["movie_id"] for r in read_output(Path(final))] == [20]
    assert read_output(Path(final)) == expected_subset(lake, genre)
    assert elt("--lake", lake, "run", "--genre", "Sci-Fi").exit_code == 0  # tables intact


@pytest.mark.parametrize(
    ("ratings", "average"),
    [
        # 559 / 160 = 3.49375 exactly; the double nearest to it lies just below, so
        # round(avg(), 4) would give 3.4937
        ([3.5] * 158 + [3.0] * 2, "3.4938"),
        ([4.5] * 79 + [5.0], "4.50625"),  # 360.5 / 80 = 4.50625: the 5 is in the fifth place
        ([1.0] * 159 + [0.5], "0.99688"),  # 159.5 / 160 = 0.996875
        ([2.0, 2.5, 2.5, 2.5], "2.375"),  # exact, nothing to round
    ],
)
def test_average_rounds_exact_ties_half_up(elt, tmp_path, ratings, average):
    lake = make_lake(tmp_path / "lake", AWKWARD_MOVIES, [(u, 9, r) for u, r in enumerate(ratings)])
    assert elt("--lake", lake, "run", "--genre", "Sci-Fi").exit_code == 0
    (row,) = read_output(lake / FINAL)
    expected = Decimal(average).quantize(Decimal("0.0001"), rounding="ROUND_HALF_UP")
    assert row["avg_rating"] == expected and row["num_ratings"] == len(ratings)
    assert [row] == expected_subset(lake, "Sci-Fi")


def test_rerun_with_unchanged_raw_files_and_sql_skips_the_build(elt, awkward_lake):
    unchanged = "skipped, SQL and inputs unchanged since its build"
    elt("--lake", awkward_lake, "run", "--genre", "Sci-Fi", "--genre", "Comedy")
    first = snapshot(awkward_lake)
    result = elt("--lake", awkward_lake, "run", "--genre", "Sci-Fi", "--genre", "Comedy")
    assert result.exit_code == 0, result.output
    for built in ("movie_ratings", "Sci-Fi", "Comedy"):
        assert f"build-subset: {built} {unchanged}" in result.stderr
    build_log = result.stderr.split("build-subset: started")[1].split("export: started")[0]
    assert "SUCCEEDED" not in build_log  # no query built anything
    assert {k: v for k, v in snapshot(awkward_lake).items() if "run.json" not in k} == {
        k: v for k, v in first.items() if "run.json" not in k
    }
    # per model: a genre never built is built, from the films already there
    result = elt("--lake", awkward_lake, "run", "--genre", "Sci-Fi", "--genre", "Horror")
    assert "subset [Horror] SUCCEEDED" in result.stderr
    assert f"build-subset: movie_ratings {unchanged}" in result.stderr
    assert f"build-subset: Sci-Fi {unchanged}" in result.stderr
    # a subset table that went missing is built again
    catalog = awkward_lake / "_elt/movielens_elt/catalog.json"
    tables = json.loads(catalog.read_text())
    del tables["tables"]["sci_fi"]
    catalog.write_text(json.dumps(tables))
    result = elt("--lake", awkward_lake, "run", "--genre", "Sci-Fi")
    assert "subset [Sci-Fi] SUCCEEDED" in result.stderr
    assert "movie_ratings SUCCEEDED" not in result.stderr
    assert read_output(awkward_lake / FINAL) == expected_subset(awkward_lake, "Sci-Fi")
    # new raw files: both models are built again, and the output has the new rating
    before = read_output(awkward_lake / FINAL)
    make_lake(awkward_lake, AWKWARD_MOVIES, [*AWKWARD_RATINGS, (99, 2, 4.5)])
    result = elt("--lake", awkward_lake, "run", "--genre", "Sci-Fi")
    assert "movie_ratings SUCCEEDED" in result.stderr
    assert "subset [Sci-Fi] SUCCEEDED" in result.stderr
    after = read_output(awkward_lake / FINAL)
    assert after == expected_subset(awkward_lake, "Sci-Fi") and after != before


def test_the_movielens_csvs_are_byte_for_byte_those_before_jobs(elt, awkward_lake):
    """tests/references/ holds the files elt wrote for the awkward data before the job became
    data (commit ee1ff38, one CTAS per genre over the raw files): movie_ratings and the
    subsets cut from it must write the very same bytes."""
    genres = ["Sci-Fi", "Comedy", "(no genres listed)", "Drama", "sci-fi"]
    result = elt("--lake", awkward_lake, "run", *[a for g in genres for a in ("--genre", g)])
    assert result.exit_code == 0, result.output
    references = sorted((Path(__file__).parent / "references").glob("*-movies.csv"))
    assert len(references) == 4  # Sci-Fi and sci-fi are one genre, one file
    for reference in references:
        slug = reference.name.removesuffix("-movies.csv")
        assert (awkward_lake / "movielens" / slug / reference.name).read_bytes() == (
            reference.read_bytes()
        ), slug


def test_a_build_writes_parquet_with_the_codec_its_ctas_names(elt, tmp_path):
    """elt's CTAS says write_compression = 'ZSTD' (Athena's default would be GZIP): the local
    build writes what Athena would, column chunks in ZSTD."""
    import duckdb

    lake = make_lake(tmp_path, AWKWARD_MOVIES, AWKWARD_RATINGS)
    assert elt("--lake", lake, "run", "--genre", "Sci-Fi").exit_code == 0
    for parquet in (lake / "tables").rglob("*.parquet"):
        codecs = duckdb.sql(
            f"SELECT DISTINCT compression FROM parquet_metadata('{parquet}')"
        ).fetchall()
        assert codecs == [("ZSTD",)], parquet


def test_values_that_finds_none_says_so_and_where_it_looked(elt, tmp_path):
    lake = make_lake(tmp_path, [], [])  # headers only
    result = elt("--lake", lake, "values", "genre")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert result.stderr.splitlines()[-2].endswith(
        f"no genres found: {packaged_queries() / 'genres.sql'} gave no rows from "
        f"movielens_elt.movie_ratings (raw files under {lake / 'movielens' / 'movies'}/, "
        f"{lake / 'movielens' / 'ratings'}/); check --lake and --source-prefix, or the data"
    )
