"""The queries of one batch on Athena, from waiting in elt to a final state.

At most `max_concurrent` of them are in flight: Athena's active-query quota counts queued and
running queries of the whole account, so a run never takes more than its share. A start
refused for that quota (throttled) while others of the batch fly waits for one of them to
end; with none in flight it is retried with backoff for up to `queue_timeout`. A query that
FAILED with an error Athena calls retryable is resubmitted (`retries` times at most), a CTAS
into a fresh version. `timeout` limits the time a query runs, `queue_timeout` the time it
waits in Athena's queue (a busy account queues queries long before they run).

The policy only: the engine gives the calls (start, status, stop) through QueryService.
"""

from __future__ import annotations

import random
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from elt_cli.errors import StepFailed, Throttled
from elt_cli.statements import FINAL, QueryResult, QueryState, Statement

if TYPE_CHECKING:
    from elt_cli.report import Reporter
    from elt_cli.report.record import QueryRecord

# Athena's error catalog (error-reference.html): ErrorCategory 1 is SYSTEM, 2 USER, 3 OTHER;
# ErrorType 0-8 "Query exhausted resources at this scale factor", 206 and 210 "Query timeout".
# Athena may mark those retryable, yet the same query meets the same wall again.
SYSTEM = 1
NOT_RETRIED_TYPES = frozenset(range(0, 9)) | {206, 210}


def retryable(status: dict) -> bool:
    """Athena says the query "might succeed if resubmitted" and the error is the system's,
    neither the user's, nor exhausted resources, nor a timeout."""
    error = status.get("AthenaError") or {}
    return (
        status.get("State") == QueryState.FAILED
        and bool(error.get("Retryable"))
        and error.get("ErrorCategory") == SYSTEM
        and error.get("ErrorType") not in NOT_RETRIED_TYPES
    )


class PollWait:
    """The wait between two status checks: a tenth of the time the youngest query in flight
    has been out, at least 0.25 s, at most `poll_max`. Completion is then noticed within
    max(0.25 s, 10%) of a query's duration, with checks growing only logarithmically with it.
    The jitter only shortens the wait (never past the bound) and keeps concurrent runs from
    polling in step."""

    FLOOR, FRACTION, JITTER = 0.25, 0.1, 0.1

    def __init__(self, poll_max: float, uniform=random.uniform):
        self.poll_max, self.uniform = poll_max, uniform

    def delay(self, elapsed: float) -> float:
        bound = min(self.poll_max, max(self.FLOOR, self.FRACTION * elapsed))
        return bound * self.uniform(1 - self.JITTER, 1.0)


class QueryService(Protocol):
    """What Flight needs of the engine."""

    def send(self, attempt: Attempt, patient: bool) -> str:
        """Start the attempt's statement (or re-attach to a killed run's query for it) and
        fill in its query id and time sent; the query id. Not `patient`: raise Throttled at
        the first throttled answer."""

    def status(self, ids: list[str]) -> list[dict]:
        """GetQueryExecution's QueryExecution of each id."""

    def finished(self, execution: dict) -> QueryResult:
        """The result of a query seen in a final state (reported once)."""


@dataclass(frozen=True)
class Limits:
    max_concurrent: int = 8
    retries: int = 2
    timeout: float = 1800.0  # seconds RUNNING
    queue_timeout: float = 1800.0  # seconds QUEUED in Athena
    poll_max: float = 5.0


@dataclass
class Attempt:
    index: int  # the statement's place in the batch
    statement: Statement  # as sent on this attempt
    number: int
    record: QueryRecord
    query_id: str = ""
    sent: float = 0.0
    running_since: float | None = None

    def queued(self) -> float:
        """Seconds in Athena's queue, as seen by polling (Athena's own figure is better)."""
        return (self.running_since or time.monotonic()) - self.sent


@dataclass
class Flight:
    service: QueryService
    limits: Limits
    reporter: Reporter
    poll: PollWait = field(init=False)

    def __post_init__(self) -> None:
        self.poll = PollWait(self.limits.poll_max)

    def run(self, statements: list[Statement]) -> list[QueryResult]:
        """Every statement to SUCCEEDED, in their order; else the first failure, raised (the
        engine then stops what still flies)."""
        waiting = deque(
            Attempt(i, st, 1, self.reporter.query_waiting(st)) for i, st in enumerate(statements)
        )
        slots = self.limits.max_concurrent
        if len(waiting) > slots:
            self.reporter.note(
                f"{len(waiting) - slots} of {len(waiting)} queries wait in elt: at most {slots} "
                "are in flight at once (--max-concurrent)"
            )
        flying: dict[str, Attempt] = {}
        done: dict[int, QueryResult] = {}
        while len(done) < len(statements):
            slots = self._launch(waiting, flying, slots)
            self._check(waiting, flying, done)
            if len(done) < len(statements):
                youngest = max(a.sent for a in flying.values()) if flying else time.monotonic()
                time.sleep(self.poll.delay(time.monotonic() - youngest))
        return [done[i] for i in range(len(statements))]

    def _launch(self, waiting: deque[Attempt], flying: dict[str, Attempt], slots: int) -> int:
        """Send waiting queries while fewer than `slots` fly; the slots left after a throttled
        start (as many as fly: one more is tried whenever a start succeeds)."""
        while waiting and len(flying) < slots:
            attempt = waiting[0]
            try:
                qid = self.service.send(attempt, patient=not flying)
            except Throttled:
                if flying:
                    return max(1, len(flying))  # the account's quota is full: wait for ours
                self.reporter.query_refused(attempt.record)  # throttled for queue_timeout
                raise
            except StepFailed:  # not started: --max-scan, or a refusal the engine words
                self.reporter.query_refused(attempt.record)
                raise
            waiting.popleft()
            flying[qid] = attempt
            slots = min(self.limits.max_concurrent, slots + 1)
        return slots

    def _check(
        self, waiting: deque[Attempt], flying: dict[str, Attempt], done: dict[int, QueryResult]
    ) -> None:
        for execution in self.service.status(list(flying)):
            qid = execution["QueryExecutionId"]
            status = execution["Status"]
            state = status["State"]
            attempt = flying[qid]
            self.reporter.query_state(qid, state)
            now = time.monotonic()
            if state == QueryState.RUNNING and attempt.running_since is None:
                attempt.running_since = now
            if state in FINAL:
                del flying[qid]
                result = self.service.finished(execution)
                if state == QueryState.SUCCEEDED:
                    done[attempt.index] = result
                elif retryable(status) and attempt.number <= self.limits.retries:
                    attempts = self.limits.retries + 1
                    why = reason(status)
                    self.reporter.query_retried(attempt.record, why, attempts)
                    again = attempt.statement.attempt(attempt.number + 1)
                    waiting.appendleft(
                        Attempt(
                            attempt.index,
                            again,
                            attempt.number + 1,
                            self.reporter.query_waiting(again, attempt.number + 1),
                        )
                    )
                else:
                    raise _failure(result, status)
            elif attempt.running_since is not None:
                if now - attempt.running_since > self.limits.timeout:
                    raise StepFailed(
                        attempt.statement.template,
                        f"timed out after {self.limits.timeout:g}s of running and was stopped "
                        "(--timeout)",
                        qid,
                    )
            elif now - attempt.sent > self.limits.queue_timeout:
                raise StepFailed(
                    attempt.statement.template,
                    f"waited more than {self.limits.queue_timeout:g}s in Athena's queue and was "
                    "stopped: the account's queries fill its capacity (--queue-timeout)",
                    qid,
                )


def reason(status: dict) -> str:
    return (
        status.get("StateChangeReason")
        or status.get("AthenaError", {}).get("ErrorMessage")
        or "no reason given"
    )


def _failure(result: QueryResult, status: dict):
    """A query that did not succeed, as the project's exception of its kind."""
    from elt_cli.errors import AccessDenied, MalformedRows, QueryFailed
    from elt_cli.sql import malformed_file

    why = reason(status)
    said = f"{result.state}: {why}"
    file = malformed_file(why)
    if file is not None:
        return MalformedRows(result.template, said, result.query_id, file)
    if "denied" in why.lower():
        said += "; `elt iam-policy` prints the permissions elt needs"
        return AccessDenied(result.template, said, result.query_id)
    return QueryFailed(result.template, said, result.query_id)
