"""Settings: one frozen dataclass, resolved flag > env var > config file > default.

click does the resolution (the config file is its `default_map`); this module reads the file,
checks the values and derives the defaults that depend on other settings.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from elt_cli.errors import BadInput
from elt_cli.layout import Layout
from elt_cli.templates import identifier

# elt.toml keys (also the names of the global options they default).
CONFIG_KEYS = (
    "engine",
    "lake",
    "database",
    "source_prefix",
    "results",
    "workgroup",
    "region",
    "profile",
    "queries",
    "timeout",
    "poll_max",
    "wait_lock",
)
DEFAULT_CONFIG = "elt.toml"
# Settings that matter only on Athena (`elt config` leaves them out for a local lake).
ATHENA_ONLY = ("results", "workgroup", "region", "profile", "poll_max")
# Top-level lake folders the tool writes to; raw data must not live under them.
_RESERVED_PREFIXES = ("tables", "export", "_elt", "athena-results")


def read_config_file(path: Path) -> dict:
    """The [tool.elt] table of a pyproject.toml, or the whole of an elt.toml."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BadInput(f"cannot read config file {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise BadInput(f"{path} is not valid TOML: {exc}") from exc
    if path.name == "pyproject.toml":
        data = data.get("tool", {}).get("elt", {})
    for key in data:
        if key not in CONFIG_KEYS:
            close = difflib.get_close_matches(key, CONFIG_KEYS, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(CONFIG_KEYS)}"
            raise BadInput(f"{path}: unknown setting {key!r}; {hint}")
    return data


@dataclass(frozen=True)
class Settings:
    lake: str  # s3://bucket[/prefix] or an absolute local folder, no trailing slash
    engine: str
    database: str = "movielens_elt"
    source_prefix: str = "movielens"
    results: str = ""
    workgroup: str = "primary"
    region: str | None = None
    profile: str | None = None
    queries: Path | None = None
    timeout: float = 1800.0
    poll_max: float = 5.0
    wait_lock: float = 0.0
    debug: bool = False
    sources: dict[str, str] = field(default_factory=dict, compare=False)

    @classmethod
    def build(cls, *, lake: str, engine: str | None, results: str | None, **values) -> Settings:
        """Check every value and fill in the defaults that depend on the lake."""
        lake = normalize_lake(lake)
        is_s3 = lake.startswith("s3://")
        engine = engine or ("athena" if is_s3 else "local")
        if engine == "local" and is_s3:
            raise BadInput("the local engine needs a local lake folder, not an s3:// URI")
        if engine == "athena" and not is_s3:
            raise BadInput("the athena engine needs an s3://bucket[/prefix] lake")
        identifier(values["database"], "database name")
        check_source_prefix(values["source_prefix"])
        results = results or (lake + "/athena-results/")
        if is_s3 and not results.startswith("s3://"):
            raise BadInput(f"--results must be an s3:// URI, not {results!r}")
        values = {k: v for k, v in values.items() if v is not None}
        return cls(lake=lake, engine=engine, results=results.rstrip("/") + "/", **values)

    @property
    def layout(self) -> Layout:
        return Layout(self.lake, self.database)

    def layout_for(self, raw_locations) -> Layout:
        """The layout with the job's raw files, which are never deleted under."""
        return Layout(self.lake, self.database, tuple(raw_locations))


def normalize_lake(lake: str) -> str:
    if lake.startswith("s3://"):
        match = re.fullmatch(r"s3://([a-z0-9][a-z0-9.\-]{1,61}[a-z0-9])(/[^\s]*)?", lake)
        if not match:
            raise BadInput(f"invalid lake {lake!r}: expected s3://bucket[/prefix]")
        prefix = "/".join(p for p in (match.group(2) or "").split("/") if p)
        return f"s3://{match.group(1)}" + (f"/{prefix}" if prefix else "")
    if "://" in lake:
        raise BadInput(f"invalid lake {lake!r}: expected s3://bucket[/prefix] or a local folder")
    path = Path(lake).expanduser().resolve()
    if path.exists() and not path.is_dir():
        raise BadInput(f"lake {lake} is a file, not a folder")
    return str(path)


def check_source_prefix(prefix: str) -> None:
    parts = prefix.strip("/").split("/")
    if (
        not prefix.strip("/")
        or any(not re.fullmatch(r"[A-Za-z0-9._-]+", p) for p in parts)
        or any(p in (".", "..") for p in parts)
    ):
        raise BadInput(
            f"invalid source prefix {prefix!r}: use folder names of letters, digits, "
            "., _ and -, separated by /"
        )
    if parts[0] in _RESERVED_PREFIXES:
        raise BadInput(f"source prefix {prefix!r} overlaps {parts[0]}/, where elt writes")
