"""The types Athena (engine version 3, Trino) gives an expression, by Trino's rules.

sqlglot's type annotator walks the query's scopes; the rules here are Trino's, from its
documentation and source (docs/src/main/sphinx/functions/*.md; io/trino/type/DecimalOperators.java
for decimal arithmetic; io/trino/operator/aggregation/ for sum and avg), not sqlglot's generic
ones: `sum` of an integer is BIGINT, `avg` of a DECIMAL(p,s) is DECIMAL(p,s), `1.5` is
DECIMAL(2,1), `7 / 2` is an INTEGER. Where a rule is not known the type is UNKNOWN, and the
local engine keeps the type DuckDB gives (see engines/twin.py).
"""

from __future__ import annotations

from sqlglot import exp
from sqlglot.optimizer.annotate_types import TypeAnnotator
from sqlglot.schema import ensure_schema
from sqlglot.typing.presto import EXPRESSION_METADATA as PRESTO

T = exp.DType
INTEGERS = (T.TINYINT, T.SMALLINT, T.INT, T.BIGINT)
_INTEGER_DIGITS = {T.TINYINT: 3, T.SMALLINT: 5, T.INT: 10, T.BIGINT: 19}
MAX_PRECISION = 38


def build(text: str) -> exp.DataType:
    """A type from its Athena (Hive DDL or Trino) spelling: INT, STRING, DECIMAL(10,2)."""
    text = text.strip()
    upper = text.upper()
    if upper == "STRING":
        return exp.DataType.build("VARCHAR")
    if upper == "DECIMAL":  # Hive's DECIMAL without a precision is DECIMAL(10,0)
        return decimal(10, 0)
    return exp.DataType.build(text, dialect="athena")


def decimal(precision: int, scale: int) -> exp.DataType:
    return exp.DataType.build(f"DECIMAL({min(precision, MAX_PRECISION)}, {scale})")


def precision_scale(t: exp.DataType) -> tuple[int, int]:
    """A DECIMAL's precision and scale; an integer type's as a DECIMAL (INTEGER: (10, 0))."""
    if t.this in _INTEGER_DIGITS:
        return _INTEGER_DIGITS[t.this], 0
    params = [int(p.name) for p in t.expressions]
    if not params:  # Trino's DECIMAL without parameters is DECIMAL(38, 0)
        return MAX_PRECISION, 0
    return params[0], params[1] if len(params) > 1 else 0


def is_type(t: exp.DataType | None, *kinds: T) -> bool:
    return t is not None and t.this in kinds


def is_integer(t) -> bool:
    return is_type(t, *INTEGERS)


def is_decimal(t) -> bool:
    return is_type(t, T.DECIMAL)


def is_exact(t) -> bool:
    return is_integer(t) or is_decimal(t)


def known(t) -> bool:
    return t is not None and t.this not in (T.UNKNOWN, T.NULL)


def supertype(a: exp.DataType | None, b: exp.DataType | None) -> exp.DataType | None:
    """Trino's common super type of two types (for CASE, COALESCE, UNION...), None if unknown."""
    if a is None or b is None:
        return None
    if a.this == T.NULL:
        return b
    if b.this == T.NULL:
        return a
    if a == b:
        return a
    if is_integer(a) and is_integer(b):
        return a if INTEGERS.index(a.this) >= INTEGERS.index(b.this) else b
    if is_exact(a) and is_exact(b):
        (pa, sa), (pb, sb) = precision_scale(a), precision_scale(b)
        scale = max(sa, sb)
        return decimal(max(pa - sa, pb - sb) + scale, scale)
    numeric = (*INTEGERS, T.DECIMAL, T.FLOAT, T.DOUBLE)
    if a.this in numeric and b.this in numeric:
        if T.DOUBLE in (a.this, b.this):
            return exp.DataType.build("DOUBLE")
        return exp.DataType.build("REAL")
    text = (T.VARCHAR, T.CHAR, T.TEXT)
    if a.this in text and b.this in text:
        return exp.DataType.build("VARCHAR")
    if {a.this, b.this} == {T.DATE, T.TIMESTAMP}:
        return exp.DataType.build("TIMESTAMP")
    return None


def arithmetic(kind: str, a: exp.DataType | None, b: exp.DataType | None) -> exp.DataType | None:
    """The type of `a <op> b` for op in add, subtract, multiply, divide, modulus."""
    if a is None or b is None or not known(a) or not known(b):
        return None
    if is_integer(a) and is_integer(b):
        return supertype(a, b)
    if is_exact(a) and is_exact(b):
        (pa, sa), (pb, sb) = precision_scale(a), precision_scale(b)
        if kind in ("add", "subtract"):
            return decimal(max(pa - sa, pb - sb) + max(sa, sb) + 1, max(sa, sb))
        if kind == "multiply":
            return decimal(pa + pb, sa + sb)
        if kind == "divide":
            return decimal(pa + sb + max(sb - sa, 0), max(sa, sb))
        return decimal(min(pb - sb, pa - sa) + max(sa, sb), max(sa, sb))
    numeric = (*INTEGERS, T.DECIMAL, T.FLOAT, T.DOUBLE)
    if a.this in numeric and b.this in numeric:
        return supertype(a, b)
    temporal = (T.DATE, T.TIMESTAMP, T.TIMESTAMPTZ)
    if kind in ("add", "subtract") and a.this in temporal and b.this == T.INTERVAL:
        return a
    if kind == "add" and b.this in temporal and a.this == T.INTERVAL:
        return b
    return None


def _set(self: TypeAnnotator, e: exp.Expr, t) -> exp.Expr:
    self._set_type(e, t if t is not None else T.UNKNOWN)
    return e


def _literal(self, e: exp.Literal):
    if e.is_string:
        return _set(self, e, exp.DataType.build("VARCHAR"))
    text = e.name
    if "e" in text.lower():
        return _set(self, e, exp.DataType.build("DOUBLE"))
    if "." in text:  # DECIMAL '123.45' is DECIMAL(5,2)
        whole, _, fraction = text.partition(".")
        digits = len(whole.lstrip("-+").lstrip("0")) + len(fraction)
        return _set(self, e, decimal(max(digits, 1), len(fraction)))
    value = int(text)
    if -(2**31) <= value < 2**31:
        return _set(self, e, exp.DataType.build("INT"))
    if -(2**63) <= value < 2**63:
        return _set(self, e, exp.DataType.build("BIGINT"))
    return _set(self, e, decimal(len(text.lstrip("-+")), 0))


def _binary(kind: str):
    return lambda self, e: _set(self, e, arithmetic(kind, e.left.type, e.right.type))


def _same_as(arg: str = "this"):
    return lambda self, e: _set(self, e, e.args[arg].type if e.args.get(arg) else None)


def _of(type_text: str):
    t = exp.DataType.build(type_text)
    return lambda self, e: _set(self, e, t)


def _sum(self, e):
    t = e.this.type
    if is_integer(t):
        return _set(self, e, exp.DataType.build("BIGINT"))
    if is_decimal(t):
        return _set(self, e, decimal(MAX_PRECISION, precision_scale(t)[1]))
    return _set(self, e, t if is_type(t, T.DOUBLE, T.FLOAT, T.INTERVAL) else None)


def _avg(self, e):
    t = e.this.type
    if is_integer(t) or is_type(t, T.DOUBLE):
        return _set(self, e, exp.DataType.build("DOUBLE"))
    return _set(self, e, t if is_type(t, T.DECIMAL, T.FLOAT) else None)


def _rounded(self, e):
    """round(x, d), floor, ceil, truncate: a DECIMAL(p,s) keeps its scale with digits given,
    else becomes DECIMAL(p - s + min(s, 1), 0) (Trino's MathFunctions)."""
    t = e.this.type
    if is_decimal(t):
        p, s = precision_scale(t)
        if isinstance(e, exp.Round) and e.args.get("decimals") is not None:
            return _set(self, e, decimal(p + 1, s))
        return _set(self, e, decimal(p - s + min(s, 1), 0))
    return _set(self, e, t if known(t) else None)


def _common(*args: str):
    def annotate(self, e):
        types = []
        for arg in args:
            value = e.args.get(arg)
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, exp.If):  # CASE's WHEN ... THEN
                    item = item.args.get("true")
                if item is not None:
                    types.append(item.type)
        result = types[0] if types else None
        for t in types[1:]:
            result = supertype(result, t)
        return _set(self, e, result)

    return annotate


def _cast(self, e):
    to = e.args["to"]
    if is_decimal(to) and not to.expressions:
        return _set(self, e, decimal(MAX_PRECISION, 0))
    if to.this == T.TEXT:
        return _set(self, e, exp.DataType.build("VARCHAR"))
    return _set(self, e, to)


def _window(self, e):
    return _set(self, e, e.this.type)


def _array_of(arg: str):
    return lambda self, e: _set(
        self,
        e,
        exp.DataType.build(f"ARRAY({e.args[arg].type.sql('trino')})")
        if known(e.args.get(arg) and e.args[arg].type)
        else None,
    )


def _element(self, e):
    t = e.this.type
    return _set(self, e, t.expressions[0] if is_type(t, T.ARRAY) and t.expressions else None)


# Functions sqlglot does not know by name (exp.Anonymous), with their Trino result type.
ANONYMOUS = {
    "codepoint": "INT",
    "millisecond": "BIGINT",
    "every": "BOOLEAN",
    "geometric_mean": "DOUBLE",
    "format_datetime": "VARCHAR",
    "to_iso8601": "VARCHAR",
    "url_extract_host": "VARCHAR",
    "url_extract_path": "VARCHAR",
    "url_extract_protocol": "VARCHAR",
    "url_extract_query": "VARCHAR",
    "url_extract_parameter": "VARCHAR",
    "url_extract_fragment": "VARCHAR",
    "url_extract_port": "BIGINT",
    "url_decode": "VARCHAR",
    "url_encode": "VARCHAR",
    "e": "DOUBLE",
    "infinity": "DOUBLE",
    "nan": "DOUBLE",
    "regexp_position": "INT",
    "levenshtein_distance": "BIGINT",
    "hamming_distance": "BIGINT",
    "human_readable_seconds": "VARCHAR",
    "normalize": "VARCHAR",
    "soundex": "VARCHAR",
    "word_stem": "VARCHAR",
}


def _anonymous(self, e):
    found = ANONYMOUS.get(e.name.lower())
    return _set(self, e, exp.DataType.build(found) if found else None)


METADATA: dict[type[exp.Expr], dict] = {
    **PRESTO,
    exp.Literal: {"annotator": _literal},
    exp.Add: {"annotator": _binary("add")},
    exp.Sub: {"annotator": _binary("subtract")},
    exp.Mul: {"annotator": _binary("multiply")},
    exp.Div: {"annotator": _binary("divide")},
    exp.Mod: {
        "annotator": lambda self, e: _set(
            self, e, arithmetic("modulus", e.this.type, e.expression.type)
        )
    },
    exp.Neg: {"annotator": _same_as()},
    exp.Paren: {"annotator": _same_as()},
    exp.Sum: {"annotator": _sum},
    exp.Avg: {"annotator": _avg},
    exp.Count: {"returns": T.BIGINT},
    exp.CountIf: {"returns": T.BIGINT},
    exp.ApproxDistinct: {"returns": T.BIGINT},
    exp.Min: {"annotator": _same_as()},
    exp.Max: {"annotator": _same_as()},
    exp.AnyValue: {"annotator": _same_as()},
    exp.ArgMax: {"annotator": _same_as()},
    exp.ArgMin: {"annotator": _same_as()},
    exp.ApproxQuantile: {"annotator": _same_as()},
    exp.ArrayAgg: {"annotator": _array_of("this")},
    **{
        cls: {"returns": T.DOUBLE}
        for cls in (
            exp.Stddev,
            exp.StddevPop,
            exp.StddevSamp,
            exp.Variance,
            exp.VariancePop,
            exp.Corr,
            exp.Sqrt,
            exp.Ln,
            exp.Log,
            exp.Exp,
            exp.Pow,
            exp.Pi,
            exp.Rand,
            exp.TimeToUnix,
            exp.Cbrt,
        )
    },  # fmt: skip
    exp.LogicalAnd: {"returns": T.BOOLEAN},
    exp.LogicalOr: {"returns": T.BOOLEAN},
    exp.Round: {"annotator": _rounded},
    exp.Floor: {"annotator": _rounded},
    exp.Ceil: {"annotator": _rounded},
    exp.Trunc: {"annotator": _rounded},
    exp.Abs: {"annotator": _same_as()},
    exp.Sign: {"annotator": _same_as()},
    **{
        cls: {"returns": T.BIGINT}
        for cls in (
            exp.Length,
            exp.StrPosition,
            exp.Levenshtein,
            exp.ArraySize,
            exp.RegexpCount,
            exp.Year,
            exp.Month,
            exp.Day,
            exp.DayOfMonth,
            exp.Quarter,
            exp.WeekOfYear,
            exp.DayOfWeekIso,
            exp.DayOfYear,
            exp.Hour,
            exp.Minute,
            exp.Second,
            exp.YearOfWeek,
            exp.DateDiff,
            exp.ArrayPosition,
            exp.RowNumber,
            exp.Rank,
            exp.DenseRank,
            exp.Ntile,
        )
    },  # fmt: skip
    **{
        cls: {"returns": T.VARCHAR}
        for cls in (
            exp.Lower,
            exp.Upper,
            exp.Trim,
            exp.Substring,
            exp.Concat,
            exp.ConcatWs,
            exp.Replace,
            exp.Reverse,
            exp.Pad,
            exp.SplitPart,
            exp.RegexpExtract,
            exp.RegexpReplace,
            exp.Chr,
            exp.Format,
            exp.Translate,
            exp.TimeToStr,
            exp.ArrayToString,
            exp.GroupConcat,
            exp.JSONExtractScalar,
            exp.Typeof,
            exp.Hex,
        )
    },  # fmt: skip
    **{
        cls: {"returns": T.BOOLEAN}
        for cls in (exp.RegexpLike, exp.StartsWith, exp.ArrayContains, exp.IsNan, exp.Contains)
    },
    exp.Split: {"annotator": _of("ARRAY(VARCHAR)")},
    exp.RegexpExtractAll: {"annotator": _of("ARRAY(VARCHAR)")},
    exp.StrToTime: {"annotator": _of("TIMESTAMP(3)")},
    exp.FromISO8601Date: {"returns": T.DATE},
    exp.FromISO8601Timestamp: {"annotator": _of("TIMESTAMP(3) WITH TIME ZONE")},
    exp.UnixToTime: {"annotator": _of("TIMESTAMP(3) WITH TIME ZONE")},
    exp.Date: {"returns": T.DATE},
    exp.LastDay: {"returns": T.DATE},
    exp.CurrentDate: {"returns": T.DATE},
    exp.DateAdd: {"annotator": _same_as()},
    exp.TimestampTrunc: {"annotator": _same_as()},
    exp.DateTrunc: {"annotator": _same_as()},
    exp.Cast: {"annotator": _cast},
    exp.TryCast: {"annotator": _cast},
    exp.Case: {"annotator": _common("ifs", "default")},
    exp.If: {"annotator": _common("true", "false")},
    exp.Coalesce: {"annotator": _common("this", "expressions")},
    exp.Greatest: {"annotator": _common("this", "expressions")},
    exp.Least: {"annotator": _common("this", "expressions")},
    exp.Nullif: {"annotator": _same_as()},
    exp.Window: {"annotator": _window},
    exp.Repeat: {"annotator": _array_of("this")},
    exp.Distinct: {
        "annotator": lambda self, e: _set(self, e, e.expressions[0].type if e.expressions else None)
    },
    exp.Bracket: {"annotator": _element},
    exp.Anonymous: {"annotator": _anonymous},
}


def annotate(tree: exp.Expr, schema: dict) -> exp.Expr:
    """Set every node's `.type` to Athena's type for it. `tree` is qualified (every column
    names its table); `schema` is {database: {table: {column: type text}}}."""
    annotator = TypeAnnotator(ensure_schema(schema, dialect="athena"), expression_metadata=METADATA)
    return annotator.annotate(tree)


def output_types(query: exp.Query) -> list[tuple[str, exp.DataType | None]]:
    """An annotated query's columns and their types (None where unknown)."""
    return [(s.alias_or_name, s.type if known(s.type) else None) for s in query.selects]
