"""A cost budget for Athena: before any query starts, the bytes each query of the command will
scan are predicted from what elt lists anyway, and the command is refused (exit 2, nothing
started) when they pass `--max-scan` or one query passes its workgroup's per-query cutoff.

A query over raw CSV scans the files of the sources it reads (Athena bills the bytes as stored,
gzip-compressed for a .gz file). A query over a model scans that model's files: those of the
version its view shows, or, for a model never built, what it is built from (an upper bound:
Parquet is smaller, and Athena reads only the columns a query names). A model unchanged since
its build is not built, and its scan is not counted."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from elt_cli.errors import BadInput
from elt_cli.report.record import human_bytes

if TYPE_CHECKING:
    from elt_cli.steps import Job


@dataclass(frozen=True)
class Scan:
    label: str  # `build movie_ratings`, `checks Sci-Fi`, `values genres`, `export Sci-Fi`
    bytes: int

    @property
    def cost_usd(self) -> float:
        from elt_cli.engines.athena import billed_usd

        return billed_usd(self.bytes)


def predict(job: Job, exports: bool = True) -> list[Scan]:
    """The scans of the command's queries, in the order they run (DDL scans nothing)."""
    spec = job.spec
    raw = {
        name: sum(f.size for f in job.storage.stat_files(location))
        for name, location in job.locations.items()
    }
    shown: dict[str, int | None] = {}

    def published(table: str) -> int | None:
        if table not in shown:
            shown[table] = _published_bytes(job, table)
        return shown[table]

    size: dict[str, int] = {}  # a model's table -> the bytes of the version the run reads

    def read(names, value) -> int:
        total = 0
        for name in names:
            if name in raw:
                total += raw[name]
            else:
                model = spec.model(name)
                table = job.expand(model.table, {model.per: value} if model.per and value else {})
                total += size.get(table, published(table) or 0)
        return total

    scans = []
    values_read: set[str] = set()
    for level in spec.levels():
        for parameter in sorted({m.per for m in level if m.per} - values_read):
            listing = spec.parameters[parameter]
            if listing.values is not None:
                scans.append(Scan(f"values {listing.plural}", read(listing.reads, None)))
            values_read.add(parameter)
        for model in level:
            for build in job.builds(model):
                if job.current(build.table, job.digests[build.table]):
                    size[build.table] = published(build.table) or 0
                    continue
                reads = read(model.reads, build.value)
                scans.append(Scan(f"build {build.subject}", reads))
                before = published(build.table)
                size[build.table] = before if before is not None else reads
                checks = spec.checks_of(model.name)
                if checks:  # the audit query reads the version, once more per SQL check
                    times = 1 + sum(1 for c in checks if c.sql)
                    scans.append(Scan(f"checks {build.subject}", size[build.table] * times))
    if exports:
        for output in job.outputs():
            scans.append(Scan(f"export {output.subject}", size.get(output.table, 0)))
    return scans


def _published_bytes(job: Job, table: str) -> int | None:
    """The bytes of the version a model's view shows, None when there is none."""
    info = job.engine.table_info(job.database, table)
    if info is not None and info.kind == "view" and info.view_of:
        info = job.engine.table_info(job.database, info.view_of)
    if info is None or not info.location:
        return None
    return sum(f.size for f in job.storage.stat_files(info.location))


def enforce(job: Job, exports: bool = True) -> None:
    """Refuse the command before it starts when its predicted scan is over the budget or one
    query's is over the engine's per-query cutoff; a dry run shows the prediction. The
    prediction goes to the record, for the summary."""
    limit, cutoff = job.settings.max_scan, job.engine.scan_cutoff
    if job.settings.engine != "athena" or not (limit or cutoff or job.dry_run):
        return
    scans = predict(job, exports)
    total = sum(s.bytes for s in scans)
    job.reporter.predicted_bytes = total
    shown = ", ".join(f"{s.label} {human_bytes(s.bytes)}" for s in scans)
    if job.dry_run:
        job.reporter.note(
            f"predicted scan: {human_bytes(total)}, est. "
            f"${sum(s.cost_usd for s in scans):.4f} ("
            + ", ".join(f"{s.label} {human_bytes(s.bytes)} ${s.cost_usd:.4f}" for s in scans)
            + ")"
        )
    if cutoff:
        owner, most = cutoff
        over = [s for s in scans if s.bytes > most]
        if over:
            raise BadInput(
                f"{over[0].label} is predicted to scan {human_bytes(over[0].bytes)}, more than "
                f"{owner}'s BytesScannedCutoffPerQuery of {human_bytes(most)}, so Athena would "
                "cancel it: raise the workgroup's limit, or run in another workgroup"
            )
    if limit is not None and total > limit:
        raise BadInput(
            f"the run is predicted to scan {human_bytes(total)}, more than --max-scan "
            f"{human_bytes(limit)} ({shown}): nothing was started; raise --max-scan, or give "
            "fewer values"
        )
