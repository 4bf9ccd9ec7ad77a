"""Progress as events. Core code calls a Reporter; the CLI picks which one."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from elt_cli.engines.base import QueryResult

PRICE_PER_TB = 5.0  # USD per TB scanned, Athena's list price in most regions
MIN_BILLED_BYTES = 10 * 1000**2  # each query is billed at least 10 MB


def estimated_cost(result: QueryResult) -> float:
    """Athena's bill for one query: DDL is free, others pay per byte scanned, 10 MB minimum."""
    if not result.query_id or result.statement_type == "DDL" or result.state != "SUCCEEDED":
        return 0.0
    return max(result.bytes_scanned, MIN_BILLED_BYTES) * PRICE_PER_TB / 1000**4


def human_bytes(count: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1000:
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000
    return f"{count:.1f} TB"


class Reporter:
    """Receives events and shows nothing (also the base of the others)."""

    def step_started(self, step: str, detail: str = "") -> None: ...

    def step_finished(self, step: str, detail: str = "") -> None: ...

    def query_finished(self, step: str, result: QueryResult) -> None: ...

    def note(self, message: str) -> None: ...

    def finish(self) -> None:
        """The run is over (whatever its outcome)."""


class PlainReporter(Reporter):
    """One timestamped line per event: for cron mail, Airflow task logs and pipes."""

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream or sys.stderr
        self.started: dict[str, float] = {}
        self.queries: list[QueryResult] = []

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
        self.queries.append(result)
        text = f"{step}: {result.label} {result.state} in {result.seconds:.1f}s"
        if result.query_id:
            text += (
                f", query {result.query_id}, {human_bytes(result.bytes_scanned)} scanned, "
                f"est. ${estimated_cost(result):.6f}"
            )
        self._line(text)

    def finish(self) -> None:
        athena = [r for r in self.queries if r.query_id]
        if athena:
            scanned = sum(r.bytes_scanned for r in athena)
            cost = sum(estimated_cost(r) for r in athena)
            self._line(
                f"total: {len(athena)} Athena queries, {human_bytes(scanned)} scanned, "
                f"est. ${cost:.6f}"
            )

    def note(self, message: str) -> None:
        self._line(message)
