"""Safe to re-run, kill and overlap: each promise of the README's Reliability section."""

from __future__ import annotations

import getpass
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import datetime
from decimal import Decimal

import pytest
from support import FINAL, last_line
from support.data import (
    AWKWARD_MOVIES,
    AWKWARD_RATINGS,
    expected_subset,
    make_lake,
    read_output,
    snapshot,
    write_csv,
)
from support.processes import elt_process, kill_at, slow_build, start_elt

from elt_cli.errors import EltError
from elt_cli.lock import LocalLock, S3Lock
from elt_cli.storage.s3 import S3Storage


def derived(lake) -> dict[str, bytes]:
    """What readers see of a run: table data, catalog, final file (not raw data, not the run
    record, which notes the failed attempt, nor the memory of raw files found clean)."""
    return {
        k: v
        for k, v in snapshot(lake).items()
        if k.startswith(("tables/", "movielens/sci_fi/", "_elt/"))
        and not k.endswith(("run.json", "clean-files.json"))
    }


# -- atomic outputs ----------------------------------------------------------------------------


def test_failing_rebuild_leaves_the_old_outputs_byte_for_byte(elt, awkward_lake):
    assert elt("--lake", awkward_lake, "run", "--genre", "Sci-Fi").exit_code == 0
    before = derived(awkward_lake)
    with (awkward_lake / "movielens/ratings/ratings-1.csv").open("a") as f:
        f.write("7,9,four stars,1000000\n")
    result = elt("--lake", awkward_lake, "run", "--genre", "Sci-Fi")
    assert result.exit_code == 1
    assert derived(awkward_lake) == before
    assert not list((awkward_lake / "export").rglob("*.csv"))


@pytest.fixture(scope="module")
def big_lake(tmp_path_factory):
    """A lake big enough (500,000 ratings) that each step takes a moment, after one good
    run."""
    root = tmp_path_factory.mktemp("big")
    lake = root / "lake"
    for args in (
        ["sample-data", "--ratings", "500000", "--movies", "3000"],
        ["run", "--genre", "Sci-Fi"],
    ):
        done = elt_process("--lake", lake, *args, cwd=root)
        assert done.returncode == 0, done.stderr
    return lake


@pytest.mark.parametrize(
    "moment",
    [
        "create-tables: started",
        "build-subset: started",
        "movie_ratings SUCCEEDED",
        "publish [movie_ratings] SUCCEEDED",
        "subset [Sci-Fi] SUCCEEDED",
        "publish [Sci-Fi] SUCCEEDED",
        "export: started",
        "export [Sci-Fi] SUCCEEDED",
        "move: started",
    ],
)
@pytest.mark.slow
def test_kill_9_at_any_moment_then_a_plain_rerun(big_lake, tmp_path, moment):
    lake = tmp_path / "lake"
    shutil.copytree(big_lake, lake)
    good = (lake / FINAL).read_bytes()
    process = start_elt("--lake", lake, "run", "--genre", "Sci-Fi", cwd=tmp_path)
    assert kill_at(process, moment)
    assert process.returncode == -signal.SIGKILL
    assert (lake / FINAL).read_bytes() == good  # the old file, whole, whenever the kill came
    # ... and the subset table is whole too: exporting it now gives the same file
    for step in ("export", "move"):
        done = elt_process("--lake", lake, step, "--genre", "Sci-Fi", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
    assert (lake / FINAL).read_bytes() == good
    rerun = elt_process("--lake", lake, "run", "--genre", "Sci-Fi", cwd=tmp_path)
    assert rerun.returncode == 0, rerun.stderr
    assert (lake / FINAL).read_bytes() == good
    # what the killed run left behind was cleaned up: every version folder is a table, the
    # published one and at most the one readers saw before it
    tables = json.loads((lake / "_elt/movielens_elt/catalog.json").read_text())["tables"]
    for view in ("movie_ratings", "sci_fi"):
        versions = {p.name for p in (lake / "tables/movielens_elt" / view).iterdir()}
        assert versions == {n.split("__")[1] for n in tables if n.startswith(f"{view}__")}
        assert len(versions) <= 2 and tables[view]["of"].split("__")[1] in versions
    assert [p.name for p in (lake / "export").rglob("*") if p.is_file()] == []


def test_a_local_move_is_a_rename_so_readers_never_see_half_a_file(elt, awkward_lake):
    """os.replace keeps the file (its inode) and swaps the name in one step; a copy then
    delete would write the final file a block at a time."""
    assert elt("--lake", awkward_lake, "run", "--genre", "Sci-Fi").exit_code == 0
    assert elt("--lake", awkward_lake, "export", "--genre", "Sci-Fi").exit_code == 0
    export = awkward_lake / "export/sci_fi/sci_fi.csv"
    inode = export.stat().st_ino
    assert elt("--lake", awkward_lake, "move", "--genre", "Sci-Fi").exit_code == 0
    assert (awkward_lake / FINAL).stat().st_ino == inode and not export.exists()


def test_readers_see_the_previous_complete_version_during_a_rebuild(elt, awkward_lake, tmp_path):
    """A reader of the subset while a rebuild runs (a slow one, about 2 s) gets the previous
    version, whole; once the view switches, the previous version's files are still there."""
    from elt_cli.engines.local import LocalEngine
    from elt_cli.statements import Statement

    def read() -> list:
        engine = LocalEngine(awkward_lake)
        try:
            rows = engine.query(Statement("read", "SELECT * FROM movielens_elt.sci_fi")).rows
        finally:
            engine.close()
        return sorted(rows)

    assert elt("--lake", awkward_lake, "run", "--genre", "Sci-Fi").exit_code == 0
    before = read()
    (previous,) = (awkward_lake / "tables/movielens_elt/sci_fi").iterdir()
    with (awkward_lake / "movielens/ratings/ratings-1.csv").open("a") as f:
        f.write("9,9,1.0,1\n")  # Alien gets another rating
    slow = slow_build(tmp_path, 6_000_000)
    rebuild = start_elt("--lake", awkward_lake, "--queries", slow, "run", "--genre", "Sci-Fi")
    for line in rebuild.stderr:
        if "build-subset: started" in line:
            break
    time.sleep(0.5)
    assert read() == before  # during the rebuild: the previous version, whole
    assert rebuild.wait(timeout=120) == 0
    after = read()
    assert after != before and len(after) == len(before)
    assert any(previous.iterdir())  # kept for a query that was scanning it


# -- resumable runs ----------------------------------------------------------------------------


def test_resume_skips_steps_done_with_unchanged_sql(elt, awkward_lake, tmp_path):
    assert elt("--lake", awkward_lake, "run", "--genre", "Sci-Fi").exit_code == 0
    result = elt("--lake", awkward_lake, "run", "--genre", "Sci-Fi", "--resume")
    assert result.exit_code == 0, result.output
    skipped = [line for line in result.stderr.splitlines() if "skipped, done by" in line]
    assert [line.split()[1] for line in skipped] == [
        "ensure-db:",
        "create-tables:",
        "build-subset:",
        "export:",
        "move:",
    ]

    queries = tmp_path / "queries"
    shutil.copytree(Path_queries(), queries)
    export = queries / "export.sql"
    export.write_text(export.read_text().replace("ORDER BY", "ORDER BY num_ratings DESC,"))
    result = elt(
        "--lake", awkward_lake, "--queries", queries, "run", "--genre", "Sci-Fi", "--resume"
    )
    assert result.exit_code == 0, result.output
    skipped = [line.split()[1] for line in result.stderr.splitlines() if "skipped, done" in line]
    assert skipped == ["ensure-db:", "create-tables:", "build-subset:"]
    rows = read_output(awkward_lake / FINAL)
    assert rows[0]["num_ratings"] == 3  # the changed export ran, and so did move


def Path_queries():
    from elt_cli.templates import packaged_queries

    return packaged_queries()


@pytest.mark.slow
def test_resume_reattaches_to_the_killed_runs_athena_queries(elt, s3_lake, aws):
    assert elt("--lake", s3_lake, "ensure-db").exit_code == 0
    aws.query_time(30)  # the killed run's queries stay QUEUED while it polls them
    env = dict(os.environ)
    process = subprocess.Popen(
        [sys.executable, "-m", "elt_cli", "--lake", s3_lake, "run", "--genre", "Sci-Fi"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while len(aws.athena.list_query_executions()["QueryExecutionIds"]) < 3:  # db, 2 drops
        assert time.monotonic() < deadline and process.poll() is None, process.stderr.read()
        time.sleep(0.05)
    time.sleep(0.3)
    process.send_signal(signal.SIGKILL)
    process.wait()
    killed = aws.athena.list_query_executions()["QueryExecutionIds"]
    drops = [
        q
        for q in killed
        if aws.athena.get_query_execution(QueryExecutionId=q)["QueryExecution"]["Query"].startswith(
            "DROP TABLE"
        )
    ]
    assert len(drops) == 2

    aws.query_time(0.05)
    aws.results = [
        ("SELECT genre", [["genre", "films"], ["Sci-Fi", "10"]]),
        (
            "SELECT movie_id",
            [
                ["movie_id", "title", "year", "avg_rating", "num_ratings"],
                ["9", "Alien", "1979", "3.75", "2"],
            ],
        ),
    ]
    result = elt("--lake", s3_lake, "run", "--genre", "Sci-Fi", "--resume")
    assert result.exit_code == 0, result.output
    assert not [
        q
        for q in aws.queries()
        if q.startswith("DROP TABLE IF EXISTS movielens_elt.m")
        or q.startswith("DROP TABLE IF EXISTS movielens_elt.r")
    ]
    polled = {q for p in aws.sent("BatchGetQueryExecution") for q in p["QueryExecutionIds"]}
    assert set(drops) <= polled
    assert sum("re-attached to query" in line for line in result.stderr.splitlines()) == 2
    assert aws.get("movielens/sci_fi/sci_fi-movies.csv") == (
        b"movie_id,title,year,avg_rating,num_ratings\n9,Alien,1979,3.75,2\n"
    )


def test_a_run_killed_on_one_host_is_taken_over_from_another_within_the_lease(
    elt, s3_lake, aws, monkeypatch
):
    """Airflow retries a task killed with its worker (kill -9, OOM, a lost node) on another
    worker: the retry takes the killed run's lock over once its lease (2 s here) has not been
    renewed, and `--resume` re-attaches to the build the killed run left running."""
    aws.results = [
        ("SELECT genre", [["genre", "films"], ["Sci-Fi", "10"]]),
        ("SELECT movie_id", [["movie_id", "title", "year", "avg_rating", "num_ratings"],
                             ["9", "Alien", "1979", "3.75", "2"]]),
    ]  # fmt: skip
    aws.rules.hold.add("CREATE TABLE movielens_elt.sci_fi__")
    lease = ["--lock-lease", "2"]
    first = start_elt("--lake", s3_lake, *lease, "run", "--genre", "Sci-Fi")
    assert kill_at(first, "subset [Sci-Fi] QUEUED")
    killed = time.monotonic()
    aws.rules.hold.clear()  # the build goes on on Athena and finishes

    monkeypatch.setattr(socket, "gethostname", lambda: "worker-2")
    at_once = elt("--lake", s3_lake, *lease, "run", "--genre", "Sci-Fi", "--resume")
    assert at_once.exit_code == 1
    assert "its lease was renewed" in last_line(at_once)
    assert "taken over once not renewed for 2s" in last_line(at_once)

    retry = elt("--lake", s3_lake, *lease, "--wait-lock", "30", "run", "--genre", "Sci-Fi",
                "--resume")  # fmt: skip
    assert retry.exit_code == 0, retry.output
    takeover, *renewals = [
        t for t, (op, p) in zip(aws.times, aws.calls, strict=True)
        if op == "PutObject" and p["Key"].endswith("lock.json") and "IfMatch" in p
    ]  # fmt: skip
    # not before the lease ran out (its last renewal came up to a sixth of it before the kill,
    # and S3 dates its objects to the second), nor long after: a poll later
    assert 2 - 2 / 6 - 1 <= takeover - killed < 2 + 1 + 1
    assert "re-attached to query" in retry.stderr
    assert aws.get("movielens/sci_fi/sci_fi-movies.csv").endswith(b"9,Alien,1979,3.75,2\n")
    assert "_elt/movielens_elt/lock.json" not in aws.keys()


# -- one writer per lake -----------------------------------------------------------------------


def test_second_local_run_exits_naming_the_holder(elt, awkward_lake):
    lock = LocalLock(awkward_lake / "_elt/movielens_elt/lock", "x")
    lock.acquire(0)
    try:
        result = elt("--lake", awkward_lake, "run", "--genre", "Sci-Fi")
        assert result.exit_code == 1
        assert last_line(result).startswith(
            f"Error: database movielens_elt in lake {awkward_lake} is locked by "
        )
        assert f"@{socket.gethostname()} pid {os.getpid()} since " in last_line(result)
        assert last_line(result).endswith("(waited 0s; give --wait-lock SECONDS to wait longer)")
        assert not (awkward_lake / FINAL).exists()
        threading.Timer(0.5, lock.release).start()
        result = elt("--lake", awkward_lake, "--wait-lock", "10", "run", "--genre", "Sci-Fi")
        assert result.exit_code == 0, result.output
    finally:
        lock.release()
    assert not (awkward_lake / "_elt/movielens_elt/lock").exists()  # released on the way out


@pytest.mark.slow
def test_a_second_local_run_gives_up_or_waits_its_turn(awkward_lake, tmp_path):
    """While one run builds (a slow build: about 2 s), a second one with --wait-lock 0 exits 1
    naming the holder; one with --wait-lock 60 starts only once the first is done."""
    slow = slow_build(tmp_path, 6_000_000)
    first = start_elt("--lake", awkward_lake, "--queries", slow, "run", "--genre", "Sci-Fi")
    for line in first.stderr:
        if "build-subset: started" in line:
            break
    impatient = elt_process("--lake", awkward_lake, "run", "--genre", "Sci-Fi", cwd=tmp_path)
    assert impatient.returncode == 1
    assert f"is locked by {getpass.getuser()}@{socket.gethostname()} pid {first.pid} since " in (
        impatient.stderr
    )
    patient = start_elt(
        "--lake", awkward_lake, "--wait-lock", "60", "run", "--genre", "Sci-Fi", cwd=tmp_path
    )
    rest = first.stderr.read()
    assert first.wait(timeout=120) == 0, rest
    _, log = patient.communicate(timeout=120)
    assert patient.returncode == 0, log
    first_ended = datetime.fromisoformat(rest.splitlines()[-1].split()[0])
    second_started = datetime.fromisoformat(log.splitlines()[0].split()[0])
    assert second_started >= first_ended.replace(microsecond=0)
    assert read_output(awkward_lake / FINAL) == expected_subset(awkward_lake, "Sci-Fi")


def test_s3_lock_held_by_a_live_run_is_respected(elt, s3_lake, aws):
    aws.put(
        "_elt/movielens_elt/lock.json",
        json.dumps(
            {
                "owner": "alice",
                "host": "other-host",
                "pid": 4242,
                "since": "2026-11-25T01:00:00Z",
                "started": time.time(),
                "token": "t",
            }
        ).encode(),
    )
    result = elt("--lake", s3_lake, "run", "--genre", "Sci-Fi")
    assert result.exit_code == 1
    assert re.fullmatch(
        r"Error: database movielens_elt in lake s3://lake is locked by alice@other-host pid 4242 "
        r"since 2026-11-25T01:00:00Z; its lease was renewed [01]s ago and is taken over once not "
        r"renewed for 180s \(waited 0s; give --wait-lock SECONDS to wait longer\)",
        last_line(result),
    )
    assert aws.queries() == []


@pytest.mark.parametrize(
    ("stale", "after"),
    [
        ({"host": socket.gethostname(), "pid": 2**22 + 7, "started": time.time()}, 0),  # dead
        ({"host": "other-host", "pid": 1, "started": time.time(), "lease": 1}, 2.2),  # expired
    ],
    ids=["holder-gone-from-this-host", "lease-not-renewed"],
)
def test_stale_s3_lock_is_taken_over_and_released(elt, s3_lake, aws, stale, after):
    aws.results = [("SELECT genre", [["genre", "films"], ["Sci-Fi", "10"]])]
    aws.put("_elt/movielens_elt/lock.json", json.dumps({**stale, "token": "old"}).encode())
    time.sleep(after)  # S3 dates the lock to the second
    result = elt("--lake", s3_lake, "ensure-db")
    assert result.exit_code == 0, result.output
    assert "_elt/movielens_elt/lock.json" not in aws.keys()
    takeovers = [p for p in aws.sent("PutObject") if p["Key"].endswith("lock.json")]
    assert len(takeovers) == 2 and "IfMatch" in takeovers[1]  # the one it found, replaced


def s3_lock(moto_url, lease: float = 180.0) -> S3Lock:
    import boto3

    client = boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1")
    storage = S3Storage(lambda uri: "/_elt/" in uri, None, client=client)
    return S3Lock(storage, "s3://lake/_elt/db/lock.json", "db", lease)


def test_a_held_lease_is_renewed_and_never_taken_over(aws, moto_url):
    holder, other = s3_lock(moto_url, lease=1.5), s3_lock(moto_url, lease=1.5)
    holder.acquire(0)
    try:
        first = aws.s3.head_object(Bucket="lake", Key="_elt/db/lock.json")["ETag"]
        with pytest.raises(EltError, match=r"taken over once not renewed for 1\.5s"):
            other.acquire(3.5)  # more than twice the lease: it is renewed all along
        assert aws.s3.head_object(Bucket="lake", Key="_elt/db/lock.json")["ETag"] != first
        holder.check()  # still ours
    finally:
        holder.release()
    assert aws.keys("_elt/") == []


def test_a_holder_whose_lease_was_taken_over_stops_before_publishing(aws, moto_url):
    holder = s3_lock(moto_url, lease=1.2)
    holder.acquire(0)
    theirs = {"owner": "bob", "host": "h", "pid": 1, "lease": 180, "token": "theirs"}
    aws.put("_elt/db/lock.json", json.dumps(theirs).encode())  # as a takeover writes it
    time.sleep(0.6)  # a renewal (every 0.2 s) finds it
    with pytest.raises(EltError, match=r"^lost the lock on db \(another run took it over; "):
        holder.check()
    holder.release()
    assert json.loads(aws.get("_elt/db/lock.json"))["token"] == "theirs"  # not ours to delete


def test_a_holder_that_cannot_renew_its_lease_stops_before_publishing(aws, moto_url):
    holder = s3_lock(moto_url, lease=1.2)
    holder.acquire(0)

    def unreachable(*args, **kwargs):
        raise EltError("cannot write s3://lake/_elt/db/lock.json: cannot reach S3")

    holder.storage.put_if = unreachable  # S3 out of reach from here on
    time.sleep(1.5)
    with pytest.raises(EltError, match=r"could not be renewed for \d+s; the lease is 1\.2s"):
        holder.check()
    holder.release()


def test_s3_lock_admits_one_of_two_at_once(aws, moto_url):
    first, second = s3_lock(moto_url), s3_lock(moto_url)
    first.acquire(0)
    with pytest.raises(EltError, match=r"^db is locked by .* \(waited 0\.6s; give --wait-lock"):
        second.acquire(0.6)
    first.release()
    second.acquire(0)
    second.release()
    assert aws.keys("_elt/") == []


def test_an_s3_lock_is_released_only_by_the_run_that_holds_it(aws, moto_url):
    """A run whose lock was taken over (its lease ran out, or its holder seemed dead) must not
    delete the new holder's lock when it ends."""
    lock = s3_lock(moto_url)
    lock.acquire(0)
    theirs = {"owner": "bob", "host": "h", "pid": 1, "started": time.time(), "token": "theirs"}
    aws.put("_elt/db/lock.json", json.dumps(theirs).encode())
    lock.release()
    assert json.loads(aws.get("_elt/db/lock.json"))["token"] == "theirs"


# -- hostile and broken input ------------------------------------------------------------------

HOSTILE = [
    "Rock'n'Roll",
    "Semi;colon",
    "Back\\slash",
    "Sci-Fi\\",
    "-- comment",
    "/* c */",
    "Tab\tand\x01",
    "Sci-Fi'); DROP TABLE movielens_elt.movies; --",
]


def test_hostile_genres_are_literal_text_end_to_end(elt, tmp_path):
    movies = [(i + 1, f"Film {i} ({2000 + i})", genre) for i, genre in enumerate(HOSTILE)]
    lake = make_lake(tmp_path / "lake", movies, [(1, i + 1, 4.0) for i in range(len(HOSTILE))])
    for i, genre in enumerate(HOSTILE):
        result = elt("--lake", lake, "--json", "run", "--genre", genre)
        assert result.exit_code == 0, (genre, result.output)
        final = json.loads(result.stdout)["outputs"][-1]["uri"]
        assert [r["movie_id"] for r in read_output(__import__("pathlib").Path(final))] == [i + 1]


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--database", "x; DROP DATABASE y", "run", "--genre", "Sci-Fi"], 2),
        (["--database", "a" * 200, "ensure-db"], 2),
        (["--source-prefix", "../outside", "run", "--genre", "Sci-Fi"], 2),
        (["--source-prefix", "tables", "run", "--genre", "Sci-Fi"], 2),
        (["build-subset", "--genre", "x" * 1000], 2),
        (["build-subset", "--genre", "Not In The Data"], 2),
        (["build-subset", "--genre", "Ratings"], 2),
    ],
)
def test_hostile_input_changes_nothing(elt, awkward_lake, args, code):
    elt("--lake", awkward_lake, "run", "--genre", "Comedy")
    before = snapshot(awkward_lake)
    result = elt("--lake", awkward_lake, *args)
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    assert snapshot(awkward_lake) == before


def test_lake_path_with_a_quote_is_refused(elt, tmp_path):
    lake = make_lake(tmp_path / "it's" / "lake", AWKWARD_MOVIES, AWKWARD_RATINGS)
    before = snapshot(lake)
    result = elt("--lake", lake, "run", "--genre", "Sci-Fi")
    assert result.exit_code == 2
    assert "must not hold quotes" in last_line(result)
    assert snapshot(lake) == before


def bad_ratings_lake(tmp_path):
    lake = make_lake(tmp_path / "lake", AWKWARD_MOVIES, AWKWARD_RATINGS)
    write_csv(
        lake / "movielens/ratings/bad.csv",
        ["userId", "movieId", "rating", "timestamp"],
        [(5, 9, "3.0", 1), (5, 9, "four", 2), (5, 9), (5, 10, "4.5", 3)],
    )
    return lake


def test_malformed_rows_are_an_error_naming_the_file(elt, tmp_path):
    lake = bad_ratings_lake(tmp_path)
    result = elt("--lake", lake, "run", "--genre", "Sci-Fi")
    assert result.exit_code == 1
    assert last_line(result) == (
        f"Error: movie_ratings failed: 2 malformed row(s) in the raw data, first "
        f"{lake}/movielens/ratings/bad.csv line 3, column rating: 'four' is not a DOUBLE "
        "('5,9,four,2'); fix the file, or give --skip-bad-rows to skip and count them"
    )
    assert not (lake / FINAL).exists()


def test_skip_bad_rows_skips_and_counts(elt, tmp_path):
    lake = bad_ratings_lake(tmp_path)
    result = elt("--lake", lake, "--json", "run", "--genre", "Sci-Fi", "--skip-bad-rows")
    assert result.exit_code == 0, result.output
    notes = json.loads(result.stdout)["notes"]
    assert notes == [
        f"movie_ratings: skipped 2 malformed row(s), first {lake}/movielens/ratings/"
        "bad.csv line 3, column rating: 'four' is not a DOUBLE ('5,9,four,2')"
    ]
    (bad := lake / "movielens/ratings/bad.csv").write_text(
        "userId,movieId,rating,timestamp\n5,9,3.0,1\n5,10,4.5,3\n"
    )
    expected = expected_subset(lake, "Sci-Fi")  # the good rows only
    rows = read_output(lake / FINAL)
    assert rows == expected
    assert [r["avg_rating"] for r in rows if r["movie_id"] == 9] == [Decimal("3.5")]
    assert bad.exists()


def test_a_ratings_row_with_too_many_fields_is_malformed(elt, tmp_path):
    lake = make_lake(tmp_path / "lake", AWKWARD_MOVIES, AWKWARD_RATINGS)
    write_csv(
        lake / "movielens/ratings/long.csv",
        ["userId", "movieId", "rating", "timestamp"],
        [(5, 9, "3.0", 1, "extra")],
    )
    result = elt("--lake", lake, "run", "--genre", "Sci-Fi")
    assert result.exit_code == 1
    assert last_line(result) == (
        f"Error: movie_ratings failed: 1 malformed row(s) in the raw data, first "
        f"{lake}/movielens/ratings/long.csv line 2: 5 fields where the table has 4 "
        "('5,9,3.0,1,extra'); fix the file, or give --skip-bad-rows to skip and count them"
    )


def test_an_empty_rating_is_malformed_not_a_silent_null(elt, tmp_path):
    """count(*) would count a rating read as NULL, and the average would be wrong: an empty
    field in a number column is not a number (Athena's OpenCSVSerDe reads it as invalid, so
    NULL, which elt's guard refuses); the local engine refuses it too, naming the line."""
    lake = make_lake(tmp_path / "lake", AWKWARD_MOVIES, AWKWARD_RATINGS)
    empty = lake / "movielens/ratings/empty.csv"
    empty.write_text("userId,movieId,rating,timestamp\n5,9,,1\n6,9,,2\n")
    result = elt("--lake", lake, "run", "--genre", "Sci-Fi")
    assert result.exit_code == 1
    assert last_line(result) == (
        f"Error: movie_ratings failed: 2 malformed row(s) in the raw data, first {empty} line "
        "2, column rating: empty, not a DOUBLE ('5,9,,1'); fix the file, or give "
        "--skip-bad-rows to skip and count them"
    )
    result = elt("--lake", lake, "run", "--genre", "Sci-Fi", "--skip-bad-rows")
    assert result.exit_code == 0, result.output
    assert f"movie_ratings: skipped 2 malformed row(s), first {empty} line 2" in result.stderr
    empty.unlink()
    assert read_output(lake / FINAL) == expected_subset(lake, "Sci-Fi")


def test_backslashes_in_titles_arrive_intact(elt, tmp_path):
    movies = [(1, "Back\\slash \\n Story (2001)", "Sci-Fi"), (2, 'Slash\\"Quote (2002)', "Sci-Fi")]
    lake = make_lake(tmp_path / "lake", movies, [(1, 1, 4.0), (1, 2, 3.0)])
    assert elt("--lake", lake, "run", "--genre", "Sci-Fi").exit_code == 0
    titles = [r["title"] for r in read_output(lake / FINAL)]
    assert titles == ['Slash\\"Quote', "Back\\slash \\n Story"]


def test_a_csv_table_with_opencsvserdes_default_escape_is_refused(elt, awkward_lake, tmp_path):
    """OpenCSVSerDe's default escape character, the backslash, drops characters on Athena,
    which the local engine cannot reproduce: refused before anything changes."""
    queries = tmp_path / "queries"
    shutil.copytree(Path_queries(), queries)
    ddl = queries / "movies.sql"
    ddl.write_text(ddl.read_text().replace(", 'escapeChar' = '\\u0000'", ""))
    before = snapshot(awkward_lake)
    result = elt("--lake", awkward_lake, "--queries", queries, "run", "--genre", "Sci-Fi")
    assert result.exit_code == 2
    assert last_line(result) == (
        f"Error: {ddl}: OpenCSVSerde's escape character (by "
        "default the backslash) drops characters from the data on Athena; add 'escapeChar' = "
        "'\\u0000' to its SERDEPROPERTIES to read every character as written"
    )
    assert snapshot(awkward_lake) == before


def test_genres_refuses_or_skips_malformed_movies_rows(elt, tmp_path):
    lake = make_lake(tmp_path / "lake", AWKWARD_MOVIES, AWKWARD_RATINGS)
    (lake / "movielens/movies/more.csv").write_text("movieId,title,genres\n77,Short Row\n")
    refused = elt("--lake", lake, "genres")
    assert refused.exit_code == 1
    assert last_line(refused).startswith(
        f"Error: list_genres failed: 1 malformed row(s) in the raw data, first "
        f"{lake}/movielens/movies/more.csv line 2"
    )
    skipped = elt("--lake", lake, "genres", "--skip-bad-rows")
    assert skipped.exit_code == 0, skipped.output
    assert "Sci-Fi\t9\n" in skipped.stdout
    assert f"list_genres: skipped 1 malformed row(s), first {lake}/movielens/movies/more.csv" in (
        skipped.stderr
    )


def test_bad_gzip_member_names_the_file(elt, awkward_lake):
    gz = awkward_lake / "movielens/ratings/part-2/ratings-2.csv.gz"
    gz.write_bytes(gz.read_bytes()[:20])
    result = elt("--lake", awkward_lake, "run", "--genre", "Sci-Fi")
    assert result.exit_code == 1
    assert str(gz) in last_line(result) and "GZIP" in last_line(result)


# -- secrets -----------------------------------------------------------------------------------


def test_no_secret_is_ever_printed(elt, s3_lake, aws, monkeypatch):
    secret = "wJalrXUtnFEMI-SECRET-K7MDENG"
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    monkeypatch.setenv("AWS_SESSION_TOKEN", "TOKEN-" + secret)
    aws.errors["GetDatabase"] = ("AccessDeniedException", "not authorized")
    denied = "cannot look up database movielens_elt: access denied (AccessDeniedException"
    for args, code, expected in (
        (["--debug", "ensure-db"], 1, denied),
        (["--json", "ensure-db"], 1, denied),
        (["config"], 0, "lake\ts3://lake\tflag"),
        (["--debug", "--dry-run", "run", "--genre", "Sci-Fi"], 1, denied),
    ):
        result = elt("--lake", "s3://lake", *args)
        assert result.exit_code == code, (args, result.output)
        assert expected in result.output, (args, result.output)
        assert "Traceback" in result.stderr or "--debug" not in args  # the traceback was there
        assert secret not in result.output, args


@pytest.mark.slow
def test_two_runs_at_once_on_an_s3_lake_take_turns(elt, s3_lake, aws):
    assert elt("--lake", s3_lake, "ensure-db").exit_code == 0
    aws.query_time(0.2)
    env = dict(os.environ)
    args = [
        sys.executable,
        "-m",
        "elt_cli",
        "--lake",
        s3_lake,
        "--wait-lock",
        "60",
        "create-tables",
    ]
    runs = [subprocess.Popen(args, env=env, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    for run in runs:
        _, stderr = run.communicate(timeout=120)
        assert run.returncode == 0, stderr
    executions = sorted(aws.executions()[1:], key=lambda e: e["Status"]["SubmissionDateTime"])
    assert len(executions) == 8  # 2 runs x (2 drops + 2 creates)
    # the runs took turns: had they overlapped, their DROPs and CREATEs would interleave
    assert [e["Query"].split()[0] for e in executions] == ["DROP", "DROP", "CREATE", "CREATE"] * 2
    assert "_elt/movielens_elt/lock.json" not in aws.keys()
