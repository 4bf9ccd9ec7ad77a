"""Engines: where the SQL runs. `open_engine` picks one from the settings."""

from __future__ import annotations

from pathlib import Path

from elt_cli.config import Settings
from elt_cli.engines.base import Engine
from elt_cli.errors import BadInput


def open_engine(settings: Settings, skip_bad_rows: bool = False) -> Engine:
    if settings.engine == "local":
        from elt_cli.engines.local import LocalEngine

        return LocalEngine(Path(settings.lake), skip_bad_rows)
    if skip_bad_rows:
        raise BadInput(
            "--skip-bad-rows works on the local engine; on Athena, fix the file named "
            "in the HIVE_BAD_DATA error, or set 'use.null.for.invalid.data' in your "
            "own create_ratings_table.sql"
        )
    from elt_cli.engines.athena import AthenaEngine

    return AthenaEngine(settings)
