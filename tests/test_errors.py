"""Bad input: one line that says what to fix, exit code 2 (or 1 for a failed step), no change."""

from __future__ import annotations

import shutil

import pytest
from support import last_line
from support.data import snapshot


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
        f"Error: lake folder {tmp_path / 'nowhere'} does not exist: give the right --lake, or "
        f"write sample data there with `elt --lake {tmp_path / 'nowhere'} sample-data`"
    )
    assert not (tmp_path / "nowhere").exists()


def test_an_empty_lake_folder_is_refused_and_left_empty(elt, tmp_path):
    (tmp_path / "lake").mkdir()
    result = elt("--lake", tmp_path / "lake", "run", "--genre", "Sci-Fi")
    assert result.exit_code == 2
    assert last_line(result).startswith(f"Error: no raw movies files under {tmp_path}/lake/")
    assert list((tmp_path / "lake").iterdir()) == []


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


@pytest.mark.parametrize(
    ("genre", "message"),
    [
        ("Sci-fy", "Error: no films with genre 'Sci-fy'. Did you mean 'Sci-Fi'?"),
        ("comdy", "Error: no films with genre 'comdy'. Did you mean 'Comedy'?"),
        ("Westerns", "Error: no films with genre 'Westerns'; `elt values genre` lists the genres "
         "in the data"),
    ],
)  # fmt: skip
def test_a_mistyped_genre_is_refused_before_anything_changes(elt, awkward_lake, genre, message):
    assert elt("--lake", awkward_lake, "run", "--genre", "Sci-Fi").exit_code == 0
    before = {k: v for k, v in snapshot(awkward_lake).items() if "run.json" not in k}
    result = elt("--lake", awkward_lake, "run", "--genre", "Comedy", "--genre", genre)
    assert result.exit_code == 2
    assert last_line(result) == message
    assert {k: v for k, v in snapshot(awkward_lake).items() if "run.json" not in k} == before
    assert "create-tables" not in result.stderr  # nothing was dropped and made again


def test_a_mistyped_genre_on_a_fresh_lake_builds_no_subset(elt, awkward_lake):
    """On a fresh lake the genres are known once the films are built (the one scan of the raw
    files, which any genre needs): the mistyped genre gets no table and no file, and the
    next run does not scan the raw files again."""
    result = elt("--lake", awkward_lake, "run", "--genre", "Sci-fy")
    assert result.exit_code == 2
    assert last_line(result) == "Error: no films with genre 'Sci-fy'. Did you mean 'Sci-Fi'?"
    assert sorted(p.name for p in (awkward_lake / "tables/movielens_elt").iterdir()) == [
        "movie_ratings"
    ]
    assert (
        not (awkward_lake / "export").exists() and not (awkward_lake / "movielens/sci_fy").exists()
    )
    result = elt("--lake", awkward_lake, "run", "--genre", "Sci-Fi")
    assert result.exit_code == 0, result.output
    assert "movie_ratings skipped, SQL and inputs unchanged" in result.stderr


@pytest.mark.parametrize(
    ("genre", "message"),
    [
        ("!!!", "Error: invalid genre '!!!': it needs at least one letter or digit"),
        ("3D", "Error: genre '3D' gives table name '3d', which must not start with a digit"),
        ("Movies", "Error: genre 'Movies' would overwrite the raw movies table"),
        (
            "x" * 300,
            "Error: invalid genre '" + "x" * 300 + "': give a genre of 1 to 256 characters",
        ),
    ],
)
def test_genres_that_cannot_name_a_table(elt, awkward_lake, genre, message):
    assert_unchanged_error(elt, awkward_lake, ["run", "--genre", genre], 2, message)


def test_genre_is_required(elt, awkward_lake):
    result = elt("--lake", awkward_lake, "build-subset")
    assert result.exit_code == 2
    assert last_line(result) == "Error: give at least one --genre, e.g. --genre Sci-Fi"


def test_steps_out_of_order_say_what_to_run(elt, awkward_lake):
    expected = [
        (["create-tables"], "create-tables failed: database movielens_elt does not exist: run "
         "`elt ensure-db` first"),
        (["ensure-db"], None),
        (["build-subset", "--genre", "Sci-Fi"], "build-subset failed: the raw tables are not "
         "there: run `elt create-tables`"),
        (["create-tables"], None),
        (["export", "--genre", "Sci-Fi"], "export failed: the Sci-Fi subset is not built: run "
         "`elt build-subset --genre Sci-Fi` first"),
        (["move", "--genre", "(no genres listed)"], "move failed: expected one export file "
         f"under {awkward_lake}/export/no_genres_listed/, found nothing: run `elt export "
         "--genre '(no genres listed)'` first"),
    ]  # fmt: skip
    for args, message in expected:
        result = elt("--lake", awkward_lake, *args)
        if message is None:
            assert result.exit_code == 0, result.output
        else:
            assert (result.exit_code, last_line(result)) == (1, f"Error: {message}")


def test_bad_config_file(elt, awkward_lake, tmp_path):
    (tmp_path / "elt.toml").write_text('lake = "x"\ncolour = "blue"\n')
    result = elt("ensure-db")
    assert result.exit_code == 2
    assert last_line(result) == (
        "Error: elt.toml: unknown setting 'colour'; known: engine, lake, database, "
        "source_prefix, results, workgroup, region, profile, queries, timeout, queue_timeout, "
        "retries, max_concurrent, max_scan, poll_max, wait_lock, lock_lease"
    )


@pytest.mark.parametrize(
    ("toml", "env", "message"),
    [
        ('databse = "x"\n', {}, "Error: elt.toml: unknown setting 'databse'; did you mean "
         "'database'?"),
        ('timeout = "fast"\n', {}, 'Error: elt.toml: timeout = "fast" is not a number'),
        ("poll_max = -1\n", {}, "Error: elt.toml: poll_max = -1 is not in the range x>0"),
        ("", {"ELT_TIMEOUT": "abc"}, "Error: ELT_TIMEOUT=abc is not a number"),
        ("", {"ELT_WAIT_LOCK": "-5"}, "Error: ELT_WAIT_LOCK=-5 is not in the range x>=0"),
    ],
)  # fmt: skip
def test_a_bad_setting_is_named_by_where_it_came_from(
    elt, awkward_lake, tmp_path, toml, env, message
):
    (tmp_path / "elt.toml").write_text(toml)
    before = snapshot(awkward_lake)
    result = elt("--lake", awkward_lake, "ensure-db", env=env)
    assert (result.exit_code, last_line(result)) == (2, message)
    assert snapshot(awkward_lake) == before


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


def test_two_genres_with_one_slug_are_refused(elt, awkward_lake):
    """Sci-Fi and sci-fi are one genre (matched case-insensitively), one table; Sci-Fi and
    Sci Fi are two genres that would write one table and one file."""
    assert_unchanged_error(
        elt,
        awkward_lake,
        ["run", "--genre", "Sci-Fi", "--genre", "Sci Fi"],
        2,
        "Error: genre 'Sci-Fi' and genre 'Sci Fi' would be one table and one file, sci_fi: "
        "give one of them",
    )
    result = elt("--lake", awkward_lake, "run", "--genre", "Sci-Fi", "--genre", "sci-fi")
    assert result.exit_code == 0, result.output
    assert len(result.stdout.split()) == 1
