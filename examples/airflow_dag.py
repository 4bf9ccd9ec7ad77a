"""Run `elt` from Airflow: one BashOperator per run, configured from Airflow Variables.

The Variables are the ones the original devday DAGs used:
  s3_dlake       the data lake bucket, e.g. devday-demo-airflow-sql
  athena_db      the Athena database, e.g. movielens_elt
  athena_output  the folder under the bucket for Athena's query results, e.g. athena-results
and, optionally:
  elt_lake       the whole lake, when it is not a bucket's root (s3://bucket/prefix, or a
                 local folder for a trial run on the embedded engine)

`elt` must be installed where the task runs (`pip install elt-cli`, or a requirements.txt on
MWAA). The task log gets one timestamped line per event. If the task is killed (timeout, manual
"mark failed"), Airflow sends SIGTERM to the process group and `elt` stops every Athena query
still running before it exits with 143, so nothing is left running and costing money.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow import DAG

try:  # Airflow 3
    from airflow.providers.standard.operators.bash import BashOperator
except ImportError:  # Airflow 2
    from airflow.operators.bash import BashOperator

GENRES = ["Sci-Fi", "Comedy"]

with DAG(
    dag_id="elt_movielens",
    description="MovieLens genre subsets on Athena with elt",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    tags=["elt", "athena"],
    default_args={"retries": 1, "retry_delay": timedelta(minutes=5)},
) as dag:
    BashOperator(
        task_id="elt_run",
        bash_command="elt run " + " ".join(f"--genre '{genre}'" for genre in GENRES),
        env={
            # Variable elt_lake, when set, names the whole lake (a local folder, or an s3://
            # bucket with a prefix); else the lake is the bucket s3_dlake, as in the original.
            "ELT_LAKE": "{{ var.value.get('elt_lake', 's3://' ~ var.value.s3_dlake) }}",
            "ELT_DATABASE": "{{ var.value.athena_db }}",
            "ELT_RESULTS": "s3://{{ var.value.s3_dlake }}/{{ var.value.athena_output }}/",
            "ELT_TIMEOUT": "1800",
        },
        append_env=True,  # keep PATH and the worker's AWS credentials
        execution_timeout=timedelta(hours=1),
    )
