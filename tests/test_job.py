"""Jobs as data: job.toml and its SQL checked before anything runs (`elt check`), every error
naming its file and line; rendering that keeps user values out of SQL; where elt may delete."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from support import last_line
from support.data import snapshot

from elt_cli.errors import BadInput
from elt_cli.layout import Layout
from elt_cli.templates import identifier, packaged_queries, render, slug, sql_string

WEBSHOP = Path(__file__).parent.parent / "examples" / "webshop"


@pytest.mark.parametrize("folder", [packaged_queries(), WEBSHOP], ids=["movielens", "webshop"])
def test_both_jobs_check(elt, folder):
    """Every file parses as Athena SQL, translates for the local engine, every table and
    placeholder resolves."""
    result = elt("--queries", folder, "check")
    assert result.exit_code == 0, result.output
    assert (
        result.stdout.splitlines()[0]
        == f"job {folder.name if folder == WEBSHOP else 'movielens'} in {folder}: OK"
    )


def test_check_says_what_the_job_is(elt):
    result = elt("--queries", WEBSHOP, "check")
    assert result.stdout.splitlines()[1:] == [
        "  sources:    orders, customers",
        "  parameters: --country (repeatable)",
        "  models:     customer_totals -> country_customers (per country)",
        "  exports:    {source_prefix}/reports/{country_slug}/customers.csv",
    ]


@pytest.fixture
def job(tmp_path):
    """A copy of the MovieLens job to break."""
    folder = tmp_path / "job"
    shutil.copytree(packaged_queries(), folder)
    return folder


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, (path, old)
    path.write_text(text.replace(old, new))


PATH_FILE, PATH = "job.toml", 'path = "{source_prefix}/{genre_slug}/{genre_slug}-movies.csv"'

BROKEN = [
    (  # an unknown key, with the close one
        "job.toml", 'sql = "subset.sql"', 'sqll = "subset.sql"',
        "job.toml:{line}: unknown key 'sqll' in [[models]]; did you mean 'sql'?",
        'sqll = "subset.sql"',
    ),
    (
        "job.toml", 'per = "genre"', 'per = "genres"',
        "job.toml:{line}: unknown parameter 'genres'; did you mean 'genre'?", 'per = "genres"',
    ),
    (
        "job.toml", 'sql = "movie_ratings.sql"', 'sql = "movie_rating.sql"',
        "job.toml:{line}: no SQL file movie_rating.sql in {folder}", 'sql = "movie_rating.sql"',
    ),
    (
        "job.toml", 'path = "{source_prefix}/{genre_slug}/{genre_slug}-movies.csv"',
        'path = "{source_prefix}/all-movies.csv"',
        "job.toml:{line}: the path must hold {{genre_slug}}: one file per genre", "path = ",
    ),
    (
        "job.toml", 'path = "{source_prefix}/{genre_slug}/{genre_slug}-movies.csv"',
        'path = "export/{genre_slug}.csv"',
        "job.toml:{line}: path 'export/{{genre_slug}}.csv' must be a path inside the lake, out "
        "of the folders elt writes to (tables, export, _elt, athena-results)", "path = ",
    ),
    (
        "job.toml", 'path = "{source_prefix}/{genre_slug}/{genre_slug}-movies.csv"',
        'path = "{source_prefix}/{genre_name}.csv"',
        "job.toml:{line}: unknown {{genre_name}} in path (here: {{database}}, {{genre_slug}}, "
        "{{source_prefix}})", "path = ",
    ),
    (  # a table that is neither a source nor a model
        "subset.sql", "${database}.movie_ratings", "${database}.movie_rating",
        "subset.sql:{line}: unknown table 'movie_rating'; did you mean 'movie_ratings'?",
        "movie_rating",
    ),
    (
        "subset.sql", "FROM ${database}.movie_ratings", "FROM movie_ratings",
        "subset.sql:{line}: write ${{database}}.movie_ratings: the job's tables are read with "
        "their database", "FROM movie_ratings",
    ),
    (  # a placeholder no one gives a value
        "export.sql", "ORDER BY year DESC", "ORDER BY ${order} DESC",
        "export.sql:{line}: unknown placeholder ${{order}} (here: ${{database}}, ${{genre}}; to "
        "write ${{order}} itself, as in a regexp_replace named group, write $${{order}})",
        "${order}",
    ),
    (  # a parameter in a model that is not built per it
        "movie_ratings.sql", ") AS r ON r.movieId = m.movieId",
        ") AS r ON r.movieId = m.movieId\nWHERE m.genres = ${genre}",
        'movie_ratings.sql:{line}: ${{genre}} is a parameter this file is not built per (give '
        'per = "genre")', "${genre}",
    ),
    (  # models reading each other
        "movie_ratings.sql", ") AS r ON r.movieId = m.movieId",
        ") AS r ON r.movieId = m.movieId JOIN ${database}.subset AS s ON s.movie_id = m.movieId",
        "movie_ratings.sql:{line}: movie_ratings reads subset, which is built per genre; make "
        "movie_ratings per genre too", "subset",
    ),
    (
        "subset.sql", "FROM ${database}.movie_ratings", "FROM ${database}.movie_ratings AS AS x",
        "subset.sql:{line}: cannot be parsed as Athena SQL: ", "AS AS",
    ),
    (
        "genres.sql", "SELECT genre, count(*) AS films", "SELECT genre, count(*) AS films, 1 AS x",
        "genres.sql:{line}: must give two columns, a genre and a count (it gives 3)",
        "SELECT genre",
    ),
    ("job.toml", 'sql = "subset.sql"', "sql = 3", "job.toml:{line}: sql must name a SQL file",
     "sql = 3"),
    ("job.toml", 'sql = "subset.sql"\n', "", "job.toml:{line}: [[models]] needs sql = ...",
     '[[models]]\nname = "subset"'),
    ("job.toml", 'name = "subset"', 'name = "sub set"',
     "job.toml:{line}: invalid model name 'sub set': use lower-case letters, digits and _, "
     "starting with a letter, at most 128 characters", 'name = "sub set"'),
    ("job.toml", 'name = "subset"', 'name = "movie_ratings"',
     "job.toml:{line}: movie_ratings is the name of another table",
     'name = "movie_ratings"\nper'),
    ("job.toml", "repeat = true\n", "",
     "job.toml:{line}: parameter genre does not repeat: give it repeat = true", 'per = "genre"'),
    ("job.toml", 'model = "subset"', 'model = "subsets"',
     "job.toml:{line}: unknown model 'subsets'; did you mean 'subset'?", 'model = "subsets"'),
    ("job.toml", 'generator = "movielens"', 'generator = "movielenz"',
     "job.toml:{line}: unknown generator 'movielenz'; did you mean 'movielens'?", "generator ="),
    ("job.toml", 'generator = "movielens"', 'folder = "nowhere"',
     "job.toml:{line}: no folder nowhere in {folder}", "folder ="),
    ("job.toml", 'path = "{source_prefix}/{genre_slug}/{genre_slug}-movies.csv"', "path = 7",
     "job.toml:{line}: path must be a text", "path = 7"),
    ("job.toml", "[defaults]", "[[defaults]]", "job.toml:{line}: [defaults] must be a table",
     "[[defaults]]"),
    ("job.toml", "[[sources]]", "[[sourcez]]",
     "job.toml:{line}: unknown key 'sourcez'; did you mean 'sources'?", "[[sourcez]]"),
    ("job.toml", "[sample]", "[[sample]]", "job.toml:{line}: [sample] must be a table",
     "[[sample]]"),
    ("export.sql", "FROM ${database}.subset", "FROM ${database}.movie_ratings",
     "export.sql:{line}: the export of subset must read subset", "SELECT"),
    ("subset.sql", "SELECT movie_id", "INSERT INTO ${database}.movie_ratings SELECT movie_id",
     "subset.sql:{line}: must be a SELECT", "INSERT"),
    # a value reaches a path or a name only as its slug: `--genre ../../x` stays in the lake
    (PATH_FILE, PATH, 'path = "{source_prefix}/{genre}.csv"',
     "job.toml:{line}: write {{genre_slug}}: a value goes into a path as its slug", "path = "),
    ("job.toml", 'per = "genre"  # one table per genre, named after it: sci_fi',
     'per = "genre"\ntable = "t_{genre}"',
     "job.toml:{line}: write {{genre_slug}}: a value goes into a table as its slug", "table ="),
    (PATH_FILE, PATH, 'path = "./export/{genre_slug}.csv"',
     "job.toml:{line}: path './export/{{genre_slug}}.csv' must be a path inside the lake, out "
     "of the folders elt writes to (tables, export, _elt, athena-results)", "path = "),
    (PATH_FILE, PATH, 'path = "{source_prefix}/ratings/{genre_slug}.csv"',
     "job.toml:{line}: the path is among the raw files of ratings", "path = "),
    ("job.toml", 'name = "movie_ratings"\n', 'name = "movie_ratings"\ntable = "movies"\n',
     "job.toml:{line}: movies is the name of another table", 'table = "movies"'),
    ("job.toml", 'name = "movie_ratings"\n', 'name = "movie_ratings"\ntable = "Bad-Name"\n',
     "job.toml:{line}: invalid table name 'Bad-Name': use lower-case letters, digits and _, "
     "starting with a letter, at most 128 characters", 'table = "Bad-Name"'),
    ("job.toml", 'name = "genre"', 'name = "resume"',
     "job.toml:{line}: resume is an option of elt's own: name it otherwise", 'name = "resume"'),
    ("job.toml", "repeat = true", 'repeat = "false"',
     "job.toml:{line}: repeat must be true or false", "repeat ="),
    ("job.toml", 'name = "ratings"', 'name = "movies"', "job.toml:{line}: a second source named "
     "movies", 'name = "movies"\nsql = "ratings.sql"'),
]  # fmt: skip


@pytest.mark.parametrize(("file", "old", "new", "message", "at"), BROKEN)
def test_a_broken_job_is_refused_naming_the_file_and_line(
    elt, awkward_lake, job, file, old, new, message, at
):
    edit(job / file, old, new)
    text = (job / file).read_text()
    line = text[: text.index(at)].count("\n") + 1 if at else 1
    before = snapshot(awkward_lake)
    for command in (["check"], ["run", "--genre", "Sci-Fi"]):
        result = elt("--lake", awkward_lake, "--queries", job, *command)
        assert result.exit_code == 2, result.output
        expected = f"Error: {job}/{message.format(line=line, folder=job)}"
        assert last_line(result).startswith(expected.split("cannot be parsed")[0])
        assert last_line(result).startswith(expected), last_line(result)
        assert "Traceback" not in result.output
    assert snapshot(awkward_lake) == before


def test_a_cycle_is_refused(elt, job):
    (job / "a.sql").write_text("SELECT * FROM ${database}.b\n")
    (job / "b.sql").write_text("SELECT * FROM ${database}.a\n")
    with (job / "job.toml").open("a") as f:
        f.write(
            '\n[[models]]\nname = "a"\nsql = "a.sql"\n\n[[models]]\nname = "b"\nsql = "b.sql"\n'
        )
    result = elt("--queries", job, "check")
    assert result.exit_code == 2
    assert (
        last_line(result)
        == f"Error: {job}/a.sql:1: the models read each other in a cycle: a -> b -> a"
    )


def test_a_job_folder_that_is_not_there_is_refused(elt, tmp_path):
    result = elt("--queries", tmp_path / "nowhere", "check")
    assert result.exit_code == 2
    assert last_line(result) == f"Error: job folder {tmp_path}/nowhere does not exist"


def test_a_job_without_sources_is_refused(elt, tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty/job.toml").write_text('name = "empty"\n')
    result = elt("--queries", tmp_path / "empty", "check")
    assert result.exit_code == 2
    assert last_line(result) == (
        f"Error: {tmp_path}/empty/job.toml:1: a job needs at least one [[sources]] table"
    )


def test_a_folder_without_job_toml_is_refused(elt, tmp_path):
    (tmp_path / "old").mkdir()
    result = elt("--queries", tmp_path / "old", "check")
    assert result.exit_code == 2
    assert last_line(result) == (
        f"Error: {tmp_path}/old has no job.toml: a job folder holds job.toml and its SQL files "
        "(see the README, 'Writing a job')"
    )


def test_toml_that_does_not_parse_names_its_line(elt, job):
    edit(job / "job.toml", 'name = "subset"', "name = subset")
    result = elt("--queries", job, "check")
    assert result.exit_code == 2
    assert last_line(result).startswith(f"Error: {job}/job.toml: not valid TOML: ")
    assert "line 3" in last_line(result) or "(at line" in last_line(result)


def test_the_local_engine_refuses_what_it_cannot_run(elt, job):
    edit(job / "movies.sql", ", 'escapeChar' = '\\u0000'", "")
    result = elt("--queries", job, "check")
    assert result.exit_code == 2
    assert last_line(result).startswith(f"Error: {job}/movies.sql: OpenCSVSerde's escape character")


# -- rendering -----------------------------------------------------------------------------------


def test_a_value_is_an_escaped_literal():
    sql = render(
        "SELECT 1 FROM ${database}.t WHERE g = lower(${genre})",
        {"database": "db", "genre": "Sci'Fi'); DROP TABLE movies; --"},
    )
    assert sql == "SELECT 1 FROM db.t WHERE g = lower('Sci''Fi''); DROP TABLE movies; --')"


def test_dollar_columns_are_not_placeholders():
    assert render('SELECT "$path" FROM ${database}.movies', {"database": "db"}) == (
        'SELECT "$path" FROM db.movies'
    )


@pytest.mark.parametrize("bad", ["Sci-Fi", "1abc", "_x", "a b", "a;b", "", "ä", "a" * 129])
def test_identifiers_are_checked(bad):
    with pytest.raises(BadInput):
        identifier(bad)


def test_a_location_with_a_quote_is_refused():
    with pytest.raises(BadInput, match="must not hold quotes"):
        render("LOCATION ${location}", {"location": "s3://b/it's/"})


def test_sql_string_doubles_quotes_only():
    assert sql_string("a'b\\c") == "'a''b\\c'"


@pytest.mark.parametrize(
    ("genre", "expected"),
    [
        ("Sci-Fi", "sci_fi"),
        ("(no genres listed)", "no_genres_listed"),
        ("Film-Noir", "film_noir"),
        ("  Children  ", "children"),
        ("Ação & Drama", "a_o_drama"),
    ],
)
def test_slug(genre, expected):
    assert slug(genre) == expected


@pytest.mark.parametrize(
    ("uri", "owned"),
    [
        ("s3://b/lake/tables/db/sci_fi/v1/", True),
        ("s3://b/lake/tables/db/sci_fi/v1", True),
        ("s3://b/lake/export/sci_fi/", True),
        ("s3://b/lake/_elt/db/run.json", True),
        ("s3://b/lake/tables/db/", False),  # the root of an owned prefix itself
        ("s3://b/lake/tables/other_db/x/", False),
        ("s3://b/lake/export", False),
        ("s3://b/lake/exports/x/", False),
        ("s3://b/lake/", False),
        ("s3://b/", False),
        ("s3://b/lake/movielens/movies/", False),
        ("s3://b/lake/export/../movielens/movies/", False),
        ("s3://b/lake/export/raw/x.csv", False),  # a job's raw files, even in an owned prefix
    ],
)
def test_owned_prefixes(uri, owned):
    layout = Layout("s3://b/lake", "db", ("s3://b/lake/export/raw/",))
    assert layout.is_owned(uri) is owned


def test_integers_divide_as_on_athena_on_the_local_engine(elt, awkward_lake, job):
    """Athena divides integers as integers, truncating (7 / 2 is 3, -7 / 2 is -3); DuckDB
    would give 3.5: the local engine writes Athena's division, from the types it knows."""
    (job / "decades.sql").write_text(
        "SELECT (year / 10) * 10 AS decade, sum(num_ratings) / count(*) AS per_film,\n"
        "  7 / 2 AS seven_halves, -7 / 2 AS minus, avg_rating / 2 AS real_half\n"
        "FROM ${database}.movie_ratings WHERE movie_id = 4\n"
        "GROUP BY (year / 10) * 10, avg_rating\n"
    )
    with (job / "job.toml").open("a") as f:
        f.write('\n[[models]]\nname = "decades"\nsql = "decades.sql"\n')
    result = elt("--lake", awkward_lake, "--queries", job, "run", "--genre", "Sci-Fi")
    assert result.exit_code == 0, result.output
    from elt_cli.engines.local import LocalEngine
    from elt_cli.statements import Statement

    engine = LocalEngine(awkward_lake)
    try:
        rows = engine.query(Statement("read", "SELECT * FROM movielens_elt.decades")).rows
    finally:
        engine.close()
    assert rows == [(2000, 1, 3, -3, 1.75)]  # Battlestar Galactica (2003-2009): 3.5, 1 rating


def test_a_parameter_the_sql_uses_must_be_given(elt, awkward_lake, job):
    models = '[[models]]\nname = "movie_ratings"'
    edit(
        job / "job.toml", models, f'[[parameters]]\nname = "min_ratings"\nexample = "5"\n\n{models}'
    )
    edit(job / "subset.sql", "WHERE ", "WHERE num_ratings >= CAST(${min_ratings} AS INTEGER) AND ")
    checked = elt("--queries", job, "check")
    assert "  parameters: --genre (repeatable), --min-ratings" in checked.stdout
    before = snapshot(awkward_lake)
    result = elt("--lake", awkward_lake, "--queries", job, "run", "--genre", "Sci-Fi")
    assert result.exit_code == 2
    assert last_line(result) == "Error: give --min-ratings, e.g. --min-ratings 5"
    assert snapshot(awkward_lake) == before
    result = elt(
        "--lake", awkward_lake, "--queries", job, "run", "--genre", "Sci-Fi",
        "--min-ratings", "2", "--min-ratings", "3",
    )  # fmt: skip
    assert (result.exit_code, last_line(result)) == (2, "Error: give one --min-ratings, not 2")
    result = elt(
        "--lake", awkward_lake, "--queries", job, "run", "--genre", "Sci-Fi", "--min-ratings", "2"
    )
    assert result.exit_code == 0, result.output
    final = awkward_lake / "movielens/sci_fi/sci_fi-movies.csv"
    assert [r.split(",")[-1] for r in final.read_text().splitlines()[1:]] == ["2", "2", "2", "3"]


@pytest.mark.parametrize(
    "text, message",
    [
        (b"", "genres.sql: is empty: write its SELECT"),
        (b"SELECT 1 AS genre, 2 AS films; SELECT 3", "genres.sql:1: holds 2 statements: a file "
         "holds one SELECT (elt writes the statements around it)"),
        (b"-- caf\xe9\nSELECT 1 AS genre, 2 AS films", "genres.sql:1: not UTF-8 text (byte "
         "0xe9): save the file as UTF-8"),
        (b"SELECT date_add(genres, 1) AS genre, 2 AS films FROM ${database}.movie_ratings",
         "genres.sql:1: cannot be parsed as Athena SQL: date_add() is given too few arguments "
         "(see its page in Trino's documentation)"),
    ],
)  # fmt: skip
def test_a_sql_file_that_is_not_one_select_is_refused(elt, job, text, message):
    (job / "genres.sql").write_bytes(text)
    result = elt("--queries", job, "check")
    assert result.exit_code == 2
    assert last_line(result) == f"Error: {job}/{message}"


def test_a_byte_order_mark_is_no_error(elt, job):
    for name in ("job.toml", "subset.sql"):
        path = job / name
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert elt("--queries", job, "check").exit_code == 0


def test_a_dollar_brace_for_a_named_group_is_written_with_two_dollars():
    text = "SELECT regexp_replace(x, '(?<w>a)', '$${w}!') FROM t"
    assert render(text, {}) == "SELECT regexp_replace(x, '(?<w>a)', '${w}!') FROM t"
