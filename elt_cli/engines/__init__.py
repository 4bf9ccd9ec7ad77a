"""Engines: where the SQL runs. `open_engine` picks one from the settings."""

from __future__ import annotations

from pathlib import Path

from elt_cli.config import Settings
from elt_cli.engines.base import Engine


def open_engine(settings: Settings, skip_bad_rows: bool = False) -> Engine:
    if settings.engine == "local":
        from elt_cli.engines.local import LocalEngine

        return LocalEngine(Path(settings.lake), skip_bad_rows)
    from elt_cli.engines.athena import AthenaEngine

    return AthenaEngine(settings)
