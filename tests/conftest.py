"""Shared fixtures: a real S3 endpoint on loopback, lakes on disk and on S3, the CLI.

The S3 endpoint is moto's standalone server (real HTTP on 127.0.0.1) started once per session
(per xdist worker), or the server named by ``GOVREPORTS_TEST_S3_ENDPOINT`` (e.g. MinIO). The
CLI runs in this process through click's runner (``cli``: no Python start-up per call) or as
the installed console script in a subprocess (``cli_process``: crawls, whose Twisted reactor
runs once per process, races between processes, and smoke tests of the real entry point).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import traceback
import uuid
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

# Every portal the tests crawl is a fixture server on 127.0.0.0/8: the crawler refuses loopback
# unless told (crawlers.guards); the CLI subprocesses inherit this.
os.environ["GOVREPORTS_ALLOW_LOOPBACK"] = "1"
# The CLI's consoles read their width once, at import: wide enough that no line the tests look
# for is wrapped, in this process and in subprocesses alike.
os.environ["COLUMNS"] = "200"

SEEDS = Path(__file__).parent.parent / "crawlers" / "samples" / "seeds"
# The console script the package installs, as a user runs it.
GOVREPORTS = [str(Path(sys.executable).with_name("govreports"))]


@pytest.fixture(scope="session")
def s3_endpoint():
    """URL of an S3 endpoint on loopback, with the AWS environment that reaches it."""
    external = os.environ.get("GOVREPORTS_TEST_S3_ENDPOINT")
    if external:
        yield external
        return
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one access-log line per request

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def loopback_aws(s3_endpoint: str) -> dict[str, str]:
    """The AWS environment that reaches the loopback endpoint, for boto3 in this process and
    for CLI subprocesses; it never reads the developer's own AWS config or instance metadata."""
    external = bool(os.environ.get("GOVREPORTS_TEST_S3_ENDPOINT"))
    return {
        "AWS_ENDPOINT_URL_S3": s3_endpoint,
        "AWS_DEFAULT_REGION": "us-east-1",
        # moto takes any key; an external server keeps the credentials it was given.
        "AWS_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID", "testing") if external
        else "testing",
        "AWS_SECRET_ACCESS_KEY": os.environ.get("AWS_SECRET_ACCESS_KEY", "testing") if external
        else "testing",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_EC2_METADATA_DISABLED": "true",
    }


@pytest.fixture
def aws_env(s3_endpoint, monkeypatch):
    """Environment for boto3 in this process and in CLI subprocesses, pointed at loopback."""
    env = loopback_aws(s3_endpoint)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


@pytest.fixture
def bucket(aws_env):
    """A fresh, empty bucket on the loopback endpoint."""
    name = f"govreports-test-{uuid.uuid4().hex[:12]}"
    boto3.client("s3").create_bucket(Bucket=name)
    return name


@pytest.fixture(params=["local", "s3"])
def lake_url(request, tmp_path):
    """A lake URL, once on local disk and once on the loopback S3 endpoint."""
    if request.param == "local":
        return str(tmp_path / "lake")
    name = request.getfixturevalue("bucket")
    return f"s3://{name}/lake"


def load_rows(lake, reports, cells=(), **options):
    """The lake's load (:func:`pipelines.load.load`) of rows a test built; a run spools its rows
    first (:mod:`pipelines.spool`), and so does this."""
    from pipelines.load import load
    from pipelines.spool import Spool

    spool = Spool()
    spool.add(list(reports), list(cells))
    return load(lake, spool, **options)


@dataclass
class Ran:
    """What a ``govreports`` command did, as a subprocess would report it."""

    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(tmp_path, monkeypatch):
    """Run ``govreports`` in this process with click's runner, in ``tmp_path``; returns a
    :class:`Ran`. An exception the CLI lets escape is a traceback and exit 1, as it would be
    for a user. Not for ``crawl``/``run`` (see ``cli_process``)."""
    from click.testing import CliRunner

    from crawlers.cli import main

    monkeypatch.chdir(tmp_path)

    def run(*args, env=None):
        runner = CliRunner()
        result = runner.invoke(main, [str(a) for a in args],
                               env={"GOVREPORTS_LAKE": "", **(env or {})})
        stderr = result.stderr
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            stderr += "".join(traceback.format_exception(result.exception))
        return Ran(result.exit_code, result.stdout, stderr)

    return run


@pytest.fixture
def cli_process(tmp_path):
    """Run the installed ``govreports`` in a subprocess; returns the CompletedProcess."""

    def run(*args, env=None):
        full_env = {**os.environ, "GOVREPORTS_LAKE": "", **(env or {})}
        return subprocess.run([*GOVREPORTS, *map(str, args)], capture_output=True, text=True,
                              env=full_env, cwd=tmp_path, timeout=300)

    return run


#: Modules whose tests take longest end to end (Airflow runs, races), scheduled first.
_FIRST = ("tests.test_dags", "tests.test_concurrency", "tests.test_crawl_faults")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Under ``pytest -n`` (``--dist loadgroup``), tests that share module-scoped fixtures run
    on one worker, so each expensive fixture (a crawl, a DAG run, an Airflow database) is built
    once, not once per worker."""
    # Longest chains first: a worker that starts the Airflow runs last would finish last.
    items.sort(key=lambda item: _FIRST.index(item.module.__name__)
               if item.module.__name__ in _FIRST else len(_FIRST))
    for item in items:
        info = getattr(item, "_fixtureinfo", None)
        if info is None:
            continue
        shared = sorted(name for name in info.names_closure
                        if name in info.name2fixturedefs
                        and info.name2fixturedefs[name][-1].scope == "module")
        if shared:
            item.add_marker(pytest.mark.xdist_group(
                f"{item.module.__name__}:{'+'.join(shared)}"))


def pytest_addoption(parser):
    parser.addoption("--regen-golden", action="store_true",
                     help="rewrite the expected outputs of golden cases (review the diff!)")


@pytest.fixture
def regen_golden(request) -> bool:
    return request.config.getoption("--regen-golden")
