"""A lake in a local folder."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path
from typing import BinaryIO

from elt_cli.errors import EltError
from elt_cli.storage.base import DeleteGuard, FileStat, is_hidden


def nothing(uri: str) -> bool:
    """The guard of a storage that deletes nothing."""
    return False


class LocalStorage:
    """A lake in a local folder; URIs are absolute paths."""

    def __init__(self, may_delete: DeleteGuard = nothing):
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

    def stat_files(self, prefix: str) -> list[FileStat]:
        """As list_files, and a file's own path gives that file (as an S3 key prefix does)."""
        names = [prefix] if Path(prefix).is_file() else self.list_files(prefix)
        stats = ((f, os.stat(f)) for f in names)
        return [FileStat(f, s.st_size, s.st_mtime) for f, s in stats]

    def open_read(self, uri: str, first: int | None = None) -> BinaryIO:
        return open(uri, "rb")  # noqa: SIM115  (the caller closes it)

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

    def put_file(self, local_path: Path, uri: str) -> None:
        """Copy a local file in, atomically."""
        path = Path(uri)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        shutil.copyfile(local_path, tmp)
        os.replace(tmp, path)

    def fingerprint(self, prefix: str) -> str:
        """Changes when any file under `prefix` is added, removed or rewritten."""
        entries = []
        for name in self.list_files(prefix):
            stat = os.stat(name)
            entries.append(f"{name}\t{stat.st_size}\t{stat.st_mtime_ns}")
        return hashlib.sha256("\n".join(entries).encode()).hexdigest()
