"""Files in the lake: a local folder or S3, behind one protocol (base.py). Deleting is allowed
only where the storage's guard says elt owns the files (layout.Layout.is_owned, and table data
an Athena workgroup placed for elt); `open_storage` makes the one the settings' lake needs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from elt_cli.storage.base import DeleteGuard, FileStat, Storage, is_hidden

if TYPE_CHECKING:
    from elt_cli.config import Settings

__all__ = ["DeleteGuard", "FileStat", "Storage", "is_hidden", "open_storage"]


def open_storage(settings: Settings, may_delete: DeleteGuard) -> Storage:
    """The storage for the settings' lake; it deletes only what `may_delete` allows."""
    if settings.lake.startswith("s3://"):
        from elt_cli.storage.s3 import S3Storage

        return S3Storage(may_delete, settings)
    from elt_cli.storage.local import LocalStorage

    return LocalStorage(may_delete)
