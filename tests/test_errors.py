"""Bad input: one line that says what to fix, exit code 2 (or 1 for a failed step), no change."""

from __future__ import annotations

import shutil

import pytest
from conftest import snapshot

from elt_cli.templates import packaged_queries


def last_line(result) -> str:
    return result.stderr.strip().splitlines()[-1]


def assert_unchanged_error(elt, lake, args, code, message):
    before = snapshot(lake)
    result = elt("--lake", lake, *args)
    assert result.exit_code == code, result.output
    assert last_line(result) == message
    assert "Traceback" not in result.output
    assert snapshot(lake) == before


@pytest.mark.parametrize("name", ["Bad-Name", "1db", "_db", "drop table", "db;--", "a" * 129, ""])
def test_invalid_database_name(elt, awkward_lake, name):
    assert_unchanged_error(
        elt,
        awkward_lake,
        ["--database", name, "run", "--genre", "Sci-Fi"],
        2,
        f"Error: invalid database name {name!r}: use lower-case letters, digits and _, "
        "starting with a letter, at most 128 characters (see `elt --help`)",
    )


def test_missing_lake(elt, tmp_path):
    result = elt("--lake", tmp_path / "nowhere", "run", "--genre", "Sci-Fi")
    assert result.exit_code == 2
    assert last_line(result) == (
        f"Error: lake folder {tmp_path / 'nowhere'} does not exist: "
        "run `elt sample-data` or give --lake"
    )
    assert not (tmp_path / "nowhere").exists()


def test_lake_that_is_a_file(elt, tmp_path):
    (tmp_path / "lake.txt").write_text("x")
    result = elt("--lake", tmp_path / "lake.txt", "ensure-db")
    assert result.exit_code == 2
    assert "is a file, not a folder" in last_line(result)


def test_missing_raw_data_folder(elt, awkward_lake):
    shutil.rmtree(awkward_lake / "movielens" / "ratings")
    assert_unchanged_error(
        elt,
        awkward_lake,
        ["run", "--genre", "Sci-Fi"],
        2,
        f"Error: no raw ratings files under {awkward_lake}/movielens/ratings/: "
        "check --lake and --source-prefix, or run `elt sample-data`",
    )


def test_wrong_source_prefix(elt, awkward_lake):
    result = elt("--lake", awkward_lake, "--source-prefix", "ml25m", "create-tables")
    assert result.exit_code == 2
    assert last_line(result).startswith(f"Error: no raw movies files under {awkward_lake}/ml25m/")


def test_source_prefix_overlapping_owned_prefixes(elt, awkward_lake):
    assert_unchanged_error(
        elt,
        awkward_lake,
        ["--source-prefix", "export/raw", "run", "--genre", "Sci-Fi"],
        2,
        "Error: source prefix 'export/raw' overlaps export/, where elt writes (see `elt --help`)",
    )


def test_missing_sql_template(elt, awkward_lake, tmp_path):
    queries = tmp_path / "my-queries"
    shutil.copytree(packaged_queries(), queries)
    (queries / "build_subset.sql").unlink()
    assert_unchanged_error(
        elt,
        awkward_lake,
        ["--queries", queries, "run", "--genre", "Sci-Fi"],
        2,
        f"Error: SQL template build_subset.sql is missing from {queries}",
    )


def test_template_with_unknown_placeholder(elt, awkward_lake, tmp_path):
    queries = tmp_path / "my-queries"
    shutil.copytree(packaged_queries(), queries)
    path = queries / "export_subset.sql"
    path.write_text(path.read_text() + "LIMIT ${limit}\n")
    assert_unchanged_error(
        elt,
        awkward_lake,
        ["--queries", queries, "run", "--genre", "Sci-Fi"],
        2,
        f"Error: SQL template {path} uses unknown placeholder(s) ${{limit}}; "
        "known: ${database}, ${table}, ${location}, ${genre}",
    )


def test_template_the_local_engine_cannot_read(elt, awkward_lake, tmp_path):
    queries = tmp_path / "my-queries"
    shutil.copytree(packaged_queries(), queries)
    (queries / "export_subset.sql").write_text("SELEKT * FROM ${database}.${table}\n")
    before = snapshot(awkward_lake)
    result = elt("--lake", awkward_lake, "--queries", queries, "run", "--genre", "Sci-Fi")
    assert result.exit_code == 2
    assert last_line(result).startswith("Error: SQL template export_subset.sql cannot be parsed")
    assert snapshot(awkward_lake) == before


def test_unknown_genre_lists_the_genres_that_exist(elt, awkward_lake):
    result = elt("--lake", awkward_lake, "run", "--genre", "Scifi")
    assert result.exit_code == 1
    assert last_line(result) == (
        "Error: no films with genre 'Scifi'; genres in the data: (no genres listed) (1), "
        "Action (1), Animation (1), Comedy (4), Documentary (1), Drama (5), Fantasy (1), "
        "Horror (1), IMAX (1), Romance (1), Sci-Fi (10), Sci-Fi-Fantasy (1), War (2), "
        "comedy (1), sci-fi (1)"
    )
    assert not (awkward_lake / "movielens" / "scifi").exists()


@pytest.mark.parametrize(
    ("genre", "message"),
    [
        ("!!!", "Error: invalid genre '!!!': it needs at least one letter or digit"),
        ("3D", "Error: genre '3D' gives table name '3d', which must not start with a digit"),
        ("Movies", "Error: genre 'Movies' would overwrite the raw movies table"),
        (
            "x" * 300,
            "Error: invalid genre '" + "x" * 300 + "': give a genre name of 1 to 256 characters",
        ),
    ],
)
def test_genres_that_cannot_name_a_table(elt, awkward_lake, genre, message):
    assert_unchanged_error(elt, awkward_lake, ["run", "--genre", genre], 2, message)


def test_genre_is_required(elt, awkward_lake):
    result = elt("--lake", awkward_lake, "build-subset")
    assert result.exit_code == 2
    assert last_line(result) == ("Error: Missing option '--genre'. (see `elt build-subset --help`)")


def test_steps_out_of_order_say_what_to_run(elt, awkward_lake):
    result = elt("--lake", awkward_lake, "create-tables")
    assert result.exit_code == 1
    assert last_line(result) == (
        "Error: create-tables failed: database movielens_elt does not "
        "exist: run `elt ensure-db` first"
    )
    elt("--lake", awkward_lake, "ensure-db")
    result = elt("--lake", awkward_lake, "move", "--genre", "Sci-Fi")
    assert result.exit_code == 1
    assert last_line(result) == (
        f"Error: move failed: expected one export file under {awkward_lake}/export/sci_fi/, "
        "found nothing: run `elt export --genre 'Sci-Fi'` first"
    )


def test_bad_config_file(elt, awkward_lake, tmp_path):
    (tmp_path / "elt.toml").write_text('lake = "x"\ncolour = "blue"\n')
    result = elt("ensure-db")
    assert result.exit_code == 2
    assert last_line(result).startswith(
        "Error: Invalid value for '--config': config file elt.toml: unknown key(s) colour;"
    )


def test_sample_data_keeps_existing_raw_data(elt, awkward_lake):
    before = snapshot(awkward_lake)
    result = elt("--lake", awkward_lake, "sample-data")
    assert result.exit_code == 2
    assert last_line(result).startswith("Error: raw data is already there (")
    assert snapshot(awkward_lake) == before


@pytest.mark.parametrize("option", ["--timeout", "--poll-max"])
def test_non_positive_durations_are_refused(elt, awkward_lake, option):
    result = elt("--lake", awkward_lake, option, "0", "ensure-db")
    assert result.exit_code == 2
    assert last_line(result).startswith(f"Error: Invalid value for '{option}': 0.0 is not in")
    assert not (awkward_lake / "_elt").exists()
