"""The example Airflow DAG: configured only with documented settings, importable by Airflow."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from support.data import AWKWARD_MOVIES, AWKWARD_RATINGS, expected_subset, make_lake, read_output

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


def test_the_example_dag_runs_elt_in_airflow(tmp_path):
    """`airflow dags test` runs the DAG's BashOperator task for real: `elt run` on a local
    lake named by the Variable elt_lake, the other Variables as the original workflow had
    them. Runs where Airflow is installed: `make test-airflow` (CI does)."""
    pytest.importorskip("airflow")
    lake = make_lake(tmp_path / "lake", AWKWARD_MOVIES, AWKWARD_RATINGS)
    bin_dir = Path(sys.executable).parent
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",  # `elt` for the task
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(EXAMPLE_DAG.parent),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW_VAR_ELT_LAKE": str(lake),
        "AIRFLOW_VAR_S3_DLAKE": "devday-demo-airflow-sql",
        "AIRFLOW_VAR_ATHENA_DB": "movielens_elt",
        "AIRFLOW_VAR_ATHENA_OUTPUT": "athena-results",
    }

    def airflow(*args):
        done = subprocess.run(
            [bin_dir / "airflow", *args], env=env, capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
        return done.stdout + done.stderr

    airflow("db", "migrate")
    log = airflow("dags", "test", "elt_movielens", "2024-01-01")
    for genre, slug in (("Sci-Fi", "sci_fi"), ("Comedy", "comedy")):
        assert read_output(lake / f"movielens/{slug}/{slug}-movies.csv") == expected_subset(
            lake, genre
        )
    task = [line for line in log.splitlines() if "SubprocessHook" in line]
    assert any("Command exited with return code 0" in line for line in task)
    assert any(re.search(r"Done in \d+\.\d s: 2 files written", line) for line in task)
    assert not [line for line in task if "\x1b" in line or "\r" in line]  # a plain log
