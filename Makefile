# `make run` and `make test` are all a new machine needs: each creates .venv and installs into it.
VENV   := .venv
PYTHON := $(VENV)/bin/python
ELT    := $(VENV)/bin/elt
STAMP  := $(VENV)/.installed-stamp
GENRE  ?= Sci-Fi

AIRFLOW_VENV := .venv-airflow
AIRFLOW      := apache-airflow==3.3.2

.PHONY: help run test test-fast test-airflow bench lint clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(STAMP): pyproject.toml constraints.txt
	test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

run: $(STAMP)  ## sample data into ./lake if it has none, then `elt run --genre Sci-Fi` locally
	test -d lake/movielens/movies || $(ELT) --lake lake sample-data
	$(ELT) --lake lake run --genre '$(GENRE)'

test: $(STAMP)  ## the test suite, on every core (pytest-xdist)
	$(PYTHON) -m pytest -q -n auto

test-fast: $(STAMP)  ## the suite without the slow tests (real processes, signals, waits)
	$(PYTHON) -m pytest -q -n auto -m "not slow"

test-airflow:  ## the example DAG run by a real Airflow (`airflow dags test`), in its own venv
	test -x $(AIRFLOW_VENV)/bin/python || python3 -m venv $(AIRFLOW_VENV)
	$(AIRFLOW_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(AIRFLOW_VENV)/bin/python -m pip install --quiet '$(AIRFLOW)' -e '.[test]'
	$(AIRFLOW_VENV)/bin/python -m pytest -q -p no:cacheprovider tests/test_airflow.py

bench: $(STAMP)  ## the benchmarks (not part of make test)
	$(PYTHON) bench/run.py

lint: $(STAMP)  ## ruff check and format check, mypy (mypy.ini)
	$(VENV)/bin/ruff check elt_cli tests bench examples
	$(VENV)/bin/ruff format --check elt_cli tests bench examples
	$(VENV)/bin/mypy elt_cli

clean:  ## remove the venvs and the local lake
	rm -rf $(VENV) $(AIRFLOW_VENV) lake
