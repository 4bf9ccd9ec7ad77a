"""A module imported on first use, for the libraries most commands never need once the memo
(memo.py) answers: sqlglot takes longer to import than DuckDB does."""

from __future__ import annotations

import importlib
from typing import Any


class LazyModule:
    """`exp = LazyModule("sqlglot.expressions")`: `exp.Table` imports it the first time."""

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        return getattr(importlib.import_module(self._name), attr)
