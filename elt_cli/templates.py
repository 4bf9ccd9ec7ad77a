"""Render a job's SQL: user values reach SQL only through here."""

from __future__ import annotations

import re
import string
from pathlib import Path

from elt_cli.errors import BadInput, TemplateError

# No leading `_`: Athena DDL needs backticks around such names, DML double quotes; refusing them
# keeps every statement valid as written.
_IDENTIFIER = re.compile(r"[a-z][a-z0-9_]*")
MAX_IDENTIFIER = 128  # Glue allows 255; Athena table names in DML are happier shorter
MAX_TEXT = 256
_PLACEHOLDER = (
    r"\$(?:(?P<escaped>\$)|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)\}"
    r"|(?P<named>(?!))|(?P<invalid>(?!)))"
)


def identifier(value: str, what: str = "name") -> str:
    """Return `value` if it is a safe SQL identifier, else raise BadInput."""
    if not _IDENTIFIER.fullmatch(value) or len(value) > MAX_IDENTIFIER:
        raise BadInput(
            f"invalid {what} {value!r}: use lower-case letters, digits and _, starting with a "
            f"letter, at most {MAX_IDENTIFIER} characters"
        )
    return value


def sql_string(value: str) -> str:
    """A SQL string literal for Athena DML and DuckDB: quotes doubled, nothing else special."""
    return "'" + value.replace("'", "''") + "'"


def quoted_name(name: str) -> str:
    """A column name as a double-quoted identifier (DuckDB), any characters kept."""
    return '"' + name.replace('"', '""') + '"'


def text_literal(value: str) -> str:
    """A user's text (a genre) as a literal, refusing over-long values."""
    if len(value) > MAX_TEXT:
        raise BadInput(f"value too long ({len(value)} characters, at most {MAX_TEXT})")
    return sql_string(value)


def location_literal(uri: str) -> str:
    """A LOCATION literal. Hive DDL treats backslashes as escapes, so refuse them (and quotes)."""
    if any(ch in uri for ch in "'\\") or any(ord(ch) < 32 for ch in uri):
        raise BadInput(f"location {uri!r} must not hold quotes, backslashes or control characters")
    return "'" + uri + "'"


def slug(genre: str) -> str:
    """`Sci-Fi` -> `sci_fi`, `(no genres listed)` -> `no_genres_listed` (docs/DESIGN.md)."""
    return re.sub(r"[^a-z0-9]+", "_", genre.lower()).strip("_")


class SqlTemplate(string.Template):
    # Only ${name} is a placeholder, so Athena's "$path" and "$bucket" columns stay as written.
    # (a text, which string.Template compiles)
    pattern = _PLACEHOLDER  # type: ignore[assignment]


def render(
    text: str, values: dict[str, str], lines_as_written: bool = False, ddl: bool = False
) -> str:
    """A job's SQL with its placeholders filled, each value made safe for its place:
    ${database} and ${table} are checked identifiers (quoted where Athena reserves them, in
    backticks in `ddl`), ${location} a location literal, any other (a parameter) an escaped
    string literal. Leading comment lines are dropped, unless `lines_as_written` (for errors
    that name a line of the file)."""
    from elt_cli.athena_sql import ddl_name, dml_name

    template = SqlTemplate(text)
    needed = set(template.get_identifiers())
    missing = needed - set(values)
    if missing:
        raise TemplateError(f"no value for {', '.join('${' + m + '}' for m in sorted(missing))}")
    quote = ddl_name if ddl else dml_name
    kinds = {
        "database": lambda v: quote(identifier(v, "database name")),
        "table": lambda v: quote(identifier(v, "table name")),
        "location": location_literal,
    }
    sql = template.substitute({k: kinds.get(k, text_literal)(values[k]) for k in needed})
    if lines_as_written:
        return sql
    lines = sql.strip().splitlines()
    while lines and lines[0].lstrip().startswith("--"):
        lines.pop(0)
    return "\n".join(lines).strip().rstrip(";").strip()


def packaged_queries() -> Path:
    """The installed copy of queries/ (in a wheel), or the checkout's (editable install)."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "queries", here.parent / "queries"):
        if candidate.is_dir():
            return candidate
    return here / "queries"
