"""Progress as events. Core code calls a Reporter; the CLI picks which one."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from elt_cli.engines.base import QueryResult


class Reporter:
    """Receives events and shows nothing (also the base of the others)."""

    def step_started(self, step: str, detail: str = "") -> None: ...

    def step_finished(self, step: str, detail: str = "") -> None: ...

    def query_finished(self, step: str, result: QueryResult) -> None: ...

    def note(self, message: str) -> None: ...


class PlainReporter(Reporter):
    """One timestamped line per event: for cron mail, Airflow task logs and pipes."""

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream or sys.stderr
        self.started: dict[str, float] = {}

    def _line(self, text: str) -> None:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        print(f"{stamp} {text}", file=self.stream, flush=True)

    def step_started(self, step: str, detail: str = "") -> None:
        self.started[step] = time.monotonic()
        self._line(f"{step}: started{' ' + detail if detail else ''}")

    def step_finished(self, step: str, detail: str = "") -> None:
        seconds = time.monotonic() - self.started.pop(step, time.monotonic())
        self._line(f"{step}: done in {seconds:.1f}s{' - ' + detail if detail else ''}")

    def query_finished(self, step: str, result: QueryResult) -> None:
        where = f" {result.query_id}" if result.query_id else ""
        self._line(f"{step}: {result.label}{where} {result.state} in {result.seconds:.1f}s")

    def note(self, message: str) -> None:
        self._line(message)
