"""Shared fixtures: an isolated environment, a CLI runner, and lakes with awkward data."""

from __future__ import annotations

import csv
import gzip
import io
import os
import re
import shutil
import subprocess
import sys
import time
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from elt_cli.cli import cli

MOVIES_HEADER = ["movieId", "title", "genres"]
RATINGS_HEADER = ["userId", "movieId", "rating", "timestamp"]

# Every awkward case of DESIGN.md's input format, with the row each must give (or not).
AWKWARD_MOVIES = [
    (1, "American President, The (1995)", "Comedy|Drama|Romance|Sci-Fi"),
    (2, 'Dr. "Strangelove" Returns (1964)', "Comedy|Sci-Fi|War"),
    (3, "Babylon 5", "Sci-Fi|Drama"),
    (4, "Battlestar Galactica (2003-2009)", "Drama|Sci-Fi|War"),
    (5, "Stranger Things (2016) ", "Drama|Fantasy|Sci-Fi"),
    (6, "Amélie Poulain en Orbite (2001)", "Comedy|Sci-Fi"),
    (7, "攻殻機動隊 (1995)", "Animation|Sci-Fi"),
    (8, "Sci-Fi Boys (2006)", "Documentary"),
    (9, "Alien (1979)", "Horror|Sci-Fi"),
    (10, "Alien (1979)", "Sci-Fi|IMAX"),
    (11, "Never Rated (2010)", "Sci-Fi"),
    (12, "Crouching Tiger, Hidden Dragon (Wo hu cang long) (2000)", "Action|Drama"),
    (13, "Nothing To See (2015)", "(no genres listed)"),
    (14, "Lower Case Genre (1999)", "sci-fi|comedy"),
    (15, "Science Fiction Fan (2012)", "Sci-Fi-Fantasy|Comedy"),
]
AWKWARD_RATINGS = [  # (userId, movieId, rating); movie 99 does not exist, movie 11 has none
    (1, 1, 4.5),
    (2, 1, 3.0),
    (1, 2, 0.5),
    (1, 3, 5.0),
    (2, 3, 4.5),
    (3, 3, 4.5),
    (1, 4, 3.5),
    (1, 5, 2.5),
    (2, 5, 3.0),
    (1, 6, 4.0),
    (1, 7, 1.5),
    (1, 8, 5.0),
    (1, 9, 4.0),
    (2, 9, 3.5),
    (1, 10, 1.0),
    (1, 12, 4.0),
    (1, 13, 3.0),
    (1, 14, 2.0),
    (1, 15, 5.0),
    (1, 99, 5.0),
    (2, 99, 0.5),
]


def write_csv(path: Path, header: list[str], rows, gz: bool = False) -> None:
    """Write GroupLens-style CSV: quotes only where needed, inner quotes doubled."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    data = buffer.getvalue().encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data) if gz else data)


def make_lake(root: Path, movies, ratings, source_prefix: str = "movielens") -> Path:
    """A lake whose ratings are split over a plain file and a .gz file, each with a header."""
    raw = root / source_prefix
    write_csv(raw / "movies" / "movies.csv", MOVIES_HEADER, movies)
    rows = [(u, m, f"{r:.1f}", 1_000_000_000 + i) for i, (u, m, r) in enumerate(ratings)]
    half = len(rows) // 2
    write_csv(raw / "ratings" / "ratings-1.csv", RATINGS_HEADER, rows[:half])
    write_csv(raw / "ratings" / "part-2" / "ratings-2.csv.gz", RATINGS_HEADER, rows[half:], gz=True)
    return root


def read_raw(folder: Path) -> list[list[str]]:
    rows = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        text = (gzip.decompress(data) if path.suffix == ".gz" else data).decode("utf-8")
        rows += list(csv.reader(io.StringIO(text)))[1:]
    return rows


def expected_subset(lake: Path, genre: str, source_prefix: str = "movielens") -> list[dict]:
    """The output contract computed independently, in plain Python, from the raw files."""
    ratings: dict[int, list[Decimal]] = {}
    for _, movie_id, rating, _ in read_raw(lake / source_prefix / "ratings"):
        ratings.setdefault(int(movie_id), []).append(Decimal(rating))
    rows = []
    for movie_id, title, genres in read_raw(lake / source_prefix / "movies"):
        movie_id = int(movie_id)
        if genre.lower() not in [g.lower() for g in genres.split("|")] or movie_id not in ratings:
            continue
        match = re.search(r"\((\d{4})(-\d{4})?\)\s*$", title)
        values = ratings[movie_id]
        rows.append(
            {
                "movie_id": movie_id,
                "title": (title[: match.start()] if match else title).strip(),
                "year": int(match.group(1)) if match else None,
                "avg_rating": (sum(values) / len(values)).quantize(
                    Decimal("0.0001"), ROUND_HALF_UP
                ),
                "num_ratings": len(values),
            }
        )
    rows.sort(key=lambda r: (r["year"] is None, -(r["year"] or 0), r["title"], r["movie_id"]))
    return rows


def csv_bytes(rows) -> bytes:
    """The one CSV form of an export (see the README): minimal RFC 4180 quoting, `\n` line
    ends, NULL (None) an empty field. Python's csv writes it for data with no empty strings."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(
        ["" if v is None else v for v in row] for row in rows
    )
    return buffer.getvalue().encode("utf-8")


def read_output(path: Path) -> list[dict]:
    """The final CSV as typed rows, checking its header on the way."""
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        assert next(reader) == ["movie_id", "title", "year", "avg_rating", "num_ratings"]
        return [
            {
                "movie_id": int(m),
                "title": t,
                "year": int(y) if y else None,
                "avg_rating": Decimal(a),
                "num_ratings": int(n),
            }
            for m, t, y, a, n in reader
        ]


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under a folder with its bytes, to prove that nothing changed."""
    if not root.exists():
        return {}
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


@pytest.fixture(autouse=True)
def isolation(tmp_path, monkeypatch):
    for name in list(os.environ):
        if name.startswith(("ELT_", "AWS_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def elt(runner):
    """Invoke the CLI in-process: elt("run", "--genre", "Sci-Fi") -> click Result."""

    def invoke(*args, env=None, unexpected=False):
        result = runner.invoke(cli, [str(a) for a in args], env=env, catch_exceptions=False)
        # elt answers an error it did not foresee with one line, as a user meets it; in a test
        # that is a bug shown whole (unless the test is about that line)
        if not unexpected and "Error: unexpected " in result.stderr:
            raise AssertionError(result.stderr)
        return result

    return invoke


def elt_process(*args, cwd: Path, env: dict | None = None, timeout: float = 120):
    """Run `python -m elt_cli` as a separate process, as cron would."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "elt_cli", *map(str, args)],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def slow_build(folder: Path, multiply: int) -> Path:
    """The packaged SQL with a build that takes a while on a tiny lake: each rating joined
    with `multiply` numbers (twenty million: about 14 s here). Long enough to be interrupted,
    or to overlap another run, for certain."""
    from elt_cli.templates import packaged_queries

    queries = folder / f"slow-queries-{multiply}"
    shutil.copytree(packaged_queries(), queries)
    build = queries / "movie_ratings.sql"
    ratings = "  FROM ${database}.ratings\n"
    slow = f"  CROSS JOIN UNNEST(sequence(1, {multiply})) AS s (n)\n"
    assert ratings in build.read_text()
    build.write_text(build.read_text().replace(ratings, ratings + slow))
    return queries


def replay_on_duckdb(sent: list[str], lake: Path, database: str, scratch: Path) -> list[tuple]:
    """moto runs no SQL: run the statements Athena received, verbatim, on the local engine
    over a lake with the same raw tables (made by `elt create-tables`). Each CTAS writes to
    a folder of `scratch` instead of its s3:// location; views are made as sent. The rows of
    the last statement, a SELECT, are returned."""
    import sqlglot

    from elt_cli import sql
    from elt_cli.engines.local import LocalEngine
    from elt_cli.statements import Statement

    engine = LocalEngine(lake)
    try:
        for i, query in enumerate(sent[:-1]):
            if query.startswith("CREATE OR REPLACE VIEW"):
                engine.execute(Statement("publish", query))
            elif query.startswith("CREATE TABLE"):
                ctas = sqlglot.parse_one(query, read="athena")
                select = ctas.expression.sql("athena")
                where = f"{scratch / str(i)}/"
                engine.execute(Statement("ctas", sql.ctas(database, ctas.this.name, select, where)))
        return engine.query(Statement("last", sent[-1])).rows
    finally:
        engine.close()


def starts(sql: str, prefix: str) -> bool:
    from moto_athena import starts as starts_

    return starts_(sql, prefix)


def elt_in_terminal(*args, cwd: Path, columns: int = 80, lines: int = 24) -> tuple[int, str]:
    """Run `python -m elt_cli` at a pseudo-terminal; its exit code and what it printed there,
    without escape codes."""
    import pty
    import select

    master, slave = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "elt_cli", *map(str, args)],
        cwd=cwd,
        env={
            **os.environ,
            "COLUMNS": str(columns),
            "LINES": str(lines),
            "TERM": "xterm",
        },
        stdin=slave,
        stdout=slave,
        stderr=slave,
        close_fds=True,
    )
    os.close(slave)
    output = b""
    while True:
        if select.select([master], [], [], 0.1)[0]:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
        elif process.poll() is not None:
            break
    os.close(master)
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\r", "", output.decode(errors="replace"))
    return process.wait(), text


def start_elt(*args, cwd: Path | None = None) -> subprocess.Popen:
    """`python -m elt_cli` in the background, its log readable line by line."""
    return subprocess.Popen(
        [sys.executable, "-m", "elt_cli", *map(str, args)],
        cwd=cwd,
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def kill_at(process: subprocess.Popen, text: str, timeout: float = 60) -> bool:
    """kill -9 the process when a line of its log holds `text`; True if one did. It is
    killed after `timeout` seconds in any case, so a test never hangs on a line that never
    comes."""
    import threading

    watchdog = threading.Timer(timeout, process.kill)
    watchdog.start()
    try:
        for line in process.stderr:
            if text in line:
                process.kill()
                return True
        return False
    finally:
        watchdog.cancel()
        process.wait()


@pytest.fixture
def awkward_lake(tmp_path) -> Path:
    return make_lake(tmp_path / "lake", AWKWARD_MOVIES, AWKWARD_RATINGS)


# -- AWS: moto as a real HTTP server -------------------------------------------------------------

MOTO_ACCOUNT = "123456789012"
MODELS = __import__("botocore.loaders", fromlist=["create_loader"]).create_loader()


@pytest.fixture(scope="session")
def moto_url():
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


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
        for execution in [parsed["QueryExecution"]] if "QueryExecution" in parsed else []:
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


@pytest.fixture
def aws(moto_url, monkeypatch):
    """A clean moto with bucket `lake`; elt's boto3 clients talk to it and are instrumented."""
    from elt_cli import aws as elt_aws

    for name, value in {
        "AWS_ENDPOINT_URL": moto_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    from moto_athena import AthenaRules, strict_s3_permissions

    rules = AthenaRules()
    rules.install(monkeypatch)
    strict_s3_permissions(monkeypatch)
    moto = Moto(moto_url, rules)
    moto.api("/moto-api/reset")
    moto.api("/moto-api/state-manager/unset-transition", {"model_name": "athena::execution"})
    moto.s3.create_bucket(Bucket="lake")
    original = elt_aws.client

    def instrumented(session, service):
        # one loader for every session: the service models are read from disk once per test
        # process, not once per command (as a command does once per process anyway)
        if "AWS_DATA_PATH" not in os.environ:  # a test giving models of its own reads them
            session._session.register_component("data_loader", MODELS)
        client = original(session, service)
        moto.instrument(client)
        return client

    monkeypatch.setattr(elt_aws, "client", instrumented)
    monkeypatch.setattr(elt_aws, "throttle_wait", lambda: __import__("tenacity").wait_none())
    return moto


@pytest.fixture
def s3_lake(aws, tmp_path) -> str:
    """The awkward data set uploaded to s3://lake/movielens/."""
    local = make_lake(tmp_path / "upload", AWKWARD_MOVIES, AWKWARD_RATINGS)
    for path in sorted(p for p in local.rglob("*") if p.is_file()):
        aws.put(str(path.relative_to(local)), path.read_bytes())
    return "s3://lake"
