"""The help in the words of the job in use: a command's docstring holds `{fields}` that its
job.toml fills (`{args}`: `--genre Sci-Fi` for MovieLens, `--country Germany` for the web
shop), so `elt --queries examples/webshop run --help` shows that job's options and examples.

It reads job.toml alone (job.read_job: the SQL is not parsed), for `elt --help` answers at once
and for a job whose SQL is broken; a job.toml with an error gets the general words (`elt check`
says what is wrong).
"""

from __future__ import annotations

import re
from pathlib import Path

from elt_cli.errors import TemplateError
from elt_cli.job import read_job


def fields(folder: Path) -> dict[str, str]:
    """What a docstring's `{fields}` become for the job in `folder`."""
    try:
        spec = read_job(folder)
    except (OSError, TemplateError):
        return {
            "job": folder.name,
            "description": "",
            "args": "",
            "parameter": "NAME",
            "parameters": "",
            "sources": "none",
            "models": "none",
            "finals": "none",
        }
    return {
        "job": spec.name,
        "description": spec.description.rstrip("."),
        "args": " ".join(f"{p.option} {p.example}" for p in spec.parameters.values() if p.example),
        "parameter": next(iter(spec.parameters), "NAME"),
        "parameters": ", ".join(spec.parameters),
        "sources": ", ".join(spec.sources) or "none",
        "models": ", ".join(
            m.name + (f" (one table per {m.per})" if m.per else "") for m in spec.models
        )
        or "none",
        "finals": ", ".join(f"<lake>/{e.path}" for e in spec.exports) or "none",
    }


def render(text: str, found: dict[str, str]) -> str:
    """The docstring with its fields filled."""
    return re.sub(r"{(\w+)}", lambda m: found.get(m.group(1), m.group(0)), text)
