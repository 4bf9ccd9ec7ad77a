"""The lines of raw CSV files that Athena's OpenCSVSerDe and DuckDB's CSV reader take apart
differently, found before the local engine reads them.

Hadoop's text input splits a file at every line break, quotes or not; OpenCSVSerDe then reads
each line as one row: a blank line is a row of NULLs (so a malformed row), and a quoted field
holding a line break splits its row in two ("does not support embedded line breaks":
https://docs.aws.amazon.com/athena/latest/ug/csv-serde.html). DuckDB skips blank lines and
keeps a quoted line break inside its field. So the local engine looks at each file before
the first query of a command that reads it, and answers as Athena would: blank lines are
malformed rows, a line break in a quoted field is refused.

With no escape character (elt's OpenCSVSerDe tables have '\\u0000'), a field is inside quotes
exactly when an odd number of quote characters came before it on its line, so one pass over the
bytes finds both, at the speed of `bytes.count` for a file without any quote character.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass, field

CHUNK = 64 * 1024 * 1024


@dataclass
class Lines:
    blank: list[int] = field(default_factory=list)  # line numbers (1-based) of blank lines
    broken: list[int] = field(default_factory=list)  # lines that end inside a quoted field


def scan(path: str, quote: str) -> Lines:
    """The blank lines and the lines ending inside quotes of one file (gzip or not)."""
    found = Lines()
    q = quote.encode("utf-8")
    opener = gzip.open if path.endswith(".gz") else open
    line, inside, rest = 1, False, b""
    with opener(path, "rb") as f:
        while True:
            chunk = f.read(CHUNK)
            data = rest + chunk
            if not chunk:
                if data:  # a last line without a line break
                    _lines(data, line, inside, q, found, last=True)
                return found
            cut = data.rfind(b"\n") + 1
            data, rest = data[:cut], data[cut:]
            line, inside = _lines(data, line, inside, q, found)


def _lines(data: bytes, line: int, inside: bool, q: bytes, found: Lines, last: bool = False):
    """Whole lines (ending with `\\n`, unless `last`) from line number `line`."""
    if not inside and q not in data:  # the common case: no quotes, so no quoted line breaks
        for blank in (b"\n\n", b"\n\r\n"):
            at = data.find(blank)
            while at >= 0:
                found.blank.append(line + data.count(b"\n", 0, at + 1))
                at = data.find(blank, at + 1)
        if data.startswith((b"\n", b"\r\n")):
            found.blank.append(line)
        found.blank.sort()
        return line + data.count(b"\n"), inside
    for text in data.split(b"\n")[: None if last else -1]:
        if not inside and text in (b"", b"\r"):
            found.blank.append(line)
        if text.count(q) % 2:
            inside = not inside
        if inside:
            found.broken.append(line)
        line += 1
    return line, inside


class Unreadable(Exception):
    """A raw file that cannot be read (a damaged .gz): its path and why."""

    def __init__(self, path: str, reason: str):
        self.path, self.reason = path, reason
        super().__init__(f"{path}: {reason}")


def check(files: list[str], quote: str) -> dict[str, Lines]:
    """Every file's blank and broken lines."""
    import zlib

    found = {}
    for path in files:
        try:
            found[path] = scan(path, quote)
        except (OSError, EOFError, zlib.error) as exc:
            kind = "GZIP file" if path.endswith(".gz") else "file"
            raise Unreadable(path, f"not a readable {kind} ({exc})") from exc
    return found
