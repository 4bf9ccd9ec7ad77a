"""`elt test`: a job's own test cases, run on the local engine in a temporary lake, so a job is
tested in CI without AWS. A case is a folder under the job's `tests/`:

    tests/<case>/case.toml          optional: values = { genre = "Sci-Fi" } (a list for several),
                                    failed_checks = ["Sci-Fi: not_null year"]
    tests/<case>/<source>/...       each source's input files (CSV, .gz), as in the lake
    tests/<case>/expected/...       each final file the run writes, at its path in the lake

The run must write exactly the expected files, byte for byte, and fail exactly the checks the
case expects (none, by default)."""

from __future__ import annotations

import difflib
import shutil
import tempfile
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from elt_cli.errors import ChecksFailed, EltError, TemplateError
from elt_cli.job import JobSpec, expand

CASES = "tests"
SHOWN_LINES = 12  # of a file's diff


@dataclass(frozen=True)
class CaseOutcome:
    name: str
    files: list[str] = field(default_factory=list)  # the final files compared, as in the lake
    problems: list[str] = field(default_factory=list)  # what differs, readable; [] = passed

    @property
    def passed(self) -> bool:
        return not self.problems

    def document(self) -> dict:
        return {"case": self.name, "passed": self.passed, "files": self.files,
                "problems": self.problems}  # fmt: skip


def find_cases(spec: JobSpec, names: list[str] | None = None) -> list[Path]:
    folder = spec.folder / CASES
    found = sorted(p for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
    if not found:
        raise TemplateError(
            f"job {spec.name} has no test cases: add {folder}/<case>/ with an input folder per "
            "source and expected/ (see the README, 'Testing a job')"
        )
    if names:
        by_name = {p.name: p for p in found}
        unknown = [n for n in names if n not in by_name]
        if unknown:
            raise TemplateError(
                f"no test case {unknown[0]!r} in {folder} (it has: {', '.join(by_name)})"
            )
        found = [by_name[n] for n in names]
    return found


def run_case(spec: JobSpec, case: Path, open_job: Callable[..., Any]) -> CaseOutcome:
    """One case; `open_job(folder, lake=..., engine=...)` is api.Elt."""
    values, expected_failures = _case_settings(case)
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="elt-test-") as tmp:
        lake = Path(tmp)
        elt = open_job(spec.folder, lake=lake, engine="local")
        for name, source in spec.sources.items():
            given = case / name
            if not given.is_dir():
                return CaseOutcome(case.name, problems=[
                    f"no input for source {name}: add {given}/ with its files"
                ])  # fmt: skip
            where = expand(source.location, elt.settings.source_prefix, elt.settings.database, {})
            shutil.copytree(given, lake / where.strip("/"), dirs_exist_ok=True)
        try:
            elt.run(**values)
        except ChecksFailed:
            pass  # compared with what the case expects, below
        except EltError as exc:
            problems.append(f"the run failed: {exc}")
        failed = {f"{f.subject}: {f.check}" for _, f in elt.reporter.findings if not f.passed}
        for check in sorted(failed - expected_failures):
            problems.append(f"check {check} failed")
        for check in sorted(expected_failures - failed):
            problems.append(f"check {check} was expected to fail and did not")
        written = {str(Path(o.uri).relative_to(lake)) for o in elt.reporter.outputs}
        expected_dir = case / "expected"
        expected = {
            str(p.relative_to(expected_dir))
            for p in (expected_dir.rglob("*") if expected_dir.is_dir() else [])
            if p.is_file()
        }
        for rel in sorted(written - expected):
            problems.append(f"wrote {rel}, which {expected_dir.name}/ does not have")
        for rel in sorted(expected & written):
            problems += _compare(rel, (expected_dir / rel).read_bytes(), (lake / rel).read_bytes())
        for rel in sorted(expected - written):
            problems.append(f"expected {rel}, which the run did not write")
    return CaseOutcome(case.name, sorted(expected | written), problems)


def _case_settings(case: Path) -> tuple[dict[str, Any], set[str]]:
    path = case / "case.toml"
    if not path.is_file():
        return {}, set()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise TemplateError(f"{path}: not valid TOML: {exc}") from exc
    unknown = set(data) - {"values", "failed_checks"}
    if unknown:
        raise TemplateError(
            f"{path}: unknown key {sorted(unknown)[0]!r} (a case has values, failed_checks)"
        )
    values = {
        name: [str(v) for v in given] if isinstance(given, list) else [str(given)]
        for name, given in data.get("values", {}).items()
    }
    return values, {str(c) for c in data.get("failed_checks", [])}


def _compare(rel: str, expected: bytes, got: bytes) -> list[str]:
    """[] when equal, else the file's first differing lines as a unified diff."""
    if expected == got:
        return []
    lines = list(
        difflib.unified_diff(
            expected.decode("utf-8", errors="replace").splitlines(),
            got.decode("utf-8", errors="replace").splitlines(),
            f"expected/{rel}",
            rel,
            n=0,
            lineterm="",
        )
    )
    if not lines:  # the same lines: line endings or a last newline differ
        lines = ["(the same lines; the line endings or the last newline differ)"]
    more = f"  ... {len(lines) - SHOWN_LINES} more diff lines" if len(lines) > SHOWN_LINES else ""
    return [
        f"{rel} differs:",
        *(f"  {line}" for line in lines[:SHOWN_LINES]),
        *[more][: bool(more)],
    ]
