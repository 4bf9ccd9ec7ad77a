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
class Layout:
    lake: str  # s3://bucket[/prefix] or an absolute local folder, without a trailing slash
    database: str
    raw: tuple[str, ...] = ()  # the job's raw files: prefixes never deleted under

    def table_root(self, table: str) -> str:
        return as_prefix(join(self.lake, "tables", self.database, table))

    def table_data(self, table: str, version: str) -> str:
        return join(self.table_root(table), version) + "/"

    def export_dir(self, slug: str) -> str:
        return as_prefix(join(self.lake, "export", slug))

    def state_dir(self) -> str:
        return as_prefix(join(self.lake, "_elt", self.database))

    def owned(self) -> tuple[str, ...]:
        """Prefixes the tool may delete under: its table data, export staging and state."""
        return (
            as_prefix(join(self.lake, "tables", self.database)),
            as_prefix(join(self.lake, "export")),
            self.state_dir(),
        )

    def is_owned(self, uri: str) -> bool:
        """True when `uri` lies strictly inside an owned prefix and not inside raw data."""
        uri = as_prefix(uri)
        if "/../" in uri or "/./" in uri:
            return False
        inside = any(uri.startswith(p) and uri != p for p in self.owned())
        return inside and not any(uri.startswith(raw) for raw in self.raw)
