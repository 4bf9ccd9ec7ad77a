"""Every template renders, parses as Athena SQL and translates to DuckDB; values are escaped."""

from __future__ import annotations

import pytest

from elt_cli.engines.local import LocalEngine
from elt_cli.errors import BadInput
from elt_cli.layout import Layout
from elt_cli.templates import TEMPLATE_NAMES, Templates, identifier, slug, sql_string

VALUES = {
    "table": "sci_fi__v1",
    "view": "sci_fi",
    "location": "s3://lake/tables/x/v1/",
    "genre": "Sci-Fi",
}


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_every_template_renders_and_translates(name, tmp_path):
    sql = Templates.load().render(name, database="movielens_elt", **VALUES)
    assert "${" not in sql and not sql.startswith("--")
    LocalEngine(tmp_path).check_templates({name: sql})  # raises TemplateError if it cannot


def test_genre_is_an_escaped_literal():
    sql = Templates.load().render(
        "build_subset", database="db", **{**VALUES, "genre": "Sci'Fi'); DROP TABLE movies; --"}
    )
    assert "lower('Sci''Fi''); DROP TABLE movies; --')" in sql


def test_dollar_columns_are_not_placeholders(tmp_path):
    (tmp_path / "q").mkdir()
    for name in TEMPLATE_NAMES:
        (tmp_path / "q" / f"{name}.sql").write_text('SELECT "$path" FROM ${database}.movies')
    assert Templates.load(tmp_path / "q").render("list_genres", database="db") == (
        'SELECT "$path" FROM db.movies'
    )


@pytest.mark.parametrize("bad", ["Sci-Fi", "1abc", "a b", "a;b", "", "ä", "a" * 129])
def test_identifiers_are_checked(bad):
    with pytest.raises(BadInput):
        identifier(bad)


def test_location_with_quote_is_refused():
    with pytest.raises(BadInput, match="must not hold quotes"):
        Templates.load().render(
            "create_movies_table", database="db", table="movies", location="s3://b/it's/"
        )


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
    ],
)
def test_owned_prefixes(uri, owned):
    assert Layout("s3://b/lake", "movielens", "db").is_owned(uri) is owned
