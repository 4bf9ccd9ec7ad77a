"""What Athena's SQL is, from AWS's and Trino's documentation: its reserved words, the functions
engine version 3 has, the column types OpenCSVSerDe reads from text, and how Hive DDL reads a
string literal. Checks (validate.py) and the SQL elt writes (sql.py) read these facts here."""

from __future__ import annotations

import functools
import re
from pathlib import Path

# "Reserved keywords to escape in DDL statements", enclosed in backticks there:
# https://docs.aws.amazon.com/athena/latest/ug/reserved-words.html
DDL_RESERVED = frozenset(
    """
    ALL ALTER AND ARRAY AS AUTHORIZATION BETWEEN BIGINT BINARY BOOLEAN BOTH BY CASE CASHE CAST
    CHAR COLUMN CONF CONSTRAINT COMMIT CREATE CROSS CUBE CURRENT CURRENT_DATE CURRENT_TIMESTAMP
    CURSOR DATABASE DATE DAYOFWEEK DECIMAL DELETE DESCRIBE DISTINCT DIV DOUBLE DROP ELSE END
    EXCHANGE EXISTS EXTENDED EXTERNAL EXTRACT FALSE FETCH FLOAT FLOOR FOLLOWING FOR FOREIGN FROM
    FULL FUNCTION GRANT GROUP GROUPING HAVING IF IMPORT IN INNER INSERT INT INTEGER INTERSECT
    INTERVAL INTO IS JOIN LATERAL LEFT LESS LIKE LOCAL MACRO MAP MORE NONE NOT NULL NUMERIC OF ON
    ONLY OR ORDER OUT OUTER OVER PARTIALSCAN PARTITION PERCENT PRECEDING PRECISION PRESERVE
    PRIMARY PROCEDURE RANGE READS REDUCE REGEXP REFERENCES REVOKE RIGHT RLIKE ROLLBACK ROLLUP ROW
    ROWS SELECT SET SMALLINT START TABLE TABLESAMPLE THEN TIME TIMESTAMP TO TRANSFORM TRIGGER TRUE
    TRUNCATE UNBOUNDED UNION UNIQUEJOIN UPDATE USER USING UTC_TIMESTAMP VALUES VARCHAR VIEWS WHEN
    WHERE WINDOW WITH
    """.split()
)
# Reserved in SELECT, CTAS and views, enclosed in double quotes there: the same AWS page, with
# Trino's own list (docs/src/main/sphinx/language/reserved.md), which engine version 3 follows.
DML_RESERVED = frozenset(
    """
    ALTER AND AS AUTO BETWEEN BY CASE CAST CONSTRAINT CREATE CROSS CUBE CURRENT_CATALOG
    CURRENT_DATE CURRENT_PATH CURRENT_ROLE CURRENT_SCHEMA CURRENT_TIME CURRENT_TIMESTAMP
    CURRENT_USER DEALLOCATE DELETE DESCRIBE DISTINCT DROP ELSE END ESCAPE EXCEPT EXECUTE EXISTS
    EXTRACT FALSE FIRST FOR FROM FULL GROUP GROUPING HAVING IN INNER INSERT INTERSECT INTO IS JOIN
    JSON_ARRAY JSON_EXISTS JSON_OBJECT JSON_QUERY JSON_TABLE JSON_VALUE LAST LEFT LIKE LISTAGG
    LOCALTIME LOCALTIMESTAMP NATURAL NORMALIZE NOT NULL OF ON OR ORDER OUTER PREPARE PRIMARY
    RECURSIVE RIGHT ROLLUP SELECT SKIP TABLE THEN TRIM TRUE UESCAPE UNESCAPE UNION UNNEST USING
    VALUES WHEN WHERE WITH
    """.split()
)

# OpenCSVSerDe "recognizes BOOLEAN, BIGINT, INT, and DOUBLE"; a DATE only as a number of days
# since 1970-01-01 and a TIMESTAMP only as UNIX milliseconds, never as text such as 2020-01-15
# ("does not support DATE in any other format"): https://docs.aws.amazon.com/athena/latest/ug/csv-serde.html
OPEN_CSV_TYPES = frozenset(
    {"STRING", "VARCHAR", "CHAR", "BOOLEAN", "INT", "INTEGER", "BIGINT", "DOUBLE"}
)
OPEN_CSV_SERDE = "org.apache.hadoop.hive.serde2.OpenCSVSerde"
LAZY_SIMPLE_SERDE = "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"
# Columns Athena adds to every table over files ("$path" and the others of its "Getting the
# file locations for source data" page).
HIDDEN_COLUMNS = {
    "$path": "VARCHAR",
    "$bucket": "VARCHAR",
    "$file_size": "BIGINT",
    "$file_modified_time": "TIMESTAMP",
}


def ddl_name(name: str) -> str:
    """A name as Hive DDL (CREATE DATABASE, CREATE EXTERNAL TABLE, DROP TABLE) needs it."""
    return f"`{name}`" if name.upper() in DDL_RESERVED else name


def dml_name(name: str) -> str:
    """A name as a SELECT, CTAS or view needs it."""
    return f'"{name}"' if name.upper() in DML_RESERVED else name


@functools.cache
def _functions() -> dict[str, bool]:
    found = {}
    path = Path(__file__).with_name("athena_functions.txt")
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, *kind = line.split()
            found[name] = kind == ["aggregate"]
    return found


def is_function(name: str) -> bool:
    """True for a function Athena engine version 3 has (by Trino's list)."""
    return name.lower() in _functions()


def is_aggregate(name: str) -> bool:
    return _functions().get(name.lower(), False)


def function_names() -> list[str]:
    return list(_functions())


# What to write on Athena instead of another engine's function (DuckDB's, Spark's, MySQL's).
INSTEAD = {
    "strptime": "date_parse(s, '%Y-%m-%d') (MySQL-style format), or parse_datetime",
    "strftime": "date_format(t, '%Y-%m-%d') (MySQL-style format), or format_datetime",
    "string_split": "split(s, ',')",
    "str_split": "split(s, ',')",
    "string_to_array": "split(s, ',')",
    "list_extract": "element_at(array, i)",
    "array_extract": "element_at(array, i)",
    "list_contains": "contains(array, x)",
    "array_contains": "contains(array, x)",
    "array_length": "cardinality(array)",
    "list_length": "cardinality(array)",
    "len": "length(s), or cardinality(array)",
    "char_length": "length(s)",
    "character_length": "length(s)",
    "instr": "strpos(s, t)",
    "ifnull": "coalesce(a, b)",
    "nvl": "coalesce(a, b)",
    "isnull": "x IS NULL",
    "datediff": "date_diff('day', a, b)",
    "dateadd": "date_add('day', n, d)",
    "date_part": "extract(year FROM d), or year(d)",
    "datepart": "extract(year FROM d), or year(d)",
    "group_concat": "array_join(array_agg(x), ','), or listagg(x, ',') WITHIN GROUP (ORDER BY x)",
    "string_agg": "array_join(array_agg(x), ','), or listagg(x, ',') WITHIN GROUP (ORDER BY x)",
    "regexp_matches": "regexp_like(s, pattern)",
    "regexp_full_match": "regexp_like(s, '^...$')",
    "left": "substr(s, 1, n)",
    "right": "substr(s, -n)",
    "epoch": "to_unixtime(t)",
    "today": "current_date",
    "median": "approx_percentile(x, 0.5)",
}

_HIVE_ESCAPES = {"0": "\0", "b": "\b", "n": "\n", "r": "\r", "t": "\t", "Z": "\x1a"}


def hive_string(body: str) -> str:
    """The value of a Hive DDL string literal (its text between the quotes), as Hive's
    BaseSemanticAnalyzer.unescapeSQLString reads it: `\\u0000` is the NUL character, `\\t` a
    tab, a backslash before any other character is dropped. This is what Glue stores."""

    def one(match: re.Match) -> str:
        text = match.group(0)
        if text[1] == "u":
            return chr(int(text[2:], 16))
        if text[1] in "01234567" and len(text) == 4:
            return chr(int(text[1:], 8))
        return _HIVE_ESCAPES.get(text[1], text[1])

    return re.sub(r"\\(u[0-9a-fA-F]{4}|[0-3][0-7]{2}|.)", one, body, flags=re.S)
