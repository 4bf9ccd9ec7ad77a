"""Engines: where the SQL runs, behind one interface (base.py); `open_engine` opens the one
the settings name, from the declarations in kinds.py."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from elt_cli.engines.kinds import ENGINES

if TYPE_CHECKING:
    from elt_cli.config import Settings
    from elt_cli.engines.base import Engine


def open_engine(settings: Settings, skip_bad_rows: bool = False) -> Engine:
    module, _, name = ENGINES[settings.engine].implementation.partition(":")
    engine_class = getattr(importlib.import_module(module), name)
    return engine_class.open(settings, skip_bad_rows)
