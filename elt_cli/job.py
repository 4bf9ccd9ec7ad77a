"""A job: a folder with `job.toml` and its SQL files, in Athena's dialect.

`job.toml` declares the sources (raw tables: a CREATE EXTERNAL TABLE file, where their files
live), the parameters the user gives (`--genre`), the models (a SELECT each; elt makes each a
versioned table and publishes it as a view; a model may be one table per value of a
parameter) and the exports (which model becomes which file). Models read sources and other
models as `${database}.<name>`; the order they are built in follows from what they read.

Everything is checked when the job is loaded, before anything runs: an unknown key, a missing
file, an undeclared placeholder or parameter, an unknown table, a cycle is an error naming the
file and the line. Loading is two halves: read_job reads and checks job.toml (and reads the SQL
files it names, parsing none), load_job then checks the SQL and orders the models.
"""

from __future__ import annotations

import difflib
import functools
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from elt_cli.errors import TemplateError
from elt_cli.layout import FOLDER_NAMES
from elt_cli.templates import SqlTemplate, identifier, slug

JOB_FILE = "job.toml"
KEYS = {
    "": {
        "name",
        "description",
        "defaults",
        "sample",
        "sources",
        "parameters",
        "models",
        "exports",
        "checks",
    },
    "defaults": {"database", "source_prefix"},
    "sample": {"folder", "generator"},
    "sources": {"name", "sql", "location", "missing", "max_age", "header", "min_rows"},
    "parameters": {"name", "help", "example", "repeat", "values"},
    "models": {"name", "sql", "per", "table"},
    "exports": {"model", "sql", "path"},
    "checks": {"model", "not_null", "unique", "accepted_values", "min_rows", "max_change", "sql"},
}
DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
GENERATORS = ("movielens",)  # sample data elt makes itself
# elt's own options: a parameter of that name would be ambiguous on the command line
RESERVED = {
    "param", "resume", "skip_bad_rows", "help", "force", "seed", "ratings", "movies",
    "sample_data", "lake", "engine", "database", "source_prefix", "results", "workgroup",
    "region", "profile", "queries", "config", "timeout", "queue_timeout", "retries",
    "max_concurrent", "max_scan", "poll_max", "wait_lock", "lock_lease", "debug",
    "dry_run", "json", "progress", "no_progress", "version",
}  # fmt: skip


@dataclass(frozen=True)
class SqlFile:
    path: Path
    text: str

    def line(self, needle: str) -> int:
        """The (1-based) line where `needle` first appears, else 1."""
        at = self.text.find(needle)
        return self.text.count("\n", 0, at) + 1 if at >= 0 else 1

    def at(self, needle: str = "") -> str:
        """`path:line` of `needle`, or of the file's first line of SQL."""
        if not needle:
            lines = self.text.splitlines()
            sql = [i for i, x in enumerate(lines) if x.strip() and not x.strip().startswith("--")]
            return f"{self.path}:{sql[0] + 1 if sql else 1}"
        return f"{self.path}:{self.line(needle)}"

    @property
    def placeholders(self) -> set[str]:
        return set(SqlTemplate(self.text).get_identifiers())


@dataclass(frozen=True)
class Source:
    name: str
    file: SqlFile
    location: str  # relative to the lake, a pattern: "{source_prefix}/movies/"
    # the fields that read as NULL: (column, markers) pairs, column "" for every column
    missing: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # checked before any query (audit.check_sources): the newest file at most this old
    # (seconds), each file's header line the declared columns, at least this many rows
    max_age: float | None = None
    header: bool = False
    min_rows: int | None = None
    missing_at: str = ""  # job.toml:<line> of `missing`, for messages


@dataclass(frozen=True)
class Parameter:
    name: str
    help: str
    example: str
    repeat: bool
    values: SqlFile | None  # lists the values there are, with a count each
    counted: str = "rows"  # what that count counts: its column's name (films)
    reads: tuple[str, ...] = ()  # the sources and models the values query reads

    @property
    def option(self) -> str:
        """How it is given on the command line: --min-ratings for min_ratings."""
        return "--" + self.name.replace("_", "-")

    @property
    def plural(self) -> str:
        """genres, countries, boxes: for messages and the `elt values` step."""
        name = self.name
        if name.endswith("y") and name[-2:-1] not in ("a", "e", "i", "o", "u"):
            return name[:-1] + "ies"
        if name.endswith("s") and not name.endswith(("ss", "us")):
            return name  # min_ratings: a plural already
        return name + ("es" if name.endswith(("s", "x", "z", "ch", "sh")) else "s")


@dataclass(frozen=True)
class Model:
    name: str
    file: SqlFile
    per: str | None  # the repeating parameter it is built once per value of
    table: str  # the published name, a pattern: "{genre_slug}" or the model's name
    reads: tuple[str, ...] = ()  # the sources and models its SELECT reads


@dataclass(frozen=True)
class Export:
    model: str
    file: SqlFile
    path: str  # the final file, relative to the lake, a pattern


@dataclass(frozen=True)
class Check:
    """What a model's new version must pass before its view is switched to it: each column
    of `not_null` has no NULL, of `unique` no value twice, of `accepted_values` only the
    values listed; at least `min_rows` rows; a row count within `max_change` (0.5: 50 %) of
    the published version's; and the `sql` SELECT returns no row (each row is a failure)."""

    model: str
    not_null: tuple[str, ...] = ()
    unique: tuple[str, ...] = ()
    accepted_values: tuple[tuple[str, tuple[str | int, ...]], ...] = ()
    min_rows: int | None = None
    max_change: float | None = None
    sql: SqlFile | None = None
    line: str = ""  # job.toml:<line> of its [[checks]], for messages
    lines: dict[str, str] = field(default_factory=dict, compare=False)  # and of each key


@dataclass(frozen=True)
class JobSpec:
    folder: Path
    name: str
    description: str
    sources: dict[str, Source]
    parameters: dict[str, Parameter]
    models: list[Model]  # in an order they can be built in
    exports: list[Export]
    defaults: dict[str, str] = field(default_factory=dict)
    sample: dict[str, str] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)

    def checks_of(self, model: str) -> list[Check]:
        return [c for c in self.checks if c.model == model]

    def model(self, name: str) -> Model:
        return next(m for m in self.models if m.name == name)

    def levels(self) -> list[list[Model]]:
        """The models in groups: each reads only sources and models of earlier groups, so the
        models of one group are built together."""
        depth: dict[str, int] = {}
        for m in self.models:
            depth[m.name] = 1 + max((depth.get(r, -1) for r in m.reads), default=-1)
        levels: list[list[Model]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
        for m in self.models:
            levels[depth[m.name]].append(m)
        return levels

    @property
    def used(self) -> set[str]:
        """The parameters the models' and exports' SQL uses."""
        files = [m.file for m in self.models] + [e.file for e in self.exports]
        return {n for f in files for n in f.placeholders if n in self.parameters}

    @property
    def per_value(self) -> list[str]:
        """The repeating parameters some model is built per value of."""
        return list(dict.fromkeys(m.per for m in self.models if m.per))


def load_job(folder: Path) -> JobSpec:
    """Read and check a job folder; every error names its file and line."""
    return _resolve(read_job(folder))


def read_job(folder: Path) -> JobSpec:
    """job.toml read and checked, with the text of the SQL files it names: what the job
    declares, its models in job.toml's order and its SQL not parsed (load_job checks that).
    Enough for `elt --help`, which must answer for a job whose SQL is broken."""
    path = folder / JOB_FILE
    if not folder.is_dir():
        raise TemplateError(f"job folder {folder} does not exist")
    if not path.is_file():
        raise TemplateError(
            f"{folder} has no {JOB_FILE}: a job folder holds {JOB_FILE} and its SQL files "
            "(see the README, 'Writing a job')"
        )
    text = read_text(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TemplateError(f"{path}: not valid TOML: {exc}") from exc
    toml = _Toml(path, text)
    toml.check_keys(data)

    def sql_file(section: str, index: int, key: str, value) -> SqlFile:
        if not isinstance(value, str) or not value:
            raise toml.error(section, index, key, f"{key} must name a SQL file")
        file = folder / value
        if not file.is_file():
            raise toml.error(section, index, key, f"no SQL file {value} in {folder}")
        return SqlFile(file, read_text(file))

    def required(section: str, index: int, table: dict, key: str):
        if key not in table:
            raise toml.error(section, index, None, f"[[{section}]] needs {key} = ...")
        return table[key]

    def name_of(section: str, index: int, table: dict) -> str:
        value = required(section, index, table, "name")
        try:
            return identifier(str(value), f"{section[:-1]} name")
        except Exception as exc:
            raise toml.error(section, index, "name", str(exc)) from exc

    sources: dict[str, Source] = {}
    for i, table in enumerate(data.get("sources", [])):
        name = name_of("sources", i, table)
        if name in sources:
            raise toml.error("sources", i, "name", f"a second source named {name}")
        location = table.get("location", f"{{source_prefix}}/{name}/")
        _check_pattern(toml, "sources", i, "location", location, set())
        file = sql_file("sources", i, "sql", required("sources", i, table, "sql"))
        missing = _missing(toml, i, table["missing"]) if "missing" in table else ()
        missing_at = f"{path}:{toml.line('sources', i, 'missing')}" if missing else ""
        max_age = _duration(toml, i, table["max_age"]) if "max_age" in table else None
        if not isinstance(table.get("header", False), bool):
            raise toml.error("sources", i, "header", "header must be true or false")
        min_rows = _count(toml, "sources", i, table, "min_rows")
        sources[name] = Source(
            name, file, location, missing, max_age, table.get("header", False), min_rows, missing_at
        )
    if not sources:
        raise toml.error("", 0, None, "a job needs at least one [[sources]] table")

    parameters: dict[str, Parameter] = {}
    for i, table in enumerate(data.get("parameters", [])):
        name = name_of("parameters", i, table)
        if name in parameters:
            raise toml.error("parameters", i, "name", f"a second parameter named {name}")
        if name in RESERVED:
            raise toml.error(
                "parameters", i, "name", f"{name} is an option of elt's own: name it otherwise"
            )
        if not isinstance(table.get("repeat", False), bool):
            raise toml.error("parameters", i, "repeat", "repeat must be true or false")
        values = table.get("values")
        parameters[name] = Parameter(
            name,
            str(table.get("help", f"A value of {name}.")),
            str(table.get("example", "")),
            bool(table.get("repeat", False)),
            sql_file("parameters", i, "values", values) if values is not None else None,
        )

    models: dict[str, Model] = {}
    for i, table in enumerate(data.get("models", [])):
        name = name_of("models", i, table)
        per = table.get("per")
        if per is not None and per not in parameters:
            raise toml.error("models", i, "per", _unknown("parameter", per, parameters))
        if per is not None and not parameters[per].repeat:
            raise toml.error(
                "models", i, "per", f"parameter {per} does not repeat: give it repeat = true"
            )
        pattern = table.get("table", f"{{{per}_slug}}" if per else name)
        _check_pattern(toml, "models", i, "table", pattern, {per} if per else set())
        if name in sources or name in models:
            raise toml.error("models", i, "name", f"{name} is the name of another table")
        _check_table_pattern(toml, i, pattern, per, set(sources) | set(models))
        file = sql_file("models", i, "sql", required("models", i, table, "sql"))
        models[name] = Model(name, file, per, pattern)

    exports: list[Export] = []
    for i, table in enumerate(data.get("exports", [])):
        model = required("exports", i, table, "model")
        if model not in models:
            raise toml.error("exports", i, "model", _unknown("model", model, models))
        per = models[model].per
        path_pattern = required("exports", i, table, "path")
        _check_pattern(toml, "exports", i, "path", path_pattern, {per} if per else set())
        if per and f"{{{per}" not in path_pattern:
            raise toml.error(
                "exports", i, "path", f"the path must hold {{{per}_slug}}: one file per {per}"
            )
        if path_pattern in (e.path for e in exports):
            raise toml.error("exports", i, "path", "another export writes to this path")
        for source in sources.values():
            if path_pattern.startswith(source.location.rstrip("/") + "/"):
                raise toml.error(
                    "exports", i, "path", f"the path is among the raw files of {source.name}"
                )
        file = sql_file("exports", i, "sql", required("exports", i, table, "sql"))
        exports.append(Export(model, file, path_pattern))

    checks = [
        _check(toml, i, table, models, sources, sql_file)
        for i, table in enumerate(data.get("checks", []))
    ]

    sample = data.get("sample", {})
    if sample.get("generator") and sample["generator"] not in GENERATORS:
        raise toml.error(
            "sample", 0, "generator", _unknown("generator", sample["generator"], GENERATORS)
        )
    if sample.get("folder") and not (folder / sample["folder"]).is_dir():
        raise toml.error("sample", 0, "folder", f"no folder {sample['folder']} in {folder}")

    return JobSpec(
        folder,
        str(data.get("name", folder.name)),
        str(data.get("description", "")),
        sources,
        parameters,
        list(models.values()),
        exports,
        {k: str(v) for k, v in data.get("defaults", {}).items()},
        {k: str(v) for k, v in sample.items()},
        checks,
    )


def _duration(toml, index: int, value) -> float:
    """`26h`, `90m`, `2d`, `45s`: seconds."""
    match = (
        re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd])\s*", value) if isinstance(value, str) else None
    )
    if not match:
        raise toml.error(
            "sources", index, "max_age", 'max_age must be a duration such as "26h", "90m" or "2d"'
        )
    return float(match.group(1)) * DURATION_UNITS[match.group(2)]


def _count(toml, section: str, index: int, table: dict, key: str) -> int | None:
    value = table.get(key)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise toml.error(section, index, key, f"{key} must be a whole number, 0 or more")
    return value


def _check(toml, index: int, table: dict, models: dict, sources: dict, sql_file) -> Check:
    """A [[checks]] table; its columns are checked against the model's in _resolve."""
    model = table.get("model")
    if model is None:
        raise toml.error("checks", index, None, "[[checks]] needs model = ...")
    if model not in models:
        hint = (
            f"; {model} is a source: its checks (max_age, header, min_rows) go in its [[sources]]"
            " table"
            if model in sources
            else ""
        )
        raise toml.error("checks", index, "model", _unknown("model", model, models) + hint)

    def columns(key: str) -> tuple[str, ...]:
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(c, str) and c for c in value):
            raise toml.error("checks", index, key, f'{key} must be a list of columns, e.g. ["id"]')
        return tuple(c.lower() for c in value)

    accepted = table.get("accepted_values", {})
    if not isinstance(accepted, dict):
        raise toml.error(
            "checks", index, "accepted_values",
            'accepted_values must be a table of columns, e.g. { status = ["open", "shipped"] }',
        )  # fmt: skip
    for column, values in accepted.items():
        kinds = {type(v) for v in values} if isinstance(values, list) and values else set()
        if kinds not in ({str}, {int}):
            raise toml.error(
                "checks", index, "accepted_values",
                f"accepted_values.{column} must be a list of texts or of whole numbers",
            )  # fmt: skip
    change = table.get("max_change")
    if change is not None and (isinstance(change, bool) or not isinstance(change, int | float)
                               or not 0 < change <= 10):  # fmt: skip
        raise toml.error(
            "checks", index, "max_change",
            "max_change must be a fraction above 0 (at most 10), e.g. 0.5 for a row count "
            "within 50 %",
        )  # fmt: skip
    check = Check(
        model,
        not_null=columns("not_null"),
        unique=columns("unique"),
        accepted_values=tuple((str(c).lower(), tuple(v)) for c, v in accepted.items()),
        min_rows=_count(toml, "checks", index, table, "min_rows"),
        max_change=None if change is None else float(change),
        sql=sql_file("checks", index, "sql", table["sql"]) if "sql" in table else None,
        line=f"{toml.path}:{toml.line('checks', index, None)}",
        lines={key: f"{toml.path}:{toml.line('checks', index, key)}" for key in table},
    )
    if check == Check(model, line=check.line, lines=check.lines):
        raise toml.error("checks", index, None, "the check checks nothing: give not_null, "
                         "unique, accepted_values, min_rows, max_change or sql")  # fmt: skip
    return check


def _resolve(spec: JobSpec) -> JobSpec:
    """Check every file's placeholders and tables, and the columns of each source's missing
    markers; order the models by what they read."""
    from dataclasses import replace

    from elt_cli.memo import remembered

    for source in spec.sources.values():
        _check_missing(source)
    found = remembered("job", (repr(spec),), lambda: _tables_of(spec))
    models = [replace(m, reads=tuple(found["models"][m.name])) for m in spec.models]
    parameters = {
        name: replace(p, counted=found["parameters"][name][0],
                      reads=tuple(found["parameters"][name][1]))
        if name in found["parameters"] else p
        for name, p in spec.parameters.items()
    }  # fmt: skip
    return replace(spec, models=_ordered(models), parameters=parameters)


def _tables_of(spec: JobSpec) -> dict:
    """What _resolve finds (as JSON, for the memo): the tables each model and each values
    query reads, and the values query's count column; raises TemplateError naming the line."""
    repeating = {n for n, p in spec.parameters.items() if p.repeat}
    single = set(spec.parameters) - repeating
    for source in spec.sources.values():
        _check_placeholders(source.file, {"database", "table", "location"}, spec)
    reads: dict[str, tuple[str, ...]] = {}
    for m in spec.models:
        _check_placeholders(m.file, {"database", *single, *([m.per] if m.per else [])}, spec)
        reads[m.name] = _tables_read(spec, m.file, {m.per} if m.per else set())
        for name in reads[m.name]:
            other = next((o for o in spec.models if o.name == name), None)
            if other and other.per and other.per != m.per:
                raise TemplateError(
                    f"{m.file.at(name)}: {m.name} reads {name}, which is built per {other.per}; "
                    f"make {m.name} per {other.per} too"
                )
    for e in spec.exports:
        per = spec.model(e.model).per
        _check_placeholders(e.file, {"database", *single, *([per] if per else [])}, spec)
        read = _tables_read(spec, e.file, {per} if per else set())
        if e.model not in read:
            raise TemplateError(f"{e.file.at()}: the export of {e.model} must read {e.model}")
    parameters = {}
    for name, p in spec.parameters.items():
        if p.values:
            _check_placeholders(p.values, {"database"}, spec)
            columns = _output_columns(spec, p.values)
            if len(columns) != 2:
                raise TemplateError(
                    f"{p.values.at('SELECT')}: must give two columns, a {name} and a count "
                    f"(it gives {len(columns)})"
                )
            parameters[name] = [columns[1], _tables_read(spec, p.values, set())]
    for c in spec.checks:
        if c.sql:
            per = spec.model(c.model).per
            _check_placeholders(c.sql, {"database", *single, *([per] if per else [])}, spec)
            if c.model not in _tables_read(spec, c.sql, {per} if per else set()):
                raise TemplateError(f"{c.sql.at()}: a check of {c.model} must read {c.model}")
    return {"models": reads, "parameters": parameters}


def _missing(toml, index: int, value) -> tuple:
    """A source's `missing`: a list of the fields that read as NULL in every column
    (`["NA", ""]`), or a table of them per column (`{ rating = ["NA"] }`); its columns are
    checked against the source's with its SQL (_check_missing)."""

    def markers(given, where: str) -> tuple[str, ...]:
        if not isinstance(given, list) or not given or not all(isinstance(m, str) for m in given):
            raise toml.error(
                "sources", index, "missing",
                f"missing{where} must be a list of texts, e.g. [\"NA\", \"\"]",
            )  # fmt: skip
        return tuple(dict.fromkeys(given))

    if isinstance(value, dict):
        return tuple((str(c).lower(), markers(m, f".{c}")) for c, m in value.items())
    return (("", markers(value, "")),)


def _check_missing(source: Source) -> None:
    """The columns a source's missing markers name are its own, each one elt can convert from
    text; an error names `missing` in job.toml."""
    from elt_cli import sql
    from elt_cli.templates import render

    if not source.missing:
        return
    values = {"database": "elt_db", "table": source.name, "location": "s3://elt-check/files/"}
    ddl = render(source.file.text, values)
    columns = {c.name.lower(): c for c in sql.raw_columns(str(source.file.path), ddl)}
    for column, _ in source.missing:
        if column and column not in columns:
            raise TemplateError(
                f"{source.missing_at}: " + _unknown("column", column, columns, f" of {source.name}")
            )
    marked = (
        columns.values() if source.missing[0][0] == "" else [columns[c] for c, _ in source.missing]
    )
    for raw in marked:
        kind = raw.type.upper().split("(")[0]
        if not raw.is_text and kind not in sql.TEXT_FORMS:
            raise TemplateError(
                f"{source.missing_at}: missing values need a column elt can convert from text "
                f"(STRING, BOOLEAN, INT, BIGINT, DOUBLE); {raw.name} is {raw.type}: declare it "
                "STRING and convert it in the model"
            )


def _ordered(models: list[Model]) -> list[Model]:
    """Depth first, keeping the job's order where it can; a cycle is an error."""
    by_name = {m.name: m for m in models}
    done: list[Model] = []
    visiting: list[str] = []

    def visit(m: Model) -> None:
        if m in done:
            return
        if m.name in visiting:
            cycle = visiting[visiting.index(m.name) :] + [m.name]
            raise TemplateError(
                f"{m.file.at()}: the models read each other in a cycle: {' -> '.join(cycle)}"
            )
        visiting.append(m.name)
        for name in m.reads:
            if name in by_name:
                visit(by_name[name])
        visiting.pop()
        done.append(m)

    for m in models:
        visit(m)
    return done


def read_text(path: Path) -> str:
    """A job file's text: UTF-8, a byte order mark (which some editors write) left out."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise TemplateError(
            f"{path}:{line}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x}): save the file "
            "as UTF-8"
        ) from exc


def sample_values(spec: JobSpec) -> dict[str, str]:
    return {n: p.example or "x" for n, p in spec.parameters.items()}


def _check_placeholders(file: SqlFile, allowed: set[str], spec: JobSpec) -> None:
    for name in sorted(file.placeholders - allowed):
        if name in spec.parameters:
            why = f'${{{name}}} is a parameter this file is not built per (give per = "{name}")'
        else:
            known = ", ".join("${" + k + "}" for k in sorted(allowed))
            why = (
                f"unknown placeholder ${{{name}}} (here: {known}; to write ${{{name}}} itself, as "
                f"in a regexp_replace named group, write $${{{name}}})"
            )
        raise TemplateError(f"{file.at('${' + name + '}')}: {why}")


def _parse(spec: JobSpec, file: SqlFile):
    """A file's SELECT, parsed with sample values; an error names the line."""
    return parse_with_text(spec, file)[0]


def parse_with_text(spec: JobSpec, file: SqlFile):
    """A file's SELECT parsed with sample values, and the text it was parsed from (its lines
    are the file's). Parsed once: do not change the tree."""
    return _parse_once(file, tuple(sample_values(spec).items()))


@functools.cache
def _parse_once(file: SqlFile, samples: tuple[tuple[str, str], ...]):
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError

    from elt_cli.templates import render

    values = {"database": "elt_db", **dict(samples)}
    text = render(file.text, values, lines_as_written=True)
    try:
        trees = [t for t in sqlglot.parse(text.rstrip().rstrip(";"), read="athena") if t]
    except ParseError as exc:
        error = exc.errors[0] if exc.errors else {}
        line = error.get("line", 1)
        raise TemplateError(
            f"{file.path}:{line}: cannot be parsed as Athena SQL: "
            f"{parse_error(error.get('description', str(exc)))}"
        ) from exc
    if not trees:
        raise TemplateError(f"{file.path}: is empty: write its SELECT")
    if len(trees) > 1:
        raise TemplateError(
            f"{file.at()}: holds {len(trees)} statements: a file holds one SELECT (elt writes "
            "the statements around it)"
        )
    (tree,) = trees
    if not isinstance(tree, exp.Query):
        raise TemplateError(f"{file.at()}: must be a SELECT")
    return tree, text


def parse_error(description: str) -> str:
    """sqlglot's words for a call with an argument missing, in a user's words."""
    missing = re.fullmatch(
        r"Required keyword: '(\w+)' missing for <class '[\w.]*\.(\w+)'>", description
    )
    if missing:
        from sqlglot import exp

        func = getattr(exp, missing.group(2), None)
        names = func.sql_names() if isinstance(func, type) and issubclass(func, exp.Func) else []
        name = names[0].lower() if names else missing.group(2)
        return f"{name}() is given too few arguments (see its page in Trino's documentation)"
    return description


def _output_columns(spec: JobSpec, file: SqlFile) -> list[str]:
    return [e.alias_or_name for e in _parse(spec, file).selects]


def _tables_read(spec: JobSpec, file: SqlFile, per: set[str]) -> tuple[str, ...]:
    """The job's tables a file's SELECT reads (`${database}.<name>`); an unknown one, or one
    not qualified with ${database}, is an error naming the line."""
    from sqlglot import exp

    tree = _parse(spec, file)
    ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
    known = set(spec.sources) | {m.name for m in spec.models}
    found = []
    for table in tree.find_all(exp.Table):
        if not table.name:
            continue  # UNNEST and other table functions
        if not table.db:
            if table.name.lower() in ctes:
                continue
            raise TemplateError(
                f"{file.at(table.name)}: write ${{database}}.{table.name}: the job's tables are "
                "read with their database"
            )
        if table.db.lower() != "elt_db":
            continue  # a table of another database: read as it is
        if table.name.lower() not in known:  # Athena's names are case-insensitive
            raise TemplateError(f"{file.at(table.name)}: {_unknown('table', table.name, known)}")
        found.append(table.name.lower())
    return tuple(dict.fromkeys(found))


def _check_pattern(toml, section: str, index: int, key: str, pattern, per: set) -> None:
    """A path or name pattern: {source_prefix}, {database}, {<param>} and {<param>_slug}."""
    if not isinstance(pattern, str) or not pattern:
        raise toml.error(section, index, key, f"{key} must be a text")
    # A value reaches a name or a path only as its slug: a genre `../../x` must not climb out
    # of the lake, nor name a table.
    allowed = {"source_prefix", "database"} | {f"{p}_slug" for p in per}
    for name in re.findall(r"{([^{}]*)}", pattern):
        if name in per:
            raise toml.error(
                section,
                index,
                key,
                f"write {{{name}_slug}}: a value goes into a {key} as its slug",
            )
        if name not in allowed:
            known = ", ".join("{" + a + "}" for a in sorted(allowed))
            raise toml.error(section, index, key, f"unknown {{{name}}} in {key} (here: {known})")
    if key != "table":
        segments = pattern.strip("/").split("/")
        odd = [x for x in segments if x in ("", ".", "..")]
        if pattern.startswith("/") or odd or segments[0] in FOLDER_NAMES:
            raise toml.error(
                section,
                index,
                key,
                f"{key} {pattern!r} must be a path inside the lake, out of "
                f"the folders elt writes to ({', '.join(FOLDER_NAMES)})",
            )


def _check_table_pattern(toml, index: int, pattern: str, per: str | None, taken: set) -> None:
    """A model's table name, for a sample value: a valid name, not another table's."""
    sample = {per: "value"} if per else {}
    name = expand(pattern, "", "elt_db", sample)
    try:
        identifier(name, "table name")
    except Exception as exc:
        raise toml.error("models", index, "table", str(exc)) from exc
    if not per and name in taken:
        raise toml.error("models", index, "table", f"{name} is the name of another table")


def expand(pattern: str, source_prefix: str, database: str, values: dict[str, str]) -> str:
    """Fill a pattern: {source_prefix}, {database}, {<param>}, {<param>_slug}."""
    names = {"source_prefix": source_prefix.strip("/"), "database": database}
    for name, value in values.items():
        names[name], names[f"{name}_slug"] = value, slug(value)
    return re.sub(r"{([^{}]*)}", lambda m: names[m.group(1)], pattern)


def _unknown(what: str, name: str, known, where: str = "") -> str:
    close = difflib.get_close_matches(str(name), list(known), n=1)
    hint = (
        f"did you mean {close[0]!r}?" if close else f"known: {', '.join(sorted(known)) or 'none'}"
    )
    return f"unknown {what} {name!r}{where}; {hint}"


@dataclass(frozen=True)
class _Toml:
    """job.toml's text, to name the line of a key in errors (tomllib gives no positions)."""

    path: Path
    text: str

    def line(self, section: str, index: int, key: str | None) -> int:
        lines = self.text.splitlines()
        start, seen = 0, -1
        if section:
            header = re.compile(rf"\s*\[\[?\s*{re.escape(section)}\s*\]\]?\s*(#.*)?$")
            for number, line in enumerate(lines):
                if header.match(line):
                    seen += 1
                    if seen == index:
                        start = number
                        break
        if key is None:
            return start + 1
        # a key is `key = ...`, or, at the top, the header of a table of that name
        pattern = re.compile(rf"\s*({re.escape(key)}\s*=|\[\[?\s*{re.escape(key)}\s*\]\]?)")
        for number in range(start + (1 if section else 0), len(lines)):
            if section and re.match(r"\s*\[", lines[number]):
                break
            if pattern.match(lines[number]):
                return number + 1
        return start + 1

    def error(self, section: str, index: int, key: str | None, message: str) -> TemplateError:
        return TemplateError(f"{self.path}:{self.line(section, index, key)}: {message}")

    def check_keys(self, data: dict) -> None:
        def check(section: str, index: int, table) -> None:
            if not isinstance(table, dict):
                raise self.error(section, index, None, f"[{section}] must be a table")
            for key in table:
                if key not in KEYS[section]:
                    where = (
                        f" in [{section}]"
                        if section in ("defaults", "sample")
                        else (f" in [[{section}]]" if section else "")
                    )
                    raise self.error(
                        section, index, key, _unknown("key", key, KEYS[section], where)
                    )

        check("", 0, data)
        for section in ("defaults", "sample"):
            if section in data:
                check(section, 0, data[section])
        for section in ("sources", "parameters", "models", "exports", "checks"):
            tables = data.get(section, [])
            if not isinstance(tables, list):
                raise self.error(section, 0, None, f"write [[{section}]], one table each")
            for index, table in enumerate(tables):
                check(section, index, table)
