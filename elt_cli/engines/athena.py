"""Amazon Athena through boto3: start, poll with backoff, stop on timeout or interrupt.

Statements are sent exactly as rendered. Independent statements are all started first and then
polled together in one loop, so they run concurrently on Athena
without client threads. Every query still running when the engine closes — normally none; after
Ctrl-C, SIGTERM or a failure, the rest — is stopped, so nothing is left running and costing money.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import itertools
import json
import math
import re
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from tenacity import Retrying, retry_if_result, stop_after_attempt, stop_after_delay, wait_fixed

from elt_cli import aws
from elt_cli.engines.base import Engine, QueryResult, Statement, TableInfo
from elt_cli.engines.flight import Attempt, Flight, Limits, reason
from elt_cli.errors import BadInput, EltError, StepFailed, Terminated, Throttled
from elt_cli.layout import as_prefix
from elt_cli.statements import FINAL, QueryState
from elt_cli.storage.s3 import S3Storage

# Athena's list price in most regions, and each query is billed at least 10 MB
PRICE_PER_TB = 5.0
MIN_BILLED_BYTES = 10 * 1000**2
STOP_CONFIRM_SECONDS = 10.0


@dataclass(frozen=True)
class Workgroup:
    enforced: bool  # EnforceWorkGroupConfiguration: its settings override ours
    output: str | None  # its query result location, as a prefix
    managed: bool  # Athena keeps the results itself: no result location may be given
    result_file: bool  # results land in a plain S3 file elt can read
    kms_keys: tuple[str, ...] = ()  # keys its results are encrypted with
    cutoff: int | None = None  # BytesScannedCutoffPerQuery: Athena cancels a query past it
    # How its results are written (encryption, ACL, expected owner), which a result location
    # elt sends must carry: a client's ResultConfiguration replaces the workgroup's when the
    # workgroup does not enforce its own, and a bucket policy that demands SSE-KMS would then
    # deny Athena's writes.
    writes: dict = dataclasses.field(default_factory=dict)


def _result_files(execution: dict) -> tuple[str, ...]:
    """The files Athena writes for a query (querying-finding-output-files.html): its result
    (`<id>.csv`, or `<id>.txt` for DDL), the result's metadata (`.metadata` after its name)
    and, for a query that writes data, its data manifest (`<id>-manifest.csv`). A CTAS's
    result location is `<results>/tables/<id>`, its metadata beside its data."""
    output = execution.get("ResultConfiguration", {}).get("OutputLocation", "")
    manifest = execution.get("Statistics", {}).get("DataManifestLocation", "")
    return tuple(f for f in (output, output + ".metadata" if output else "", manifest) if f)


def estimated_cost(result: QueryResult) -> float:
    """Athena's bill for one query, by its pricing page: data scanned, rounded up to the
    megabyte, at least 10 MB. DDL and failed queries are free; a cancelled query (a timeout,
    Ctrl-C) is billed for what it scanned before it stopped."""
    if not result.query_id or result.statement_type == "DDL" or result.state == QueryState.FAILED:
        return 0.0
    if result.state == QueryState.CANCELLED and not result.bytes_scanned:
        return 0.0
    return billed_usd(result.bytes_scanned)


def billed_usd(scanned: int) -> float:
    """What Athena bills for a query that scans this much: rounded up to the MB, 10 MB at
    least, $5 per TB."""
    billed = max(math.ceil(scanned / 1000**2) * 1000**2, MIN_BILLED_BYTES)
    return billed * PRICE_PER_TB / 1000**4


def _table_info(table: dict) -> TableInfo:
    """A Glue table as TableInfo. A view made by Athena keeps its SQL in ViewOriginalText as
    `/* Presto View: <base64 of a JSON document with originalSql> */`."""
    if table.get("TableType") == "VIRTUAL_VIEW":
        view_of = None
        text = table.get("ViewOriginalText", "")
        match = re.fullmatch(r"/\* Presto View: (\S+) \*/", text.strip())
        if match:
            with contextlib.suppress(ValueError):
                sql = json.loads(base64.b64decode(match.group(1)))["originalSql"]
                view_of = _only_table(sql)
        return TableInfo(table["Name"], "view", view_of=view_of)
    location = table.get("StorageDescriptor", {}).get("Location")
    return TableInfo(table["Name"], "table", location=as_prefix(location) if location else None)


def _only_table(sql: str) -> str | None:
    """The one table a `SELECT ... FROM db.t` reads, else None."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    try:
        tables = {t.name for t in sqlglot.parse_one(sql, read="athena").find_all(exp.Table)}
    except SqlglotError:
        return None
    return tables.pop() if len(tables) == 1 else None


def read_workgroup(athena, name: str) -> Workgroup:
    """What the workgroup decides for us, read before anything changes."""
    answer = aws.call(
        athena.get_work_group,
        f"cannot read the settings of Athena workgroup {name}",
        missing=("InvalidRequestException",),
        WorkGroup=name,
    )
    if not (answer or {}).get("WorkGroup"):
        raise BadInput(f"Athena workgroup {name!r} not found: check --workgroup")
    config = answer["WorkGroup"].get("Configuration", {})
    results = config.get("ResultConfiguration", {})
    managed = config.get("ManagedQueryResultsConfiguration", {})
    encryption = results.get("EncryptionConfiguration", {})
    keys = [
        k
        for k in (
            encryption.get("KmsKey"),
            managed.get("EncryptionConfiguration", {}).get("KmsKey"),
        )
        if k
    ]
    return Workgroup(
        enforced=bool(config.get("EnforceWorkGroupConfiguration")),
        output=as_prefix(results["OutputLocation"]) if results.get("OutputLocation") else None,
        managed=bool(managed.get("Enabled")),
        # client-side encrypted or Athena-managed results are no plain file to read
        result_file=not (managed.get("Enabled") or encryption.get("EncryptionOption") == "CSE_KMS"),
        kms_keys=tuple(keys),
        cutoff=config.get("BytesScannedCutoffPerQuery"),
        writes={k: v for k, v in results.items() if k != "OutputLocation"},
    )


class AthenaEngine(Engine):
    name = "athena"

    @classmethod
    def open(cls, settings, skip_bad_rows: bool = False) -> AthenaEngine:
        return cls(settings)  # a guarded query skips bad rows itself (sql.resolve)

    def __init__(self, settings):
        super().__init__()
        self.settings = settings
        session = aws.session(settings)
        self.athena = aws.client(session, "athena")
        self.glue = aws.client(session, "glue")
        self.storage = S3Storage(self._result_file, settings, client=aws.client(session, "s3"))
        self.running: dict[str, Attempt] = {}  # query id -> its attempt, until seen final
        self.tokens: dict[str, str] = {}  # SQL -> ClientRequestToken, until it has started
        self.started: set[str] = set()  # the ids of this run's queries (or re-attached)
        self.leftovers: list[str] = []  # result files of queries that did not succeed
        self.cannot_forget = False  # deleting result files failed once: not tried again
        self.scanned = 0  # bytes the run's queries scanned so far (--max-scan)
        self.limits = Limits(
            max_concurrent=settings.max_concurrent,
            retries=settings.retries,
            timeout=settings.timeout,
            queue_timeout=settings.queue_timeout,
            poll_max=settings.poll_max,
        )
        self.workgroup = read_workgroup(self.athena, settings.workgroup)

    @property
    def places_tables(self) -> bool:
        return not self.workgroup.enforced

    @property
    def scan_cutoff(self) -> tuple[str, int] | None:
        cutoff = self.workgroup.cutoff
        return (f"workgroup {self.settings.workgroup}", cutoff) if cutoff else None

    def owns(self, uri: str) -> bool:
        # Without an external_location Athena writes a CTAS to <results>/tables/<query id>/.
        root = self.workgroup.output
        return bool(
            self.workgroup.enforced
            and root
            and re.fullmatch(re.escape(root) + r"tables/[0-9a-f-]{36}/.*", uri)
        )

    def _call(self, method: str, what: str, **kwargs):
        return aws.call(
            getattr(self.athena, method), what, on_retry=self._retrying(method), **kwargs
        )

    def _retrying(self, method: str):
        return lambda attempt, wait: self.reporter.retry(method, attempt, wait)

    # -- Engine --------------------------------------------------------------------------------

    def database_exists(self, database: str) -> bool:
        # Only "not found" means missing. Access denied, throttling that outlasted the
        # retries, or a network error are errors: never a reason to create the database.
        def not_found(exc) -> bool:
            code, message = aws.error_code(exc), aws.describe(exc).lower()
            return code == "MetadataException" and "not found" in message

        found = self._call(
            "get_database",
            f"cannot look up database {database}",
            missing=not_found,
            CatalogName="AwsDataCatalog",
            DatabaseName=database,
        )
        return found is not None

    def table_info(self, database: str, name: str) -> TableInfo | None:
        answer = aws.call(
            self.glue.get_table,
            f"cannot look up table {database}.{name}",
            missing=("EntityNotFoundException",),
            DatabaseName=database,
            Name=name,
        )
        return None if answer is None else _table_info(answer["Table"])

    def verify_raw_table(self, database: str, table: str, ddl: str) -> None:
        """Glue keeps what Athena's DDL parser made of the SerDe's settings; a difference
        from what the job wrote (an escape character that arrived as a backslash, say) would
        change how every file is read without a word. Read it back and compare."""
        from elt_cli.sql import serde_settings

        answer = aws.call(
            self.glue.get_table,
            f"cannot read back table {database}.{table}",
            DatabaseName=database,
            Name=table,
        )
        stored = answer["Table"]
        serde = stored.get("StorageDescriptor", {}).get("SerdeInfo", {})
        found = {"serde": serde.get("SerializationLibrary", "")}
        found.update({f"serdeproperties.{k}": v for k, v in serde.get("Parameters", {}).items()})
        found.update({f"tblproperties.{k}": v for k, v in stored.get("Parameters", {}).items()})
        for key, wanted in serde_settings(ddl).items():
            if found.get(key) != wanted:
                name = key.split(".", 1)[-1]
                raise StepFailed(
                    "create-tables",
                    f"Glue holds {name} = {found.get(key)!r} for {database}.{table} where its "
                    f"DDL says {wanted!r}: Athena would read its files otherwise than the job "
                    "says; check how the DDL writes that value",
                )

    def prune_versions(self, database: str, table: str, keep: int) -> int:
        """Glue keeps every version of a table (a CREATE OR REPLACE VIEW adds one), up to
        100,000 a table and 1,000,000 an account: delete all but the newest `keep`; how many
        went."""
        versions, token = [], None
        while True:
            page = aws.call(
                self.glue.get_table_versions,
                f"cannot list the versions of {database}.{table} in Glue",
                DatabaseName=database,
                TableName=table,
                **({"NextToken": token} if token else {}),
            )
            versions += [v["VersionId"] for v in page.get("TableVersions", [])]
            token = page.get("NextToken")
            if not token:
                break
        old = sorted(versions, key=int, reverse=True)[keep:]
        for start in range(0, len(old), 100):
            answer = aws.call(
                self.glue.batch_delete_table_version,
                f"cannot delete old versions of {database}.{table} in Glue",
                DatabaseName=database,
                TableName=table,
                VersionIds=old[start : start + 100],
            )
            if answer.get("Errors"):
                first = answer["Errors"][0]
                detail = first.get("ErrorDetail", {})
                raise EltError(
                    f"cannot delete version {first.get('VersionId')} of {database}.{table} in "
                    f"Glue: {detail.get('ErrorCode')}: {detail.get('ErrorMessage')}"
                )
        return len(old)

    def tables(self, database: str, prefix: str) -> list[TableInfo]:
        found, token = [], None
        while True:
            page = aws.call(
                self.glue.get_tables,
                f"cannot list the tables of {database}",
                DatabaseName=database,
                Expression=re.escape(prefix) + ".*",
                **({"NextToken": token} if token else {}),
            )
            found += [_table_info(t) for t in page["TableList"] if t["Name"].startswith(prefix)]
            token = page.get("NextToken")
            if not token:
                return found

    def execute_many(self, statements: list[Statement]) -> list[QueryResult]:
        results = self._run(statements)
        self._forget(results)
        return results

    def _run(self, statements: list[Statement]) -> list[QueryResult]:
        try:
            return Flight(self, self.limits, self.reporter).run(statements)
        except BaseException as exc:
            # A failure, Ctrl-C or SIGTERM while queries run: stop them and see each one final
            # before the caller cleans up, or a clean-up would pull files from under a CTAS.
            self._stop_all(interrupted=isinstance(exc, (KeyboardInterrupt, Terminated)))
            raise

    def query_many(self, statements: list[Statement]) -> list[QueryResult]:
        results = self._run(statements)
        read = []
        for r in results:
            # the first row of a SELECT's result is its header
            header, *rows = [row for page in self._pages(r.query_id or "") for row in page] or [()]
            read.append(dataclasses.replace(r, rows=rows, columns=tuple(header)))
        self._forget(results)
        return read

    def export_csv(self, statement: Statement, dest: str) -> QueryResult:
        # A SELECT's result is one CSV with a header line, whatever its size (a CTAS would
        # write several headerless, compressed part files). Athena quotes every field in it;
        # csvform rewrites it into the one form both engines give. Where the workgroup keeps
        # no plain result file (client-side encryption, managed results), the rows are read
        # through GetQueryResults instead.
        from elt_cli import csvform

        (result,) = self._run([statement])
        with tempfile.TemporaryDirectory(prefix="elt-export-") as tmp:
            out = Path(tmp) / "export.csv"
            if self.workgroup.result_file:
                downloaded = Path(tmp) / "result.csv"
                self.storage.download(result.output_location, downloaded)
                rows = csvform.from_result_file(downloaded, out)
            else:
                pages = self._pages(result.query_id or "")
                header, *first = next(pages)  # the first row of a SELECT's result is its header
                rows = csvform.from_rows(list(header), itertools.chain(first, *pages), out)
            self.storage.put_file(out, dest)
        self._forget([result])
        return dataclasses.replace(result, row_count=rows)

    def close(self) -> None:
        self._stop_all()
        self._forget([])

    # -- the files Athena leaves -------------------------------------------------------------

    def _result_file(self, uri: str) -> bool:
        """What elt may delete through this engine: the files Athena wrote for a query of this
        run, started or re-attached, named by its id (`<id>.csv`, `<id>.txt`,
        `<id>.csv.metadata`, `<id>-manifest.csv`, ...); nothing else."""
        qid = re.match(r"[0-9a-f-]{36}", uri.rsplit("/", 1)[-1])
        return qid is not None and qid.group(0) in self.started

    def _forget(self, results: list[QueryResult]) -> None:
        """Delete what the queries left beside their results, once they have been read:
        query result files otherwise pile up forever (and a CTAS's manifest with them)."""
        files = [f for r in results for f in r.result_files] + self.leftovers
        self.leftovers = []
        if not files or self.cannot_forget:
            return
        try:
            self.storage.delete_files(files)
        except EltError as e:  # the run's work is done; a policy without DeleteObject is not
            self.cannot_forget = True  # a reason to fail it, but worth saying once
            self.reporter.note(f"query result files are kept: {e}")

    # -- queries -------------------------------------------------------------------------------

    def send(self, attempt: Attempt, patient: bool) -> str:
        statement = attempt.statement
        limit = self.settings.max_scan
        if limit is not None and self.scanned > limit:
            from elt_cli.report.record import human_bytes

            raise StepFailed(
                statement.template,
                f"not started: the run has scanned {human_bytes(self.scanned)}, more than "
                f"--max-scan {human_bytes(limit)}",
            )
        qid = self.reattachable(statement)
        if qid:
            self.reporter.note(
                f"re-attached to query {qid} ({statement.template}) of the killed run"
            )
        else:
            qid = self._start(statement, patient)
            if self.journal:
                self.journal.started_query(statement.sql, qid)
        self.started.add(qid)
        attempt.query_id, attempt.sent = qid, time.monotonic()
        attempt.record = self.reporter.query_started(statement, qid, attempt.record)
        self.running[qid] = attempt
        return qid

    def _start(self, statement: Statement, patient: bool) -> str:
        token = self.tokens.setdefault(statement.sql, str(uuid.uuid4()))
        # With nothing of ours in flight, wait out the account's quota; else let one of ours
        # end first (see flight.py).
        stop = stop_after_delay(self.limits.queue_timeout) if patient else stop_after_attempt(1)
        try:
            answer = self._call(
                "start_query_execution",
                f"{statement.template}: cannot start the query",
                stop=stop,
                QueryString=statement.sql,
                # The same token on a retried call makes Athena start the query only once.
                ClientRequestToken=token,
                WorkGroup=self.settings.workgroup,
                **self._result_configuration(),
            )
        except Throttled as exc:
            if not patient:
                raise
            raise StepFailed(
                statement.template,
                f"Athena refused to start it for {self.limits.queue_timeout:g}s ({exc}): the "
                "account's active-query quota is in use; lower --max-concurrent, raise "
                "--queue-timeout, or ask AWS for a higher quota",
            ) from exc
        del self.tokens[statement.sql]
        return answer["QueryExecutionId"]

    def _result_configuration(self) -> dict:
        if self.workgroup.managed:
            return {}
        location = {"OutputLocation": self.settings.results}
        return {"ResultConfiguration": {**self.workgroup.writes, **location}}

    def reattachable(self, statement: Statement) -> str | None:
        """The killed run's query for this very statement, when it is still running or
        finished well (and, for a CTAS, its table is still there): it is not started again."""
        qid = self.journal.query_for(statement.sql) if self.journal else None
        if not qid:
            return None
        try:
            (execution,) = self.status([qid])
        except EltError:
            return None
        state = execution["Status"]["State"]
        if state == "SUCCEEDED" and statement.creates:
            return qid if self.table_exists(self.settings.database, statement.creates) else None
        return qid if state in ("QUEUED", "RUNNING", "SUCCEEDED") else None

    def status(self, ids: list[str]) -> list[dict]:
        """The executions of these queries, up to 50 a call (BatchGetQueryExecution, whose
        quota Athena shares with GetQueryExecution's). One Athena could not answer for is
        asked alone, so an unknown id fails as it would alone."""
        found = []
        for start in range(0, len(ids), 50):
            batch = ids[start : start + 50]
            answer = self._call(
                "batch_get_query_execution",
                f"cannot check queries {', '.join(batch)}",
                QueryExecutionIds=batch,
            )
            found += answer.get("QueryExecutions", [])
            for unprocessed in answer.get("UnprocessedQueryExecutionIds", []):
                qid = unprocessed["QueryExecutionId"]
                found.append(
                    self._call(
                        "get_query_execution", f"cannot check query {qid}", QueryExecutionId=qid
                    )["QueryExecution"]
                )
        return found

    def finished(self, execution: dict, interrupted: bool = False) -> QueryResult:
        """The final answer of a query, reported once; `interrupted`: elt cancelled it for
        Ctrl-C or SIGTERM."""
        attempt = self.running.pop(execution["QueryExecutionId"])
        stats = execution.get("Statistics", {})
        millis = stats.get(
            "TotalExecutionTimeInMillis", stats.get("EngineExecutionTimeInMillis", 0)
        )
        queued = stats.get("QueryQueueTimeInMillis", 0) / 1000
        status = execution["Status"]
        result = QueryResult(
            attempt.statement.template,
            attempt.statement.subject,
            state=QueryState(status["State"]),
            query_id=execution["QueryExecutionId"],
            seconds=millis / 1000 if millis else time.monotonic() - attempt.sent,
            bytes_scanned=stats.get("DataScannedInBytes", 0),
            output_location=execution.get("ResultConfiguration", {}).get("OutputLocation", ""),
            statement_type=execution.get("StatementType", ""),
            queued_seconds=queued or attempt.queued(),
            attempt=attempt.number,
            creates=attempt.statement.creates,
            result_files=_result_files(execution),
        )
        if result.state != QueryState.SUCCEEDED:
            self.leftovers += result.result_files
        result = dataclasses.replace(result, cost_usd=estimated_cost(result))
        if interrupted and result.state == QueryState.CANCELLED:
            result = dataclasses.replace(result, state=QueryState.INTERRUPTED)
        self.scanned += result.bytes_scanned
        why = "" if result.state == QueryState.SUCCEEDED else reason(status)
        self.reporter.query_finished(attempt.record, result, why)
        return result

    def _pages(self, qid: str):
        """The result rows, a page (of up to 1,000) at a time: the header row first, then the
        data; values are text, None for NULL."""
        token = None
        while True:
            page = self._call(
                "get_query_results",
                "cannot read query results",
                QueryExecutionId=qid,
                MaxResults=1000,
                **({"NextToken": token} if token else {}),
            )
            yield [
                tuple(c.get("VarCharValue") for c in r["Data"]) for r in page["ResultSet"]["Rows"]
            ]
            token = page.get("NextToken")
            if not token:
                return

    def _stop_all(self, interrupted: bool = False) -> None:
        """Stop every query still running and wait briefly until Athena confirms; those it
        cancelled are INTERRUPTED when a signal is why (`interrupted`)."""
        if not self.running:
            return
        for qid in list(self.running):
            try:
                self._call("stop_query_execution", f"cannot stop query {qid}", QueryExecutionId=qid)
            except EltError:
                pass  # it may have just finished; the status check below tells

        def all_final() -> bool:
            for execution in self.status(list(self.running)):
                if execution["Status"]["State"] in FINAL:
                    self.finished(execution, interrupted)
            return not self.running

        Retrying(
            retry=retry_if_result(lambda final: not final),
            wait=wait_fixed(0.2),
            stop=stop_after_delay(STOP_CONFIRM_SECONDS),
            retry_error_callback=lambda state: False,
        )(all_final)
