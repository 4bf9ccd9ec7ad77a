"""Where everything lives in the lake, and which prefixes the tool owns (and so may delete)."""

from __future__ import annotations

from dataclasses import dataclass


def join(base: str, *parts: str) -> str:
    """Join lake paths with `/`, for `s3://` URIs and local folders alike."""
    out = base.rstrip("/")
    for part in parts:
        out += "/" + part.strip("/")
    return out


def as_prefix(uri: str) -> str:
    """A folder-like prefix always ends with exactly one `/`."""
    return uri.rstrip("/") + "/"


@dataclass(frozen=True)
class Folder:
    """A top-level folder of the lake that elt writes to; raw data never lives under one."""

    name: str
    per_database: bool  # <name>/<database>/: each database its own
    deletes: bool  # elt deletes under it (what it wrote there itself)


# The one list of the folders elt owns in a lake.
FOLDERS = (
    Folder("tables", per_database=True, deletes=True),  # each model's table versions
    Folder("export", per_database=False, deletes=True),  # export staging
    Folder("_elt", per_database=True, deletes=True),  # run record, builds, lock
    Folder("athena-results", per_database=False, deletes=False),  # Athena's result files
)
FOLDER_NAMES = tuple(f.name for f in FOLDERS)


@dataclass(frozen=True)
class Layout:
    lake: str  # s3://bucket[/prefix] or an absolute local folder, without a trailing slash
    database: str
    raw: tuple[str, ...] = ()  # the job's raw files: prefixes never deleted under

    def table_root(self, table: str) -> str:
        return as_prefix(join(self.lake, FOLDERS[0].name, self.database, table))

    def table_data(self, table: str, version: str) -> str:
        return join(self.table_root(table), version) + "/"

    def export_dir(self, slug: str) -> str:
        return as_prefix(join(self.lake, FOLDERS[1].name, slug))

    def state_dir(self) -> str:
        return as_prefix(join(self.lake, FOLDERS[2].name, self.database))

    def owned(self) -> tuple[str, ...]:
        """Prefixes the tool may delete under: its table data, export staging and state."""
        return tuple(
            as_prefix(join(self.lake, f.name, *([self.database] if f.per_database else [])))
            for f in FOLDERS
            if f.deletes
        )

    def is_owned(self, uri: str) -> bool:
        """True when `uri` lies strictly inside an owned prefix and not inside raw data."""
        uri = as_prefix(uri)
        if "/../" in uri or "/./" in uri:
            return False
        inside = any(uri.startswith(p) and uri != p for p in self.owned())
        return inside and not any(uri.startswith(raw) for raw in self.raw)
