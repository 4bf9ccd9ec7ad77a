"""The help in the words of the job in use: a command's docstring holds `{fields}` that its
job.toml fills (`{args}`: `--genre Sci-Fi` for MovieLens, `--country Germany` for the web
shop), so `elt --queries examples/webshop run --help` shows that job's options and examples.

It reads job.toml alone (tomllib), for `elt --help` answers at once, before any SQL is read; a
job it cannot read fills what it can (`elt check` says what is wrong).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from elt_cli.errors import TemplateError
from elt_cli.job import JOB_FILE, Parameter, read_text


def fields(folder: Path) -> dict[str, str]:
    """What a docstring's `{fields}` become for the job in `folder`."""
    try:
        data = tomllib.loads(read_text(folder / JOB_FILE))
    except (OSError, TemplateError, tomllib.TOMLDecodeError):
        data = {}
    parameters = [p for p in data.get("parameters", []) if isinstance(p, dict) and "name" in p]
    options = {p["name"]: Parameter(p["name"], "", "", False, None).option for p in parameters}
    examples = [f"{options[p['name']]} {p['example']}" for p in parameters if "example" in p]
    models = [m for m in data.get("models", []) if isinstance(m, dict) and "name" in m]
    return {
        "job": str(data.get("name", folder.name)),
        "description": str(data.get("description", "")).rstrip("."),
        "args": " ".join(examples),
        "parameter": next(iter(options), "NAME"),
        "parameters": ", ".join(options),
        "sources": ", ".join(str(s.get("name")) for s in data.get("sources", [])) or "none",
        "models": ", ".join(
            m["name"] + (f" (one table per {m['per']})" if m.get("per") else "") for m in models
        )
        or "none",
        "finals": ", ".join(f"<lake>/{e.get('path', '')}" for e in data.get("exports", []))
        or "none",
    }


def render(text: str, folder: Path) -> str:
    """The docstring with its fields filled."""
    found = fields(folder)
    return re.sub(r"{(\w+)}", lambda m: found.get(m.group(1), m.group(0)), text)
