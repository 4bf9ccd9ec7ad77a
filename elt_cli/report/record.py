"""The record of a command: its steps, queries, files and notes, and what they sum to (the
summary's lines, the totals, the `--json` document). Core code reports events to a Reporter;
this base one records them and shows nothing. The displays (plain.py, live.py) show them."""

from __future__ import annotations

import dataclasses
import re
import time
from dataclasses import dataclass, field
from datetime import datetime

from elt_cli.statements import FAILURES, Finding, QueryResult, QueryState, Statement, StepStatus

# How a query's or step's state reads in the summary.
STATUS = {QueryState.SUCCEEDED: "OK"}  # else the state's own name
# The --json document's shape: raised when a key is renamed or removed, or changes meaning.
SCHEMA_VERSION = 1
LOCAL_SQL_HEAD = "-- the same, as the local engine runs it (DuckDB):"


def human_bytes(count: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1000:
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000
    return f"{count:.1f} TB"


def now_iso() -> str:
    """The local time with its offset, e.g. 2026-11-26T01:02:03+01:00 (ISO 8601)."""
    return datetime.now().astimezone().isoformat(timespec="seconds")


@dataclass
class StepRecord:
    step: str
    detail: str
    started: float
    seconds: float | None = None
    outcome: str = ""
    status: StepStatus = StepStatus.RUNNING


@dataclass
class QueryRecord:
    step: str
    template: str
    subject: str
    query_id: str | None
    started: float
    state: QueryState = QueryState.RUNNING
    result: QueryResult | None = None
    reason: str = ""  # why a skipped unit of work was skipped, or why a query failed
    attempt: int = 1  # 2 and more: Athena said the attempt before may succeed if resubmitted
    retried: bool = False  # this attempt failed and the next one was sent
    refused: bool = False  # FAILED without being sent: the engine would not start it

    @property
    def sent(self) -> bool:
        unsent = (QueryState.WAITING, QueryState.SKIPPED, QueryState.PLANNED)
        return self.state not in unsent and not self.refused

    @property
    def failed(self) -> bool:
        """Failed for good, once sent: a failed attempt that was resubmitted is not a
        failure, nor one stopped by Ctrl-C or SIGTERM."""
        failed = self.state in FAILURES - {QueryState.INTERRUPTED}
        return failed and self.sent and not self.retried


@dataclass
class Output:
    step: str
    subject: str
    uri: str
    rows: int | None = None
    seconds: float | None = None  # writing it, where no query did (sample-data)


@dataclass(frozen=True)
class Line:
    """One line of the summary: a unit of work (a query, or a step's work for one subject)."""

    step: str
    subject: str
    status: str
    seconds: float | None
    rows: int | None
    details: str


@dataclass
class Reporter:
    """Records every event; shows nothing."""

    dry_run: bool = False
    root: str = ""  # the lake: paths are shown relative to it
    steps: list[StepRecord] = field(default_factory=list)
    queries: list[QueryRecord] = field(default_factory=list)
    skips: list[QueryRecord] = field(default_factory=list)  # units of work not needed
    outputs: list[Output] = field(default_factory=list)
    plan: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    findings: list[tuple[str, Finding]] = field(default_factory=list)  # (step, finding)
    predicted_bytes: int | None = None  # Athena: what the command was predicted to scan
    result: object = None  # what the command gives, for --json
    started: float = field(default_factory=time.monotonic)
    interrupted: bool = False  # the command was stopped by Ctrl-C or SIGTERM
    # the command lists what is in the data (api.Elt._job): its answer is a table of its own,
    # with no table of steps beside it
    listing: bool = False

    @property
    def current_step(self) -> str:
        running = [s for s in self.steps if s.seconds is None and s.status == StepStatus.RUNNING]
        return running[-1].step if running else ""

    def step_started(self, step: str, detail: str = "") -> None:
        self.steps.append(StepRecord(step, detail, time.monotonic()))

    def step_finished(self, step: str, outcome: str = "") -> None:
        for record in reversed(self.steps):
            if record.step == step and record.seconds is None:
                record.seconds = time.monotonic() - record.started
                record.outcome = outcome
                record.status = StepStatus.PLANNED if self.dry_run else StepStatus.SUCCEEDED
                break

    def step_skipped(self, step: str, reason: str, detail: str = "") -> None:
        self.steps.append(
            StepRecord(step, detail, time.monotonic(), 0.0, reason, StepStatus.SKIPPED)
        )

    def skipped(self, subject: str, reason: str) -> None:
        """One unit of the current step (a model for one genre, say) is not needed."""
        record = QueryRecord(
            self.current_step, "", subject, None, time.monotonic(), QueryState.SKIPPED
        )
        record.reason = reason
        self.skips.append(record)

    def query_waiting(self, statement: Statement, attempt: int = 1) -> QueryRecord:
        """A query that waits in elt for a free slot (--max-concurrent) before it is sent."""
        record = QueryRecord(
            self.current_step,
            statement.template,
            statement.subject,
            None,
            time.monotonic(),
            state=QueryState.WAITING,
            attempt=attempt,
        )
        self.queries.append(record)
        return record

    def query_started(
        self,
        statement: Statement,
        query_id: str | None = None,
        waiting: QueryRecord | None = None,
    ) -> QueryRecord:
        """A query sent (its waiting record, if it waited); Athena's first state is QUEUED."""
        state = QueryState.QUEUED if query_id else QueryState.RUNNING
        if waiting is not None:
            waiting.query_id, waiting.state, waiting.started = query_id, state, time.monotonic()
            return waiting
        record = QueryRecord(
            self.current_step,
            statement.template,
            statement.subject,
            query_id,
            time.monotonic(),
            state=state,
        )
        self.queries.append(record)
        return record

    def query_retried(self, record: QueryRecord, reason: str, attempts: int) -> None:
        """The attempt failed and Athena says it may succeed if resubmitted: it is, as
        attempt record.attempt + 1 of `attempts`."""
        record.retried, record.reason = True, reason
        subject = f" [{_subject(record)}]" if _subject(record) else ""
        self.note(
            f"{record.template}{subject}: query {record.query_id} FAILED with an error Athena "
            f"calls retryable ({reason}); resubmitted, attempt {record.attempt + 1} of {attempts}"
        )

    def query_refused(self, record: QueryRecord) -> None:
        """The query was not started: the engine refused it (the command's error says why)."""
        record.state, record.reason, record.refused = QueryState.FAILED, "not started", True

    def query_state(self, query_id: str, state: str) -> bool:
        """A status check saw `state`; True when it changed."""
        for record in self.queries:
            if record.query_id == query_id and record.state != state:
                record.state = QueryState(state)
                return True
        return False

    def query_finished(self, record: QueryRecord, result: QueryResult, reason: str = "") -> None:
        record.state, record.result = result.state, result
        record.reason = reason or record.reason

    def output(
        self, uri: str, rows: int | None = None, subject: str = "", seconds: float | None = None
    ) -> None:
        """A file written (or, in a dry run, that would be)."""
        self.outputs.append(Output(self.current_step, subject, uri, rows, seconds))

    def moved(self, src: str, dst: str, subject: str = "") -> None:
        """The file at `src` now lives at `dst` (it was written earlier in this command, or
        before it)."""
        rows = next((o.rows for o in self.outputs if o.uri == src), None)
        self.outputs = [o for o in self.outputs if o.uri != src]
        self.outputs.append(Output(self.current_step, subject, dst, rows))

    def checked(self, findings: list[Finding]) -> None:
        """The checks of one new version ran (audit.py); a failed one is told with its rows."""
        self.findings += [(self.current_step, f) for f in findings]
        for f in findings:
            if not f.passed:
                shown = " | ".join(_row_text(r) for r in f.rows)
                self.note(
                    f"{self.current_step}: {f.subject} failed check {f.check}"
                    + (f" ({f.detail})" if f.detail else "")
                    + (f": {shown}" if shown else "")
                )

    def retry(self, what: str, attempt: int, wait: float) -> None:
        self.note(f"{what}: throttled, retry {attempt} in {wait:.1f}s")

    def note(self, message: str) -> None:
        self.notes.append(message)

    def planned(self, kind: str, text: str) -> None:
        """--dry-run: a statement (kind "sql"), the DuckDB SQL the local engine runs for it
        ("duckdb", with --debug) or a storage action it would run."""
        self.plan.append({"step": self.current_step, "kind": kind, "text": text})

    def finish(self, error: str | None = None, interrupted: bool = False) -> None:
        """The command is over, whatever its outcome; `interrupted`: by Ctrl-C or SIGTERM."""
        self.interrupted = interrupted
        now = time.monotonic()
        for record in [q for q in self.queries if q.state == QueryState.WAITING]:
            self.queries.remove(record)  # never sent: the run stopped first
            record.state, record.reason = QueryState.SKIPPED, "not started: the run stopped first"
            self.skips.append(record)
        for record in [q for q in self.queries if q.result is None] if interrupted else []:
            # still in flight: the engine stopped it on the way out (a signal may also land
            # between a query's start and its result being recorded)
            stopped = QueryResult(record.template, record.subject, QueryState.INTERRUPTED)
            self.query_finished(record, dataclasses.replace(stopped, seconds=now - record.started))
        for step in self.steps:
            if step.status == StepStatus.RUNNING:
                step.status = StepStatus.INTERRUPTED if interrupted else StepStatus.FAILED
                step.seconds = now - step.started

    # -- summaries --------------------------------------------------------------------------------

    def relative(self, uri: str) -> str:
        root = self.root.rstrip("/") + "/"
        return uri[len(root) :] if self.root and uri.startswith(root) else uri

    @property
    def athena(self) -> bool:
        return any(q.query_id for q in self.queries)

    def lines(self) -> list[Line]:
        """The summary: per step, one line per query on Athena (ids and cost matter there),
        else one per subject (a genre, a table); a file's line names where it is now."""
        out: list[Line] = []
        for step in self.steps:
            if step.status == StepStatus.SKIPPED:
                out.append(Line(step.step, step.detail, "SKIPPED", None, None, step.outcome))
                continue
            queries = [q for q in self.queries if q.step == step.step]
            skips = [q for q in self.skips if q.step == step.step]
            files = [o for o in self.outputs if o.step == step.step]
            units = sorted(queries + skips, key=lambda q: q.started)
            if self.athena:
                out += [self._query_line(step, q) for q in units]
            else:
                # a query for no subject in particular (list_genres) has a line of its own
                subjects = list(dict.fromkeys(q.subject or q.template for q in units))
                for subject in subjects:
                    group = [q for q in units if (q.subject or q.template) == subject]
                    output = next((o for o in files if o.subject == subject), None)
                    files = [o for o in files if o is not output]
                    out.append(self._group_line(step.step, step.detail, subject, group, output))
            for o in files:
                done = "PLANNED" if self.dry_run else "OK"
                out.append(Line(step.step, o.subject, done, o.seconds, o.rows, ""))
            if not queries and not skips and not [o for o in self.outputs if o.step == step.step]:
                status = "OK" if step.status == StepStatus.SUCCEEDED else step.status.upper()
                seconds = None if self.dry_run else step.seconds
                out.append(Line(step.step, step.detail, status, seconds, None, step.outcome))
            elif step.outcome and out and out[-1].step == step.step and not out[-1].details:
                out[-1] = dataclasses.replace(out[-1], details=step.outcome)
            mine = [i for i, line in enumerate(out) if line.step == step.step]
            if (
                step.status in (StepStatus.FAILED, StepStatus.INTERRUPTED)
                and mine
                and all(out[i].status in ("OK", "SKIPPED") for i in mine)
            ):
                # its queries went well, and then the step failed (a value not in the data)
                # or was stopped: its last line says so, never OK
                out[mine[-1]] = dataclasses.replace(out[mine[-1]], status=step.status.upper())
            out += self._check_lines(step.step)
        return out

    def _check_lines(self, step: str) -> list[Line]:
        """A line per checked version: `checks  Sci-Fi  OK  5 passed`, or FAILED with what."""
        found = [f for s, f in self.findings if s == step]
        lines = []
        for subject in dict.fromkeys(f.subject for f in found):
            mine = [f for f in found if f.subject == subject]
            failed = [f for f in mine if not f.passed]
            details = (
                ", ".join(f"{f.check} ({f.detail})" if f.detail else f.check for f in failed)
                if failed
                else f"{len(mine)} passed"
            )
            lines.append(Line("checks", subject, "FAILED" if failed else "OK", None, None, details))
        return lines

    def _query_line(self, step: StepRecord, q: QueryRecord) -> Line:
        if q.state == QueryState.SKIPPED or q.refused:
            return Line(step.step, q.subject, STATUS.get(q.state, q.state), None, None, q.reason)
        r = q.result
        details = ""
        if q.query_id:
            details = f"{_label(q)} {q.query_id[:8]}"  # the whole id is in the log and --json
            if r:
                details += f" {human_bytes(r.bytes_scanned)} ${r.cost_usd:.4f}"
            if r and r.queued_seconds >= 1:
                details += f" queued {r.queued_seconds:.0f}s"
            if q.attempt > 1:
                details += f" attempt {q.attempt}"
        rows = r.row_count if r else None
        return Line(
            step.step,
            q.subject,  # none: the step's as a whole (list_genres)
            "RETRIED" if q.retried else STATUS.get(q.state, q.state),
            r.seconds if r else None,
            rows,
            details,
        )

    def _group_line(
        self, step: str, detail: str, subject: str, group: list[QueryRecord], output
    ) -> Line:
        states = [q.state for q in group]
        state = next(
            (s for s in (*sorted(FAILURES), QueryState.RUNNING) if s in states),
            states[-1],
        )
        seconds = sum(q.result.seconds for q in group if q.result)
        rows = next(
            (q.result.row_count for q in group if q.result and q.result.row_count is not None), None
        )
        if output is not None:
            rows = output.rows if output.rows is not None else rows
        if states == [QueryState.SKIPPED]:
            return Line(step, subject, "SKIPPED", None, None, group[0].reason)
        refused = next((q for q in group if q.refused), None)
        if refused:
            return Line(step, subject or detail, "FAILED", None, None, refused.reason)
        if state == QueryState.PLANNED:
            return Line(step, subject or detail, "PLANNED", None, rows, "")
        return Line(step, subject or detail, STATUS.get(state, state), seconds, rows, "")

    def totals(self) -> dict:
        results = [q.result for q in self.queries if q.result]
        return {
            "queries": sum(q.sent for q in self.queries),
            "failed": sum(q.failed for q in self.queries),
            "retried": sum(q.retried for q in self.queries),
            "seconds": round(time.monotonic() - self.started, 3),
            "files": len(self.outputs),
            "rows": sum(o.rows or 0 for o in self.outputs),  # each file's: in outputs
            "bytes_scanned": sum(r.bytes_scanned for r in results),
            "predicted_bytes": self.predicted_bytes,
            "cost_usd": round(sum(r.cost_usd for r in results), 6),
        }

    def closing_line(self, error: str | None) -> str:
        """`Done in 1.7 s: 2 files written (980 + 3,756 rows), 9 queries, 0 failed`."""
        t = self.totals()
        parts = []
        if t["files"]:
            verb = "would be written" if self.dry_run else "written"
            counted = [o.rows for o in self.outputs if o.rows is not None]
            noun = "row" if counted == [1] else "rows"
            rows = f" ({' + '.join(f'{r:,}' for r in counted)} {noun})" if counted else ""
            parts.append(f"{t['files']} file{'s' if t['files'] != 1 else ''} {verb}{rows}")
        if self.dry_run:
            planned = [p for p in self.plan if p["kind"] != "duckdb"]
            parts.append(f"{len(planned)} planned statements and actions; nothing was changed")
        else:
            retried = f" ({t['retried']} resubmitted)" if t["retried"] else ""
            stopped = sum(q.state == QueryState.INTERRUPTED for q in self.queries)
            parts.append(
                f"{t['queries']} quer{'ies' if t['queries'] != 1 else 'y'}{retried}, "
                f"{t['failed']} failed" + (f", {stopped} interrupted" if stopped else "")
            )
            checked = [f for _, f in self.findings]
            if checked:
                bad = sum(not f.passed for f in checked)
                parts.append(
                    f"{len(checked)} checks, {bad} failed"
                    if bad
                    else f"{len(checked)} checks passed"
                )
        if self.athena:
            predicted = (
                f" (predicted {human_bytes(t['predicted_bytes'])})"
                if t["predicted_bytes"] is not None
                else ""
            )
            parts.append(
                f"{human_bytes(t['bytes_scanned'])} scanned{predicted}, est. ${t['cost_usd']:.4f}"
            )
        head = (
            "Dry run"
            if self.dry_run
            else "Interrupted after"
            if self.interrupted
            else "Failed after"
            if error
            else "Done in"
        )
        if not self.dry_run:
            head += f" {t['seconds']:.1f} s"
        return f"{head}: {', '.join(parts)}"

    def document(self, command: str, exit_code: int, error: str | None) -> dict:
        """The --json summary of the command."""
        return {
            "schema_version": SCHEMA_VERSION,
            "command": command,
            "status": (
                "succeeded" if exit_code == 0 else "interrupted" if self.interrupted else "failed"
            ),
            "exit_code": exit_code,
            "error": error,
            "dry_run": self.dry_run,
            "result": self.result,
            "steps": [
                {
                    "step": s.step,
                    "detail": s.detail,
                    "status": s.status,
                    "seconds": None if s.seconds is None else round(s.seconds, 3),
                    "outcome": s.outcome,
                }
                for s in self.steps
            ],
            "queries": [
                {
                    "step": q.step,
                    "template": q.template,
                    "subject": q.subject,
                    "query_id": q.query_id,
                    "state": q.state,
                    "attempt": q.attempt,
                    "retried": q.retried,
                    "reason": q.reason,
                    "seconds": round(q.result.seconds, 3) if q.result else None,
                    "queued_seconds": round(q.result.queued_seconds, 3) if q.result else None,
                    "rows": q.result.row_count if q.result else None,
                    "bytes_scanned": q.result.bytes_scanned if q.result else 0,
                    "cost_usd": round(q.result.cost_usd, 6) if q.result else 0.0,
                }
                for q in self.queries
            ],
            "skipped": [
                {"step": q.step, "subject": q.subject, "reason": q.reason} for q in self.skips
            ],
            "outputs": [
                {"step": o.step, "subject": o.subject, "uri": o.uri, "rows": o.rows}
                for o in self.outputs
            ],
            "checks": [
                {
                    "subject": f.subject,
                    "table": f.table,
                    "check": f.check,
                    "passed": f.passed,
                    "detail": f.detail,
                    "columns": list(f.columns),
                    "rows": [list(r) for r in f.rows],
                }
                for _, f in self.findings
            ],
            "plan": self.plan,
            "notes": self.notes,
            "total": self.totals(),
        }


def _row_text(row: tuple) -> str:
    """A failing row as a CSV line (NULL spelled out)."""
    import csv
    import io

    line = io.StringIO()
    csv.writer(line, lineterminator="").writerow("NULL" if v is None else v for v in row)
    return line.getvalue()


def _subject(record: QueryRecord) -> str:
    """What a query is for, where its template does not say it already."""
    return "" if record.subject == record.template else record.subject


def _label(record: QueryRecord) -> str:
    """What a query did, beside what it was for (its subject): `drop` and `create` for elt's
    own DDL (`create_movies_table`), else its template (the model a CTAS builds, `audit`)."""
    own = re.fullmatch(r"(create)_(?:database|\w+_table)|(drop)_(?:table|old)", record.template)
    return (own.group(1) or own.group(2)) if own else record.template


def _query_text(record: QueryRecord) -> str:
    result = record.result
    subject = f" [{_subject(record)}]" if _subject(record) else ""
    text = f"{record.template}{subject} {record.state}"
    if result:
        text += f" in {result.seconds:.1f}s"
        if result.row_count is not None:
            text += f", {result.row_count:,} rows"
        if result.query_id:
            text += (
                f", query {result.query_id}, {human_bytes(result.bytes_scanned)} scanned, "
                f"est. ${result.cost_usd:.6f}"
            )
    elif record.query_id:
        text += f", query {record.query_id}"
    return text
