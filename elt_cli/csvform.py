"""The one CSV form of every export, whichever engine made it.

RFC 4180 with one header line, UTF-8, `\\n` line ends, and quotes only where a field needs
them: a comma, a quote (doubled inside) or a line break, and the empty string, written `""` so
that it differs from NULL, which is an empty field. DuckDB writes exactly this; Athena's result
files quote every field (header and numbers too), so they are rewritten into it.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from elt_cli.errors import EltError
from elt_cli.templates import quoted_name, sql_string

DUCKDB_COPY_OPTIONS = "FORMAT CSV, HEADER, DELIMITER ','"


def _copy(con, select: str, dest: Path) -> int:
    sql = f"COPY ({select}) TO {sql_string(str(dest))} ({DUCKDB_COPY_OPTIONS})"
    return int(con.execute(sql).fetchall()[0][0])


def _columns(names: list[str]) -> str:
    return "{" + ", ".join(f"{sql_string(n)}: 'VARCHAR'" for n in names) + "}"


def from_result_file(src: Path, dest: Path) -> int:
    """Rewrite an Athena result file (every value quoted, NULL an unquoted empty field) into
    the form above, values kept as text exactly as Athena printed them. Returns the rows."""
    import duckdb

    with src.open(encoding="utf-8", newline="") as f:
        header = next(csv.reader(f), None)
    if header is None:
        raise EltError(
            "the query's result file is empty: Athena writes a header line even for no rows"
        )
    with duckdb.connect() as con:
        return _copy(
            con,
            f"SELECT * FROM read_csv({sql_string(str(src))}, header = true, delim = ',', "
            f"quote = '\"', escape = '\"', columns = {_columns(header)}, auto_detect = false, "
            # a quoted empty field is the empty string; only an unquoted one is NULL
            "allow_quoted_nulls = false)",
            dest,
        )


def from_rows(header: list[str], rows, dest: Path) -> int:
    """Write rows of text values (None for NULL) in the form above. Returns the rows."""
    import duckdb

    lines = dest.with_name(dest.name + ".jsonl")
    try:
        with lines.open("w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(dict(zip(header, row, strict=True))) + "\n")
        with duckdb.connect() as con:
            return _copy(
                con,
                f"SELECT {', '.join(quoted_name(n) for n in header)} FROM read_json("
                f"{sql_string(str(lines))}, format = 'newline_delimited', "
                f"columns = {_columns(header)})",
                dest,
            )
    finally:
        lines.unlink(missing_ok=True)
