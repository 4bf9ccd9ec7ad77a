"""The run record of `elt run`: which steps finished with which SQL, and the Athena query ids.

Kept at `<lake>/_elt/<database>/run.json` and rewritten after every change, so a run killed at
any moment leaves an accurate record. `elt run --resume` reads it: steps done with unchanged SQL
are skipped, and queries still running on Athena are re-attached to instead of started again.
A run without --resume starts a new record.
"""

from __future__ import annotations

import hashlib
import json


def digest(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()


class Journal:
    def __init__(self, storage, uri: str, resume: bool):
        self.storage, self.uri, self.resume = storage, uri, resume
        data = json.loads(storage.read_text(uri) or "{}")
        self.steps: dict[str, str] = data.get("steps", {}) if resume else {}
        self.queries: dict[str, str] = data.get("queries", {}) if resume else {}
        self.version: str | None = data.get("version") if resume else None
        # the digest of the build (SQL and raw files) that version was started for
        self.building_digest: str | None = data.get("building_digest") if resume else None

    def done(self, step: str, step_digest: str) -> bool:
        """--resume: the killed (or last) run finished this step with the same digest."""
        return self.resume and self.steps.get(step) == step_digest

    def finished(self, step: str, step_digest: str) -> None:
        self.steps[step] = step_digest
        self.save()

    def started_query(self, sql: str, query_id: str) -> None:
        self.queries[digest(sql)] = query_id
        self.save()

    def query_for(self, sql: str) -> str | None:
        """The query a killed run started for this exact statement, when resuming."""
        return self.queries.get(digest(sql)) if self.resume else None

    def building(self, version: str, build_digest: str) -> None:
        self.version, self.building_digest = version, build_digest
        self.save()

    def save(self) -> None:
        self.storage.write_text(
            self.uri,
            json.dumps(
                {
                    "steps": self.steps,
                    "queries": self.queries,
                    "version": self.version,
                    "building_digest": self.building_digest,
                },
                indent=2,
            ),
        )


class Builds:
    """What each published table was built from: a digest of its SQL and of what it reads.
    Kept at `<lake>/_elt/<database>/builds.json` across runs and commands, so any build skips
    a table whose inputs did not change, and a query over a table can tell it is stale."""

    def __init__(self, storage, uri: str):
        self.storage, self.uri = storage, uri
        self.digests: dict[str, str] = json.loads(storage.read_text(uri) or "{}")

    def current(self, table: str, table_digest: str) -> bool:
        return self.digests.get(table) == table_digest

    def record(self, table: str, table_digest: str) -> None:
        self.digests[table] = table_digest
        self.storage.write_text(self.uri, json.dumps(self.digests, indent=2, sort_keys=True))


class Listings:
    """The values each parameter's listing last gave, with a digest of what it read (its SQL
    and the digests of the models it reads). Kept at `<lake>/_elt/<database>/values.json`, so
    a dry run, which sends no query, answers a value check from the built tables as they are."""

    def __init__(self, storage, uri: str):
        self.storage, self.uri = storage, uri
        self.found: dict[str, list] = json.loads(storage.read_text(uri) or "{}")

    def get(self, parameter: str, listing_digest: str) -> list[tuple[str, int]] | None:
        recorded, values = self.found.get(parameter, ("", []))
        return [(v, n) for v, n in values] if recorded == listing_digest else None

    def record(self, parameter: str, listing_digest: str, values: list[tuple[str, int]]) -> None:
        entry = [listing_digest, [list(vn) for vn in values]]
        if self.found.get(parameter) != entry:
            self.found[parameter] = entry
            self.storage.write_text(self.uri, json.dumps(self.found, indent=2, sort_keys=True))
