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
from elt_cli.layout import FOLDER_NAMES, Layout
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
    "queue_timeout",
    "retries",
    "max_concurrent",
    "max_scan",
    "poll_max",
    "wait_lock",
    "lock_lease",
)
DEFAULT_CONFIG = "elt.toml"


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
    queue_timeout: float = 1800.0
    retries: int = 2
    max_concurrent: int = 8
    max_scan: int | None = None  # bytes an Athena run may scan (--max-scan 2GB), or no limit
    poll_max: float = 5.0
    wait_lock: float = 0.0
    lock_lease: float = 180.0
    debug: bool = False
    sources: dict[str, str] = field(default_factory=dict, compare=False)

    @classmethod
    def build(cls, *, lake: str, engine: str | None, results: str | None, **values) -> Settings:
        """Check every value and fill in the defaults that depend on the lake."""
        from elt_cli.engines.kinds import ENGINES, engine_for_lake

        lake = normalize_lake(lake)
        is_s3 = lake.startswith("s3://")
        engine = engine or engine_for_lake(lake)
        if engine not in ENGINES:
            raise BadInput(f"unknown engine {engine!r}: give one of {', '.join(ENGINES)}")
        if ENGINES[engine].s3_lake != is_s3:
            given = ", not an s3:// URI" if is_s3 else ""
            raise BadInput(f"the {engine} engine needs {ENGINES[engine].lake}{given}")
        identifier(values["database"], "database name")
        check_source_prefix(values["source_prefix"])
        results = results or (lake + "/athena-results/")
        if is_s3 and not results.startswith("s3://"):
            raise BadInput(f"--results must be an s3:// URI, not {results!r}")
        values = {k: v for k, v in values.items() if v is not None}
        if "max_scan" in values:
            try:
                values["max_scan"] = parse_size(values["max_scan"])
            except ValueError as exc:
                raise BadInput(f"max_scan {values['max_scan']!r} {exc}") from exc
        return cls(lake=lake, engine=engine, results=results.rstrip("/") + "/", **values)

    @property
    def layout(self) -> Layout:
        return Layout(self.lake, self.database)

    def layout_for(self, raw_locations) -> Layout:
        """The layout with the job's raw files, which are never deleted under."""
        return Layout(self.lake, self.database, tuple(raw_locations))


def settings_for_job(spec, sources: dict[str, str] | None = None, **values) -> Settings:
    """The settings of a command on a job: `values` as given (None where not), the job's
    defaults for the database and the source prefix, then elt's. `sources` says where each
    given value came from (a flag, an environment variable, ...), for `elt config`."""
    sources = dict(sources or {})
    for key in ("database", "source_prefix"):  # given > the job's > elt's
        if values.get(key) is None:
            values[key] = spec.defaults.get(key) or (
                f"{spec.name}_elt" if key == "database" else spec.name
            )
            sources[key] = "job" if key in spec.defaults else "default"
    defaults = {"lake": "./lake", "workgroup": "primary"}
    for key, value in defaults.items():
        if values.get(key) is None:
            values[key] = value
    values.setdefault("engine", None)
    values.setdefault("results", None)
    return Settings.build(sources=sources, **values)


SIZE_UNITS = {"B": 1, "KB": 1000, "MB": 1000**2, "GB": 1000**3, "TB": 1000**4}


def parse_size(value) -> int:
    """`500MB`, `2GB`, `1.5TB`, `10 GB` (decimal units, as Athena bills): bytes. A ValueError
    says what is wrong."""
    if isinstance(value, int) and not isinstance(value, bool):
        size = value
    else:
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?B)\s*", str(value), re.I)
        if not match:
            raise ValueError("is not a size such as 500MB, 2GB or 1TB")
        size = int(float(match.group(1)) * SIZE_UNITS[match.group(2).upper()])
    if size <= 0:
        raise ValueError("must be more than 0 bytes")
    return size


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
    if parts[0] in FOLDER_NAMES:
        raise BadInput(f"source prefix {prefix!r} overlaps {parts[0]}/, where elt writes")
