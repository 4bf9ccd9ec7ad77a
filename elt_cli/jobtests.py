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
    values, expected_failures = _case_settings(spec, case)
    problems: list[str] = []
    for folder in sorted(p for p in case.iterdir() if p.is_dir()):
        if folder.name not in spec.sources and folder.name != "expected":
            problems.append(
                f"{folder.name}/ is no source of the job (its sources: {', '.join(spec.sources)};"
                " the final files go in expected/)"
            )
    with tempfile.TemporaryDirectory(prefix="elt-test-") as tmp:
        lake = Path(tmp)
        elt = open_job(spec.folder, lake=lake, engine="local")
        inputs: dict[str, str] = {}  # a source's folder in the lake -> the case's
        for name, source in spec.sources.items():
            given = case / name
            if not given.is_dir():
                return CaseOutcome(case.name, problems=[
                    f"no input for source {name}: add {given}/ with its files"
                ])  # fmt: skip
            where = expand(source.location, elt.settings.source_prefix, elt.settings.database, {})
            # copied as new files: a max_age check judges the case, not the fixture's age
            shutil.copytree(
                given, lake / where.strip("/"), dirs_exist_ok=True, copy_function=shutil.copy
            )
            inputs[str(lake / where.strip("/"))] = str(given)
        findings = elt.reporter.findings
        try:
            elt.run(**values)
        except EltError as exc:
            if not (isinstance(exc, ChecksFailed) and any(not f.passed for _, f in findings)):
                problems.append(f"the run failed: {exc}")  # else: compared below
        ran = {f"{f.subject}: {f.check}" for _, f in findings}
        failed = {f"{f.subject}: {f.check}" for _, f in findings if not f.passed}
        for check in sorted(failed - expected_failures):
            problems.append(f"check {check} failed")
        for check in sorted(expected_failures - failed):
            problems.append(
                f"check {check} was expected to fail and did not"
                if check in ran
                else f"check {check} did not run (those that ran: {', '.join(sorted(ran))})"
            )
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
        for temporary, original in inputs.items():  # name the case's files, not the copies
            problems = [p.replace(temporary, original) for p in problems]
    return CaseOutcome(case.name, sorted(expected | written), problems)


def _case_settings(spec: JobSpec, case: Path) -> tuple[dict[str, Any], set[str]]:
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
    given = data.get("values", {})
    if not isinstance(given, dict) or set(given) - set(spec.parameters):
        wrong = sorted(set(given) - set(spec.parameters)) if isinstance(given, dict) else []
        raise TemplateError(
            f"{path}: values must be a table of the job's parameters ({', '.join(spec.parameters)})"
            + (f", not {wrong[0]!r}" if wrong else "")
        )
    values = {
        name: [str(v) for v in value] if isinstance(value, list) else [str(value)]
        for name, value in given.items()
    }
    failed = data.get("failed_checks", [])
    if not isinstance(failed, list) or not all(isinstance(c, str) for c in failed):
        raise TemplateError(
            f'{path}: failed_checks must be a list such as ["Sci-Fi: not_null year"]'
        )
    return values, set(failed)


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
