"""What the tests share besides their fixtures (conftest.py): awkward lakes and the contract
(data), elt as a process (processes), moto made as strict as AWS (moto_athena, aws), and the
small helpers every test file uses."""

from __future__ import annotations

# The MovieLens job's final file for Sci-Fi, relative to the lake.
FINAL = "movielens/sci_fi/sci_fi-movies.csv"


def last_line(result) -> str:
    """The last line a command wrote on stderr: its error, or its closing line."""
    return result.stderr.strip().splitlines()[-1]
