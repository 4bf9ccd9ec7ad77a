"""The fixtures: an isolated environment, a CLI runner, lakes with awkward data, moto as a real
HTTP server. What else the tests share is in support/."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from support.aws import MODELS, Moto
from support.data import AWKWARD_MOVIES, AWKWARD_RATINGS, make_lake

from elt_cli.cli import cli


@pytest.fixture(scope="session")
def memo_folder(tmp_path_factory) -> Path:
    """elt's memo of parsed SQL (memo.py), shared by the tests of a worker as by a user's
    commands, never the user's own."""
    return tmp_path_factory.mktemp("elt-cache")


@pytest.fixture(autouse=True)
def isolation(tmp_path, monkeypatch, memo_folder):
    for name in list(os.environ):
        if name.startswith(("ELT_", "AWS_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("ELT_CACHE_DIR", str(memo_folder))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def elt(runner):
    """Invoke the CLI in-process: elt("run", "--genre", "Sci-Fi") -> click Result."""

    def invoke(*args, env=None, unexpected=False):
        result = runner.invoke(cli, [str(a) for a in args], env=env, catch_exceptions=False)
        # elt answers an error it did not foresee with one line, as a user meets it; in a test
        # that is a bug shown whole (unless the test is about that line)
        if not unexpected and "Error: unexpected " in result.stderr:
            raise AssertionError(result.stderr)
        return result

    return invoke


@pytest.fixture
def awkward_lake(tmp_path) -> Path:
    return make_lake(tmp_path / "lake", AWKWARD_MOVIES, AWKWARD_RATINGS)


# -- AWS: moto as a real HTTP server -------------------------------------------------------------


@pytest.fixture(scope="session")
def moto_url():
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws(moto_url, monkeypatch):
    """A clean moto with bucket `lake`; elt's boto3 clients talk to it and are instrumented."""
    from elt_cli import aws as elt_aws

    for name, value in {
        "AWS_ENDPOINT_URL": moto_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    from support.moto_athena import AthenaRules, strict_s3_permissions

    rules = AthenaRules()
    rules.install(monkeypatch)
    strict_s3_permissions(monkeypatch)
    moto = Moto(moto_url, rules)
    moto.api("/moto-api/reset")
    moto.api("/moto-api/state-manager/unset-transition", {"model_name": "athena::execution"})
    moto.s3.create_bucket(Bucket="lake")
    rules.glue("us-east-1")  # made on first use (0.3 s), not in the middle of a timed query
    original = elt_aws.client

    def instrumented(session, service):
        # one loader for every session: the service models are read from disk once per test
        # process, not once per command (as a command does once per process anyway)
        if "AWS_DATA_PATH" not in os.environ:  # a test giving models of its own reads them
            session._session.register_component("data_loader", MODELS)
        client = original(session, service)
        moto.instrument(client)
        return client

    monkeypatch.setattr(elt_aws, "client", instrumented)
    monkeypatch.setattr(elt_aws, "throttle_wait", lambda: __import__("tenacity").wait_none())
    return moto


@pytest.fixture
def s3_lake(aws, tmp_path) -> str:
    """The awkward data set uploaded to s3://lake/movielens/."""
    local = make_lake(tmp_path / "upload", AWKWARD_MOVIES, AWKWARD_RATINGS)
    for path in sorted(p for p in local.rglob("*") if p.is_file()):
        aws.put(str(path.relative_to(local)), path.read_bytes())
    return "s3://lake"
