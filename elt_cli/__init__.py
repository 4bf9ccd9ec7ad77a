"""elt: run a SQL ELT workflow on Amazon Athena or an embedded DuckDB engine."""

__version__ = "0.1.0"
