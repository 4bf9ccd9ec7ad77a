"""Find and render the SQL templates in queries/. User values reach SQL only through here."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from pathlib import Path

from elt_cli.errors import BadInput, TemplateError

# The job's own SQL. The statements around it (database, drops, CTAS, views) are elt's: sql.py.
TEMPLATE_NAMES = (
    "create_movies_table",
    "create_ratings_table",
    "build_subset",
    "export_subset",
    "list_genres",
)

# No leading `_`: Athena DDL needs backticks around such names, DML double quotes; refusing them
# keeps every statement valid as written.
_IDENTIFIER = re.compile(r"[a-z][a-z0-9_]*")
MAX_IDENTIFIER = 128  # Glue allows 255; Athena table names in DML are happier shorter
MAX_TEXT = 256


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
    """`Sci-Fi` -> `sci_fi`, `(no genres listed)` -> `no_genres_listed` (DESIGN.md)."""
    return re.sub(r"[^a-z0-9]+", "_", genre.lower()).strip("_")


# How each placeholder's value becomes SQL text.
_RENDER = {
    "database": lambda v: identifier(v, "database name"),
    "table": lambda v: identifier(v, "table name"),
    "location": location_literal,
    "genre": text_literal,
}


class _SqlTemplate(string.Template):
    # Only ${name} is a placeholder, so Athena's "$path" and "$bucket" columns stay as written.
    pattern = (
        r"\$(?:(?P<escaped>\$)|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)\}"
        r"|(?P<named>(?!))|(?P<invalid>(?!)))"
    )


@dataclass(frozen=True)
class Templates:
    folder: Path
    texts: dict[str, str]

    @classmethod
    def load(cls, folder: Path | None = None) -> Templates:
        """Read and check every template: a broken one stops the run before it changes anything."""
        folder = folder or packaged_queries()
        if not folder.is_dir():
            raise TemplateError(f"SQL template folder {folder} does not exist")
        texts = {}
        for name in TEMPLATE_NAMES:
            path = folder / f"{name}.sql"
            if not path.is_file():
                raise TemplateError(f"SQL template {name}.sql is missing from {folder}")
            text = path.read_text(encoding="utf-8")
            unknown = set(_SqlTemplate(text).get_identifiers()) - set(_RENDER)
            if unknown:
                raise TemplateError(
                    f"SQL template {path} uses unknown placeholder(s) "
                    f"{', '.join('${' + u + '}' for u in sorted(unknown))}; "
                    f"known: {', '.join('${' + k + '}' for k in _RENDER)}"
                )
            texts[name] = text
        return cls(folder, texts)

    def render(self, name: str, **values: str) -> str:
        """The statement as it is sent: placeholders filled, leading comment lines dropped."""
        template = _SqlTemplate(self.texts[name])
        needed = set(template.get_identifiers())
        missing = needed - set(values)
        if missing:
            raise TemplateError(f"SQL template {name}.sql needs a value for {sorted(missing)}")
        sql = template.substitute({k: _RENDER[k](values[k]) for k in needed})
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
