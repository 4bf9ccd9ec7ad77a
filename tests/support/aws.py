"""moto as Athena, Glue and S3, plus what moto cannot do at all (see Moto)."""

from __future__ import annotations

import time

from support.moto_athena import starts

MOTO_ACCOUNT = "123456789012"
MODELS = __import__("botocore.loaders", fromlist=["create_loader"]).create_loader()


class Moto:
    """The moto server (made strict by moto_athena.AthenaRules) plus what moto cannot do at
    all, injected at botocore's event hooks: throttling, FAILED answers with a given reason,
    data scanned. Every client elt creates in this process is instrumented."""

    def __init__(self, url: str, rules):
        import boto3

        self.url, self.rules = url, rules
        self.calls: list[tuple[str, dict]] = []  # (operation, params) as elt sent them
        self.times: list[float] = []  # when each of them was sent (time.monotonic)
        self.throttles: dict[str, int] = {}  # operation -> how many to answer with throttling
        self.short_copies = False
        self.throttle_code = "TooManyRequestsException"  # which throttling answer to give
        self.states: dict[str, list[str]] = {}  # SQL prefix -> states to show before its own
        self.errors: dict[str, tuple[str, str]] = {}  # operation -> (code, message)
        self.failures = rules.failures  # SQL prefix -> reason the query FAILED with
        # SQL prefix -> (DataScannedInBytes, StatementType) to report; moto reports 0 bytes and
        # calls a CTAS "DDL" (Athena calls it DML and bills it)
        self.stats: dict[str, tuple[int, str]] = {}
        kw = {"endpoint_url": url, "region_name": "us-east-1"}
        self.s3 = boto3.client("s3", **kw)
        self.athena = boto3.client("athena", **kw)
        self.glue = boto3.client("glue", **kw)

    def api(self, path: str, body: dict | None = None) -> None:
        import json
        import urllib.request

        request = urllib.request.Request(
            self.url + path,
            data=json.dumps(body or {}).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        urllib.request.urlopen(request).close()

    def query_time(self, seconds: float) -> None:
        """Queries sit in QUEUED, then RUNNING, for `seconds` each (while being polled)."""
        self.api(
            "/moto-api/state-manager/set-transition",
            {
                "model_name": "athena::execution",
                "transition": {"progression": "time", "seconds": seconds},
            },
        )

    @property
    def results(self) -> list[tuple[str, list]]:
        """(SQL prefix, rows with a header) a query starting so returns (moto runs no SQL)."""
        return self.rules.results

    @results.setter
    def results(self, value: list[tuple[str, list]]) -> None:
        self.rules.results[:] = value

    def query_of(self, qid: str) -> str:
        """A query's SQL, read from moto's backend (a GetQueryExecution would advance it)."""
        from moto.athena.models import athena_backends

        return athena_backends[MOTO_ACCOUNT]["us-east-1"].executions[qid].query

    def sent(self, operation: str) -> list[dict]:
        return [params for op, params in self.calls if op == operation]

    def queries(self) -> list[str]:
        return [p["QueryString"] for p in self.sent("StartQueryExecution")]

    def executions(self) -> list[dict]:
        ids = self.athena.list_query_executions()["QueryExecutionIds"]
        return [self.athena.get_query_execution(QueryExecutionId=q)["QueryExecution"] for q in ids]

    def glue_tables(self, database: str = "movielens_elt") -> list[str]:
        return sorted(t["Name"] for t in self.glue.get_tables(DatabaseName=database)["TableList"])

    def enforcing_workgroup(self, output: str = "s3://lake/wg-results/", **results) -> str:
        """An Athena workgroup "etl" that enforces its settings (results go to `output`)."""
        self.athena.create_work_group(
            Name="etl",
            Configuration={
                "ResultConfiguration": {"OutputLocation": output, **results},
                "EnforceWorkGroupConfiguration": True,
            },
        )
        return "etl"

    def glue_table(self, name: str, location: str, database: str = "movielens_elt") -> None:
        """A table in the Glue catalog (and its database), as another tool would leave it."""
        if database not in {d["Name"] for d in self.glue.get_databases()["DatabaseList"]}:
            self.glue.create_database(DatabaseInput={"Name": database})
        self.glue.create_table(
            DatabaseName=database,
            TableInput={
                "Name": name,
                "TableType": "EXTERNAL_TABLE",
                "StorageDescriptor": {"Location": location},
            },
        )

    def put(self, key: str, body: bytes) -> None:
        self.s3.put_object(Bucket="lake", Key=key, Body=body)

    def get(self, key: str) -> bytes:
        return self.s3.get_object(Bucket="lake", Key=key)["Body"].read()

    def keys(self, prefix: str = "") -> list[str]:
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket="lake", Prefix=prefix)
        return sorted(o["Key"] for page in pages for o in page.get("Contents", []))

    # -- hooks -----------------------------------------------------------------------------------

    def instrument(self, client) -> None:
        service = client.meta.service_model.service_name
        client.meta.events.register(f"before-parameter-build.{service}", self._record)
        client.meta.events.register(f"before-call.{service}", self._inject)
        if service == "athena":
            client.meta.events.register("after-call.athena.GetQueryExecution", self._rewrite)
            client.meta.events.register("after-call.athena.BatchGetQueryExecution", self._rewrite)
        if service == "s3":
            client.meta.events.register("after-call.s3.CopyObject", self._shorten)

    def _record(self, params, model, **_):
        self.calls.append((model.name, dict(params)))
        self.times.append(time.monotonic())

    def _shorten(self, **_):
        """`short_copies`: each copy S3 makes arrives one byte short (as a copy that broke)."""
        if self.short_copies:
            params = next(p for op, p in reversed(self.calls) if op == "CopyObject")
            body = self.s3.get_object(Bucket=params["Bucket"], Key=params["Key"])["Body"].read()
            self.s3.put_object(Bucket=params["Bucket"], Key=params["Key"], Body=body[:-1])

    def _inject(self, model, params, **_):
        from botocore.awsrequest import AWSResponse

        if self.throttles.get(model.name, 0) > 0:
            self.throttles[model.name] -= 1
            code, message = self.throttle_code, "Rate exceeded"
        elif model.name in self.errors:
            code, message = self.errors[model.name]
        else:
            return None
        return (
            AWSResponse(params["url"], 400, {}, None),
            {
                "Error": {"Code": code, "Message": message},
                "ResponseMetadata": {"HTTPStatusCode": 400},
            },
        )

    def _rewrite(self, parsed, **_):
        executions = parsed.get("QueryExecutions") or [parsed.get("QueryExecution")]
        for execution in [e for e in executions if e]:
            sql = execution.get("Query", "")
            for prefix, states in self.states.items():
                if starts(sql, prefix) and states:
                    execution["Status"]["State"] = states.pop(0)
            self.times.append(time.monotonic())
            self.calls.append(
                (
                    "QueryState",
                    {"id": execution["QueryExecutionId"], "state": execution["Status"]["State"]},
                )
            )
            for prefix, (scanned, statement_type) in self.stats.items():
                if starts(sql, prefix):
                    execution.setdefault("Statistics", {})["DataScannedInBytes"] = scanned
                    execution["StatementType"] = statement_type
