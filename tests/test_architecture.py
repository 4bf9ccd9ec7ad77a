"""The house's shape, held: no module of elt imports one that imports it back (lazy imports
and type-only ones included), the command line stays a thin layer, the --json document keeps
its shape."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import elt_cli

PACKAGE = Path(elt_cli.__file__).parent


def import_graph() -> dict[str, set[str]]:
    """Each module of elt_cli and the modules of elt_cli it imports, anywhere in its text."""
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        modules[".".join(parts).removesuffix(".__init__")] = path
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            else:
                continue
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target not in (name, "elt_cli"):
                    graph[name].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_no_module_imports_one_that_imports_it_back():
    graph = import_graph()
    assert "elt_cli.storage.s3" in graph["elt_cli.storage"]  # the graph sees lazy imports
    assert cycles(graph) == []


def test_the_command_line_is_a_thin_layer_over_the_library():
    """No SQL, boto3 or engine in the click modules: they call api.Elt and show its result."""
    graph = import_graph()
    for module in (m for m in graph if m.startswith("elt_cli.cli")):
        assert not graph[module] & {
            "elt_cli.steps", "elt_cli.sql", "elt_cli.aws", "elt_cli.engines.athena",
            "elt_cli.engines.local", "elt_cli.storage.s3",
        }, module  # fmt: skip
        lines = (PACKAGE / module.removeprefix("elt_cli.").replace(".", "/")).with_suffix(".py")
        path = lines if lines.exists() else lines.with_suffix("") / "__init__.py"
        assert len(path.read_text().splitlines()) < 300, module


def shape(value):
    """A JSON value's shape: the keys of objects, the shape of a list's first item, types."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


def test_the_json_document_keeps_its_shape(elt, awkward_lake):
    """What scripts and Airflow read from `--json`: a change here is a new schema_version."""
    result = elt("--lake", awkward_lake, "--json", "run", "--genre", "Sci-Fi")
    document = json.loads(result.stdout)
    assert document["schema_version"] == 1
    got = shape(document)
    assert set(got) == {
        "schema_version",
        "command",
        "status",
        "exit_code",
        "error",
        "dry_run",
        "result",
        "steps",
        "queries",
        "skipped",
        "outputs",
        "checks",
        "plan",
        "notes",
        "total",
    }  # fmt: skip  (checks: added in 0.2.0; an added key keeps schema_version 1)
    assert set(got["checks"][0]) == {
        "subject", "table", "check", "passed", "detail", "columns", "rows",
    }  # fmt: skip
    assert got["steps"] == [
        {"step": "str", "detail": "str", "status": "str", "seconds": "float", "outcome": "str"}
    ]
    assert set(got["queries"][0]) == {
        "step", "template", "subject", "query_id", "state", "attempt", "retried", "reason",
        "seconds", "queued_seconds", "rows", "bytes_scanned", "cost_usd",
    }  # fmt: skip
    assert got["outputs"] == [{"step": "str", "subject": "str", "uri": "str", "rows": "int"}]
    assert got["total"]["rows"] == "int"  # the rows written; each file's are in outputs
    assert set(got["total"]) == {
        "queries", "failed", "retried", "seconds", "files", "rows", "bytes_scanned",
        "predicted_bytes", "cost_usd",
    }  # fmt: skip
