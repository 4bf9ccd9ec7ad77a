"""The SQL elt writes around a job's own: the database, drops, versioned CTAS, the publishing
view, and the guard that keeps malformed raw rows out of every query that reads raw data.

Everything here is Athena SQL built from checked identifiers and escaped literals; the local
engine runs the same text through sqlglot, like the job's own templates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from elt_cli.athena_sql import ddl_name, dml_name
from elt_cli.errors import TemplateError
from elt_cli.lazy import LazyModule
from elt_cli.templates import identifier, location_literal, sql_string

if TYPE_CHECKING:
    from sqlglot import exp
else:
    exp = LazyModule("sqlglot.expressions")

# A last column elt adds to every raw table: OpenCSVSerDe (like LazySimpleSerDe) silently drops
# the fields of a row beyond the declared columns, so one more column catches the first of them.
EXTRA_COLUMN = "elt_extra"
# Athena's OpenCSVSerDe fails the whole query on a value it cannot convert (an empty or
# non-numeric field in a number column) without naming the file; with this property the value
# reads as NULL, which the guard below then refuses (or skips), naming the file.
NULL_FOR_INVALID = "use.null.for.invalid.data"
# A guarded query fails on the first malformed row with a cast error carrying this text and the
# row's file, on Athena and DuckDB alike; `malformed_file` reads the file back.
MALFORMED = "elt: malformed row in <"
_MALFORMED_FILE = re.compile(re.escape(MALFORMED) + r"(.*?)>")


def create_database(database: str) -> str:
    return f"CREATE DATABASE IF NOT EXISTS {ddl_name(identifier(database, 'database name'))}"


def table_name(database: str, table: str, ddl: bool = False) -> str:
    """`db.table`, each name quoted where Athena reserves it: in backticks in DDL, in double
    quotes in a SELECT, CTAS or view (`--genre Order` makes the view "order")."""
    quote = ddl_name if ddl else dml_name
    return (
        f"{quote(identifier(database, 'database name'))}.{quote(identifier(table, 'table name'))}"
    )


def drop_table(database: str, table: str) -> str:
    # Tables elt drops are external (raw tables, CTAS versions): their data stays where it is.
    return f"DROP TABLE IF EXISTS {table_name(database, table, ddl=True)}"


# Athena writes Parquet with GZIP unless told (compression-formats.html). ZSTD files are
# about as small and much cheaper to decompress, for Athena and for DuckDB, pandas or Spark
# reading a version's files; Athena engine v3 writes it (compression-support-hive.html).
PARQUET_COMPRESSION = "ZSTD"


def ctas(database: str, table: str, select: str, location: str | None) -> str:
    """A Parquet table from a SELECT. Without a location, Athena picks one: a workgroup that
    enforces its settings refuses a CTAS that names an external_location."""
    where = f", external_location = {location_literal(location)}" if location else ""
    return (
        f"CREATE TABLE {table_name(database, table)}\n"
        f"WITH (format = 'PARQUET', write_compression = '{PARQUET_COMPRESSION}'{where})\n"
        f"AS\n{select}"
    )


def publish(database: str, view: str, table: str) -> str:
    """Points a model's name at one built version, in one statement."""
    return (
        f"CREATE OR REPLACE VIEW {table_name(database, view)} AS\n"
        f"SELECT * FROM {table_name(database, table)}"
    )


# -- raw tables --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RawColumn:
    """A column of a raw table: its name, its type as the job declares it (Hive DDL: INT,
    STRING) and the fields that read as NULL in it (the source's `missing` markers)."""

    name: str
    type: str
    missing: tuple[str, ...] = ()

    @property
    def is_text(self) -> bool:
        return self.type.upper().split("(")[0] in ("STRING", "VARCHAR", "CHAR")

    @property
    def read_as_text(self) -> bool:
        """Declared STRING in the table elt makes, and converted in every read (see resolve)."""
        return bool(self.missing) and not self.is_text


# What a field must look like to be a value of its type where elt converts it (a column with
# missing markers). The same on both engines: Trino's and DuckDB's TRY_CAST agree on these
# and differ on others (' 42', '1_000', '0x1F').
TEXT_FORMS = {
    "TINYINT": r"^[+-]?[0-9]+$",
    "SMALLINT": r"^[+-]?[0-9]+$",
    "INT": r"^[+-]?[0-9]+$",
    "INTEGER": r"^[+-]?[0-9]+$",
    "BIGINT": r"^[+-]?[0-9]+$",
    "DOUBLE": r"^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?$",
    "BOOLEAN": r"^(true|false|TRUE|FALSE|True|False)$",
}


def raw_table_ddl(label: str, ddl: str, columns: list[RawColumn] | None = None) -> str:
    """The job's CREATE EXTERNAL TABLE with elt's additions: the extra-fields column, the
    invalid-data property, and STRING for a typed column with missing markers (converted in
    every read instead). Made on the text as written (not re-generated), so every other
    character reaches Athena exactly as the template has it."""
    from elt_cli.memo import remembered

    return remembered(
        "raw ddl", (label, ddl, repr(columns)), lambda: _raw_table_ddl(label, ddl, columns)
    )


def _raw_table_ddl(label: str, ddl: str, columns: list[RawColumn] | None) -> str:
    from sqlglot.dialects.athena import Athena
    from sqlglot.tokens import TokenType

    tokens = Athena().tokenize(ddl)
    depth, columns_end, props_end = 0, None, None
    for i, token in enumerate(tokens):
        if token.token_type == TokenType.L_PAREN:
            depth += 1
        elif token.token_type == TokenType.R_PAREN:
            depth -= 1
            if depth == 0 and columns_end is None:
                columns_end = token.start
        elif token.text.upper() == "TBLPROPERTIES" and depth == 0:
            props_end = next(t.start for t in tokens[i:] if t.token_type == TokenType.R_PAREN)
    if columns_end is None:
        raise TemplateError(f"{label}: no column list in its CREATE TABLE")
    names = {t.text.lower() for t in tokens}
    out = ddl.rstrip().rstrip(";").rstrip()
    if NULL_FOR_INVALID not in names:
        prop = f"{sql_string(NULL_FOR_INVALID)} = 'true'"
        out = (
            f"{out[:props_end]}, {prop}{out[props_end:]}"
            if props_end is not None
            else f"{out}\nTBLPROPERTIES ({prop})"
        )
    if EXTRA_COLUMN not in names:
        out = f"{out[:columns_end].rstrip()},\n  {EXTRA_COLUMN} STRING\n{out[columns_end:]}"
    as_text = {c.name.lower() for c in columns or [] if c.read_as_text}
    for name, start, end in reversed(_column_types(tokens)):
        if name.lower() in as_text:
            out = out[:start] + "STRING" + out[end:]
    return out


def _column_types(tokens) -> list[tuple[str, int, int]]:
    """(name, start, end) of each column's type in a CREATE TABLE's column list."""
    from sqlglot.tokens import TokenType

    found, depth, name, start = [], 0, None, None
    for i, token in enumerate(tokens):
        if token.token_type == TokenType.L_PAREN:
            depth += 1
            if depth == 1:
                name = None
                continue
        if token.token_type in (TokenType.R_PAREN, TokenType.COMMA) and depth == 1:
            if name is not None and start is not None:
                found.append((name, start, tokens[i - 1].end + 1))
            name, start = None, None
        elif depth == 1 and name is None:
            name = token.text
        elif depth == 1 and start is None:
            start = token.start
        if token.token_type == TokenType.R_PAREN:
            depth -= 1
            if depth == 0:
                break
    return found


def resolve(
    label: str,
    select: str,
    database: str,
    tables: dict[str, str],
    raw: dict[str, list[RawColumn]],
    skip_bad_rows: bool,
    inline: dict[str, str] | None = None,
    reader_refuses: bool = False,
) -> tuple[str, tuple[str, ...]]:
    """A job's SELECT as it is sent: each model it reads (`${database}.<model>`) named by the
    table that holds it for this run (`subset` -> `sci_fi`), or, in `inline`, replaced by its
    own SELECT when it is not built yet; each read of a raw table replaced by a read of its
    well-formed rows, each field a missing marker made NULL.

    A raw row is malformed when a field is missing (OpenCSVSerDe reads NULL), extra
    (EXTRA_COLUMN holds it) or not of its column's type (NULL, by NULL_FOR_INVALID; for a
    column with missing markers, a field that is neither a marker nor of its TEXT_FORMS):
    `count(*)` would count it and an average would be silently wrong. By default such a row
    fails the query, naming its file; with `skip_bad_rows` it is left out (and `malformed_rows`
    counts them). An engine whose CSV reader refuses a missing, extra or mistyped field itself,
    naming the file and line (`reader_refuses`: the local engine's DuckDB), is sent only the
    part of that guard its reader cannot do: the fields of columns with missing markers.
    Returns the SELECT and the raw tables it reads."""
    from elt_cli.memo import remembered

    inline = inline or {}
    parts = (label, select, database, repr(sorted(tables.items())), repr(sorted(raw.items())),
             str(skip_bad_rows), repr(sorted(inline.items())), str(reader_refuses))  # fmt: skip
    arguments = (label, select, database, tables, raw, skip_bad_rows, inline, reader_refuses)
    sent, reads = remembered("resolve", parts, lambda: _resolve(*arguments))
    return sent, tuple(reads)


def _resolve(label, select, database, tables, raw, skip_bad_rows, inline, reader_refuses):
    tree = parse(label, select)
    for table in tree.find_all(exp.Table):  # Athena's names are case-insensitive
        if table.db.lower() == database:
            table.set("db", exp.to_identifier(database))
            table.set("this", exp.to_identifier(table.name.lower()))
    inlined = True
    while inlined:  # a model not built yet is read as its SELECT (which may read another)
        inlined = False
        for table in list(tree.find_all(exp.Table)):
            if table.db == database and table.name in inline:
                table.replace(parse(label, inline[table.name]).subquery(table.alias_or_name))
                inlined = True
    for node in tree.walk():
        node.comments = None  # the file's comments are for its readers, not Athena
    reads = []
    # Athena's hidden "$path" is read where the job's SQL names it; a `SELECT *` of a raw table
    # gives the declared columns only, as on Athena
    hidden = [c.name for c in tree.find_all(exp.Column) if c.name.startswith("$")]
    for table in list(tree.find_all(exp.Table)):
        if table.db != database:
            continue
        if table.name in tables:
            if not table.alias:  # `subset.movie_id` still names the column
                table.set("alias", exp.TableAlias(this=exp.to_identifier(table.name)))
            table.set("this", exp.to_identifier(tables[table.name]))
            continue
        columns = raw.get(table.name)
        if columns is None:
            continue
        reads.append(table.name)
        bad = _malformed(columns, reader_refuses)
        keep: exp.Expr | None
        if bad is None:
            keep = None
        elif skip_bad_rows:
            keep = exp.not_(bad)
        else:
            failure = exp.cast(
                exp.func("concat", exp.Literal.string(MALFORMED), _path(), exp.Literal.string(">")),
                "INTEGER",
            )
            keep = exp.Case(
                ifs=[exp.If(this=bad, true=exp.EQ(this=failure, expression=exp.Literal.number(0)))],
                default=exp.true(),
            )
        source = exp.Table(this=exp.to_identifier(table.name), db=exp.to_identifier(database))
        values = [
            exp.alias_(_converted(c), c.name, quoted=True) if c.missing else _column(c.name)
            for c in columns
        ]
        extra = [exp.column(exp.to_identifier(h, quoted=True)) for h in dict.fromkeys(hidden)]
        if extra:
            _declared_stars(table, columns)
        rows = exp.select(*values, *extra).from_(source)
        if keep is not None:
            rows = rows.where(keep)
        table.replace(rows.subquery(table.alias_or_name))
    return tree.sql("athena", pretty=True), tuple(sorted(set(reads)))


def _declared_stars(table: exp.Table, columns: list[RawColumn]) -> None:
    """A `*` over a raw table whose read also gives its hidden columns: the declared columns,
    as Athena's `*` gives them."""
    select = table.find_ancestor(exp.Select)
    if select is None:
        return
    name = table.alias_or_name
    alone = len(list(select.find_all(exp.Table))) == 1 and not select.args.get("joins")
    for projection in list(select.expressions):
        star = isinstance(projection, exp.Star) and alone
        table_star = (
            isinstance(projection, exp.Column)
            and isinstance(projection.this, exp.Star)
            and projection.table == name
        )
        if star or table_star:
            named = [
                exp.column(exp.to_identifier(c.name, quoted=True), table=name) for c in columns
            ]
            projection.replace(named[0])
            for offset, column in enumerate(named[1:], 1):
                index = select.expressions.index(named[0]) + offset
                select.expressions.insert(index, column)


def malformed_rows(database: str, table: str, columns: list[RawColumn]) -> str:
    """Per file of a raw table: how many malformed rows it has (see resolve), and what is
    wrong with one of them (`column rating: 'four' is not a DOUBLE`)."""
    source = exp.Table(this=exp.to_identifier(table), db=exp.to_identifier(database))
    query = (
        exp.select(
            exp.alias_(_path(), "file"),
            exp.alias_(exp.func("count", exp.Star()), "malformed"),
            exp.alias_(exp.func("arbitrary", _what_is_wrong(columns)), "example"),
        )
        .from_(source)
        .where(_malformed(columns))
        .group_by(_path())
        .order_by("malformed DESC", "file")
    )
    return query.sql("athena", pretty=True)


def malformed_file(reason: str) -> str | None:
    """The file named by a guarded query that failed on a malformed row, if that is why."""
    match = _MALFORMED_FILE.search(reason)
    return match.group(1) if match else None


def parse(label: str, text: str):
    """Athena SQL parsed; what cannot be is an error naming the template."""
    import sqlglot
    from sqlglot.errors import SqlglotError

    try:
        return sqlglot.parse_one(text, read="athena")
    except SqlglotError as exc:
        first = str(exc).strip().splitlines()[0]
        raise TemplateError(f"{label}: cannot be parsed: {first}") from exc


def _column(name: str):
    return exp.column(exp.to_identifier(name, quoted=True))


def _path():
    return exp.column(exp.to_identifier("$path", quoted=True))


def _markers(column: RawColumn):
    return [exp.Literal.string(m) for m in column.missing]


def _converted(column: RawColumn):
    """A field of a column with missing markers as a value: NULL for a marker, else the field
    converted to the column's type if it has that type's form (else NULL)."""
    field = _column(column.name)
    is_marker = exp.In(this=field.copy(), expressions=_markers(column))
    if column.is_text:
        return exp.Case(ifs=[exp.If(this=is_marker, true=exp.null())], default=field)
    kind = column.type.upper().split("(")[0]
    form = TEXT_FORMS.get(kind)
    cast = exp.TryCast(this=field.copy(), to=exp.DataType.build(column.type, dialect="athena"))
    valid = exp.RegexpLike(this=field.copy(), expression=exp.Literal.string(form)) if form else None
    return exp.Case(
        ifs=[exp.If(this=is_marker, true=exp.null())]
        + ([exp.If(this=valid, true=cast)] if valid is not None else []),
        default=None if valid is not None else cast,
    )


def _bad_field(column: RawColumn):
    """The field is missing (the row is short), or not a value of its column."""
    missing = exp.Is(this=_column(column.name), expression=exp.null())
    if not column.missing or column.is_text:
        return missing
    not_marker = exp.not_(exp.In(this=_column(column.name), expressions=_markers(column)))
    unconverted = exp.Is(this=_converted(column), expression=exp.null())
    return exp.or_(missing, exp.and_(not_marker, unconverted))


def _malformed(columns: list[RawColumn], reader_refuses: bool = False):
    """The condition of a malformed row (see resolve); None when there is nothing left to
    check beyond what the engine's reader refuses."""
    if reader_refuses:
        checked = [_bad_field(c) for c in columns if c.missing and not c.is_text]
        return exp.or_(*checked) if checked else None
    return exp.or_(
        *(_bad_field(c) for c in columns),
        exp.not_(exp.Is(this=_column(EXTRA_COLUMN), expression=exp.null())),
    )


def _what_is_wrong(columns: list[RawColumn]):
    """For a malformed row, what is wrong with it, as text."""
    ifs = []
    for c in columns:
        kind = c.type.upper()
        if c.missing and not c.is_text:
            field = _column(c.name)
            ifs.append(
                exp.If(
                    this=exp.and_(
                        exp.not_(exp.Is(this=field, expression=exp.null())), _bad_field(c)
                    ),
                    true=exp.func(
                        "concat",
                        exp.Literal.string(f"column {c.name}: '"),
                        field.copy(),
                        exp.Literal.string(f"' is neither of type {kind} nor a missing value"),
                    ),
                )
            )
        article = "an" if kind[:1] in "AEIOU" else "a"
        empty = (
            "is missing" if c.is_text or c.missing else f"is missing, empty or not {article} {kind}"
        )
        ifs.append(
            exp.If(
                this=exp.Is(this=_column(c.name), expression=exp.null()),
                true=exp.Literal.string(f"column {c.name} {empty}"),
            )
        )
    return exp.Case(ifs=ifs, default=exp.Literal.string("a field more than the table has"))


def serde_settings(ddl: str) -> dict[str, str]:
    """What a CREATE EXTERNAL TABLE tells Glue to keep about reading its files: the SerDe
    (`serde`), each SERDEPROPERTIES value and each TBLPROPERTIES value, as Hive reads the
    literals (`'\\u0000'` is the NUL character)."""
    from elt_cli.athena_sql import hive_string

    literal = r"'((?:[^'\\]|\\.)*)'"
    found = {}
    serde = re.search(r"ROW\s+FORMAT\s+SERDE\s+" + literal, ddl, re.I)
    if serde:
        found["serde"] = hive_string(serde.group(1))
    for section in ("SERDEPROPERTIES", "TBLPROPERTIES"):
        block = re.search(section + r"\s*\(((?:[^)']|" + literal + r")*)\)", ddl, re.I)
        for key, value in re.findall(
            literal + r"\s*=\s*" + literal, block.group(1) if block else ""
        ):
            found[f"{section.lower()}.{hive_string(key)}"] = hive_string(value)
    return found


def raw_columns(
    label: str, ddl: str, missing: dict[str, tuple[str, ...]] | None = None
) -> list[RawColumn]:
    """The columns a CREATE EXTERNAL TABLE declares (without EXTRA_COLUMN), each with its
    missing markers: `missing` maps a column (lower case) to them, "" to those of every
    column."""
    from elt_cli.memo import remembered

    def declared() -> list[tuple[str, str]]:
        tree = parse(label, ddl)
        if not (isinstance(tree, exp.Create) and isinstance(tree.this, exp.Schema)):
            raise TemplateError(f"{label}: must be a CREATE EXTERNAL TABLE")
        return [
            (c.name, c.args["kind"].sql("hive") if c.args.get("kind") else "STRING")
            for c in tree.this.expressions
            if c.name.lower() != EXTRA_COLUMN
        ]

    missing = missing or {}
    return [
        RawColumn(name, kind, tuple(missing.get(name.lower(), missing.get("", ()))))
        for name, kind in remembered("columns", (label, ddl), declared)
    ]
