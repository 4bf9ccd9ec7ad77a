"""What elt worked out from a job's SQL text before, kept between commands: parsing and
rewriting SQL with sqlglot is most of a command's fixed cost, and a job's files rarely change.

An entry is found only for the same inputs (all of them are in its key) and the same code: elt's
own source files (by size and modification time, so an edited checkout never reads an entry of
its old code), sqlglot and DuckDB. So an entry is never stale. It is kept in the user's cache
folder (`$ELT_CACHE_DIR`, else `$XDG_CACHE_HOME/elt`, else `~/.cache/elt`), not in the lake:
nothing in it depends on a lake, and the job is read before the lake is known. A cache folder
that cannot be written only means nothing is kept.
"""

from __future__ import annotations

import atexit
import json
import os
from collections.abc import Callable
from contextlib import suppress
from functools import cache
from pathlib import Path
from typing import Any

from elt_cli.journal import digest

FILE = "memo.json"
MAX_ENTRIES = 2000  # the newest; an entry is a few KB at most

_entries: dict[str, Any] | None = None
_changed = False


def folder() -> Path:
    if os.environ.get("ELT_CACHE_DIR"):
        return Path(os.environ["ELT_CACHE_DIR"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "elt"


@cache
def code_version() -> str:
    """elt's code as it is on disk, and the libraries its answers depend on as installed (an
    upgrade rewrites their files), found without importing them."""
    from importlib.util import find_spec

    files = sorted(Path(__file__).parent.rglob("*.py"))
    for library in ("sqlglot", "duckdb"):
        spec = find_spec(library)
        files += [Path(spec.origin)] if spec and spec.origin else []
    return digest(*(f"{p} {s.st_size} {s.st_mtime_ns}" for p in files for s in [p.stat()]))


def remembered(kind: str, parts: tuple[str, ...], compute: Callable[[], Any]) -> Any:
    """compute(), or what it returned before for the same kind, parts and code. Its value must
    be JSON (tuples come back as lists). An exception is not remembered."""
    global _changed
    entries = _load()
    key = digest(code_version(), kind, *parts)
    if key in entries:
        return entries[key]
    value = compute()
    entries[key] = value
    if not _changed:
        _changed = True
        atexit.register(_save)
    return value


def _load() -> dict[str, Any]:
    global _entries
    if _entries is None:
        try:
            loaded = json.loads((folder() / FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            loaded = {}
        _entries = loaded if isinstance(loaded, dict) else {}
    return _entries


def _save() -> None:
    """Atomically, the newest entries; another command's entries written meanwhile are lost,
    which costs it one more parse, never a wrong answer."""
    global _changed
    if not _changed or _entries is None:
        return
    _changed = False
    kept = dict(list(_entries.items())[-MAX_ENTRIES:])
    path = folder() / FILE
    tmp = path.with_name(f".{FILE}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(kept), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:  # a cache folder elt may not write: nothing is kept
        with suppress(OSError):
            tmp.unlink(missing_ok=True)


def validation_digest(spec, settings, skip_bad_rows: bool) -> str:
    """What decides whether a job passes its checks before it runs: every TOML and SQL file of
    the job folder, the settings that reach its SQL, the engine, and the versions of elt and of
    the libraries that parse and translate the SQL (memo.code_version: elt's code on disk)."""
    files = sorted(p for p in spec.folder.rglob("*") if p.suffix in (".toml", ".sql"))
    return digest(
        code_version(),
        settings.engine,
        settings.database,
        settings.source_prefix,
        str(skip_bad_rows),
        *(
            f"{p.relative_to(spec.folder)}\n{p.read_text(encoding='utf-8', errors='replace')}"
            for p in files
        ),
    )
