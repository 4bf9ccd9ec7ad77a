"""elt: run SQL ELT jobs on Amazon Athena or an embedded DuckDB engine.

The Python API is `Elt` (api.py); the command line (cli/) is one client of it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"  # the one place: pyproject.toml reads it (tool.hatch.version)

if TYPE_CHECKING:
    from elt_cli.api import Elt, Result


def __getattr__(name: str) -> Any:
    # Imported when asked for, so `elt --help` does not load what only the API needs.
    if name in ("Elt", "Result"):
        from elt_cli import api

        return getattr(api, name)
    raise AttributeError(f"module 'elt_cli' has no attribute {name!r}")


__all__ = ["Elt", "Result", "__version__"]
