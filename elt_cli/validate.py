"""What Athena would refuse in a job, refused before anything runs, naming the file, the line
and the fix (`elt check`, and every command when it opens the job).

In a source's DDL: CREATE TABLE without EXTERNAL, a DDL reserved word as a column name
without backticks, a column type OpenCSVSerDe cannot read from text. In a model's, export's or
values query's SELECT: a function Athena engine version 3 does not have, a column no table has
(a double-quoted "NA" is a column in Athena SQL), GROUP BY an alias, a column neither grouped
nor aggregated, and, where the SELECT makes a table or a file's header, a column without a name
or two columns of one name. The facts come from athena_sql.py; the types from athena_types.py.

`check_job` returns each table's columns with the types Athena gives them: the sources' as
declared, the models' as their SELECT makes them.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from sqlglot import exp

from elt_cli import athena_sql, athena_types
from elt_cli.errors import TemplateError
from elt_cli.job import JobSpec, SqlFile, parse_with_text

DATABASE = "elt_db"  # the sample database name job.py parses the files with


@dataclass(frozen=True)
class Column:
    name: str
    type: exp.DataType | None  # None where Athena's type is not worked out here

    @property
    def type_text(self) -> str:
        return self.type.sql("trino") if self.type is not None else "?"


Tables = dict[str, list[Column]]


def check_job(spec: JobSpec) -> Tables:
    """Everything Athena would refuse, in the order the files are used; raises TemplateError
    naming the file and line of the first. Returns each table's columns."""
    tables: Tables = {}
    for source in spec.sources.values():
        tables[source.name] = source_columns(source.file, source.name)
    for model in spec.models:
        tables[model.name] = check_select(spec, model.file, tables, names_columns=True, ctas=True)
    for export in spec.exports:
        check_select(spec, export.file, tables, names_columns=True)
    for parameter in spec.parameters.values():
        if parameter.values:
            check_select(spec, parameter.values, tables, names_columns=False)
    for check in spec.checks:
        _check_columns_of(check, tables[check.model])
        if check.sql:
            check_select(spec, check.sql, tables, names_columns=False)
    return tables


def _check_columns_of(check, columns: list[Column]) -> None:
    """The columns a check names are the model's, and accepted values are of their type (Athena
    refuses `n NOT IN ('1')` for a number n, and `s NOT IN (1)` for a text s)."""
    types = {c.name.lower(): c.type for c in columns}
    named = [("not_null", n) for n in check.not_null] + [("unique", n) for n in check.unique]
    named += [("accepted_values", n) for n, _ in check.accepted_values]
    for key, name in named:
        at = check.lines.get(key, check.line)
        if name not in types:
            close = difflib.get_close_matches(name, list(types), n=1)
            hint = f"did you mean {close[0]}?" if close else f"it has {', '.join(types)}"
            raise TemplateError(
                f"{at}: {key} names column {name}, which model {check.model} does not have; {hint}"
            )
    for name, values in check.accepted_values:
        kind = types[name]
        if kind is None:
            continue  # a type not worked out here: Athena decides
        text = kind.is_type(*exp.DataType.TEXT_TYPES)
        number = kind.is_type(*exp.DataType.INTEGER_TYPES)
        given_text = isinstance(values[0], str)
        if (given_text and not text) or (not given_text and not number):
            want = "texts" if text else "whole numbers" if number else "values of its type"
            raise TemplateError(
                f"{check.lines.get('accepted_values', check.line)}: accepted_values.{name} must "
                f"list {want}: column {name} of model {check.model} is "
                f"{athena_type_of(kind)}"
            )


# -- sources ---------------------------------------------------------------------------------------


def source_columns(file: SqlFile, table: str) -> list[Column]:
    """A source's CREATE EXTERNAL TABLE checked as Athena's DDL parser and OpenCSVSerDe would
    take it; its columns."""
    from elt_cli.templates import render

    values = {"database": DATABASE, "table": table, "location": "s3://elt-check/files/"}
    tree = _parse_ddl(file, render(file.text, values, lines_as_written=True, ddl=True))
    properties = tree.args["properties"].expressions if tree.args.get("properties") else []
    if not any(isinstance(p, exp.ExternalProperty) for p in properties):
        raise TemplateError(
            f"{file.at('CREATE')}: Athena creates a table over files only as CREATE EXTERNAL "
            "TABLE (without EXTERNAL it fails): write CREATE EXTERNAL TABLE"
        )
    serde = next((p for p in properties if isinstance(p, exp.RowFormatSerdeProperty)), None)
    open_csv = serde is not None and serde.this.name == athena_sql.OPEN_CSV_SERDE
    columns = []
    for definition in tree.this.expressions:
        if not isinstance(definition, exp.ColumnDef):
            continue
        name, kind = definition.this, definition.args.get("kind")
        at = f"{file.path}:{name.meta.get('line', 1)}"
        if name.name.upper() in athena_sql.DDL_RESERVED and not name.quoted:
            raise TemplateError(
                f"{at}: {name.name} is a reserved word in Athena DDL: write it in backticks, "
                f"`{name.name}`"
            )
        if kind is not None and open_csv:
            _check_open_csv_type(at, name.name, kind)
        columns.append(Column(name.name, _declared(kind)))
    return columns


def _parse_ddl(file: SqlFile, text: str):
    import sqlglot
    from sqlglot.errors import ParseError

    try:
        tree = sqlglot.parse_one(text.rstrip().rstrip(";"), read="athena")
    except ParseError as exc:
        error = exc.errors[0] if exc.errors else {}
        raise TemplateError(
            f"{file.path}:{error.get('line', 1)}: cannot be parsed as Athena DDL: "
            f"{error.get('description', exc)}"
        ) from exc
    if not (
        isinstance(tree, exp.Create) and tree.kind == "TABLE" and isinstance(tree.this, exp.Schema)
    ):
        raise TemplateError(f"{file.at()}: must be a CREATE EXTERNAL TABLE with its columns")
    return tree


def _check_open_csv_type(at: str, column: str, kind: exp.DataType) -> None:
    written = kind.sql("hive").upper()
    readable = {
        exp.DType.TEXT,
        exp.DType.VARCHAR,
        exp.DType.CHAR,
        exp.DType.BOOLEAN,
        exp.DType.INT,
        exp.DType.BIGINT,
        exp.DType.DOUBLE,
    }  # fmt: skip  (athena_sql.OPEN_CSV_TYPES, as sqlglot names them)
    if kind.this in readable:
        return
    if kind.this in (exp.DType.DATE, exp.DType.TIMESTAMP):
        example = (
            f"from_iso8601_date({column})"
            if kind.this == exp.DType.DATE
            else f"date_parse({column}, '%Y-%m-%d %H:%i:%s')"
        )
        raise TemplateError(
            f"{at}: OpenCSVSerDe reads a {written} column only as a number (days since "
            "1970-01-01 for a DATE, UNIX milliseconds for a TIMESTAMP), never as text such as "
            f"2024-01-31: declare {column} STRING and parse it in the model, e.g. {example}"
        )
    raise TemplateError(
        f"{at}: OpenCSVSerDe reads only STRING, BOOLEAN, INT, BIGINT and DOUBLE columns from "
        f"text, not {written}: declare {column} STRING and cast it in the model, e.g. "
        f"CAST({column} AS {written})"
    )


def athena_type_of(kind: exp.DataType | None) -> str:
    """A declared column type as the Athena type of its values (INT -> INTEGER)."""
    declared = _declared(kind)
    return declared.sql("trino") if declared is not None else "VARCHAR"


def _declared(kind: exp.DataType | None) -> exp.DataType | None:
    """A column's type as Athena reads it: STRING is VARCHAR, a TIMESTAMP has milliseconds."""
    if kind is None:
        return None
    if kind.this in (exp.DType.TEXT, exp.DType.CHAR):
        return exp.DataType.build("VARCHAR")
    if kind.this == exp.DType.TIMESTAMP and not kind.expressions:
        return exp.DataType.build("TIMESTAMP(3)")
    if kind.this == exp.DType.DECIMAL and not kind.expressions:
        return athena_types.decimal(10, 0)  # Hive's DECIMAL
    return kind


# -- SELECTs ---------------------------------------------------------------------------------------


def check_select(
    spec: JobSpec, file: SqlFile, tables: Tables, names_columns: bool, ctas: bool = False
) -> list[Column]:
    """A SELECT of the job's checked against Athena's rules; its columns and their types.
    `names_columns`: its columns become a table's or a file's header; `ctas`: a table's."""
    from sqlglot.errors import SqlglotError
    from sqlglot.optimizer.qualify import qualify

    tree, text = parse_with_text(spec, file)
    _check_functions(file, tree, text)
    _check_syntax(file, tree, text)
    if names_columns:
        _check_named(file, tree)
    _check_group_by_aliases(file, tree, tables, text)
    schema: dict[str, object] = {DATABASE: {t: _schema_columns(cs) for t, cs in tables.items()}}
    if any(t.name and t.db and t.db != DATABASE for t in tree.find_all(exp.Table)):
        return [Column(s.alias_or_name, None) for s in tree.selects]  # another database's
    try:
        qualified = qualify(
            tree.copy(),
            schema=schema,
            dialect="athena",
            validate_qualify_columns=False,
            expand_alias_refs=False,  # Athena resolves GROUP BY names in FROM, never aliases
            quote_identifiers=False,
        )
    except SqlglotError as exc:
        unknown = re.fullmatch(r"Unknown column: (\S+)", str(exc))
        if unknown:  # a table.column where the table (a subquery) has no such column
            column = _written_column(tree, text, unknown.group(1))
            raise TemplateError(
                f"{_at(file, column, unknown.group(1)) if column else file.at(unknown.group(1))}: "
                f"no table here has a column {_text(column, text) if column else unknown.group(1)}"
            ) from exc
        return [Column(s.alias_or_name, None) for s in tree.selects]  # not sure: Athena decides
    _check_columns(file, qualified, tables, text)
    for select in qualified.find_all(exp.Select):
        _check_grouping(file, select, text)
    try:
        athena_types.annotate(qualified, schema)
    except SqlglotError:
        return [Column(s.alias_or_name, None) for s in qualified.selects]
    _check_operands(file, qualified, text)
    if ctas:
        _check_storable(file, qualified)
    made = [Column(name, t) for name, t in athena_types.output_types(qualified)]
    if names_columns:
        seen: set[str] = set()
        for output, projection in zip(made, qualified.selects, strict=True):
            if output.name.lower() in seen:
                raise TemplateError(
                    f"{_at(file, _first_column(projection) or projection, output.name)}: two "
                    f"columns are named {output.name}: a table (and a file's header) needs a "
                    "name of its own for each; give one another alias"
                )
            seen.add(output.name.lower())
    return made


def _schema_columns(columns: list[Column]) -> dict[str, str]:
    found = {c.name: (c.type.sql("trino") if c.type is not None else "UNKNOWN") for c in columns}
    for name, kind in athena_sql.HIDDEN_COLUMNS.items():
        found.setdefault(name, kind)
    return found


def _line(node: exp.Expr) -> int | None:
    for candidate in (node, node.this if isinstance(node.this, exp.Expr) else None):
        if candidate is not None and "line" in candidate.meta:
            return candidate.meta["line"]
    return None


def _text(node: exp.Expr, text: str) -> str:
    """A column as the file writes it (`m.movieId`, `"NA"`), where its position is known."""
    parts = [node.args.get("table"), node.this] if isinstance(node, exp.Column) else [node]
    written = [
        text[part.meta["start"] : part.meta["end"] + 1]
        for part in parts
        if isinstance(part, exp.Identifier) and {"start", "end"} <= set(part.meta)
    ]
    return ".".join(written) or node.sql("athena")


def _written_column(tree: exp.Expr, text: str, name: str) -> exp.Column | None:
    """Where a column qualify could not find is written: preferably one read from a subquery."""
    derived = {s.alias.lower() for s in tree.find_all(exp.Subquery, exp.CTE) if s.alias}
    named = [c for c in tree.find_all(exp.Column) if c.name.lower() == name.lower()]
    return next((c for c in named if c.table.lower() in derived), named[0] if named else None)


def _check_group_by_aliases(file: SqlFile, tree: exp.Expr, tables: Tables, text: str) -> None:
    """GROUP BY and HAVING name the FROM clause's columns on Athena, never the SELECT's
    aliases (Trino resolves them before the SELECT)."""
    for select in tree.find_all(exp.Select):
        aliases = {s.alias.lower() for s in select.expressions if s.alias}
        read = [t.name for t in select.find_all(exp.Table) if t.find_ancestor(exp.Select) is select]
        columns = {c.name.lower() for t in read if t in tables for c in tables[t]}
        for clause in (select.args.get("group"), select.args.get("having")):
            for column in clause.find_all(exp.Column) if clause else []:
                name = column.name.lower()
                if not column.table and name in aliases and name not in columns:
                    where = "GROUP BY" if isinstance(clause, exp.Group) else "HAVING"
                    position = ", or give its position (GROUP BY 1)" if where == "GROUP BY" else ""
                    raise TemplateError(
                        f"{_at(file, column, column.name)}: {where} cannot name the SELECT's "
                        f"alias {_text(column, text)} on Athena (it resolves names in the FROM "
                        f"clause only): repeat the expression{position}"
                    )


def _at(file: SqlFile, node: exp.Expr, needle: str = "") -> str:
    line = _line(node)
    return f"{file.path}:{line}" if line else file.at(needle)


def _called(text: str, tree: exp.Expr) -> dict[str, int]:
    """The names a SQL text calls: a name (not a keyword) before `(` that names no table,
    alias or CTE, lower case, with the line of the first call."""
    import sqlglot
    from sqlglot.tokens import TokenType

    aliases = {t.alias_or_name.lower() for t in tree.find_all(exp.Table, exp.CTE, exp.Subquery)}
    aliases |= {a.name.lower() for a in tree.find_all(exp.TableAlias)}
    tokens = sqlglot.tokenize(text, read="athena")
    found: dict[str, int] = {}
    for before, name, paren in zip(tokens, tokens[1:], tokens[2:], strict=False):
        if (
            paren.token_type == TokenType.L_PAREN
            and name.token_type == TokenType.VAR
            and before.token_type not in (TokenType.ALIAS, TokenType.DOT, TokenType.STAR)
            and before.token_type != TokenType.R_PAREN  # count(*) FILTER (...)
            and name.text.lower() not in aliases
        ):
            found.setdefault(name.text.lower(), name.line)
    return found


def _check_functions(file: SqlFile, tree: exp.Expr, text: str) -> None:
    """Every function called is one Athena engine version 3 has, by the name as written."""
    # sqlglot keeps where a call's name is written for most calls, not all (string_agg): those
    # are found among the names the text calls
    calls = [(n, line) for n, line in _called(text, tree).items()]
    for node in tree.walk():
        if isinstance(node, exp.Anonymous):
            calls.append((node.name, node.meta.get("line", 1)))
        elif isinstance(node, exp.Func) and {"start", "end"} <= set(node.meta):
            calls.append((text[node.meta["start"] : node.meta["end"] + 1], node.meta["line"]))
    for name, line in sorted(calls, key=lambda c: c[1]):
        if not name or not name.replace("_", "").isalnum() or athena_sql.is_function(name):
            continue
        instead = athena_sql.INSTEAD.get(name.lower())
        close = difflib.get_close_matches(name.lower(), athena_sql.function_names(), 1, 0.8)
        hint = f"; use {instead}" if instead else f"; did you mean {close[0]}?" if close else ""
        raise TemplateError(
            f"{file.path}:{line}: {name}() is not a function of Athena "
            f"(engine version 3 has Trino's functions){hint}"
        )


def _check_syntax(file: SqlFile, tree: exp.Expr, text: str) -> None:
    """What sqlglot reads (from other dialects) and Athena's parser does not."""
    for star in tree.find_all(exp.Star):
        for key, word in (
            ("except_", "EXCLUDE/EXCEPT"),
            ("except", "EXCLUDE/EXCEPT"),
            ("replace", "REPLACE"),
            ("rename", "RENAME"),
        ):
            if star.args.get(key):
                raise TemplateError(
                    f"{_at(file, star, '*')}: SELECT * {word} (...) is not Athena SQL: name the "
                    "columns to select"
                )
    for log in tree.find_all(exp.Log):
        if log.args.get("expression") is None and "line" in log.meta:
            raise TemplateError(
                f"{file.path}:{log.meta['line']}: Athena's log takes a base: log(b, x); or "
                "write ln(x), log10(x) or log2(x)"
            )


# Athena (Trino) converts no text to a number, a date or a boolean by itself: a comparison,
# a || or a CASE of them is refused ("Cannot apply operator: integer >= varchar(4)").
_TEXT = (exp.DType.VARCHAR, exp.DType.CHAR, exp.DType.TEXT)
_NOT_TEXT = (
    *athena_types.INTEGERS, exp.DType.DECIMAL, exp.DType.DOUBLE, exp.DType.FLOAT,
    exp.DType.DATE, exp.DType.TIMESTAMP, exp.DType.TIMESTAMPTZ, exp.DType.BOOLEAN,
)  # fmt: skip
_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE)
# Functions of a date or a timestamp (docs/src/main/sphinx/functions/datetime.md): given text,
# Athena fails ("Unexpected parameters (varchar) for function year").
_OF_TIME = (
    exp.Year, exp.Month, exp.Day, exp.DayOfMonth, exp.Quarter, exp.WeekOfYear, exp.DayOfWeekIso,
    exp.DayOfYear, exp.Hour, exp.Minute, exp.Second, exp.TimestampTrunc, exp.DateTrunc,
    exp.TimeToStr, exp.LastDay,
)  # fmt: skip


def _shown(node: exp.Expr) -> str:
    """An expression near enough as the file writes it: without the tables qualify gave its
    columns."""
    copy = node.copy()
    for column in copy.find_all(exp.Column):
        column.set("table", None)
    return copy.sql("athena")


def _kind(node: exp.Expr | None) -> str:
    t = node.type if node is not None else None
    if t is None or not athena_types.known(t):
        return ""
    if t.this in _TEXT:
        return "text"
    return t.sql("trino").lower() if t.this in _NOT_TEXT else ""


def _check_operands(file: SqlFile, tree: exp.Expr, text: str) -> None:
    parameter = "; cast one side (a parameter is text: CAST(${name} AS INTEGER))"
    for node in tree.walk():
        pairs: list[tuple[exp.Expr, exp.Expr]] = []
        if isinstance(node, _COMPARISONS):
            pairs = [(node.this, node.expression)]
        elif isinstance(node, exp.Between):
            pairs = [(node.this, node.args["low"]), (node.this, node.args["high"])]
        elif isinstance(node, exp.In) and node.expressions:
            pairs = [(node.this, e) for e in node.expressions]
        for left, right in pairs:
            kinds = {_kind(left), _kind(right)}
            if "text" in kinds and len(kinds - {"text", ""}) == 1:
                other = (kinds - {"text"}).pop()
                raise TemplateError(
                    f"{_at(file, _first_column(node) or node, '')}: Athena does not compare "
                    f"{other} with text ({_shown(node)}){parameter}"
                )
        if isinstance(node, exp.DPipe):
            for side in (node.this, node.expression):
                if _kind(side) not in ("text", ""):
                    raise TemplateError(
                        f"{_at(file, _first_column(node) or node, '')}: || joins text on Athena, "
                        f"not {_kind(side)}: CAST({_shown(side)} AS VARCHAR)"
                    )
        if isinstance(node, (exp.Coalesce, exp.Case, exp.If)):
            values = _branches(node)
            kinds = {_kind(v) for v in values} - {""}
            if "text" in kinds and len(kinds) > 1:
                name = type(node).__name__.upper()
                raise TemplateError(
                    f"{_at(file, _first_column(node) or node, '')}: the values of {name} are "
                    f"of one type on Athena, not {' and '.join(sorted(kinds))}: cast them"
                )
        if isinstance(node, _OF_TIME) and _kind(node.this) == "text":
            name = (
                text[node.meta["start"] : node.meta["end"] + 1]
                if "start" in node.meta
                else type(node).__name__
            ).lower()
            raise TemplateError(
                f"{_at(file, _first_column(node) or node, '')}: {name}() takes a DATE or a "
                f"TIMESTAMP on Athena, not text: parse it first, e.g. "
                f"{name}(from_iso8601_date({_shown(node.this)}))"
            )


def _branches(node: exp.Expr) -> list[exp.Expr]:
    if isinstance(node, exp.Coalesce):
        return [node.this, *node.expressions]
    if isinstance(node, exp.If):
        return [b for b in (node.args.get("true"), node.args.get("false")) if b is not None]
    ifs = [i.args["true"] for i in node.args.get("ifs") or []]
    return ifs + ([node.args["default"]] if node.args.get("default") is not None else [])


def _check_storable(file: SqlFile, tree: exp.Expr) -> None:
    """A CTAS makes a column of each output's type: NULL and intervals have none Athena can
    store."""
    query = tree
    while isinstance(query, exp.SetOperation):
        query = query.this
    for projection in query.selects if isinstance(query, exp.Select) else []:
        t = projection.type
        if isinstance(projection.unalias(), exp.Null) or (
            t is not None and t.this == exp.DType.NULL
        ):
            raise TemplateError(
                f"{_at(file, projection, projection.alias_or_name)}: column "
                f"{projection.alias_or_name} is NULL, of no type Athena's CREATE TABLE AS can "
                "store: CAST(NULL AS VARCHAR) (or the type it stands for)"
            )
        if t is not None and t.this == exp.DType.INTERVAL:
            raise TemplateError(
                f"{_at(file, projection, projection.alias_or_name)}: column "
                f"{projection.alias_or_name} is an interval, which Athena's CREATE TABLE AS "
                "cannot store: give a number (date_diff) or text"
            )


def _check_named(file: SqlFile, tree: exp.Expr) -> None:
    """Athena names a column without an alias `_col0` and refuses it in a CTAS; a file's
    header would differ between the engines."""
    query = tree
    while isinstance(query, exp.SetOperation):
        query = query.this
    if not isinstance(query, exp.Select):
        return
    for position, projection in enumerate(query.expressions, 1):
        if isinstance(projection, (exp.Alias, exp.Column, exp.Star)):
            continue
        sql = projection.sql("athena")
        raise TemplateError(
            f"{_at(file, _first_column(projection) or projection, sql)}: column {position} of "
            f"the SELECT, {sql}, has no name: Athena's CREATE TABLE AS needs one; write "
            f"{sql} AS <name>"
        )


def _first_column(node: exp.Expr) -> exp.Expr | None:
    return next(iter(node.find_all(exp.Column, exp.Identifier)), None)


def _check_columns(file: SqlFile, tree: exp.Expr, tables: Tables, text: str) -> None:
    """Every column resolves to a table's (qualify left the others without their table)."""
    lambdas = {p.name.lower() for lam in tree.find_all(exp.Lambda) for p in lam.expressions}
    for column in tree.find_all(exp.Column):
        if column.table or isinstance(column.parent, exp.Dot) or column.name.lower() in lambdas:
            continue
        select = column.find_ancestor(exp.Select)
        aliases = {s.alias.lower() for s in select.expressions if s.alias} if select else set()
        clause = column.find_ancestor(exp.Order, exp.Group, exp.Having, exp.Where, exp.Select)
        if isinstance(clause, exp.Order) and column.name.lower() in aliases:
            continue  # ORDER BY may name the SELECT's columns
        name = _text(column.this, text).strip('"')
        at = _at(file, column, name)
        if isinstance(clause, (exp.Group, exp.Having, exp.Where)) and name.lower() in aliases:
            where = type(clause).__name__.upper().replace("GROUP", "GROUP BY")
            raise TemplateError(
                f"{at}: {where} cannot name the SELECT's alias {name} on Athena (it resolves "
                "names in the FROM clause only): repeat the expression"
                + (", or give its position (GROUP BY 1)" if isinstance(clause, exp.Group) else "")
            )
        if column.this.quoted:
            raise TemplateError(
                f'{at}: "{name}" is a column name in Athena SQL (double quotes name columns): '
                f"write '{name}' for the text"
            )
        owners = [t for t, cs in tables.items() if name.lower() in {c.name.lower() for c in cs}]
        read = {t.name for t in tree.find_all(exp.Table)}
        here = [t for t in owners if t in read]
        if len(here) > 1:
            raise TemplateError(
                f"{at}: column {name} is ambiguous: {' and '.join(here)} both have it; write "
                f"<table>.{name}"
            )
        known = sorted({c.name for t in read if t in tables for c in tables[t]})
        if name.lower() in {k.lower() for k in known}:  # a column of a table, not found here
            raise TemplateError(
                f"{at}: column {name} is ambiguous, or not of a table in its SELECT's FROM "
                f"clause: qualify it with its table (<table>.{name})"
            )
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"; did you mean {close[0]}?" if close else f" (columns: {', '.join(known)})"
        raise TemplateError(f"{at}: no table here has a column {name}{hint}")


def _check_grouping(file: SqlFile, select: exp.Select, text: str) -> None:
    """In a query that groups (GROUP BY, or an aggregate), every column outside an aggregate
    must be grouped (Trino: "must be an aggregate expression or appear in GROUP BY clause")."""
    group = select.args.get("group")
    grouped = {g.sql("athena") for g in _grouped(group)}
    having = select.args.get("having")
    parts = list(select.expressions) + ([having] if having else [])
    if not group and not any(_has_aggregate(p) for p in parts):
        return
    aliases = {s.alias.lower() for s in select.expressions if s.alias}
    order = select.args.get("order")
    for item in order.expressions if order else []:
        if isinstance(item.this, exp.Column) and not item.this.table:
            if item.this.name.lower() in aliases:
                continue
        parts.append(item.this)
    for part in parts:
        _check_grouped(file, part.unalias() if isinstance(part, exp.Alias) else part, grouped, text)


def _grouped(group: exp.Group | None) -> list[exp.Expr]:
    """The expressions a GROUP BY groups by, ROLLUP, CUBE and GROUPING SETS included."""
    found: list[exp.Expr] = []
    for key in ("expressions", "rollup", "cube", "grouping_sets"):
        for item in (group.args.get(key) or []) if group else []:
            if isinstance(item, (exp.Rollup, exp.Cube, exp.GroupingSets, exp.Tuple)):
                for inner in item.expressions:
                    found += inner.expressions if isinstance(inner, exp.Tuple) else [inner]
            elif isinstance(item, exp.Expr):
                found.append(item)
    return found


def _check_grouped(file: SqlFile, node: exp.Expr, grouped: set[str], text: str) -> None:
    if node.sql("athena") in grouped or isinstance(node, (exp.Subquery, exp.Exists)):
        return
    if isinstance(node, exp.Window):
        function = node.this
        inside = function.expressions if _is_aggregate(function) else []
        if _is_aggregate(function) and function.this is not None:
            inside = [function.this, *inside]
        for child in [
            *inside,
            *(node.args.get("partition_by") or []),
            *(o.this for o in (node.args["order"].expressions if node.args.get("order") else [])),
        ]:
            _check_grouped(file, child, grouped, text)
        return
    if _is_aggregate(node) or (isinstance(node, exp.Filter) and _is_aggregate(node.this)):
        return  # an aggregate, FILTER (WHERE ...) included
    if isinstance(node, exp.Column):
        name = _text(node, text)
        raise TemplateError(
            f"{_at(file, node, node.name)}: {name} is neither in GROUP BY nor inside an "
            f"aggregate (Athena: '{name}' must be an aggregate expression or appear in GROUP "
            "BY clause): add it to GROUP BY, or aggregate it"
        )
    for child in node.iter_expressions():
        _check_grouped(file, child, grouped, text)


def _is_aggregate(node: exp.Expr) -> bool:
    if isinstance(node, exp.Anonymous):
        return athena_sql.is_aggregate(node.name)
    window_only = (
        exp.Rank, exp.DenseRank, exp.RowNumber, exp.Ntile, exp.Lag, exp.Lead, exp.FirstValue,
        exp.LastValue, exp.NthValue, exp.PercentRank, exp.CumeDist,
    )  # fmt: skip
    return isinstance(node, exp.AggFunc) and not isinstance(node, window_only)


def _has_aggregate(node: exp.Expr) -> bool:
    """An aggregate in this SELECT's own expression (not in a window or a subquery)."""
    if _is_aggregate(node) or (isinstance(node, exp.Filter) and _is_aggregate(node.this)):
        return True
    if isinstance(node, (exp.Window, exp.Subquery, exp.Exists)):
        return False
    return any(_has_aggregate(child) for child in node.iter_expressions())
