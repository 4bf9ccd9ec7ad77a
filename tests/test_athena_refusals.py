"""`elt check` refuses what Athena would refuse, before anything runs, naming the file, the line
and the fix; every command refuses it the same way when it opens the job. Where Athena's rule
comes from is named beside each case."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from support import last_line
from support.data import make_lake, snapshot

from elt_cli.templates import packaged_queries


@pytest.fixture
def job(tmp_path):
    folder = tmp_path / "job"
    shutil.copytree(packaged_queries(), folder)
    return folder


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, (path, old)
    path.write_text(text.replace(old, new))


SUM = "  SELECT movieId, sum(rating) AS total, count(*) AS ratings\n  FROM ${database}.ratings\n"
GROUPED = SUM + "  GROUP BY movieId"
FIRST = "SELECT movie_id, title,"
REFUSED = [
    # 4. a function engine version 3 does not have (Trino's list of functions)
    (
        "subset.sql", FIRST, "SELECT movie_id, strptime(title, '%Y') AS t, title,",
        "subset.sql:3: strptime() is not a function of Athena (engine version 3 has Trino's "
        "functions); use date_parse(s, '%Y-%m-%d') (MySQL-style format), or parse_datetime",
    ),
    (  # a name sqlglot reads as another's (GROUP_CONCAT): the name as written
        "subset.sql", FIRST, "SELECT movie_id, array_join(split(title, ','), ',') AS t, "
        "string_agg(title, ',') AS u, title,",
        "subset.sql:3: string_agg() is not a function of Athena (engine version 3 has Trino's "
        "functions); use array_join(array_agg(x), ','), or listagg(x, ',') WITHIN GROUP (ORDER "
        "BY x)",
    ),
    (
        "subset.sql", FIRST, "SELECT movie_id, string_split(title, ',') AS t, title,",
        "subset.sql:3: string_split() is not a function of Athena (engine version 3 has Trino's "
        "functions); use split(s, ',')",
    ),
    (
        "subset.sql", FIRST, "SELECT movie_id, list_extract(x, 1) AS t, title,",
        "subset.sql:3: list_extract() is not a function of Athena (engine version 3 has Trino's "
        "functions); use element_at(array, i)",
    ),
    # 5. a column no table has; "NA" in double quotes is a column in Athena SQL
    (
        "subset.sql", FIRST, "SELECT movie_id, titel,",
        "subset.sql:3: no table here has a column titel; did you mean title?",
    ),
    (
        "subset.sql", FIRST, "SELECT movie_id, coalesce(title, \"NA\") AS t, title,",
        'subset.sql:3: "NA" is a column name in Athena SQL (double quotes name columns): write '
        "'NA' for the text",
    ),
    (  # ... also read from a subquery that does not have it
        "movie_ratings.sql", ") AS r ON r.movieId = m.movieId", ") AS r ON r.movie = m.movieId",
        "movie_ratings.sql:22: no table here has a column r.movie",
    ),
    (
        "movie_ratings.sql", "JOIN (", "JOIN ${database}.ratings rr ON rr.movieId = movieId JOIN (",
        "movie_ratings.sql:16: column movieId is ambiguous: movies and ratings both have it; "
        "write <table>.movieId",
    ),
    # 5. a column neither grouped nor aggregated
    (
        "movie_ratings.sql", GROUPED, GROUPED.replace("movieId, sum", "movieId, userId, sum"),
        "movie_ratings.sql:19: userId is neither in GROUP BY nor inside an aggregate (Athena: "
        "'userId' must be an aggregate expression or appear in GROUP BY clause): add it to "
        "GROUP BY, or aggregate it",
    ),
    (  # Trino resolves GROUP BY in the FROM clause, never the SELECT's aliases
        "movie_ratings.sql", GROUPED, SUM.replace("movieId,", "movieId AS mid,") + "  GROUP BY mid",
        "movie_ratings.sql:21: GROUP BY cannot name the SELECT's alias mid on Athena (it "
        "resolves names in the FROM clause only): repeat the expression, or give its position "
        "(GROUP BY 1)",
    ),
    # 6. a CTAS column without a name ("Column name not specified" on Athena), or two alike
    (
        "movie_ratings.sql", "AS num_ratings", "AS num_ratings,\n  r.ratings * 2",
        "movie_ratings.sql:15: column 7 of the SELECT, r.ratings * 2, has no name: Athena's "
        "CREATE TABLE AS needs one; write r.ratings * 2 AS <name>",
    ),
    (
        "movie_ratings.sql", "m.genres AS genres,", "m.genres AS genres,\n  m.title AS title,",
        "movie_ratings.sql:13: two columns are named title: a table (and a file's header) needs "
        "a name of its own for each; give one another alias",
    ),
    # Athena converts no text to a number or a date by itself: a parameter is text
    (
        "subset.sql", "WHERE contains", "WHERE num_ratings >= ${genre} AND contains",
        "subset.sql:5: Athena does not compare bigint with text (num_ratings >= 'Sci-Fi'); cast "
        "one side (a parameter is text: CAST(${name} AS INTEGER))",
    ),
    (
        "subset.sql", FIRST, "SELECT movie_id, title || year AS t, title,",
        "subset.sql:3: || joins text on Athena, not integer: CAST(year AS VARCHAR)",
    ),
    (
        "subset.sql", FIRST, "SELECT movie_id, coalesce(year, 'none') AS y, title,",
        "subset.sql:3: the values of COALESCE are of one type on Athena, not integer and text: "
        "cast them",
    ),
    (  # "Unexpected parameters (varchar) for function year"
        "subset.sql", FIRST, "SELECT movie_id, year(title) AS y, title,",
        "subset.sql:3: year() takes a DATE or a TIMESTAMP on Athena, not text: parse it first, "
        "e.g. year(from_iso8601_date(title))",
    ),
    # what sqlglot reads from other dialects and Athena does not
    (
        "subset.sql", FIRST, "SELECT movie_id, log(avg_rating) AS l, title,",
        "subset.sql:3: Athena's log takes a base: log(b, x); or write ln(x), log10(x) or log2(x)",
    ),
    (
        "subset.sql", "SELECT movie_id, title, year, avg_rating, num_ratings\n",
        "SELECT * EXCLUDE (genres)\n",
        "subset.sql:3: SELECT * EXCLUDE/EXCEPT (...) is not Athena SQL: name the columns to "
        "select",
    ),
    (  # a CTAS column of no type
        "subset.sql", FIRST, "SELECT movie_id, NULL AS nothing, title,",
        "subset.sql:3: column nothing is NULL, of no type Athena's CREATE TABLE AS can store: "
        "CAST(NULL AS VARCHAR) (or the type it stands for)",
    ),
    # 7. DDL: only EXTERNAL tables over files; DDL reserved words in backticks; types
    # OpenCSVSerDe reads from text (https://docs.aws.amazon.com/athena/latest/ug/csv-serde.html)
    (
        "ratings.sql", "CREATE EXTERNAL TABLE", "CREATE TABLE",
        "ratings.sql:3: Athena creates a table over files only as CREATE EXTERNAL TABLE "
        "(without EXTERNAL it fails): write CREATE EXTERNAL TABLE",
    ),
    (
        "ratings.sql", "`timestamp` BIGINT", "timestamp BIGINT",
        "ratings.sql:7: timestamp is a reserved word in Athena DDL: write it in backticks, "
        "`timestamp`",
    ),
    (
        "ratings.sql", "`timestamp` BIGINT", "rated_on DATE",
        "ratings.sql:7: OpenCSVSerDe reads a DATE column only as a number (days since "
        "1970-01-01 for a DATE, UNIX milliseconds for a TIMESTAMP), never as text such as "
        "2024-01-31: declare rated_on STRING and parse it in the model, e.g. "
        "from_iso8601_date(rated_on)",
    ),
    (
        "ratings.sql", "`timestamp` BIGINT", "rated_at TIMESTAMP",
        "ratings.sql:7: OpenCSVSerDe reads a TIMESTAMP column only as a number (days since "
        "1970-01-01 for a DATE, UNIX milliseconds for a TIMESTAMP), never as text such as "
        "2024-01-31: declare rated_at STRING and parse it in the model, e.g. "
        "date_parse(rated_at, '%Y-%m-%d %H:%i:%s')",
    ),
    (
        "ratings.sql", "rating DOUBLE", "rating DECIMAL(3,1)",
        "ratings.sql:6: OpenCSVSerDe reads only STRING, BOOLEAN, INT, BIGINT and DOUBLE columns "
        "from text, not DECIMAL(3, 1): declare rating STRING and cast it in the model, e.g. "
        "CAST(rating AS DECIMAL(3, 1))",
    ),
]  # fmt: skip


@pytest.mark.parametrize("file, old, new, message", REFUSED)
def test_check_refuses_what_athena_would_refuse(elt, job, file, old, new, message):
    edit(job / file, old, new)
    result = elt("--queries", job, "check")
    assert result.exit_code == 2, result.output
    assert last_line(result) == f"Error: {job}/{message}"


def test_a_refused_job_changes_nothing_on_any_command(elt, job, awkward_lake):
    edit(job / "subset.sql", "SELECT movie_id, title,", "SELECT movie_id, titel,")
    before = snapshot(awkward_lake)
    result = elt("--queries", job, "--lake", awkward_lake, "run", "--genre", "Sci-Fi")
    assert result.exit_code == 2
    assert last_line(result) == (
        f"Error: {job}/subset.sql:3: no table here has a column titel; did you mean title?"
    )
    assert snapshot(awkward_lake) == before


@pytest.mark.parametrize(
    "file, old, new",
    [
        ("genres.sql", "GROUP BY genre\nORDER BY genre", "GROUP BY 1\nORDER BY films, 1"),
        ("genres.sql", "count(*) AS films", "count(*) FILTER (WHERE num_ratings > 1) AS films"),
        ("genres.sql", "GROUP BY genre", "GROUP BY ROLLUP (genre)"),
        ("subset.sql", "${database}.movie_ratings", "${database}.MOVIE_Ratings"),  # any case
        ("subset.sql", FIRST, "SELECT movie_id, CAST(year AS VARCHAR) || title AS t, title,"),
    ],
)
def test_athena_sql_that_is_not_refused(elt, job, file, old, new):
    edit(job / file, old, new)
    result = elt("--queries", job, "check")
    assert result.exit_code == 0, result.output


# -- 8. a value that makes a reserved word -------------------------------------------------------

ORDER_FILMS = [(1, "Law and Order (1990)", "Order|Drama"), (2, "Chaos (2005)", "Drama")]


def test_a_genre_that_is_a_reserved_word_runs_locally(elt, tmp_path):
    """`--genre Order` makes the view `order`, a reserved word in Athena SQL."""
    lake = make_lake(tmp_path / "lake", ORDER_FILMS, [(1, 1, 4.0), (2, 2, 3.0)])
    result = elt("--lake", lake, "run", "--genre", "Order")
    assert result.exit_code == 0, result.output
    assert (lake / "movielens/order/order-movies.csv").read_text() == (
        "movie_id,title,year,avg_rating,num_ratings\n1,Law and Order,1990,4.0,1\n"
    )


@pytest.mark.slow
def test_every_statement_quotes_a_reserved_name_on_athena(elt, aws, tmp_path):
    """Athena refuses an unquoted reserved word (moto here refuses it as Athena does): the
    view, the drops, everything elt writes quotes `order` where Athena needs it."""
    local = make_lake(tmp_path / "upload", ORDER_FILMS, [(1, 1, 4.0), (2, 2, 3.0)])
    for path in sorted(p for p in local.rglob("*") if p.is_file()):
        aws.put(str(path.relative_to(local)), path.read_bytes())
    aws.results = [
        ("SELECT genre", [["genre", "films"], ["Drama", "2"], ["Order", "1"]]),
        ("SELECT movie_id", [["movie_id", "title", "year", "avg_rating", "num_ratings"]]),
    ]
    for _ in range(2):  # the second run drops the first's version of `order`
        result = elt("--lake", "s3://lake", "run", "--genre", "Order")
        assert result.exit_code == 0, result.output
    sent = [" ".join(q.split()) for q in aws.queries()]
    views = [q for q in sent if q.startswith("CREATE OR REPLACE VIEW")]
    assert views[-1].startswith('CREATE OR REPLACE VIEW movielens_elt."order" AS')
    failed = [e for e in aws.executions() if e["Status"]["State"] == "FAILED"]
    assert failed == []


def test_moto_refuses_an_unquoted_reserved_word_as_athena_does(elt, aws):
    """The test above would pass on a lenient moto: this one shows it is not."""
    aws.glue.create_database(DatabaseInput={"Name": "movielens_elt"})
    qid = aws.athena.start_query_execution(
        QueryString="CREATE OR REPLACE VIEW movielens_elt.order AS SELECT 1 AS x",
        ResultConfiguration={"OutputLocation": "s3://lake/athena-results/"},
    )["QueryExecutionId"]
    status = aws.athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]
    assert status["State"] == "FAILED"
    assert "mismatched input 'order'" in status["StateChangeReason"]


# -- what the local engine has no twin for --------------------------------------------------------


def test_a_function_without_a_local_twin_is_refused_locally_and_named_by_check(
    elt, job, awkward_lake
):
    """format_datetime runs on Athena, not on DuckDB: check says so (the job is valid Athena
    SQL), a local run refuses it before anything changes."""
    edit(job / "subset.sql", FIRST, "SELECT movie_id, format_datetime(now(), 'yyyy') AS f, title,")
    result = elt("--queries", job, "check")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == (
        f"  Athena only: {job}/subset.sql: format_datetime() (the local engine has no twin for it)"
    )
    before = snapshot(awkward_lake)
    result = elt("--queries", job, "--lake", awkward_lake, "run", "--genre", "Sci-Fi")
    assert result.exit_code == 2
    assert last_line(result) == (
        f"Error: {job}/subset.sql: format_datetime() runs on Athena, but the local engine has no "
        'twin for it (see the README, "Local engine and Athena"): run the job on Athena, or '
        "write it with other functions"
    )
    assert snapshot(awkward_lake) == before
