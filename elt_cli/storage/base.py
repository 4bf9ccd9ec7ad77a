"""What a lake's storage is: the Storage protocol the local, S3 and dry-run storages
implement, and the files Athena skips."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

DeleteGuard = Callable[[str], bool]  # True for a URI (file or prefix) elt may delete


def is_hidden(name: str) -> bool:
    """Athena (like Hive) skips files whose name starts with `_` or `.`; so do we."""
    return name.startswith(("_", "."))


@dataclass(frozen=True)
class FileStat:
    uri: str
    size: int  # bytes
    modified: float  # seconds since the epoch (S3: LastModified)


class Storage(Protocol):
    """What the steps need of a lake; URIs are absolute paths or `s3://` URIs."""

    may_delete: DeleteGuard

    def list_files(self, prefix: str) -> list[str]:
        """The files under `prefix` (hidden ones left out, as Athena leaves them), sorted."""
        ...

    def stat_files(self, prefix: str) -> list[FileStat]:
        """The files of list_files with their size and time of last change."""
        ...

    def open_read(self, uri: str, first: int | None = None) -> BinaryIO:
        """A file's bytes as a stream; `first`: only about that many bytes are fetched."""
        ...

    def delete_prefix(self, prefix: str) -> int:
        """Delete every file under an owned prefix; how many there were."""
        ...

    def move(self, src: str, dst: str) -> None:
        """Replace `dst` by `src` whole (readers see the old file or the new one)."""
        ...

    def read_text(self, uri: str) -> str | None:
        """A small file's text, None if there is none."""
        ...

    def write_text(self, uri: str, text: str) -> None:
        """Write a small file whole."""
        ...

    def fingerprint(self, prefix: str) -> str:
        """Changes when any file under `prefix` is added, removed or rewritten."""
        ...

    def put_file(self, local_path: Path, uri: str) -> None:
        """Upload (or copy) a local file to `uri`."""
        ...
