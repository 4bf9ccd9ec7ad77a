"""One plain line per event, for cron mail, Airflow task logs and pipes."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import TextIO

from elt_cli.report.record import (
    LOCAL_SQL_HEAD,
    QueryRecord,
    Reporter,
    _query_text,
    now_iso,
)
from elt_cli.statements import FINAL, QueryResult, QueryState, Statement


@dataclass
class PlainReporter(Reporter):
    """One line per event, `<ISO 8601 time with offset> <step>: <what>`, no colours or
    carriage returns, nothing per status check; the closing line at the end."""

    stream: TextIO = field(default_factory=lambda: sys.stderr)
    plan_stream: TextIO = field(default_factory=lambda: sys.stdout)
    show_plan: bool = True

    def _line(self, text: str) -> None:
        print(f"{now_iso()} {text}", file=self.stream, flush=True)

    def step_started(self, step: str, detail: str = "") -> None:
        super().step_started(step, detail)
        verb = "planning" if self.dry_run else "started"
        self._line(f"{step}: {verb}{' ' + detail if detail else ''}")

    def step_finished(self, step: str, outcome: str = "") -> None:
        super().step_finished(step, outcome)
        seconds = next(s.seconds for s in reversed(self.steps) if s.step == step)
        verb = "planned" if self.dry_run else f"done in {seconds:.1f}s"
        self._line(f"{step}: {verb}{' - ' + outcome if outcome else ''}")

    def step_skipped(self, step: str, reason: str, detail: str = "") -> None:
        super().step_skipped(step, reason, detail)
        self._line(f"{step}: {'would skip' if self.dry_run else 'skipped'}, {reason}")

    def skipped(self, subject: str, reason: str) -> None:
        super().skipped(subject, reason)
        verb = "would skip" if self.dry_run else "skipped"
        self._line(f"{self.current_step}: {subject} {verb}, {reason}")

    def query_started(
        self,
        statement: Statement,
        query_id: str | None = None,
        waiting: QueryRecord | None = None,
    ) -> QueryRecord:
        record = super().query_started(statement, query_id, waiting)
        if query_id:  # on Athena a query has a life worth logging; locally it is just done
            self._line(f"{record.step}: {_query_text(record)}")
        return record

    def query_state(self, query_id: str, state: str) -> bool:
        changed = super().query_state(query_id, state)
        record = next((q for q in self.queries if q.query_id == query_id), None)
        if changed and record and state not in FINAL:
            self._line(f"{record.step}: {_query_text(record)}")
        return changed

    def query_finished(self, record: QueryRecord, result: QueryResult, reason: str = "") -> None:
        super().query_finished(record, result, reason)
        if result.state != QueryState.PLANNED:
            self._line(f"{record.step}: {_query_text(record)}")

    def output(
        self, uri: str, rows: int | None = None, subject: str = "", seconds: float | None = None
    ) -> None:
        super().output(uri, rows, subject, seconds)
        verb = "would write" if self.dry_run else "wrote"
        count = "" if rows is None else f" ({rows:,} row{'s' if rows != 1 else ''})"
        self._line(f"{self.current_step}: {verb} {uri}{count}")

    def moved(self, src: str, dst: str, subject: str = "") -> None:
        super().moved(src, dst, subject)
        verb = "would move" if self.dry_run else "moved"
        self._line(f"{self.current_step}: {verb} {src} to {dst}")

    def checked(self, findings) -> None:
        super().checked(findings)
        passed = [f for f in findings if f.passed]
        if passed and len(passed) == len(findings):
            self._line(f"{self.current_step}: {passed[0].subject} passed its {len(passed)} checks")

    def note(self, message: str) -> None:
        super().note(message)
        self._line(message)

    def planned(self, kind: str, text: str) -> None:
        super().planned(kind, text)
        if self.show_plan:
            head = {"sql": f"-- {self.current_step}", "duckdb": LOCAL_SQL_HEAD}.get(kind)
            print(
                f"{head}\n{text};\n" if head else f"-- would {text}\n",
                file=self.plan_stream,
                flush=True,
            )

    def finish(self, error: str | None = None, interrupted: bool = False) -> None:
        super().finish(error, interrupted)
        if self.steps:
            self._line(self.closing_line(error))
