"""The local engine is Athena's twin: a model's columns have the types Athena gives them and the
values Athena computes, whatever DuckDB would do on its own.

Each expected value is Athena's (engine version 3 runs Trino), from Trino's documentation
(docs/src/main/sphinx/functions/*.md) or source (core/trino-main/src/main/java/io/trino/...),
named beside it. DuckDB's own answer is in the comment where it differs.
"""

from __future__ import annotations

import datetime
import math
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from elt_cli.engines import twin
from elt_cli.engines.local import LocalEngine
from elt_cli.errors import TemplateError
from elt_cli.statements import Statement

JOB = Path(__file__).parent / "jobs" / "twin"


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    engine = LocalEngine(tmp_path_factory.mktemp("lake"))
    yield engine
    engine.close()


def select(expression: str) -> str:
    """`SELECT <expression> AS v [FROM ...]` for `<expression> [FROM ...]`."""
    value, sep, rest = expression.partition(" FROM (VALUES")
    return f"SELECT {value} AS v{sep}{rest}"


def athena(engine: LocalEngine, expression: str):
    """The value of one Athena expression, computed by the local engine."""
    return engine.query(Statement("probe", select(expression))).rows[0][0]


def athena_type(engine: LocalEngine, expression: str) -> str:
    ((_, kind),) = engine.twin(engine.translate("probe", select(expression))).columns
    return kind.sql("trino") if kind is not None else "?"


# -- types ---------------------------------------------------------------------------------------

TYPES = [
    # aggregation/LongSumAggregation: sum of an integer is a BIGINT (DuckDB: HUGEINT)
    ("sum(x) FROM (VALUES 1, 2) AS t (x)", "BIGINT"),
    # aggregation/CountIfAggregation: BIGINT (DuckDB: HUGEINT)
    ("count_if(x > 1) FROM (VALUES 1, 2) AS t (x)", "BIGINT"),
    ("sum(CASE WHEN x > 1 THEN 1 ELSE 0 END) FROM (VALUES 1, 2) AS t (x)", "BIGINT"),
    # aggregation/DecimalAverageAggregation: avg(decimal(p,s)) is decimal(p,s) (DuckDB: DOUBLE)
    ("avg(CAST(x AS DECIMAL(10, 2))) FROM (VALUES 1) AS t (x)", "DECIMAL(10, 2)"),
    # aggregation/DecimalSumAggregation: decimal(38, s)
    ("sum(CAST(x AS DECIMAL(10, 2))) FROM (VALUES 1) AS t (x)", "DECIMAL(38, 2)"),
    # docs/functions/decimal.md: a literal with a point is a DECIMAL
    ("1.5", "DECIMAL(2, 1)"),
    ("1e4", "DOUBLE"),
    # type/DecimalOperators: divide is decimal(min(38, p1 + s2 + max(s2 - s1, 0)), max(s1, s2))
    ("CAST(1 AS DECIMAL(10, 2)) / 3", "DECIMAL(10, 2)"),
    ("CAST(1 AS DECIMAL(10, 2)) * CAST(1 AS DECIMAL(5, 1))", "DECIMAL(15, 3)"),
    ("CAST(1 AS DECIMAL(10, 2)) + 1", "DECIMAL(13, 2)"),
    # type/IntegerOperators: an INTEGER divided by an INTEGER is an INTEGER
    ("7 / 2", "INTEGER"),
    ("avg(x) FROM (VALUES 1, 2) AS t (x)", "DOUBLE"),
    # docs/functions/datetime.md: date_trunc and date_add of a DATE are DATEs (DuckDB: TIMESTAMP)
    ("date_trunc('month', DATE '2024-03-05')", "DATE"),
    ("date_add('day', 1, DATE '2024-03-05')", "DATE"),
    ("date_diff('day', DATE '2024-03-05', DATE '2024-03-07')", "BIGINT"),
    ("date_parse('2024-03-05', '%Y-%m-%d')", "TIMESTAMP(3)"),
    ("year(DATE '2024-03-05')", "BIGINT"),
    ("length('abc')", "BIGINT"),
    ("round(CAST(38.975 AS DECIMAL(5, 3)), 1)", "DECIMAL(6, 3)"),
    ("coalesce(CAST(1 AS DECIMAL(10, 2)), 0)", "DECIMAL(12, 2)"),
]


@pytest.mark.parametrize("expression, expected", TYPES)
def test_an_expression_has_athenas_type(engine, expression, expected):
    assert athena_type(engine, expression) == expected


# -- values --------------------------------------------------------------------------------------

VALUES = [
    # DecimalAverageAggregation rounds half up at the input's scale (DuckDB: 38.975, a DOUBLE)
    ("avg(x) FROM (VALUES CAST(38.95 AS DECIMAL(4, 2)), CAST(39.0 AS DECIMAL(4, 2))) AS t (x)",
     Decimal("38.98")),
    ("avg(x) FROM (VALUES CAST(-0.01 AS DECIMAL(3, 2)), CAST(-0.02 AS DECIMAL(3, 2))) AS t (x)",
     Decimal("-0.02")),  # half away from zero
    ("avg(x) FROM (VALUES CAST(NULL AS DECIMAL(3, 2))) AS t (x)", None),
    # DecimalOperators.divide: rounded half up at scale max(s1, s2) (DuckDB: 0.8333333333333334)
    ("CAST(2.50 AS DECIMAL(10, 2)) / 3", Decimal("0.83")),
    ("CAST(1 AS DECIMAL(10, 2)) / 8", Decimal("0.13")),
    ("CAST(-2 AS DECIMAL(10, 2)) / 3", Decimal("-0.67")),
    # IntegerOperators.divide truncates toward zero (DuckDB without types: 3.5)
    ("7 / 2", 3),
    ("-7 / 2", -3),
    ("sum(x) / count(*) FROM (VALUES 3, 4) AS t (x)", 3),
    # CountIfAggregation: 0 for no rows (DuckDB: NULL)
    ("count_if(x > 0) FROM (VALUES 1) AS t (x) WHERE x > 5", 0),
    # docs/functions/regexp.md: regexp_extract is NULL when the pattern does not match (DuckDB: '')
    ("regexp_extract('abc', '(\\d+)', 1)", None),
    ("regexp_extract('a12b', '(\\d+)', 1)", "12"),
    # JoniRegexpFunctions: $1 in the replacement is the first group (DuckDB: a literal $1)
    ("regexp_replace('a1b22', '([a-z])(\\d+)', '$2$1')", "1a22b"),
    ("regexp_replace('aXbX', 'X', '-')", "a-b-"),  # every match
    # docs/functions/string.md: split_part past the last field is NULL (DuckDB: '')
    ("split_part('a,b', ',', 3)", None),
    ("split_part('a,b', ',', 2)", "b"),
    # StringFunctions.substr: a start of 0 gives '' (DuckDB: 'h')
    ("substr('hello', 0, 2)", ""),
    ("substr('hello', -3)", "llo"),
    ("strpos('abcabc', 'bc', 2)", 5),  # the second occurrence (sqlglot drops the argument)
    ("split('a,b,c', ',', 2)", ["a", "b,c"]),  # at most 2 parts
    # StringFunctions.trim strips Java's whitespace, tabs and line breaks too (DuckDB: spaces)
    ("trim(chr(9) || 'x' || chr(10))", "x"),
    ("concat('a', NULL)", None),  # ConcatFunction: NULL in, NULL out
    # DateDiff counts whole units elapsed (DuckDB's date_diff counts boundaries crossed: 1)
    ("date_diff('month', DATE '2024-01-31', DATE '2024-02-01')", 0),
    ("date_diff('month', DATE '2024-01-31', DATE '2024-02-29')", 1),
    ("date_diff('day', TIMESTAMP '2024-01-01 23:00:00', TIMESTAMP '2024-01-02 01:00:00')", 0),
    ("date_trunc('month', DATE '2024-03-05')", datetime.date(2024, 3, 1)),
    ("date_add('month', 1, DATE '2024-01-31')", datetime.date(2024, 2, 29)),
    ("EXTRACT(DOW FROM DATE '2024-03-03')", 7),  # Sunday is 7 (ISO); DuckDB: 0
    ("day_of_week(DATE '2024-03-04')", 1),
    # DoubleOperators.castToInteger rounds half away from zero (DuckDB: half to even, 2)
    ("CAST(2.5e0 AS INTEGER)", 3),
    ("CAST(-2.5e0 AS BIGINT)", -3),
    # VarcharOperators: Java's parseLong after trim(), so '4.5' is not a number (DuckDB: 5)
    ("TRY_CAST('4.5' AS INTEGER)", None),
    ("TRY_CAST(' 42 ' AS INTEGER)", 42),
    ("TRY_CAST('1_000' AS INTEGER)", None),
    ("TRY_CAST('yes' AS BOOLEAN)", None),
    ("TRY_CAST('nan' AS DOUBLE)", None),
    # DecimalConversions: a DOUBLE becomes a DECIMAL from its shortest text (DuckDB: 1.00)
    ("CAST(1.005e0 AS DECIMAL(5, 2))", Decimal("1.01")),
    # DoubleOperators.castToVarchar: scientific (DuckDB: '3.0')
    ("CAST(3e0 AS VARCHAR)", "3.0E0"),
    ("CAST(1234.5e0 AS VARCHAR)", "1.2345E3"),
    # ArrayContains: NULL when not found and the array holds a NULL (DuckDB: false)
    ("contains(ARRAY[1, NULL], 2)", None),
    ("contains(ARRAY[1, NULL], 1)", True),
    ("slice(ARRAY[1, 2, 3, 4], 2, 2)", [2, 3]),  # two elements from the second (DuckDB: [2])
    ("array_position(ARRAY[1, 2], 5)", 0),  # DuckDB: NULL
    ("array_max(ARRAY[1, NULL])", None),  # DuckDB: 1
    ("sequence(3, 1)", [3, 2, 1]),  # DuckDB: []
    ("codepoint('A')", 65),  # not in DuckDB
    ("try(CAST('x' AS INTEGER))", None),  # DuckDB refuses its own error() inside TRY
    ("CAST('Thigpen' AS VARCHAR(3))", "Thi"),  # VarcharOperators: the first n characters
    ("typeof(1.5)", "decimal(2,1)"),  # Trino's names of types (DuckDB: DECIMAL(2,1))
    ("typeof(sum(x)) FROM (VALUES 1) AS t (x)", "bigint"),
    ("repeat('ab', 2)", ["ab", "ab"]),  # an array (DuckDB: 'abab')
    ("strpos('a.b.c', '.', 2)", 4),
    ("max_by(x, y) FROM (VALUES (NULL, 2), (1, 1)) AS t (x, y)", None),  # DuckDB: 1
    ("min_by(x, y) FROM (VALUES (NULL, 1), (1, 2)) AS t (x, y)", None),  # DuckDB: 1
    # exact at 38 digits: DuckDB's avg and / of a DECIMAL go through DOUBLE
    ("avg(x) FROM (VALUES CAST('12345678901234567.89' AS DECIMAL(20, 2)),"
     " CAST(0 AS DECIMAL(20, 2))) AS t (x)", Decimal("6172839450617283.95")),
    ("CAST('12345678901234567.89' AS DECIMAL(20, 2)) / 7", Decimal("1763668414462081.13")),
    # date_trunc and date_add of a DATE are a DATE (DuckDB: a TIMESTAMP, '… 00:00:00' as text)
    ("CAST(date_trunc('month', DATE '2024-03-05') AS VARCHAR)", "2024-03-01"),
    ("CAST(date_trunc('month', d) AS VARCHAR) FROM (VALUES DATE '2024-03-05') AS t (d)",
     "2024-03-01"),
    ("CAST(date_add('day', 1, DATE '2024-03-05') AS VARCHAR)", "2024-03-06"),
    ("array_distinct(ARRAY[1, NULL, 3, 1, NULL])", [1, None, 3]),  # DuckDB drops the NULL
    ("array_min(ARRAY[1, NULL])", None),  # DuckDB: 1
    ("json_extract_scalar('{\"a\": [1]}', '$.a')", None),  # not a scalar (DuckDB: '[1]')
]  # fmt: skip


@pytest.mark.parametrize("expression, expected", VALUES)
def test_an_expression_has_athenas_value(engine, expression, expected):
    assert athena(engine, expression) == expected


def test_the_local_engine_runs_in_athenas_time_zone(engine):
    """Athena's sessions are in UTC: current_date is the UTC date."""
    utc = datetime.datetime.now(datetime.UTC).date()
    assert athena(engine, "current_date") in (utc, utc + datetime.timedelta(days=1))
    assert engine.con.execute("SELECT current_setting('TimeZone')").fetchone()[0] == "UTC"


def test_a_replacement_that_names_no_group_is_refused(engine):
    with pytest.raises(TemplateError, match="names a group that"):
        twin.re2_replacement("$3", "(a)(b)")
    assert twin.re2_replacement(r"\$1 ${x}", "(?<x>a)") == "$1 \\1"


# -- how a value prints in an export -------------------------------------------------------------

# Java's Double.toString (Athena's result files print a DOUBLE so): plain from 10^-3 to 10^7,
# else computerized scientific notation. These are its documented outputs.
JAVA_DOUBLES = [
    (0.0, "0.0"), (-0.0, "-0.0"), (1.0, "1.0"), (3.5, "3.5"), (0.001, "0.001"),
    (0.0001, "1.0E-4"), (1234567.0, "1234567.0"), (1e7, "1.0E7"), (1.23456789e8, "1.23456789E8"),
    (1e20, "1.0E20"), (1.5e-7, "1.5E-7"), (-2.5e-9, "-2.5E-9"), (4.6667, "4.6667"),
    (math.nan, "NaN"), (math.inf, "Infinity"), (-math.inf, "-Infinity"),
    (0.1 + 0.2, "0.30000000000000004"),
]  # fmt: skip


def test_a_timestamp_with_a_time_zone_prints_as_athena_prints_it_in_utc(engine):
    query = "SELECT elt_timestamptz_text(TIMESTAMPTZ '1970-01-01 02:00:00+02')"
    assert engine.con.execute(query).fetchone()[0] == "1970-01-01 00:00:00.000 UTC"


@pytest.mark.parametrize("value, text", JAVA_DOUBLES)
def test_a_double_prints_as_java_prints_it(engine, value, text):
    assert engine.con.execute("SELECT elt_double_text(?::DOUBLE)", [value]).fetchone()[0] == text


# -- a whole job -----------------------------------------------------------------------------------

# What Athena writes for the twin job's export: every value computed as Trino does and printed
# as Athena's result files print it (tests/jobs/twin/facts.sql says which column tests what).
EXPECTED_EXPORT = (
    "item,total_qty,big_orders,big_too,avg_price,qty_per_order,a_third,literal,digits,"
    "first_month,months_to_march,third_part,avg_qty,big_double,small_double,sold_at,item_note,"
    "note_length,minus_half,rounded,double_text\n"
    # apple: qty 3 and 5, prices 1.25 and 2.50 (avg 1.875 -> 1.88 half up; 2.50 / 3 = 0.83),
    # notes 'red, sweet' and NA (a missing value: NULL); sold 2024-01-31 and 2023-12-31
    "apple,8,1,1,1.88,4,0.83,1.5,,2024-01-01,2,,4.0,8.0E7,4.0E-4,2024-01-31 00:00:00.000,"
    '"applered, sweet",10,-3,3,2.5E0\n'
    # pear: its note is an empty field, '' for a STRING (length 0, concat gives 'pear')
    "pear,4,1,1,0.10,4,0.03,1.5,,2024-02-01,0,,4.0,4.0E7,4.0E-4,2024-02-29 00:00:00.000,pear,"
    "0,-3,3,2.5E0\n"
)
EXPECTED_TYPES = {
    "item": "VARCHAR", "total_qty": "BIGINT", "big_orders": "BIGINT", "big_too": "BIGINT",
    "avg_price": "DECIMAL(10,2)", "qty_per_order": "BIGINT", "a_third": "DECIMAL(10,2)",
    "literal": "DECIMAL(2,1)", "digits": "VARCHAR", "first_month": "DATE",
    "months_to_march": "BIGINT", "third_part": "VARCHAR", "avg_qty": "DOUBLE",
    "big_double": "DOUBLE", "small_double": "DOUBLE", "sold_at": "TIMESTAMP",
    "item_note": "VARCHAR", "note_length": "BIGINT", "minus_half": "INTEGER", "rounded": "INTEGER",
    "double_text": "VARCHAR",
}  # fmt: skip


def test_a_job_gets_athenas_types_and_values_on_the_local_engine(elt, tmp_path):
    lake = tmp_path / "lake"
    assert elt("--queries", JOB, "--lake", lake, "sample-data").exit_code == 0
    result = elt("--queries", JOB, "--lake", lake, "run")
    assert result.exit_code == 0, result.output
    assert (lake / "shop" / "facts.csv").read_text(encoding="utf-8") == EXPECTED_EXPORT
    (parquet,) = (lake / "tables" / "twin_elt" / "facts").glob("*/*.parquet")
    described = duckdb.sql(f"DESCRIBE SELECT * FROM read_parquet('{parquet}')").fetchall()
    assert {name: kind for name, kind, *_ in described} == EXPECTED_TYPES
