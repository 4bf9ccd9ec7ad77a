"""Ctrl-C and SIGTERM while a local query runs, with real processes and real signals: the
exit codes of the contract (130, 143), the query shown INTERRUPTED, the half-built version
discarded and said so, the published outputs untouched; and, at a terminal, the live view
showing the query while it runs."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time

import pytest
from support.data import AWKWARD_MOVIES, AWKWARD_RATINGS, make_lake, snapshot
from support.processes import slow_build


@pytest.fixture
def slow_queries(tmp_path):
    return slow_build(tmp_path, 16_000_000)  # about 6 s


@pytest.fixture
def built_lake(tmp_path, elt):
    lake = make_lake(tmp_path / "lake", AWKWARD_MOVIES, AWKWARD_RATINGS)
    assert elt("--lake", lake, "run", "--genre", "Sci-Fi").exit_code == 0
    return lake


def env() -> dict:
    return dict(os.environ)


@pytest.mark.parametrize(
    ("signum", "code", "word"),
    [(signal.SIGTERM, 143, "terminated"), (signal.SIGINT, 130, "interrupted")],
)
@pytest.mark.slow
def test_a_signal_during_a_local_query_exits_with_its_code_and_discards_the_build(
    built_lake, slow_queries, tmp_path, signum, code, word
):
    lake = built_lake
    before = {k: v for k, v in snapshot(lake).items() if "run.json" not in k}
    process = subprocess.Popen(
        [sys.executable, "-m", "elt_cli", "--lake", lake, "--queries", slow_queries,
         "--json", "run", "--genre", "Sci-Fi"],
        cwd=tmp_path, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    for line in process.stderr:
        if "build-subset: started" in line:
            break
    time.sleep(1.0)  # the build's query runs now (for about 6 s)
    process.send_signal(signum)
    stdout, rest = process.communicate(timeout=60)
    assert process.returncode == code, rest
    lines = rest.splitlines()
    assert lines[-1] == f"Error: {word}; run it again with --resume to pick up where it stopped"
    assert " build-subset: movie_ratings INTERRUPTED in " in rest
    closing = r" Interrupted after [\d.]+ s: 2 queries, 0 failed, 1 interrupted$"
    assert re.search(closing, rest, re.MULTILINE)
    document = json.loads(stdout)  # #21 item 4: interrupted, not failed
    assert (document["status"], document["steps"][-1]["status"]) == ("interrupted",) * 2
    assert document["total"]["failed"] == 0
    assert "FAILED" not in rest
    discarded = [line for line in lines if "discarded the half-built version" in line]
    assert len(discarded) == 1 and discarded[0].endswith(
        "; the published movie_ratings, if any, is unchanged"
    )
    assert {k: v for k, v in snapshot(lake).items() if "run.json" not in k} == before
    assert not (lake / "_elt/movielens_elt/lock").exists()  # the lock was released


@pytest.mark.slow
def test_the_live_view_shows_a_long_local_query_running(built_lake, slow_queries, tmp_path):
    """At a terminal (a pseudo-terminal of 80 x 24 here) the live view shows the query with
    its state while it runs; Ctrl-C then stops it with 130."""
    master, slave = pty.openpty()
    os.set_inheritable(slave, True)
    process = subprocess.Popen(
        [sys.executable, "-m", "elt_cli", "--lake", built_lake, "--queries", slow_queries,
         "run", "--genre", "Sci-Fi"],
        cwd=tmp_path, env={**env(), "COLUMNS": "80", "LINES": "24", "TERM": "xterm"},
        stdin=slave, stdout=slave, stderr=slave, close_fds=True,
    )  # fmt: skip
    os.close(slave)
    screen = b""

    def read(seconds: float) -> None:
        nonlocal screen
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if select.select([master], [], [], 0.05)[0]:
                try:
                    screen += os.read(master, 65536)
                except OSError:  # the process is gone
                    return

    read(3.0)  # start-up, the quick steps, and into the build's query
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen.decode(errors="replace"))
    assert re.search(r"  movie_ratings +\d+\.\ds +RUNNING", text), text[-2000:]
    process.send_signal(signal.SIGINT)
    read(0.0)
    while process.poll() is None:
        read(0.2)  # keep the terminal drained, or the live view blocks writing to it
    assert process.returncode == 130
    os.close(master)
