"""The example Airflow DAG: configured only with documented settings, importable by Airflow."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from elt_cli.cli import cli

EXAMPLE_DAG = Path(__file__).parent.parent / "examples" / "airflow_dag.py"


def test_example_dag_uses_only_documented_settings(elt):
    text = EXAMPLE_DAG.read_text()
    documented = {p.envvar for p in cli.params if p.envvar}
    used = set(re.findall(r'"(ELT_[A-Z_]+)"', text))
    assert used and used <= documented
    for variable in ("s3_dlake", "athena_db", "athena_output"):
        assert f"var.value.{variable}" in text
    assert re.search(r'bash_command="elt run "', text)
    assert elt("run", "--help").exit_code == 0


def test_example_dag_imports_with_airflow():
    pytest.importorskip("airflow")
    import runpy

    namespace = runpy.run_path(str(EXAMPLE_DAG))
    task = namespace["dag"].get_task("elt_run")
    assert task.bash_command == "elt run --genre 'Sci-Fi' --genre 'Comedy'"
