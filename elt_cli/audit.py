"""Write–audit–publish: a model's new version is checked after its build and before its view
is switched to it (the job's [[checks]]); a version that fails is not published, and what
reads it is not built. The same checks on both engines: one query per version counts the
failures of every check, and only a failing check's rows (5 at most) are read."""

from __future__ import annotations

import csv
import gzip
import time
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from elt_cli import sql
from elt_cli.errors import ChecksFailed
from elt_cli.job import DURATION_UNITS, Check
from elt_cli.statements import Finding, Statement
from elt_cli.templates import quoted_name, sql_string

if TYPE_CHECKING:
    from elt_cli.engines.base import Engine
    from elt_cli.plan import Build, Plan
    from elt_cli.storage import Storage

SHOWN_ROWS = 5  # failing rows read and shown per failed check


@dataclass(frozen=True)
class _Measure:
    check: str
    failures: str  # an expression counting the failures, over the version's rows
    failing: str  # a SELECT of the failing rows
    kind: str = "rows"  # "rows": failures are rows; "min_rows", "max_change": judged on counts
    limit: float = 0


def _measures(job: Plan, build: Build, check: Check, table: str, published: str | None):
    t = sql.table_name(job.database, table)
    for column in check.not_null:
        c = quoted_name(column)
        yield _Measure(
            f"not_null {column}",
            f"count_if({c} IS NULL)",
            f"SELECT * FROM {t} WHERE {c} IS NULL LIMIT {SHOWN_ROWS}",
        )
    for column in check.unique:
        c = quoted_name(column)
        yield _Measure(
            f"unique {column}",
            f"count({c}) - count(DISTINCT {c})",
            f"SELECT {c}, count(*) AS rows FROM {t} WHERE {c} IS NOT NULL GROUP BY {c} "
            f"HAVING count(*) > 1 ORDER BY count(*) DESC LIMIT {SHOWN_ROWS}",
        )
    for column, values in check.accepted_values:
        c = quoted_name(column)
        listed = ", ".join(sql_string(v) if isinstance(v, str) else str(v) for v in values)
        yield _Measure(
            f"accepted_values {column}",
            f"count_if({c} NOT IN ({listed}))",
            f"SELECT * FROM {t} WHERE {c} NOT IN ({listed}) LIMIT {SHOWN_ROWS}",
        )
    if check.min_rows is not None:
        yield _Measure(f"min_rows {check.min_rows}", "count(*)", "", "min_rows", check.min_rows)
    if check.max_change is not None:
        old = (
            f"(SELECT count(*) FROM {sql.table_name(job.database, published)})"
            if published
            else "NULL"
        )
        yield _Measure(f"max_change {check.max_change:g}", old, "", "max_change", check.max_change)
    if check.sql:
        select, _ = job.select(
            check.sql, build.model.per, build.value, reading=((check.model, table),)
        )
        yield _Measure(
            f"sql {check.sql.path.relative_to(job.spec.folder)}",
            f"(SELECT count(*) FROM ({select}) AS failing)",
            f"SELECT * FROM ({select}) AS failing LIMIT {SHOWN_ROWS}",
        )


def audit(job: Plan, engine: Engine, built: list[tuple[Build, str]]) -> dict[str, list[Finding]]:
    """Check each new version (build, its table) against its model's checks; per build's
    table, the findings (none for a model without checks). A dry run checks nothing."""
    plans = {}
    for build, table in built:
        checks = job.spec.checks_of(build.model.name)
        if not checks:
            continue
        current = engine.table_info(job.database, build.table)
        published = build.table if current and current.kind == "view" else None
        measures = [m for c in checks for m in _measures(job, build, c, table, published)]
        if measures:
            plans[build.table] = (build, table, measures)
    if not plans:
        return {}
    statements = [
        Statement(
            "audit",
            "SELECT count(*), "
            + ", ".join(m.failures for m in measures)
            + f" FROM {sql.table_name(job.database, table)}",
            build.subject,
        )
        for build, table, measures in plans.values()
    ]
    results = engine.query_many(statements)
    if any(r.rows is None for r in results):
        return {}  # a dry run: the statements are shown, nothing was counted
    findings = {}
    for (key, (build, table, measures)), result in zip(plans.items(), results, strict=True):
        (counts,) = result.rows or [()]
        rows = int(counts[0])
        failures = [None if n is None else int(n) for n in counts[1:]]
        judged = zip(measures, failures, strict=True)
        findings[key] = [_judge(build.subject, table, m, rows, n) for m, n in judged]
    _read_failing_rows(engine, plans, findings)
    return findings


def _rows(n: int) -> str:
    return f"{n:,} row{'s' if n != 1 else ''}"


def _judge(subject: str, table: str, m: _Measure, rows: int, n: int | None) -> Finding:
    if m.kind == "min_rows":
        ok = rows >= m.limit
        return Finding(subject, table, m.check, ok, "" if ok else _rows(rows))
    if m.kind == "max_change" and n is None:
        return Finding(subject, table, m.check, True, "no published version to compare with")
    assert n is not None
    if m.kind == "max_change":
        change = abs(rows - n) / n if n else (0.0 if rows == 0 else float("inf"))
        detail = f"{_rows(rows)} against {n:,} published" + (
            f", {(rows - n) / n:+.0%}" if n else ""
        )
        return Finding(subject, table, m.check, change <= m.limit, detail)
    return Finding(subject, table, m.check, n == 0, _rows(n) if n else "")


def _read_failing_rows(engine: Engine, plans: dict, findings: dict[str, list[Finding]]) -> None:
    """Up to 5 rows of each failed check that fails by rows, in one batch of queries."""
    wanted = [
        (key, i, m)
        for key, (build, _, measures) in plans.items()
        for i, (m, f) in enumerate(zip(measures, findings[key], strict=True))
        if not f.passed and m.failing
    ]
    if not wanted:
        return
    results = engine.query_many(
        [Statement("audit_rows", m.failing, plans[key][0].subject) for key, _, m in wanted]
    )
    for (key, i, _), result in zip(wanted, results, strict=True):
        found = findings[key][i]
        rows = tuple(tuple(None if v is None else str(v) for v in row) for row in result.rows or [])
        findings[key][i] = Finding(
            found.subject,
            found.table,
            found.check,
            False,
            found.detail,
            tuple(result.columns or ()),
            rows,
        )


def describe(failed: list[Finding]) -> str:
    """`not_null avg_rating (2 rows), min_rows 1 (0 rows)`."""
    return ", ".join(f"{f.check} ({f.detail})" if f.detail else f.check for f in failed)


# -- the sources, before any query ----------------------------------------------------------------

HEADER_BYTES = 64 * 1024  # read of each file to find its header line


def check_sources(plan: Plan, storage: Storage, now: float | None = None) -> list[str]:
    """The job's source checks (`max_age`, `header`, `min_rows` of a [[sources]] table), before
    any query: a stale feed, a renamed or swapped column or a short feed fails the command
    (ChecksFailed, exit 1) instead of publishing yesterday's data again. Returns what passed."""
    now = time.time() if now is None else now
    passed = []
    for source in plan.spec.sources.values():
        if not (source.max_age or source.header or source.min_rows is not None):
            continue
        ok: list[str] = []
        files = storage.stat_files(plan.locations[source.name])
        settings = sql.serde_settings(plan.raw_ddl(source))
        if source.max_age and files:
            newest = max(files, key=lambda f: f.modified)
            age = now - newest.modified
            if age > source.max_age:
                limit = _duration(source.max_age)
                raise ChecksFailed(
                    f"source {source.name} is stale: its newest file, {newest.uri}, was written "
                    f"{_duration(age, limit[-1])} ago, more than its max_age of {limit}"
                )
            ok.append(f"newest file {_duration(age)} old")
        if source.header:
            declared = [c.name for c in plan.raw_columns[source.name]]
            for f in files:
                found = _header(storage, f.uri, settings)
                if [c.strip().lower() for c in found] != [c.lower() for c in declared]:
                    raise ChecksFailed(
                        f"source {source.name}: {f.uri} has the header {','.join(found)!r}, "
                        f"not the declared columns {','.join(declared)!r} (a renamed, added or "
                        f"swapped column): fix the file, or the columns in {source.file.path}"
                    )
            ok.append(f"{len(files)} header{'s' if len(files) != 1 else ''} as declared")
        if source.min_rows is not None:
            skip = int(settings.get("tblproperties.skip.header.line.count", "0") or 0)
            rows = sum(max(_lines(storage, f.uri) - skip, 0) for f in files)
            if rows < source.min_rows:
                raise ChecksFailed(
                    f"source {source.name} has {rows:,} rows in {len(files)} file(s) under "
                    f"{plan.locations[source.name]}, fewer than its min_rows of "
                    f"{source.min_rows:,}"
                )
            ok.append(f"{rows:,} rows")
        passed.append(f"{source.name} ({', '.join(ok)})")
    return passed


def _duration(seconds: float, unit: str = "") -> str:
    """`26h`, `2d`, `3.5h`, `12m`: in `unit`, else in the largest unit that gives a whole
    number, else in the largest one it reaches, to a tenth."""
    if not unit:
        largest = sorted(DURATION_UNITS.items(), key=lambda unit_size: -unit_size[1])
        units = [u for u, size in largest if seconds >= size] or ["s"]
        unit = next((u for u in units if seconds % DURATION_UNITS[u] == 0), units[0])
    value = seconds / DURATION_UNITS[unit]
    return f"{value:.0f}{unit}" if value == int(value) else f"{value:.1f}{unit}"


def _header(storage: Storage, uri: str, settings: dict[str, str]) -> list[str]:
    """The first line of a (gzip-compressed or plain) CSV file, read from its first bytes."""
    with storage.open_read(uri, first=HEADER_BYTES) as stream:
        data = stream.read(HEADER_BYTES)
    if uri.endswith(".gz"):
        data = zlib.decompressobj(wbits=31).decompress(data)  # what a partial file gives
    line = data.split(b"\n", 1)[0].decode("utf-8-sig", errors="replace").rstrip("\r")
    reader = csv.reader(
        [line],
        delimiter=settings.get("serdeproperties.separatorChar", ","),
        quotechar=settings.get("serdeproperties.quoteChar", '"') or None,
    )
    return next(reader, [])


def _lines(storage: Storage, uri: str) -> int:
    """The lines of a file (a last line without a newline counts), streamed."""
    with storage.open_read(uri) as raw:
        stream = gzip.GzipFile(fileobj=raw) if uri.endswith(".gz") else raw
        count, last = 0, b"\n"
        while chunk := stream.read(1 << 20):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count + (last != b"\n")
