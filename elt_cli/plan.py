"""What a command will do, worked out from the job, the settings and the parameter values alone
(no engine, no storage): the tables to build, the SQL of each, where each file goes. `elt check`
needs only this; the steps (steps.py) run it."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from functools import cache, cached_property

from elt_cli import sql
from elt_cli.config import Settings
from elt_cli.engines.kinds import ENGINES
from elt_cli.errors import BadInput
from elt_cli.job import Export, JobSpec, Model, Source, expand, sample_values
from elt_cli.journal import digest
from elt_cli.layout import Layout, as_prefix, join
from elt_cli.templates import MAX_IDENTIFIER, MAX_TEXT, identifier, render, slug


@dataclass(frozen=True)
class Build:
    """A model for one value of its parameter (or the model, when it has none)."""

    model: Model
    value: str | None
    table: str  # the view that publishes it: sci_fi, movie_ratings

    @property
    def subject(self) -> str:
        return self.value if self.value is not None else self.model.name


@dataclass(frozen=True)
class Output:
    """An export of one build: a model for one value of its parameter."""

    export: Export
    build: Build

    @property
    def subject(self) -> str:
        return self.build.subject

    @property
    def table(self) -> str:  # the model's table it writes out
        return self.build.table

    @property
    def values(self) -> dict[str, str]:
        """The parameter value it is for, as {name: value}, or {}."""
        per, value = self.build.model.per, self.build.value
        return {per: value} if per and value is not None else {}


def parameter_values(
    spec: JobSpec, given: dict[str, list[str]], required: bool = True
) -> dict[str, list[str]]:
    """The user's parameter values, checked before anything runs: a parameter a model is
    built per needs one at least, one the SQL uses needs one (if `required`); each value must
    give a table name of its own; repeats go."""
    values: dict[str, list[str]] = {}
    for name, parameter in spec.parameters.items():
        option, found = parameter.option, dict[str, str]()
        for value in given.get(name, []):
            if not value.strip() or len(value) > MAX_TEXT:
                raise BadInput(
                    f"invalid {name} {value!r}: give a {name} of 1 to {MAX_TEXT} characters"
                )
            if not slug(value):
                raise BadInput(f"invalid {name} {value!r}: it needs at least one letter or digit")
            same = found.setdefault(slug(value), value)
            if name in spec.per_value and same.lower() != value.lower():
                raise BadInput(
                    f"{name} {same!r} and {name} {value!r} would be one table and one file, "
                    f"{slug(value)}: give one of them"
                )
        needed = name in spec.per_value or name in spec.used
        if not found and needed and required:
            example = (
                f", e.g. {option} {shlex.quote(parameter.example)}" if parameter.example else ""
            )
            some = "at least one " if parameter.repeat else ""
            raise BadInput(f"give {some}{option}{example}")
        if len(found) > 1 and not parameter.repeat:
            raise BadInput(f"give one {option}, not {len(found)}")
        values[name] = list(found.values())
    for model in spec.models:
        for value in values.get(model.per, []) if model.per else []:
            table = expand(model.table, "", "", {str(model.per): value})
            if table[:1].isdigit():
                raise BadInput(
                    f"{model.per} {value!r} gives table name {table!r}, which must not start "
                    "with a digit"
                )
            if len(table) > MAX_IDENTIFIER:
                raise BadInput(
                    f"{model.per} {value!r} gives a table name of {len(table)} characters, more "
                    f"than {MAX_IDENTIFIER}: give a shorter {model.per}"
                )
            identifier(table, f"table name for {model.per}")
            if table in spec.sources or table in {m.name for m in spec.models}:
                kind = "raw" if table in spec.sources else "model"
                raise BadInput(f"{model.per} {value!r} would overwrite the {kind} {table} table")
    return values


def source_locations(spec: JobSpec, settings: Settings) -> dict[str, str]:
    """Each source's files: a prefix in the lake."""
    return {
        s.name: as_prefix(
            join(settings.lake, expand(s.location, settings.source_prefix, settings.database, {}))
        )
        for s in spec.sources.values()
    }


def final_patterns(spec: JobSpec, settings: Settings, values: dict[str, list[str]]) -> list[str]:
    """The final files of the exports: for the given values, or with `*` for any value."""
    finals = []
    for export in spec.exports:
        per = spec.model(export.model).per
        given = values.get(per, []) if per else [None]
        for value in given or ["*"]:
            pattern = export.path
            if value == "*":
                pattern = re.sub(rf"{{{per}(_slug)?}}", "*", pattern)
                value = None
            path = expand(
                pattern,
                settings.source_prefix,
                settings.database,
                {per: value} if per and value else {},
            )
            finals.append(join(settings.lake, path))
    return finals


@dataclass(eq=False)  # hashed by identity: its SQL is rendered once per command (_select)
class Plan:
    spec: JobSpec
    settings: Settings
    values: dict[str, list[str]] = field(default_factory=dict)  # the user's, checked
    skip_bad_rows: bool = False

    @property
    def database(self) -> str:
        return self.settings.database

    @cached_property
    def layout(self) -> Layout:
        return self.settings.layout_for(self.locations.values())

    # -- where things are ------------------------------------------------------------------------

    def expand(self, pattern: str, values: dict[str, str] | None = None) -> str:
        return expand(pattern, self.settings.source_prefix, self.database, values or {})

    @cached_property
    def locations(self) -> dict[str, str]:
        """Each source's files: a prefix in the lake."""
        return source_locations(self.spec, self.settings)

    def builds(self, model: Model) -> list[Build]:
        if not model.per:
            return [Build(model, None, self.expand(model.table))]
        return [
            Build(model, v, self.expand(model.table, {model.per: v}))
            for v in self.values.get(model.per, [])
        ]

    def outputs(self) -> list[Output]:
        return [
            Output(export, b)
            for export in self.spec.exports
            for b in self.builds(self.spec.model(export.model))
        ]

    def final_file(self, output: Output) -> str:
        return join(self.settings.lake, self.expand(output.export.path, output.values))

    def export_file(self, output: Output) -> str:
        return join(self.layout.export_dir(output.table), f"{output.table}.csv")

    # -- SQL ---------------------------------------------------------------------------------------

    @cache  # noqa: B019  (a Job lives for one command)
    def _source_ddl(self, source: Source) -> str:
        """A source's CREATE EXTERNAL TABLE as the job writes it, placeholders filled."""
        values = {"database": self.database, "table": source.name}
        values["location"] = self.locations[source.name]
        return render(source.file.text, values, ddl=True)

    @cache  # noqa: B019  (a Job lives for one command)
    def raw_ddl(self, source: Source) -> str:
        """A raw table's CREATE statement: the job's file with elt's additions."""
        label = str(source.file.path)
        return sql.raw_table_ddl(label, self._source_ddl(source), self.raw_columns[source.name])

    @cached_property
    def raw_columns(self) -> dict[str, list[sql.RawColumn]]:
        return {
            s.name: sql.raw_columns(str(s.file.path), self._source_ddl(s), dict(s.missing))
            for s in self.spec.sources.values()
        }

    def select(
        self,
        file,
        per: str | None,
        value: str | None,
        inline: frozenset[str] = frozenset(),
        reading: tuple[tuple[str, str], ...] = (),
    ) -> tuple[str, tuple[str, ...]]:
        """A SELECT of the job's, for one value of `per`: placeholders filled, each model it
        reads named by its table (or, in `inline`, read as its own SELECT; in `reading`, as
        the table given: a check reads the version it checks), each read of raw data guarded
        against malformed rows. Also the raw tables it reads."""
        given = tuple((n, v[0]) for n, v in self.values.items() if v)
        return self._select(file, per, value, frozenset(inline), given, reading)

    @cache  # noqa: B019  (a Job lives for one command; the digests, the plan and the build
    # ask for the same SELECTs, and rendering one parses and writes it with sqlglot)
    def _select(self, file, per, value, inline, given, reading) -> tuple[str, tuple[str, ...]]:
        values = {"database": self.database, **dict(given)}
        if per:
            values[per] = value
        tables = {}
        for model in self.spec.models:
            if model.name in inline:
                continue
            if model.per and model.per != per:
                continue  # a table per value of another parameter: not this SELECT's to read
            tables[model.name] = self.expand(model.table, {model.per: value} if model.per else {})
        tables.update(reading)
        inlined = {
            m.name: render(m.file.text, values) for m in self.spec.models if m.name in inline
        }
        return sql.resolve(
            str(file.path),
            render(file.text, values),
            self.database,
            tables,
            self.raw_columns,
            self.skip_bad_rows,
            inlined,
            ENGINES[self.settings.engine].reader_refuses,
        )

    def build_select(self, build: Build) -> tuple[str, tuple[str, ...]]:
        return self.select(build.model.file, build.model.per, build.value)

    def export_select(self, output: Output) -> str:
        return self.select(output.export.file, output.build.model.per, output.build.value)[0]

    def sample_statements(self) -> dict[str, str]:
        """Every statement of the job rendered with sample values, for the engine to check
        before anything runs."""
        saved = self.values
        self.values = {n: [v] for n, v in sample_values(self.spec).items()}
        try:
            found = {str(s.file.path): self.raw_ddl(s) for s in self.spec.sources.values()}
            for model in self.spec.models:
                (build,) = self.builds(model)[:1] or [Build(model, None, model.name)]
                found[str(model.file.path)] = self.build_select(build)[0]
            for output in self.outputs()[: len(self.spec.exports)]:
                found[str(output.export.file.path)] = self.export_select(output)
            for parameter in self.spec.parameters.values():
                if parameter.values:
                    found[str(parameter.values.path)] = self.select(parameter.values, None, None)[0]
            for check in self.spec.checks:
                model = self.spec.model(check.model)
                (build,) = self.builds(model)[:1] or [Build(model, None, model.name)]
                if check.sql:
                    found[str(check.sql.path)] = self.select(check.sql, model.per, build.value)[0]
            return found
        finally:
            self.values = saved

    def digests_for(self, fingerprints: dict[str, str]) -> dict[str, str]:
        """Per table to build: a digest of its SQL and of what it reads (the raw files'
        `fingerprints` and table definition, the digests of the models it reads), so it
        changes when any of them changes."""
        digests: dict[str, str] = {}
        for model in self.spec.models:
            # a new or changed check is passed only by a version built and checked with it
            checks = [
                repr((c.not_null, c.unique, c.accepted_values, c.min_rows, c.max_change))
                + (c.sql.text if c.sql else "")
                for c in self.spec.checks_of(model.name)
            ]
            for b in self.builds(model):
                parts = [self.build_select(b)[0], *checks]
                for name in model.reads:
                    if name in fingerprints:  # a source: its files and how they are read
                        parts += [fingerprints[name], self.raw_ddl(self.spec.sources[name])]
                    else:
                        read = self.spec.model(name)
                        values = {read.per: b.value} if read.per and b.value is not None else {}
                        parts.append(digests[self.expand(read.table, values)])
                digests[b.table] = digest(*parts)
        return digests

    def command(self, step: str, values: dict[str, str]) -> str:
        """How the user runs a step for these values: `elt export --genre Sci-Fi`."""
        options = (f"{self.spec.parameters[n].option} {shlex.quote(v)}" for n, v in values.items())
        return " ".join(["elt", step, *options])
