"""Athena's semantics on DuckDB: an Athena query translated so that DuckDB computes the values
Athena computes, with the types Athena gives them.

sqlglot translates the syntax. What it cannot know is semantics, which differ where a job meets
them every day; each rule here is Athena's (engine version 3 = Trino, read in Trino's source),
made to hold on DuckDB. The README's "Local engine and Athena" lists them, and what is left:

- every output column is cast to the type Athena gives it (athena_types.py): `sum` of an
  INTEGER is a BIGINT, not DuckDB's HUGEINT (which its Parquet files store as DOUBLE);
- `a / b` of integers divides as integers; of DECIMALs, at the larger scale rounded half up
  (DuckDB gives a DOUBLE); `avg` of a DECIMAL(p,s) is a DECIMAL(p,s) rounded half up;
  `count_if` of no rows is 0; `max_by` keeps a NULL value;
- `regexp_extract` without a match and `split_part` past the last field are NULL (DuckDB:
  ''); `regexp_replace` reads `$1` as a group; `substr`, `strpos(s, x, n)`, `split(s, d, n)`,
  `trim` (Java's whitespace) and `slice`, `contains`, `array_distinct`, `array_position`,
  `array_max`, `sequence` as Trino has them;
- `date_trunc` and `date_add` of a DATE are DATEs (DuckDB: TIMESTAMPs); `date_diff` counts
  whole units elapsed (DuckDB's date_diff counts boundaries crossed; its date_sub is Athena's);
  EXTRACT(DOW) is ISO (Monday 1); the session is in UTC;
- a CAST as Trino does it: a DOUBLE to an integer rounds half away from zero, to a DECIMAL
  from its shortest text; text to a number only in Java's forms (DuckDB also reads '4.5' as
  the integer 5, '1_000', '0x1F', 'yes'); a DOUBLE to text is Trino's 3.0E0;
- written to an export, a DOUBLE is printed as Java prints it (1.0E7, 1.5E-7, 0.001) and a
  TIMESTAMP with its milliseconds (2024-01-02 03:04:05.000), as in Athena's result files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlglot import ErrorLevel, exp

from elt_cli import athena_types
from elt_cli.athena_types import is_decimal, is_exact, is_integer, is_type, known, precision_scale

T = exp.DType

# DuckDB macros the translations call; made once per connection (see install).
MACROS = {
    # The digits of a DECIMAL (or an integer) without its point: 12.30 (scale 2) -> 1230.
    "elt_unscaled": "(x) AS CAST(replace(CAST(x AS VARCHAR), '.', '') AS HUGEINT)",
    # n / d rounded half away from zero (Java's HALF_UP), in integers; like Trino, a division
    # by zero fails.
    "elt_div_half_up": (
        "(n, d) AS CASE WHEN n IS NULL OR d IS NULL THEN NULL "
        "WHEN d = 0 THEN error('Division by zero') "
        "WHEN (n < 0) = (d < 0) THEN (2 * abs(n) + abs(d)) // (2 * abs(d)) "
        "ELSE -((2 * abs(n) + abs(d)) // (2 * abs(d))) END"
    ),
    # Java's text of a number from DuckDB's shortest text of it (the same digits): the digits,
    # the power of ten of the first, and computerized scientific notation (1.0E7).
    "elt_java_digits": (
        "(s) AS CASE WHEN s LIKE '%e%' THEN replace(split_part(s, 'e', 1), '.', '') "
        "WHEN split_part(s, '.', 1) <> '0' THEN rtrim(replace(s, '.', ''), '0') "
        "ELSE ltrim(split_part(s, '.', 2), '0') END"
    ),
    "elt_java_exponent": (
        "(s) AS CASE WHEN s LIKE '%e%' THEN CAST(split_part(s, 'e', 2) AS INTEGER) "
        "WHEN split_part(s, '.', 1) <> '0' THEN length(split_part(s, '.', 1)) - 1 "
        "ELSE -(length(split_part(s, '.', 2)) - length(ltrim(split_part(s, '.', 2), '0')) + 1) "
        "END"
    ),
    "elt_java_scientific": (
        "(s) AS substr(rtrim(elt_java_digits(s), '0'), 1, 1) || '.' || "
        "coalesce(nullif(substr(rtrim(elt_java_digits(s), '0'), 2), ''), '0') || 'E' || "
        "CAST(elt_java_exponent(s) AS VARCHAR)"
    ),
    # Java's Double.toString, as Athena's result files print a DOUBLE: plain from 10^-3 to
    # 10^7, else scientific.
    "elt_double_text": (
        "(x) AS CASE WHEN x IS NULL THEN NULL WHEN isnan(x) THEN 'NaN' "
        "WHEN isinf(x) THEN CASE WHEN x > 0 THEN 'Infinity' ELSE '-Infinity' END "
        "WHEN x = 0 THEN CASE WHEN CAST(x AS VARCHAR) LIKE '-%' THEN '-0.0' ELSE '0.0' END "
        "WHEN abs(x) >= 0.001 AND abs(x) < 10000000 THEN CAST(x AS VARCHAR) "
        "ELSE CASE WHEN x < 0 THEN '-' ELSE '' END || elt_java_scientific(CAST(abs(x) AS VARCHAR)) "
        "END"
    ),
    # Trino's CAST(double AS VARCHAR): always scientific (DoubleOperators: 3.0E0).
    "elt_double_varchar": (
        "(x) AS CASE WHEN x IS NULL THEN NULL WHEN isnan(x) THEN 'NaN' "
        "WHEN isinf(x) THEN CASE WHEN x > 0 THEN 'Infinity' ELSE '-Infinity' END "
        "WHEN x = 0 THEN CASE WHEN CAST(x AS VARCHAR) LIKE '-%' THEN '-0E0' ELSE '0E0' END "
        "ELSE CASE WHEN x < 0 THEN '-' ELSE '' END || elt_java_scientific(CAST(abs(x) AS VARCHAR)) "
        "END"
    ),
    "elt_timestamp_text": "(t) AS strftime(t, '%Y-%m-%d %H:%M:%S.%g')",
    # a TIMESTAMP WITH TIME ZONE as Athena prints one in UTC (the local engine keeps no zone)
    "elt_timestamptz_text": (
        "(t) AS strftime(t AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S.%g') || ' UTC'"
    ),
    # Java's Character.isWhitespace: what Trino's trim, ltrim and rtrim strip (DuckDB's strip
    # spaces only).
    "elt_whitespace": (
        "() AS chr(9) || chr(10) || chr(11) || chr(12) || chr(13) || chr(28) || chr(29) || "
        "chr(30) || chr(31) || chr(32) || chr(5760) || chr(8192) || chr(8193) || chr(8194) || "
        "chr(8195) || chr(8196) || chr(8197) || chr(8198) || chr(8200) || chr(8201) || "
        "chr(8202) || chr(8232) || chr(8233) || chr(8287) || chr(12288)"
    ),
    # Java's String.trim (before parseLong and parseDouble): every character up to U+0020.
    "elt_java_trim": ("(s) AS trim(s, " + " || ".join(f"chr({i})" for i in range(1, 33)) + ")"),
    # CAST(varchar AS ...) as Trino does it (VarcharOperators): Java's parsers after trim().
    "elt_varchar_to_bigint": (
        "(s) AS CASE WHEN regexp_full_match(elt_java_trim(s), '[+-]?[0-9]+') "
        "THEN TRY_CAST(elt_java_trim(s) AS BIGINT) END"
    ),
    "elt_varchar_to_double": (
        "(s) AS CASE WHEN regexp_full_match(elt_java_trim(s), "
        "'[+-]?(NaN|Infinity|([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?)[dDfF]?') "
        "THEN TRY_CAST(regexp_replace(elt_java_trim(s), '[dDfF]$', '') AS DOUBLE) END"
    ),
    "elt_varchar_to_boolean": (
        "(s) AS CASE WHEN lower(s) IN ('t', '1', 'true') THEN true "
        "WHEN lower(s) IN ('f', '0', 'false') THEN false END"
    ),
    "elt_varchar_is_decimal": (
        "(s) AS regexp_full_match(s, '[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?')"
    ),
    "elt_varchar_is_date": (
        "(s) AS regexp_full_match(elt_java_trim(s), '[0-9]{4,}-[0-9]{1,2}-[0-9]{1,2}')"
    ),
    "elt_varchar_is_timestamp": (
        "(s) AS regexp_full_match(elt_java_trim(s), "
        "'[0-9]{4,}-[0-9]{1,2}-[0-9]{1,2}( [0-9]{1,2}:[0-9]{1,2}(:[0-9]{1,2}([.][0-9]+)?)?)?')"
    ),
    # split_part: NULL past the last field, an error for an index below 1; '' splits into
    # characters (StringFunctions.splitPart).
    "elt_split_part": (
        "(s, d, i) AS CASE WHEN i <= 0 THEN error('Index must be greater than zero') "
        "WHEN d = '' THEN CASE WHEN i <= length(s) THEN substr(s, CAST(i AS BIGINT), 1) END "
        "WHEN i > len(string_split(s, d)) THEN NULL ELSE split_part(s, d, i) END"
    ),
    # substr: a start of 0 or before the beginning gives '', as does a length below 1.
    "elt_substr": (
        "(s, st, ln) AS CASE WHEN st = 0 OR ln <= 0 OR s = '' THEN '' "
        "WHEN st < 0 AND length(s) + st < 0 THEN '' "
        "WHEN st < 0 THEN substr(s, CAST(length(s) + st + 1 AS BIGINT), CAST(ln AS BIGINT)) "
        "ELSE substr(s, CAST(st AS BIGINT), CAST(ln AS BIGINT)) END"
    ),
    "elt_substr_from": (
        "(s, st) AS CASE WHEN st = 0 OR s = '' THEN '' "
        "WHEN st < 0 AND length(s) + st < 0 THEN '' "
        "WHEN st < 0 THEN substr(s, CAST(length(s) + st + 1 AS BIGINT)) "
        "ELSE substr(s, CAST(st AS BIGINT)) END"
    ),
    # strpos(s, sub, n): the n-th occurrence, overlapping, from the end for n < 0.
    "elt_strpos_nth": (
        "(s, sub, n) AS CASE WHEN n = 0 THEN error('instance must be a positive or negative "
        "number') WHEN sub = '' THEN 1 ELSE coalesce(list_filter(range(1, length(s) + 1), "
        "lambda i: substr(s, i, length(sub)) = sub)[n], 0) END"
    ),
    # split(s, d, limit): at most `limit` parts, the last holding the rest.
    "elt_split_limit": (
        "(s, d, lim) AS CASE WHEN lim <= 0 THEN error('Limit must be positive') "
        "WHEN len(string_split(s, d)) <= lim THEN string_split(s, d) "
        "ELSE list_append(string_split(s, d)[1:lim - 1], "
        "array_to_string(string_split(s, d)[lim:], d)) END"
    ),
    # contains(array, x): NULL, not false, when x is not found and the array has a NULL.
    "elt_contains": (
        "(a, x) AS CASE WHEN list_contains(a, x) THEN true "
        "WHEN list_contains(list_transform(a, lambda e: e IS NULL), true) THEN NULL "
        "WHEN x IS NULL THEN NULL ELSE false END"
    ),
    # array_distinct keeps the first of each value, in order, and one NULL.
    "elt_array_distinct": (
        "(a) AS list_filter(a, lambda e, i: list_position(list_transform(a, lambda z: CAST(z AS "
        "VARCHAR) IS NOT DISTINCT FROM CAST(e AS VARCHAR)), true) = i)"
    ),
    # slice(a, start, length): DuckDB's third argument is an end index.
    "elt_slice": (
        "(a, st, ln) AS CASE WHEN ln < 0 THEN error('length must be greater than or equal to 0') "
        "WHEN st = 0 THEN error('SQL array indices start at 1') "
        "WHEN st < 0 AND len(a) + st + 1 < 1 THEN a[1:0] "
        "WHEN st < 0 THEN a[len(a) + st + 1 : len(a) + st + ln] ELSE a[st : st + ln - 1] END"
    ),
    # array_max, array_min: NULL when an element is NULL.
    "elt_array_max": (
        "(a) AS CASE WHEN list_contains(list_transform(a, lambda e: e IS NULL), true) THEN NULL "
        "ELSE list_max(a) END"
    ),
    "elt_array_min": (
        "(a) AS CASE WHEN list_contains(list_transform(a, lambda e: e IS NULL), true) THEN NULL "
        "ELSE list_min(a) END"
    ),
    # sequence(a, b) counts down when a > b.
    "elt_sequence": (
        "(a, b) AS CASE WHEN a <= b THEN generate_series(a, b) ELSE generate_series(a, b, -1) END"
    ),
    # json_extract_scalar of an object or an array is NULL.
    "elt_json_scalar": (
        "(j, p) AS CASE WHEN json_type(j, p) IN ('OBJECT', 'ARRAY') THEN NULL ELSE j ->> p END"
    ),
    "elt_codepoint": (
        "(s) AS CASE WHEN length(s) = 1 THEN unicode(s) "
        "ELSE error('Input string must be a single character string') END"
    ),
}


def install(con) -> None:
    """Create the macros on a DuckDB connection, in Athena's time zone (its sessions are in
    UTC: current_date, a TIMESTAMP WITH TIME ZONE as text)."""
    con.execute(
        "SET TimeZone = 'UTC';\n"
        + ";\n".join(f"CREATE OR REPLACE TEMP MACRO {name}{body}" for name, body in MACROS.items())
    )


@dataclass(frozen=True)
class Translation:
    sql: str  # DuckDB's
    columns: list[tuple[str, exp.DataType | None]]  # the output and Athena's type of each


def translate(
    query: exp.Query, schema: dict, pretty: bool = False, strict: bool = False
) -> Translation:
    """A SELECT (Athena's, parsed) as DuckDB SQL computing what Athena computes. `schema`:
    {database: {table: {column: Athena type}}} of every table it reads. A query sqlglot cannot
    qualify is translated as it is, its types unknown."""
    from sqlglot.errors import SqlglotError
    from sqlglot.optimizer.qualify import qualify

    try:
        tree = qualify(
            query.copy(),
            schema=schema,
            dialect="athena",
            validate_qualify_columns=False,
            expand_alias_refs=False,
        )
        athena_types.annotate(tree, schema)
    except SqlglotError:
        unknown: list[tuple[str, exp.DataType | None]] = [
            (s.alias_or_name, None) for s in query.selects
        ]
        return Translation(query.sql("duckdb", pretty=pretty), unknown)
    columns = athena_types.output_types(tree)
    for node in reversed(list(tree.walk())):  # children before their parents
        _rewrite(node)
    _cast_outputs(tree)
    # strict: what sqlglot cannot write for DuckDB is an error (check_templates), not a warning
    level = ErrorLevel.RAISE if strict else ErrorLevel.WARN
    return Translation(tree.sql("duckdb", pretty=pretty, unsupported_level=level), columns)


def duckdb_type(t: exp.DataType | None) -> exp.DataType | None:
    """The DuckDB type that holds Athena's `t` (None: leave DuckDB's own)."""
    if t is None or not known(t):
        return None
    if t.this == T.TIMESTAMP:  # Athena's TIMESTAMP has milliseconds
        return exp.DataType.build("TIMESTAMP_MS", dialect="duckdb")
    if t.this == T.TIMESTAMPTZ:
        return exp.DataType.build("TIMESTAMPTZ", dialect="duckdb")
    if t.this == T.ARRAY and t.expressions:
        inner = duckdb_type(t.expressions[0])
        return exp.DataType(this=T.ARRAY, expressions=[inner], nested=True) if inner else None
    if t.this in (T.MAP, T.STRUCT, T.UNKNOWN, T.NULL, T.INTERVAL, T.JSON):
        return None
    return t


def as_text(column: str, t: exp.DataType | None) -> str:
    """A DuckDB expression printing `column` as Athena's result file prints a value of `t`."""
    if is_type(t, T.DOUBLE, T.FLOAT):
        return f"elt_double_text({column})"
    if is_type(t, T.TIMESTAMP):
        return f"elt_timestamp_text({column})"
    if is_type(t, T.TIMESTAMPTZ):
        return f"elt_timestamptz_text({column})"
    return column


def _typed(node: exp.Expr, t) -> exp.Expr:
    node.type = t
    return node


def _call(name: str, *args: exp.Expr) -> exp.Anonymous:
    return exp.Anonymous(this=name, expressions=list(args))


def _replace(node: exp.Expr, new: exp.Expr, t) -> None:
    node.replace(_typed(new, t))


def _power_of_ten(n: int) -> exp.Expr:
    return exp.cast(exp.Literal.string(str(10**n)), "HUGEINT")


def _from_unscaled(unscaled: exp.Expr, scale: int, t: exp.DataType) -> exp.Expr:
    """A DECIMAL of `t` from its digits at `scale` (HUGEINT), exactly."""
    value: exp.Expr = exp.cast(unscaled, exp.DataType.build("DECIMAL(38, 0)"))
    if scale:
        step = exp.Literal.number("0." + "0" * (scale - 1) + "1")
        value = exp.Mul(this=value, expression=step)
    return exp.cast(value, t)


def _rewrite(node: exp.Expr) -> None:
    t = node.type
    handler = _REWRITES.get(type(node))  # type: ignore[arg-type]
    if handler is not None:
        handler(node, t)


def _divide(node: exp.Div, t) -> None:
    left, right = node.this.type, node.expression.type
    if is_integer(left) and is_integer(right):  # truncating, and a division by 0 fails
        _replace(node, exp.IntDiv(this=node.this, expression=node.expression), t)
    elif is_exact(left) and is_exact(right) and is_decimal(t):
        scale = precision_scale(t)[1]
        numerator = exp.Mul(
            this=_call("elt_unscaled", node.this),
            expression=_power_of_ten(scale - precision_scale(left)[1] + precision_scale(right)[1]),
        )
        quotient = _call("elt_div_half_up", numerator, _call("elt_unscaled", node.expression))
        _replace(node, _from_unscaled(quotient, scale, t), t)


def _average(node: exp.Avg, t) -> None:
    if not is_decimal(t) or isinstance(node.parent, exp.Window):
        return
    argument = node.this
    distinct = isinstance(argument, exp.Distinct)
    value = argument.expressions[0] if distinct else argument
    unscaled = _call("elt_unscaled", value.copy())
    summed = exp.Sum(this=exp.Distinct(expressions=[unscaled]) if distinct else unscaled)
    counted = exp.Count(this=exp.Distinct(expressions=[value.copy()]) if distinct else value)
    quotient = _call("elt_div_half_up", summed, counted)
    _replace(node, _from_unscaled(quotient, precision_scale(t)[1], t), t)


def _regexp_extract(node: exp.RegexpExtract, t) -> None:
    matches = exp.RegexpLike(this=node.this.copy(), expression=node.expression.copy())
    _replace(node, exp.Case(ifs=[exp.If(this=matches, true=node.copy())]), t)


def _regexp_replace(node: exp.RegexpReplace, t) -> None:
    """Trino's replacement string ($1, ${name}, a backslash before a literal character) as
    RE2's; a named group (?<name>...) as RE2 writes it, (?P<name>...)."""
    pattern, replacement = node.expression, node.args.get("replacement")
    if not (isinstance(pattern, exp.Literal) and pattern.is_string):
        return
    if isinstance(replacement, exp.Literal) and replacement.is_string:
        replacement.set("this", re2_replacement(replacement.this, pattern.this))
    pattern.set("this", re.sub(r"\(\?<(?![=!])", "(?P<", pattern.this))


def _trim(node: exp.Trim, t) -> None:
    if node.args.get("expression") is not None:
        return
    name = {"LEADING": "ltrim", "TRAILING": "rtrim"}.get(node.text("position").upper(), "trim")
    _replace(node, _call(name, node.this, _call("elt_whitespace")), t)


def _substring(node: exp.Substring, t) -> None:
    if node.args.get("start") is None:
        return
    if node.args.get("length") is not None:
        args = (node.this, node.args["start"], node.args["length"])
        _replace(node, _call("elt_substr", *args), t)
    else:
        _replace(node, _call("elt_substr_from", node.this, node.args["start"]), t)


def _when(condition: exp.Expr, value: exp.Expr, otherwise: exp.Expr | None = None) -> exp.Case:
    return exp.Case(ifs=[exp.If(this=condition, true=value)], default=otherwise)


def _cast(node: exp.Expr, t) -> None:
    """CAST and TRY_CAST as Trino does them (DoubleOperators, VarcharOperators, DecimalCasts)."""
    source, value = node.this.type, node.this
    converted: exp.Expr | None = None
    # inside try(): no error of the cast's own (DuckDB refuses error() inside TRY)
    failing = not isinstance(node, exp.TryCast) and node.find_ancestor(exp.Try) is None
    if is_type(t, T.VARCHAR, T.TEXT):
        if is_type(source, T.DOUBLE, T.FLOAT):
            converted = _call("elt_double_varchar", value)
        elif is_type(source, T.TIMESTAMP):
            converted = _call("elt_timestamp_text", value)
        elif is_type(source, T.TIMESTAMPTZ):
            converted = _call("elt_timestamptz_text", value)
        length = t.expressions[0].name if t is not None and t.expressions else ""
        if length.isdigit():  # VARCHAR(n) keeps the first n characters (VarcharOperators)
            text = converted or exp.cast(value.copy(), "VARCHAR")
            converted = _call("substr", text, exp.Literal.number(1), exp.Literal.number(length))
    elif is_integer(t) and is_type(source, T.DOUBLE, T.FLOAT):  # half away from zero
        converted = exp.cast(exp.Round(this=value), t)
    elif is_decimal(t) and is_type(source, T.DOUBLE, T.FLOAT):  # from the shortest text
        converted = exp.cast(exp.cast(value, "VARCHAR"), t)
    elif is_type(source, T.VARCHAR, T.TEXT, T.CHAR) and t is not None:
        parser = {
            **dict.fromkeys((T.TINYINT, T.SMALLINT, T.INT, T.BIGINT), "elt_varchar_to_bigint"),
            T.DOUBLE: "elt_varchar_to_double",
            T.FLOAT: "elt_varchar_to_double",
            T.BOOLEAN: "elt_varchar_to_boolean",
        }.get(t.this)
        tests = {T.DATE: "elt_varchar_is_date", T.TIMESTAMP: "elt_varchar_is_timestamp"}
        if parser:
            converted = exp.TryCast(this=_call(parser, value), to=duckdb_type(t) or t)
        elif is_decimal(t) or t.this in tests:
            valid = _call(tests.get(t.this, "elt_varchar_is_decimal"), value.copy())
            converted = _when(valid, exp.TryCast(this=value, to=duckdb_type(t) or t))
        if converted is not None and failing:  # CAST fails where TRY_CAST gives NULL
            failed = exp.and_(
                exp.not_(exp.Is(this=value.copy(), expression=exp.null())),
                exp.Is(this=converted.copy(), expression=exp.null()),
            )
            refused = _call(  # Trino's words: Cannot cast 'abc' to INT
                "error",
                exp.func(
                    "concat",
                    exp.Literal.string("Cannot cast '"),
                    value.copy(),
                    exp.Literal.string(f"' to {t.sql('trino')}"),
                ),
            )
            converted = _when(failed, refused, converted)
    if converted is not None:
        _replace(node, converted, t)


# Athena functions sqlglot passes on by name that DuckDB has not, made here (see _function).
FUNCTIONS = ("codepoint", "every", "e", "infinity", "nan", "millisecond", "to_iso8601")


def _function(node: exp.Anonymous, t) -> None:
    """Athena functions DuckDB has under another name, or not at all."""
    args = node.expressions
    made = {
        "codepoint": lambda: _call("elt_codepoint", *args),
        "every": lambda: exp.LogicalAnd(this=args[0]),
        "e": lambda: exp.Exp(this=exp.Literal.number(1)),
        "infinity": lambda: exp.cast(exp.Literal.string("Infinity"), "DOUBLE"),
        "nan": lambda: exp.cast(exp.Literal.string("NaN"), "DOUBLE"),
        "millisecond": lambda: exp.Mod(
            this=_call("millisecond", *args), expression=exp.Literal.number(1000)
        ),
        "to_iso8601": lambda: _call(
            "strftime",
            args[0],
            exp.Literal.string(
                "%Y-%m-%d" if is_type(args[0].type, T.DATE) else "%Y-%m-%dT%H:%M:%S.%g"
            ),
        ),
    }.get(node.name.lower())
    if made is not None:
        _replace(node, made(), t)


def _typeof(node: exp.Typeof, t) -> None:
    """typeof gives Trino's name of the type: decimal(2,1), varchar, bigint."""
    of = node.this.type
    if of is not None and known(of):
        name = re.sub(r",\s+", ",", of.sql("trino").lower())
        _replace(node, exp.Literal.string(name), t)


def _repeat(node: exp.Repeat, t) -> None:
    """repeat(x, n) is an array of n times x on Athena (DuckDB's repeats a text)."""
    each = exp.Lambda(this=node.this, expressions=[exp.to_identifier("elt_i")])
    times = _call("range", exp.cast(node.args["times"], "BIGINT"))
    _replace(node, _call("list_transform", times, each), t)


def _if_date(node: exp.Expr, t) -> None:
    if is_type(t, T.DATE):
        _replace(node, exp.cast(node.copy(), "DATE"), t)


def _extract(node: exp.Extract, t) -> None:
    if node.text("this").upper() in ("DOW", "DAY_OF_WEEK"):
        _replace(node, _call("isodow", node.expression), t)


def _calls(name: str, *args: str):
    return lambda node, t: _replace(node, _call(name, *(node.args[a] for a in args)), t)


def _optional(arg: str, name: str, *args: str):
    """Rewritten only when the node has `arg` (the third argument sqlglot would drop)."""

    def rewrite(node, t):
        if node.args.get(arg) is not None:
            _replace(node, _call(name, *(node.args[a] for a in args)), t)

    return rewrite


def _position(node: exp.ArrayPosition, t) -> None:
    found = _call("list_position", node.this, node.expression)
    _replace(node, exp.func("coalesce", found, exp.Literal.number(0)), t)


def _count_if(node: exp.CountIf, t) -> None:  # 0 for no rows, not NULL
    counted = exp.Count(this=_when(node.this, exp.Literal.number(1)))
    _replace(node, counted, t)


_REWRITES = {
    exp.Div: _divide,
    exp.Avg: _average,
    exp.CountIf: _count_if,
    exp.ArgMax: _calls("arg_max_null", "this", "expression"),
    exp.ArgMin: _calls("arg_min_null", "this", "expression"),
    exp.RegexpExtract: _regexp_extract,
    exp.RegexpReplace: _regexp_replace,
    exp.SplitPart: _calls("elt_split_part", "this", "delimiter", "part_index"),
    exp.Substring: _substring,
    exp.StrPosition: _optional("occurrence", "elt_strpos_nth", "this", "substr", "occurrence"),
    exp.Split: _optional("limit", "elt_split_limit", "this", "expression", "limit"),
    exp.Trim: _trim,
    exp.DateAdd: _if_date,
    exp.DateDiff: lambda node, t: _replace(
        node,
        _call(
            "date_sub",
            exp.Literal.string(node.text("unit").lower() or "day"),
            node.expression,
            node.this,
        ),
        t,
    ),
    exp.Extract: _extract,
    exp.Cast: _cast,
    exp.TryCast: _cast,
    exp.ArrayContains: _calls("elt_contains", "this", "expression"),
    exp.ArrayDistinct: _calls("elt_array_distinct", "this"),
    exp.ArraySlice: _optional("end", "elt_slice", "this", "start", "end"),
    exp.ArrayPosition: _position,
    exp.ArrayMax: _calls("elt_array_max", "this"),
    exp.ArrayMin: _calls("elt_array_min", "this"),
    exp.GenerateSeries: lambda node, t: (
        _replace(node, _call("elt_sequence", node.args["start"], node.args["end"]), t)
        if node.args.get("step") is None
        else None
    ),
    exp.JSONExtractScalar: _calls("elt_json_scalar", "this", "expression"),
    exp.Typeof: _typeof,
    exp.Repeat: _repeat,
    exp.Anonymous: _function,
}


def re2_replacement(replacement: str, pattern: str) -> str:
    """Trino's regexp_replace replacement (JoniRegexpFunctions.appendReplacement: `$g`, `$gg`
    while such a group exists, `${name}`; a backslash makes the next character literal) as an
    RE2 rewrite string (`\\g`; `\\\\` is a backslash)."""
    from elt_cli.errors import TemplateError

    groups, names = _groups(pattern)
    out, i = [], 0
    while i < len(replacement):
        c = replacement[i]
        i += 1
        if c == "$":
            if i < len(replacement) and replacement[i] == "{" and "}" in replacement[i:]:
                end = replacement.index("}", i)
                group, i = names.get(replacement[i + 1 : end], -1), end + 1
            elif i < len(replacement) and replacement[i].isdigit():
                group, i = int(replacement[i]), i + 1
                while i < len(replacement) and replacement[i].isdigit():
                    if group * 10 + int(replacement[i]) > groups:
                        break
                    group, i = group * 10 + int(replacement[i]), i + 1
            else:
                group = -1
            if not 0 <= group <= min(groups, 9):
                raise TemplateError(
                    f"regexp_replace: the replacement {replacement!r} names a group that "
                    f"{pattern!r} does not have (or one above 9, which the local engine's RE2 "
                    "cannot give)"
                )
            out.append("\\" + str(group))
        elif c == "\\":
            if i == len(replacement):
                raise TemplateError(
                    f"regexp_replace: the replacement {replacement!r} ends with a backslash"
                )
            out.append("\\\\" if replacement[i] == "\\" else replacement[i])
            i += 1
        else:
            out.append(c)
    return "".join(out)


def _groups(pattern: str) -> tuple[int, dict[str, int]]:
    """The capturing groups of a Java-style pattern: how many, and the named ones' numbers."""
    count, names, i, in_class = 0, {}, 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
        elif c == "(" and pattern.startswith(("(?<", "(?P<"), i):
            if not pattern.startswith(("(?<=", "(?<!"), i):
                count += 1
                start = pattern.index("<", i) + 1
                names[pattern[start : pattern.index(">", start)]] = count
        elif c == "(" and not pattern.startswith("(?", i):
            count += 1
        i += 1
    return count, names


def _cast_outputs(tree: exp.Expr) -> None:
    """Each output column cast to the DuckDB type of Athena's type."""
    branches = [tree]
    while any(isinstance(b, exp.SetOperation) for b in branches):
        branches = [
            part
            for b in branches
            for part in ((b.this, b.expression) if isinstance(b, exp.SetOperation) else (b,))
        ]
    for branch in branches:
        if not isinstance(branch, exp.Select):
            continue
        for projection in branch.expressions:
            target = duckdb_type(projection.type)
            if target is None:
                continue
            value = (projection.this if isinstance(projection, exp.Alias) else projection).copy()
            name = projection.alias_or_name
            value.set("alias", None)  # `(SELECT ...) AS n` keeps its alias in the subquery
            projection.replace(exp.alias_(exp.cast(value, target), name, quoted=True))
