"""moto made as strict as Athena, Glue and S3 are documented to be.

moto runs no SQL: a CREATE TABLE sent to its Athena changes nothing in its Glue, a CTAS writes
no files, and it ignores a workgroup's enforced settings. `AthenaRules` patches moto's server
(it runs in this process) so that every client, elt's subprocesses included, meets what AWS
documents:

- CREATE DATABASE, CREATE EXTERNAL TABLE, CTAS and CREATE OR REPLACE VIEW land in Glue; a view
  as Athena stores it (VIRTUAL_VIEW, `/* Presto View: <base64 JSON> */`); DROP TABLE removes
  the definition and keeps the data.
- A CTAS writes its files under its external_location, or `<result location>/tables/<query
  id>/` without one, from the moment it starts: cancelled, it leaves them (Athena "does not
  delete partial results"). Into a location that holds files it fails with
  HIVE_PATH_ALREADY_EXISTS; onto a name that exists, with TABLE_ALREADY_EXISTS.
- A workgroup that enforces its configuration puts results in its own location and fails a
  CTAS that names an external_location, with the message of Athena's troubleshooting page.
- CREATE OR REPLACE VIEW cannot replace a table.
- Result files quote every field (quotes doubled) and leave NULL an unquoted empty field; a
  workgroup that encrypts results client-side (CSE_KMS) leaves an unreadable file, and one with
  managed results leaves none. GetWorkGroup of an unknown name is InvalidRequestException.
- A CTAS is DML in GetQueryExecution (billed), not DDL.
- Every query leaves its result file and `.metadata` beside it in the result location; a CTAS
  its `tables/<id>-manifest.csv` and `tables/<id>.metadata` (querying-finding-output-files).
- BatchGetQueryExecution (not in moto) answers as GetQueryExecution does, up to 50 ids;
  Glue's BatchDeleteTableVersion (not in moto either) as DeleteTableVersion does, up to 100.
- A FAILED query carries an AthenaError (category, type, Retryable) as the error catalog
  lists them; `Failure` and `transient` make one, failing a given number of times.
- `quota`: the account's active-query quota; a start past it is TooManyRequestsException
  ("You have exceeded the limit for the number of queries you can run concurrently"), and
  `peak` is the most queries that were active at once. `slow` keeps a query RUNNING a while.

What moto cannot produce at all (throttling, a FAILED query with a given reason, data scanned)
is injected per test at botocore's event hooks by `Moto`.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import os
from dataclasses import dataclass, field

ACCOUNT = "123456789012"
ENFORCED_CTAS_ERROR = (
    "The Create Table As Select query failed because it was submitted with an "
    "'external_location' property to an Athena Workgroup that enforces a centralized output "
    "location for all queries. Please remove the 'external_location' property and resubmit "
    "the query."
)


QUOTA_MESSAGE = (
    "You have exceeded the limit for the number of queries you can run concurrently. Reduce "
    "the number of concurrent queries submitted by this account. Contact customer support to "
    "request a concurrent query limit increase."
)
INTERNAL_ERROR = (
    "Amazon Athena experienced an internal error while executing this query. Please try "
    "submitting the query again and if the issue reoccurs, contact AWS support for further "
    "assistance."
)


@dataclass
class Failure:
    """How a query FAILS, with the AthenaError GetQueryExecution gives (error-reference.html):
    by default a user error (category 2, type 1000), not retryable. `times`: how many starts
    of it fail (None: all)."""

    reason: str
    retryable: bool = False
    category: int = 2
    error_type: int = 1000
    times: int | None = None

    def error(self) -> dict:
        return {
            "ErrorCategory": self.category,
            "ErrorType": self.error_type,
            "Retryable": self.retryable,
            "ErrorMessage": self.reason,
        }


def transient(times: int = 1) -> Failure:
    """Athena's internal error, which it says may succeed if resubmitted."""
    return Failure(INTERNAL_ERROR, retryable=True, category=1, error_type=100, times=times)


@dataclass
class Started:
    failure: str | Failure | None = None  # a reason alone: a user error
    at: float = field(default_factory=lambda: __import__("time").monotonic())
    effect: object = None  # what the query does to Glue once it has succeeded
    done: bool = False
    dml: bool = False
    output: str = ""  # a CTAS's result location, <results>/tables/<query id>
    manifest: str = ""  # a CTAS's data manifest


@dataclass
class AthenaRules:
    started: dict[str, Started] = field(default_factory=dict)
    # SQL prefix -> how it FAILS (a reason alone: a user error)
    failures: dict[str, str | Failure] = field(default_factory=dict)
    hold: set[str] = field(default_factory=set)  # SQL prefixes of queries that stay RUNNING
    slow: dict[str, float] = field(default_factory=dict)  # SQL prefix -> seconds it RUNS
    results: list = field(default_factory=list)  # (SQL prefix, rows with a header) it returns
    quota: int | None = None  # the account's active (queued and running) query quota
    peak: int = 0  # the most queries active at once

    # -- moto's backends, in this process ----------------------------------------------------

    @staticmethod
    def glue(region: str):
        from moto.glue.models import glue_backends

        return glue_backends[ACCOUNT][region]

    @staticmethod
    def s3():
        from moto.s3.models import s3_backends

        return s3_backends[ACCOUNT]["aws"]

    def keys(self, uri: str) -> list[str]:
        bucket, _, prefix = uri.removeprefix("s3://").partition("/")
        try:
            found = self.s3().get_bucket(bucket).keys.keys()
        except Exception:
            return []
        return [k for k in found if k.startswith(prefix)]

    def put(self, uri: str, body: bytes) -> None:
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        self.s3().put_object(bucket, key, body)

    # -- the patches ---------------------------------------------------------------------------

    def install(self, monkeypatch) -> None:
        from moto.athena.responses import AthenaResponse

        rules = self
        get_original = AthenaResponse.get_query_execution
        workgroup_original = AthenaResponse.get_work_group

        def start_query_execution(response):
            backend = response.athena_backend
            workgroup = response._get_param("WorkGroup") or "primary"
            if not backend.get_work_group(workgroup):
                return response.error("WorkGroup does not exist", 400)
            config = rules.workgroup(response, workgroup)
            active = rules.active(backend)
            if rules.quota is not None and active >= rules.quota:
                body = {"__type": "TooManyRequestsException", "Message": QUOTA_MESSAGE}
                return json.dumps(body), {"status": 400}
            rules.peak = max(rules.peak, active + 1)
            result = response._get_param("ResultConfiguration")
            if config.get("EnforceWorkGroupConfiguration") and config.get("ResultConfiguration"):
                result = json.loads(json.dumps(config["ResultConfiguration"]))  # the workgroup's
            qid = backend.start_query_execution(
                query=response._get_param("QueryString"),
                context=response._get_param("QueryExecutionContext"),
                config=result,
                workgroup=workgroup,
                execution_parameters=response._get_param("ExecutionParameters"),
            )
            rules.start(response.region, qid, backend.executions[qid], config, response.headers)
            rules.answer(backend, qid)
            return json.dumps({"QueryExecutionId": qid})

        def get_query_execution(response):
            answer = json.loads(get_original(response))
            rules.finish(response.region, answer["QueryExecution"])
            return json.dumps(answer)

        class One:
            """GetQueryExecution's request for one id of a batch."""

            def __init__(self, response, qid: str):
                self.athena_backend, self.region, self.qid = (
                    response.athena_backend,
                    response.region,
                    qid,
                )

            def _get_param(self, name: str) -> str:
                return self.qid

        def batch_get_query_execution(response):
            """Not in moto: GetQueryExecution's answer for each id, up to 50 (the API's
            limit); an unknown id is listed as unprocessed, as Athena does."""
            ids = response._get_param("QueryExecutionIds") or []
            if not 1 <= len(ids) <= 50:
                return response.error(
                    "1 validation error detected: Value at 'queryExecutionIds' failed to satisfy "
                    "constraint: Member must have length less than or equal to 50",
                    400,
                )
            found, unprocessed = [], []
            for qid in ids:
                if qid not in response.athena_backend.executions:
                    unprocessed.append(
                        {
                            "QueryExecutionId": qid,
                            "ErrorCode": "INVALID_INPUT",
                            "ErrorMessage": f"QueryExecution {qid} was not found",
                        }
                    )
                    continue
                found.append(json.loads(get_query_execution(One(response, qid)))["QueryExecution"])
            return json.dumps(
                {"QueryExecutions": found, "UnprocessedQueryExecutionIds": unprocessed}
            )

        def get_work_group(response):
            if not response.athena_backend.get_work_group(response._get_param("WorkGroup")):
                name = response._get_param("WorkGroup")
                return response.error(f"WorkGroup {name} is not found.", 400)
            return workgroup_original(response)

        def batch_delete_table_version(response):
            """Not in moto: DeleteTableVersion for each id, up to 100 (the API's limit)."""
            params = response.parameters
            ids = params.get("VersionIds") or []
            if len(ids) > 100:
                body = {"__type": "InvalidInputException", "Message": "at most 100 VersionIds"}
                return json.dumps(body), {"status": 400}
            backend = response.glue_backend
            errors = []
            for version in ids:
                try:
                    backend.delete_table_version(
                        params["DatabaseName"], params["TableName"], version
                    )
                except Exception as exc:
                    errors.append(
                        {
                            "TableName": params["TableName"],
                            "VersionId": version,
                            "ErrorDetail": {
                                "ErrorCode": "EntityNotFoundException",
                                "ErrorMessage": str(exc),
                            },
                        }
                    )
            return json.dumps({"Errors": errors})

        from moto.glue.responses import GlueResponse

        monkeypatch.setattr(
            GlueResponse, "batch_delete_table_version", batch_delete_table_version, raising=False
        )
        monkeypatch.setattr(AthenaResponse, "start_query_execution", start_query_execution)
        monkeypatch.setattr(AthenaResponse, "get_query_execution", get_query_execution)
        monkeypatch.setattr(
            AthenaResponse, "batch_get_query_execution", batch_get_query_execution, raising=False
        )
        monkeypatch.setattr(AthenaResponse, "get_work_group", get_work_group)

    def held(self, sql: str, started: Started) -> bool:
        """Still RUNNING where moto would say SUCCEEDED: `hold` (until stopped) or `slow`."""
        import time

        return any(starts(sql, prefix) for prefix in self.hold) or any(
            starts(sql, prefix) and time.monotonic() - started.at < seconds
            for prefix, seconds in self.slow.items()
        )

    def active(self, backend) -> int:
        """Queries queued or running in the account, held and slow ones included."""
        count = 0
        for qid, execution in backend.executions.items():
            state = execution.status  # moto's state manager moves it on as time passes
            started = self.started.get(qid)
            still = (
                state == "SUCCEEDED"
                and started is not None
                and not started.failure
                and self.held(execution.query, started)
            )
            count += state in ("QUEUED", "RUNNING") or still
        return count

    @staticmethod
    def workgroup(response, name: str) -> dict:
        found = response.athena_backend.get_work_group(name)
        return found["Configuration"] if found else {}

    # -- what a statement does -----------------------------------------------------------------

    def start(self, region: str, qid: str, execution, workgroup: dict, headers) -> None:
        import sqlglot
        from sqlglot import exp

        started = self.started[qid] = Started()
        output = (execution.config or {}).get("OutputLocation")
        if output and not caller_may(headers, "s3:PutObject", output):
            started.failure = f"Access denied when writing output to url: {output}"
            return
        for prefix, failure in self.failures.items():
            times = None if isinstance(failure, str) else failure.times
            if starts(execution.query, prefix) and times != 0:
                if isinstance(failure, Failure) and times is not None:
                    failure.times = times - 1
                started.failure = failure
                return
        try:
            tree = sqlglot.parse_one(execution.query, read="athena")
        except Exception:
            return
        started.failure = _reserved_unquoted(tree)
        if started.failure:
            return
        glue = self.glue(region)
        if isinstance(tree, exp.Create) and tree.kind in ("DATABASE", "SCHEMA"):
            name = tree.this.name.lower()
            started.effect = lambda: (
                name in glue.databases or glue.create_database(name, {"Name": name})
            )
        elif isinstance(tree, exp.Create) and tree.kind == "TABLE" and tree.expression:
            self._ctas(glue, qid, tree, execution, workgroup, started, headers)
        elif isinstance(tree, exp.Create) and tree.kind == "TABLE":
            self._external_table(glue, tree, execution.query, started)
        elif isinstance(tree, exp.Create) and tree.kind == "VIEW":
            self._view(glue, tree, execution.query, started)
        elif isinstance(tree, exp.Drop) and tree.kind == "TABLE":
            table = tree.this or tree.args["tables"][0]
            started.effect = lambda: (
                _table(glue, table.db, table.name) and glue.delete_table(table.db, table.name)
            )
        if isinstance(tree, exp.Query) or (isinstance(tree, exp.Create) and tree.expression):
            query = tree.expression if isinstance(tree, exp.Create) else tree
            self._may_read(glue, query, headers, started)

    def _may_read(self, glue, query, headers, started) -> None:
        """Athena reads a query's tables (through views) from S3 as its caller."""
        import sqlglot
        from sqlglot import exp

        for table in query.find_all(exp.Table):
            found = _table(glue, table.db, table.name) if table.db else None
            if not found:
                continue
            if found.get("TableType") == "VIRTUAL_VIEW":
                text = found["ViewOriginalText"].removeprefix("/* Presto View: ")[:-3]
                sql = json.loads(base64.b64decode(text))["originalSql"]
                self._may_read(glue, sqlglot.parse_one(sql, read="athena"), headers, started)
                continue
            location = found.get("StorageDescriptor", {}).get("Location", "").rstrip("/") + "/"
            bucket = location.removeprefix("s3://").split("/")[0]
            if not (
                caller_may(headers, "s3:ListBucket", f"s3://{bucket}")
                and caller_may(headers, "s3:GetObject", location + "data")
            ):
                started.failure = started.failure or f"Permission denied on S3 path: {location}"

    def _ctas(self, glue, qid, tree, execution, workgroup, started, headers) -> None:
        table = tree.this
        props = {
            p.this.name.lower(): p.args["value"].name
            for p in tree.args["properties"].expressions
            if p.args.get("value") is not None
        }
        started.dml = True
        location = props.get("external_location")
        if location and workgroup.get("EnforceWorkGroupConfiguration"):
            started.failure = ENFORCED_CTAS_ERROR
            return
        if not location:
            output = (execution.config or {}).get("OutputLocation", "")
            location = output.rsplit("/", 1)[0] + f"/tables/{qid}/"
        location = location.rstrip("/") + "/"
        if _table(glue, table.db, table.name):
            started.failure = (
                f"TABLE_ALREADY_EXISTS: line 1:1: Table 'awsdatacatalog.{table.db}."
                f"{table.name}' already exists"
            )
            return
        if self.keys(location):
            started.failure = (
                f"HIVE_PATH_ALREADY_EXISTS: Target directory for table '{table.db}."
                f"{table.name}' already exists: {location}. You may need to manually clean the "
                f"data at location '{location}' before retrying. Athena will not delete data in "
                "your account."
            )
            return
        if not caller_may(headers, "s3:PutObject", location + "data"):
            started.failure = f"Access denied when writing to location: {location}"
            return
        self.put(f"{location}{qid}_00000", b"PAR1 (a CTAS part file) PAR1")
        results = (execution.config or {}).get("OutputLocation", "").rsplit("/", 1)[0]
        if results:  # a CTAS's own result files: its manifest and metadata, under tables/
            started.output = f"{results}/tables/{qid}"
            started.manifest = f"{results}/tables/{qid}-manifest.csv"
            self.put(started.manifest, f"{location}{qid}_00000\n".encode())
            self.put(started.output + ".metadata", b"(binary metadata)")
        started.effect = lambda: glue.create_table(
            table.db,
            table.name,
            {
                "Name": table.name,
                "TableType": "EXTERNAL_TABLE",
                "StorageDescriptor": {"Location": location},
            },
        )

    @staticmethod
    def _external_table(glue, tree, sql: str, started) -> None:
        from sqlglot import exp

        from elt_cli.sql import serde_settings

        table = tree.this.this
        location = tree.find(exp.LocationProperty).this.name
        if _table(glue, table.db, table.name) and not tree.args.get("exists"):
            started.failure = "AlreadyExistsException: Table already exists."
            return
        # What Athena's Hive DDL parser keeps: the SerDe and its properties, the literals read
        # as Hive reads them ('\u0000' is the NUL character).
        settings = serde_settings(sql)
        serde_info = {
            "SerializationLibrary": settings.pop("serde", ""),
            "Parameters": {
                k.split(".", 1)[1]: v for k, v in settings.items() if k.startswith("serde")
            },
        }
        parameters = {k.split(".", 1)[1]: v for k, v in settings.items() if k.startswith("tbl")}
        started.effect = lambda: (
            _table(glue, table.db, table.name)
            or glue.create_table(
                table.db,
                table.name,
                {
                    "Name": table.name,
                    "TableType": "EXTERNAL_TABLE",
                    "Parameters": parameters,
                    "StorageDescriptor": {
                        "Location": location,
                        "SerdeInfo": serde_info,
                        "Columns": [
                            {"Name": c.name.lower(), "Type": c.args["kind"].sql("athena").lower()}
                            for c in tree.this.expressions
                        ],
                    },
                },
            )
        )

    @staticmethod
    def _view(glue, tree, sql: str, started) -> None:
        view = tree.this
        existing = _table(glue, view.db, view.name)
        if existing and existing.get("TableType") != "VIRTUAL_VIEW":
            started.failure = (
                f"TABLE_ALREADY_EXISTS: line 1:1: Table already exists: "
                f"'awsdatacatalog.{view.db}.{view.name}'"
            )
            return
        select = tree.expression.sql("athena")
        document = {"originalSql": select, "catalog": "awsdatacatalog", "schema": view.db}
        text = "/* Presto View: " + base64.b64encode(json.dumps(document).encode()).decode()
        table_input = {
            "Name": view.name,
            "TableType": "VIRTUAL_VIEW",
            "ViewOriginalText": text + " */",
            "ViewExpandedText": "/* Presto View */",
        }

        def effect():
            if _table(glue, view.db, view.name):
                glue.update_table(view.db, view.name, table_input)
            else:
                glue.create_table(view.db, view.name, table_input)

        started.effect = effect

    def finish(self, region: str, execution: dict) -> None:
        started = self.started.get(execution["QueryExecutionId"])
        if started is None:
            return
        if started.dml:
            execution["StatementType"] = "DML"
        if started.output:
            execution["ResultConfiguration"]["OutputLocation"] = started.output
            execution["Statistics"]["DataManifestLocation"] = started.manifest
        if execution["Status"]["State"] != "SUCCEEDED":
            return
        if self.held(execution["Query"], started):
            execution["Status"]["State"] = "RUNNING"  # until it is stopped (then CANCELLED)
            return
        if started.failure:
            failure = started.failure
            if isinstance(failure, str):
                failure = Failure(failure)
            execution["Status"].update(
                State="FAILED", StateChangeReason=failure.reason, AthenaError=failure.error()
            )
        elif not started.done:
            started.done = True
            if started.effect:
                started.effect()

    # -- results ---------------------------------------------------------------------------------
    # moto runs no SQL: a query returns the rows a test gives for its prefix (`results`), and
    # elt's audit of a new version (audit.py), unless a test says otherwise, finds one row
    # and no failure.

    def answer(self, backend, exec_id: str) -> None:
        """The rows the test says a query returns, for GetQueryResults and as a result file."""
        from moto.athena.models import QueryResults

        execution = backend.executions[exec_id]
        rows = next((r for prefix, r in self.results if starts(execution.query, prefix)), [])
        if not rows and execution.query.startswith(AUDIT):
            rows = passing_audit(execution.query)
        backend.query_results[exec_id] = QueryResults(
            rows=[{"Data": [{} if v is None else {"VarCharValue": v} for v in r]} for r in rows],
            column_info=[{"Name": n, "Type": "varchar"} for n in (rows or [[]])[0]],
        )
        self.write_result(backend, exec_id)

    def write_result(self, backend, exec_id: str) -> None:
        """Athena's result file: every field quoted, inner quotes doubled, NULL unquoted."""
        execution = backend.executions[exec_id]
        output = (execution.config or {}).get("OutputLocation")
        if not output:
            return  # managed results: no file in the customer's bucket
        started = self.started.get(exec_id)
        if started and started.output:
            return  # a CTAS: its result files are under tables/ (see _ctas)
        found = backend.get_work_group(execution.workgroup.name if execution.workgroup else "")
        encryption = (
            (found or {})
            .get("Configuration", {})
            .get("ResultConfiguration", {})
            .get("EncryptionConfiguration", {})
            .get("EncryptionOption")
        )
        buffer = io.StringIO()
        for row in backend.query_results[exec_id].rows:
            buffer.write(
                ",".join(
                    '"' + d["VarCharValue"].replace('"', '""') + '"' if "VarCharValue" in d else ""
                    for d in row["Data"]
                )
                + "\n"
            )
        body = buffer.getvalue().encode()
        if encryption == "CSE_KMS":
            body = os.urandom(len(body) + 32)  # ciphertext only a KMS-aware client can read
        self.put(output, body)
        self.put(output + ".metadata", b"(binary metadata)")  # what GetQueryResults reads


def _reserved_unquoted(tree) -> str | None:
    """Athena's parsers refuse a reserved word as a name unless it is quoted: in backticks in
    Hive DDL, in double quotes in SELECT, CTAS and views (AWS's "Escape reserved keywords")."""
    from sqlglot import exp

    from elt_cli.athena_sql import DDL_RESERVED, DML_RESERVED

    ddl = isinstance(tree, exp.Drop) or (
        isinstance(tree, exp.Create) and tree.kind in ("DATABASE", "SCHEMA", "TABLE")
        and tree.expression is None
    )  # fmt: skip
    for identifier in tree.find_all(exp.Identifier):
        if not identifier.quoted and identifier.name.upper() in (
            DDL_RESERVED if ddl else DML_RESERVED
        ):
            if ddl:
                near = identifier.name
                return f"FAILED: ParseException line 1:0 cannot recognize input near '{near}'"
            return f"line 1:1: mismatched input '{identifier.name}'. Expecting: <identifier>"
    return None


def starts(sql: str, prefix: str) -> bool:
    """Whether a statement starts with `prefix`, whatever its line breaks and indents."""
    return " ".join(sql.split()).startswith(" ".join(prefix.split()))


def _table(glue, database: str, name: str) -> dict | None:
    try:
        return glue.get_table(database, name).as_dict()
    except Exception:
        return None


def athena_csv(rows: list[list[str | None]]) -> bytes:
    """What Athena's result file holds for these rows (see AthenaRules.write_result)."""
    return "".join(
        ",".join('"' + v.replace('"', '""') + '"' if v is not None else "" for v in row) + "\n"
        for row in rows
    ).encode()


def read_csv_bytes(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"))))


def strict_s3_permissions(monkeypatch) -> None:
    """Where moto's IAM enforcement is laxer or stricter than AWS's, for S3:

    - DeleteObjects: moto checks the bucket's ARN; AWS checks s3:DeleteObject on each key
      (a denied key denies the whole request here, where AWS would list it under Errors).
    - CopyObject: moto checks only s3:PutObject on the copy; AWS also needs s3:GetObject on
      the source."""
    from urllib.parse import unquote, urlparse

    import xmltodict
    from moto.s3.responses import S3Response

    original = S3Response._authenticate_and_authorize_s3_action

    def strict(self, bucket_name=None, key_name=None):
        action = self.data.get("Action")
        if key_name is None and bucket_name and action == "DeleteObject" and self.is_delete_keys():
            objects = xmltodict.parse(self.body)["Delete"].get("Object", [])
            for obj in objects if isinstance(objects, list) else [objects]:
                original(self, bucket_name=bucket_name, key_name=obj["Key"])
            return
        source = self.headers.get("x-amz-copy-source")
        if action == "PutObject" and source:
            src_bucket, src_key = unquote(urlparse(source).path).lstrip("/").split("/", 1)
            self.data["Action"] = "GetObject"
            try:
                original(self, bucket_name=src_bucket, key_name=src_key)
            finally:
                self.data["Action"] = action
        original(self, bucket_name=bucket_name, key_name=key_name)

    monkeypatch.setattr(S3Response, "_authenticate_and_authorize_s3_action", strict)


def caller_may(headers, action: str, uri: str) -> bool:
    """Whether the caller of a request (its access key) may do an S3 action on an s3:// URI,
    by its IAM policies, when moto enforces IAM. Athena reads and writes S3 as its caller."""
    from moto import settings
    from moto.core.authorization import ActionAuthenticatorMixin
    from moto.iam.access_control import IAMPolicy, IAMUserAccessKey, PermissionResult

    if ActionAuthenticatorMixin.request_count < settings.INITIAL_NO_AUTH_ACTION_COUNT:
        return True  # IAM not enforced
    key_id = headers["Authorization"].split("Credential=")[1].split("/")[0]
    try:
        policies = IAMUserAccessKey(ACCOUNT, "aws", key_id, dict(headers)).collect_policies()
    except Exception:
        return False
    resource = "arn:aws:s3:::" + uri.removeprefix("s3://")
    found = [IAMPolicy(p).is_action_permitted(action, resource) for p in policies]
    return PermissionResult.DENIED not in found and PermissionResult.PERMITTED in found


AUDIT = "SELECT count(*), "  # how elt's audit query of a new version starts (audit.py)


def passing_audit(query: str) -> list[list[str]]:
    """The answer to an audit query whose checks all pass: 1 row, 0 failures each."""
    import sqlglot

    columns = len(sqlglot.parse_one(query, read="athena").expressions)
    return [[f"_col{i}" for i in range(columns)], ["1"] + ["0"] * (columns - 1)]
