"""elt as a separate process, as cron, a terminal or Airflow runs it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path


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
    with `multiply` numbers (twenty million: about 7 s here). Long enough to be interrupted,
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
    from support.moto_athena import starts as starts_

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
