"""The engines elt has, declared once: the `--engine` choice, the lake each runs on and the
settings only it reads (`elt config` leaves out the others') come from ENGINES."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EngineKind:
    name: str
    s3_lake: bool  # runs on an s3://bucket[/prefix] lake; else on a local folder
    settings: tuple[str, ...]  # the settings only this engine reads
    implementation: str  # module:class, imported when the engine is opened
    # its CSV reader refuses a short, long or mistyped raw row itself, naming file and line
    # (DuckDB's rejects), so that part of the malformed-row guard stays out of its SQL
    reader_refuses: bool = False

    @property
    def lake(self) -> str:
        return "an s3://bucket[/prefix] lake" if self.s3_lake else "a local lake folder"


ENGINES = {
    kind.name: kind
    for kind in (
        EngineKind("local", False, (), "elt_cli.engines.local:LocalEngine", reader_refuses=True),
        EngineKind(
            "athena",
            True,
            (
                "results",
                "workgroup",
                "region",
                "profile",
                "queue_timeout",
                "retries",
                "max_concurrent",
                "max_scan",
                "poll_max",
                "lock_lease",
            ),
            "elt_cli.engines.athena:AthenaEngine",
        ),
    )
}
ENGINE_SETTINGS = {key for kind in ENGINES.values() for key in kind.settings}


def engine_for_lake(lake: str) -> str:
    """The default engine of a lake: the first that runs on its kind."""
    s3 = lake.startswith("s3://")
    return next(name for name, kind in ENGINES.items() if kind.s3_lake == s3)
