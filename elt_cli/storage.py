"""Files in the lake: a local folder or S3. Deleting is allowed only under owned prefixes."""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable
from pathlib import Path

from elt_cli.errors import EltError


def is_hidden(name: str) -> bool:
    """Athena (like Hive) skips files whose name starts with `_` or `.`; so do we."""
    return name.startswith(("_", "."))


class LocalStorage:
    """A lake in a local folder; URIs are absolute paths."""

    def __init__(self, may_delete: Callable[[str], bool]):
        self.may_delete = may_delete

    def list_files(self, prefix: str) -> list[str]:
        root = Path(prefix)
        if not root.is_dir():
            return []
        found = []
        for folder, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if not is_hidden(d))
            found += [os.path.join(folder, f) for f in sorted(files) if not is_hidden(f)]
        return found

    def delete_prefix(self, prefix: str) -> int:
        if not self.may_delete(prefix):
            raise EltError(f"refusing to delete {prefix}: not under a prefix elt owns")
        root = Path(prefix)
        if not root.exists():
            return 0
        count = sum(len(files) for _, _, files in os.walk(root))
        shutil.rmtree(root)
        return count

    def move(self, src: str, dst: str) -> None:
        """Atomic on one file system: readers see the old file or the new one, never half."""
        Path(dst).parent.mkdir(parents=True, exist_ok=True)
        os.replace(src, dst)

    def read_text(self, uri: str) -> str | None:
        path = Path(uri)
        return path.read_text(encoding="utf-8") if path.is_file() else None

    def write_text(self, uri: str, text: str) -> None:
        """Atomic: a crash leaves the old content or the new, never a torn file."""
        path = Path(uri)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)

    def fingerprint(self, prefix: str) -> str:
        """Changes when any file under `prefix` is added, removed or rewritten."""
        entries = []
        for name in self.list_files(prefix):
            stat = os.stat(name)
            entries.append(f"{name}\t{stat.st_size}\t{stat.st_mtime_ns}")
        return hashlib.sha256("\n".join(entries).encode()).hexdigest()


def open_storage(settings):
    """The storage for the settings' lake; deletes are limited to what its layout owns."""
    if settings.lake.startswith("s3://"):
        from elt_cli.s3 import S3Storage

        return S3Storage(settings.layout.is_owned, settings)
    return LocalStorage(settings.layout.is_owned)
