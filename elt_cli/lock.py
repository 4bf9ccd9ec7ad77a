"""One writer per lake and database.

A local lake is locked with an OS file lock (released by the kernel if the process dies, even
on kill -9). An s3:// lake is locked with a lease: an object created only if absent
(If-None-Match: *) that its holder rewrites every sixth of the lease (If-Match on its ETag)
while it runs. A lease not renewed for its length (--lock-lease, 180 s: a run killed with
kill -9, an OOM, a lost node) is taken over from any host, by a conditional write on its ETag,
so two runs cannot both win; one whose holder ran on this host and is gone, at once. Its age
is S3's: the time since it was last written, by S3's clock (hosts' clocks may differ).

A holder that could not renew its lease for its length, or finds it taken over, may have been
presumed dead: `check` refuses to go on before anything is published.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from elt_cli.errors import EltError

LEASE = 180.0  # seconds an S3 lock outlives a holder that stopped renewing it
POLL = 0.5


def holder(lease: float = LEASE) -> dict:
    return {
        "owner": getpass.getuser(),
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "started": time.time(),
        "lease": lease,
        "token": uuid.uuid4().hex,
    }


def describe(info: dict | None) -> str:
    if not info:
        return "another elt run"
    return f"{info.get('owner')}@{info.get('host')} pid {info.get('pid')} since {info.get('since')}"


def held_elsewhere(
    message: str, info: dict | None, waited: float, age: float | None = None
) -> EltError:
    lease = ""
    if age is not None and info:
        lease = (
            f"; its lease was renewed {age:.0f}s ago and is taken over once not renewed for "
            f"{float(info.get('lease', LEASE)):g}s"
        )
    return EltError(
        f"{message} is locked by {describe(info)}{lease} (waited {waited:g}s; "
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

    def check(self) -> None:
        """A file lock stays ours until released (the kernel releases it only if we die)."""

    def release(self) -> None:
        if self.file is not None:
            self.path.unlink(missing_ok=True)  # unlink before unlocking: see acquire
            self.file.close()  # closing the descriptor releases the flock
            self.file = None


class S3Lock:
    def __init__(self, storage, uri: str, what: str, lease: float = LEASE):
        self.storage, self.uri, self.what, self.lease = storage, uri, what, lease
        self.mine: dict | None = None
        self.etag = ""
        self.renewed = 0.0  # time.monotonic() of the last renewal that S3 took
        self.lost = ""  # why the lease is no longer ours, once it is not
        self.stop = threading.Event()
        self.renewer: threading.Thread | None = None

    def acquire(self, wait: float, sleep=time.sleep) -> None:
        self.storage.check_conditional_writes()
        me = holder(self.lease)
        deadline = time.monotonic() + wait
        while True:
            etag = self.storage.put_if(self.uri, json.dumps(me))
            if etag:
                return self._hold(me, etag)
            found = self.storage.read_versioned(self.uri)
            if found is None:
                continue  # released in between: try again at once
            try:
                info = json.loads(found.text)
            except ValueError:
                info = {}
            if self._stale(info, found.age, me):
                etag = self.storage.put_if(self.uri, json.dumps(me), found.etag)
                if etag:
                    return self._hold(me, etag)
            if time.monotonic() >= deadline:
                raise held_elsewhere(self.what, info, wait, found.age)
            sleep(POLL)

    @staticmethod
    def _stale(info: dict, age: float, me: dict) -> bool:
        try:
            lease = float(info.get("lease", LEASE))
        except (TypeError, ValueError):
            lease = LEASE
        if age > lease:
            return True
        same_host = info.get("host") == me["host"]
        return same_host and isinstance(info.get("pid"), int) and not _alive(info["pid"])

    def _hold(self, me: dict, etag: str) -> None:
        self.mine, self.etag, self.renewed, self.lost = me, etag, time.monotonic(), ""
        self.stop.clear()
        self.renewer = threading.Thread(target=self._renew, name="elt-lock-lease", daemon=True)
        self.renewer.start()

    def _renew(self) -> None:
        """Rewrite the lease every sixth of its length, while it is ours."""
        while not self.stop.wait(self.lease / 6):
            mine = self.mine
            if mine is None:
                return
            renewed = {**mine, "renewed": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
            try:
                etag = self.storage.put_if(self.uri, json.dumps(renewed), self.etag)
            except EltError:
                continue  # S3 unreachable for now: `check` tells once the lease has run out
            if etag is None:
                self.lost = "another run took it over"
                return
            self.etag, self.renewed = etag, time.monotonic()

    def check(self) -> None:
        """Raise unless the lease is still ours: before anything is published."""
        if self.mine is None:
            return
        late = time.monotonic() - self.renewed
        if not self.lost and late > self.lease:
            self.lost = f"it could not be renewed for {late:.0f}s"
        if self.lost:
            raise EltError(
                f"lost the lock on {self.what} ({self.lost}; the lease is {self.lease:g}s): "
                "stopped before publishing anything more; run again"
            )

    def release(self) -> None:
        if self.mine is None:
            return
        self.stop.set()
        if self.renewer is not None:
            self.renewer.join()
        found = self.storage.read_versioned(self.uri)
        if found and json.loads(found.text).get("token") == self.mine["token"]:
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
        return S3Lock(storage, uri + ".json", what, settings.lock_lease)
    return LocalLock(Path(uri), what)
