"""One writer per lake and database.

A local lake is locked with an OS file lock (released by the kernel if the process dies, even
on kill -9). An s3:// lake is locked with an object created only if absent (If-None-Match: *);
a lock left by a dead run is taken over when its holder ran on this host and is gone, or when
it is older than LOCK_EXPIRY (a conditional write on its ETag, so two runs cannot both win).
"""

from __future__ import annotations

import getpass
import json
import os
import socket
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from elt_cli.errors import EltError

LOCK_EXPIRY = 12 * 3600.0  # a lock this old is stale: generous, runs are stopped long before
POLL = 0.5


def holder() -> dict:
    return {
        "owner": getpass.getuser(),
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "started": time.time(),
        "token": uuid.uuid4().hex,
    }


def describe(info: dict | None) -> str:
    if not info:
        return "another elt run"
    return f"{info.get('owner')}@{info.get('host')} pid {info.get('pid')} since {info.get('since')}"


def held_elsewhere(message: str, info: dict | None, waited: float) -> EltError:
    return EltError(
        f"{message} is locked by {describe(info)} (waited {waited:g}s; "
        "give --wait-lock SECONDS to wait longer)"
    )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class LocalLock:
    def __init__(self, path: Path, what: str):
        self.path, self.what = path, what
        self.file: TextIO | None = None

    def acquire(self, wait: float, sleep=time.sleep) -> None:
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + wait
        while True:
            file = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 (held until release)
            try:
                fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                file.seek(0)
                text = file.read()
                file.close()
                if time.monotonic() >= deadline:
                    try:
                        info = json.loads(text or "null")
                    except ValueError:
                        info = None
                    raise held_elsewhere(self.what, info, wait) from None
                sleep(POLL)
                continue
            # The holder unlinks the file when it releases; a lock on an unlinked file is no lock.
            if self.path.exists() and os.fstat(file.fileno()).st_ino == self.path.stat().st_ino:
                break
            file.close()
        file.seek(0)
        file.truncate()
        file.write(json.dumps(holder()))
        file.flush()
        self.file = file

    def release(self) -> None:
        if self.file is not None:
            self.path.unlink(missing_ok=True)  # unlink before unlocking: see acquire
            self.file.close()  # closing the descriptor releases the flock
            self.file = None


class S3Lock:
    def __init__(self, storage, uri: str, what: str):
        self.storage, self.uri, self.what = storage, uri, what
        self.mine: dict | None = None

    def acquire(self, wait: float, sleep=time.sleep) -> None:
        self.storage.check_conditional_writes()
        me = holder()
        deadline = time.monotonic() + wait
        while True:
            if self.storage.put_if(self.uri, json.dumps(me)):
                self.mine = me
                return
            found = self.storage.read_versioned(self.uri)
            if found is None:
                continue  # released in between: try again at once
            text, etag = found
            try:
                info = json.loads(text)
            except ValueError:
                info = {}
            if self._stale(info, me) and self.storage.put_if(self.uri, json.dumps(me), etag):
                self.mine = me
                return
            if time.monotonic() >= deadline:
                raise held_elsewhere(self.what, info, wait)
            sleep(POLL)

    @staticmethod
    def _stale(info: dict, me: dict) -> bool:
        if time.time() - float(info.get("started", 0)) > LOCK_EXPIRY:
            return True
        same_host = info.get("host") == me["host"]
        return same_host and isinstance(info.get("pid"), int) and not _alive(info["pid"])

    def release(self) -> None:
        if self.mine is None:
            return
        found = self.storage.read_versioned(self.uri)
        if found and json.loads(found[0]).get("token") == self.mine["token"]:
            self.storage.delete(self.uri)
        self.mine = None


@contextmanager
def held(lock, wait: float):
    """Hold `lock` (if any) for the block."""
    if lock is None:
        yield
        return
    lock.acquire(wait)
    try:
        yield
    finally:
        lock.release()


def lock_for(settings, storage):
    what = f"database {settings.database} in lake {settings.lake}"
    uri = settings.layout.state_dir() + "lock"
    if settings.lake.startswith("s3://"):
        return S3Lock(storage, uri + ".json", what)
    return LocalLock(Path(uri), what)
