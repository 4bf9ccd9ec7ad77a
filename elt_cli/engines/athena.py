"""Amazon Athena through boto3: start, poll with backoff, stop on timeout or interrupt.

Statements are sent exactly as rendered. Independent statements are all started first and then
polled together in one loop, so they run concurrently on Athena
without client threads. Every query still running when the engine closes — normally none; after
Ctrl-C, SIGTERM or a failure, the rest — is stopped, so nothing is left running and costing money.
"""

from __future__ import annotations

import dataclasses
import random
import time
import uuid

from elt_cli import aws
from elt_cli.engines.base import Engine, QueryResult, Statement
from elt_cli.errors import EltError, StepFailed
from elt_cli.s3 import S3Storage

FINAL_STATES = frozenset({"SUCCEEDED", "FAILED", "CANCELLED"})
STOP_CONFIRM_SECONDS = 10.0


def poll_delay(elapsed: float, poll_max: float) -> float:
    """Wait before the next status check: a tenth of the time the query has run so far, at
    least 0.25 s, at most poll_max. Completion is then noticed within max(0.25 s, 10%) of the
    query's duration, with checks growing only logarithmically with it. The jitter only
    shortens the wait (never past the bound) and keeps concurrent runs from polling in step."""
    return min(poll_max, max(0.25, 0.1 * elapsed)) * random.uniform(0.9, 1.0)


class AthenaEngine(Engine):
    name = "athena"

    def __init__(self, settings):
        super().__init__()
        self.settings = settings
        session = aws.session(settings)
        self.athena = aws.client(session, "athena")
        self.glue = aws.client(session, "glue")
        self.storage = S3Storage(lambda _: False, settings, client=aws.client(session, "s3"))
        self.running: dict = {}  # query id -> its QueryRecord, until a final state is seen

    def _call(self, method: str, what: str, **kwargs):
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return aws.call(getattr(self.athena, method), on_retry=self._retrying(method), **kwargs)
        except (ClientError, BotoCoreError) as exc:
            raise aws.failure(exc, what) from exc

    def _retrying(self, method: str):
        return lambda attempt, wait: self.reporter.retry(method, attempt, wait)

    # -- Engine --------------------------------------------------------------------------------

    def database_exists(self, database: str) -> bool:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            aws.call(
                self.athena.get_database,
                on_retry=self._retrying("get_database"),
                CatalogName="AwsDataCatalog",
                DatabaseName=database,
            )
            return True
        except ClientError as exc:
            # Only "not found" means missing. Access denied, throttling that outlasted the
            # retries, or a network error are errors: never a reason to create the database.
            message = aws.describe(exc)
            if aws.error_code(exc) == "MetadataException" and "not found" in message.lower():
                return False
            raise StepFailed("ensure-db", f"cannot look up database {database}: {message}") from exc
        except BotoCoreError as exc:
            raise aws.failure(exc, f"cannot look up database {database}") from exc

    def table_exists(self, database: str, table: str) -> bool:
        # Glue answers for tables and views alike; any doubt means "rebuild".
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            aws.call(self.glue.get_table, DatabaseName=database, Name=table)
            return True
        except (ClientError, BotoCoreError):
            return False

    def execute_many(self, statements: list[Statement]) -> list[QueryResult]:
        ids = [self._start(st) for st in statements]
        results = self._wait(ids)
        for qid in ids:
            result, status = results[qid]
            if result.state != "SUCCEEDED":
                self._stop_all()
                reason = (
                    status.get("StateChangeReason")
                    or status.get("AthenaError", {}).get("ErrorMessage")
                    or "no reason given"
                )
                raise StepFailed(result.template, f"{result.state}: {reason}", qid)
        return [results[qid][0] for qid in ids]

    def query(self, statement: Statement) -> QueryResult:
        result = self.execute(statement)
        return dataclasses.replace(result, rows=self._rows(result.query_id))

    def export_csv(self, statement: Statement, dest: str) -> QueryResult:
        # A SELECT's result file is one standard CSV with a header line, whatever the size of
        # the result: copied server-side, it is the export. (A CTAS would write several
        # headerless, gzip-compressed part files.)
        result = self.execute(statement)
        self.storage.copy(result.output_location, dest)
        return result

    def close(self) -> None:
        self._stop_all()

    # -- queries -------------------------------------------------------------------------------

    def _start(self, statement: Statement) -> str:
        qid = self.journal.query_for(statement.sql) if self.journal else None
        if qid and self._reattachable(qid):
            self.reporter.note(
                f"re-attached to query {qid} ({statement.template}) of the killed run"
            )
            self.running[qid] = self.reporter.query_started(statement, qid)
            return qid
        answer = self._call(
            "start_query_execution",
            f"{statement.template}: cannot start the query",
            QueryString=statement.sql,
            # The same token on a retried call makes Athena start the query only once.
            ClientRequestToken=str(uuid.uuid4()),
            WorkGroup=self.settings.workgroup,
            ResultConfiguration={"OutputLocation": self.settings.results},
        )
        qid = answer["QueryExecutionId"]
        self.running[qid] = self.reporter.query_started(statement, qid)
        if self.journal:
            self.journal.started_query(statement.sql, qid)
        return qid

    def _reattachable(self, qid: str) -> bool:
        """A query of a killed run that is still running, or finished well, is not redone."""
        try:
            (execution,) = self._status([qid])
        except EltError:
            return False
        return execution["Status"]["State"] in ("QUEUED", "RUNNING", "SUCCEEDED")

    def _wait(self, ids: list[str]) -> dict[str, tuple[QueryResult, dict]]:
        """Poll until every query is final; stop those past the timeout."""
        start = time.monotonic()
        done: dict[str, tuple[QueryResult, dict]] = {}
        while True:
            pending = [q for q in ids if q not in done]
            for execution in self._status(pending):
                qid = execution["QueryExecutionId"]
                state = execution["Status"]["State"]
                self.reporter.query_state(qid, state)
                # A query may go back from RUNNING to QUEUED; only a final state ends it.
                if state in FINAL_STATES:
                    done[qid] = (self._finished(execution), execution["Status"])
            if len(done) == len(ids):
                return done
            elapsed = time.monotonic() - start
            if elapsed > self.settings.timeout:
                late = next(q for q in ids if q not in done)
                template = self.running[late].template
                self._stop_all()
                raise StepFailed(
                    template, f"timed out after {self.settings.timeout:g}s and was stopped", late
                )
            time.sleep(poll_delay(elapsed, self.settings.poll_max))

    def _status(self, ids: list[str]) -> list[dict]:
        return [
            self._call("get_query_execution", f"cannot check query {qid}", QueryExecutionId=qid)[
                "QueryExecution"
            ]
            for qid in ids
        ]

    def _finished(self, execution: dict) -> QueryResult:
        """The final answer of a query, reported once."""
        record = self.running.pop(execution["QueryExecutionId"])
        stats = execution.get("Statistics", {})
        millis = stats.get(
            "TotalExecutionTimeInMillis", stats.get("EngineExecutionTimeInMillis", 0)
        )
        result = QueryResult(
            record.template,
            record.subject,
            state=execution["Status"]["State"],
            query_id=execution["QueryExecutionId"],
            seconds=millis / 1000 if millis else time.monotonic() - record.started,
            bytes_scanned=stats.get("DataScannedInBytes", 0),
            output_location=execution.get("ResultConfiguration", {}).get("OutputLocation", ""),
            statement_type=execution.get("StatementType", ""),
        )
        self.reporter.query_finished(record, result)
        return result

    def _rows(self, qid: str) -> list[tuple]:
        rows, token = [], None
        while True:
            page = self._call(
                "get_query_results",
                "cannot read query results",
                QueryExecutionId=qid,
                **({"NextToken": token} if token else {}),
            )
            rows += [
                tuple(c.get("VarCharValue") for c in r["Data"]) for r in page["ResultSet"]["Rows"]
            ]
            token = page.get("NextToken")
            if not token:
                return rows[1:]  # the first row of a SELECT's result is its header

    def _stop_all(self) -> None:
        """Stop every query still running and wait briefly until Athena confirms."""
        if not self.running:
            return
        for qid in list(self.running):
            try:
                self._call("stop_query_execution", f"cannot stop query {qid}", QueryExecutionId=qid)
            except EltError:
                pass  # it may have just finished; the status check below tells
        deadline = time.monotonic() + STOP_CONFIRM_SECONDS
        while self.running and time.monotonic() < deadline:
            for execution in self._status(list(self.running)):
                if execution["Status"]["State"] in FINAL_STATES:
                    self._finished(execution)
            if self.running:
                time.sleep(0.2)
