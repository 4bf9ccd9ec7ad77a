"""Ctrl-C and SIGTERM as exceptions that unwind elt, so running queries are stopped and
half-built versions discarded on the way out (exit 130 and 143).

SIGINT raises KeyboardInterrupt even when the parent started elt with it ignored (a shell does
so for background jobs), so an interrupt is never a kill that leaves queries running. DuckDB
catches the exception our handler raises inside a running query and reports `RuntimeError:
Query interrupted` instead; `received()` tells which signal that was.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Callable

from elt_cli.errors import Terminated

_received: list[int] = []


def interruption(signum: int) -> BaseException:
    return KeyboardInterrupt() if signum == signal.SIGINT else Terminated()


def _raise(signum, frame):
    _received.append(signum)
    raise interruption(signum)


def received() -> BaseException | None:
    """The exception for the last signal that arrived, if one did (and forget it)."""
    if not _received:
        return None
    signum = _received[-1]
    _received.clear()
    return interruption(signum)


def install() -> Callable[[], None]:
    """Install the handlers; returns what puts the previous ones back."""
    _received.clear()
    try:
        previous = signal.signal(signal.SIGTERM, _raise), signal.signal(signal.SIGINT, _raise)
    except ValueError:  # not the main thread: leave signals alone
        return lambda: None

    def restore() -> None:
        with contextlib.suppress(ValueError, TypeError):
            signal.signal(signal.SIGTERM, previous[0])
            signal.signal(signal.SIGINT, previous[1])

    return restore
