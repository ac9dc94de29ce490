"""What the local Celery deployments share (``make celery-e2e``, ``make scale``): PostgreSQL
and Redis from Debian's packages, an S3 endpoint on loopback, the Airflow environment and the
processes, each started in a session of its own and stopped by PID."""

from __future__ import annotations

import glob
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


class Failed(Exception):
    """The end-to-end run failed; the message says where to look."""


def shared_settings() -> dict[str, str]:
    """infra/airflow/celery.env: the settings every Celery deployment of govreports uses."""
    settings = {}
    for line in (ROOT / "infra" / "airflow" / "celery.env").read_text("utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            settings[name.strip()] = value.strip()
    return settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def postgres_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(p.split("/")[4]))
    if not found:
        raise Failed("PostgreSQL is not installed: run infra/local/celery-packages "
                     "(make celery-e2e does)")
    return Path(found[-1]).parent


class Services:
    """Processes started here, each in a session of its own; :meth:`stop` ends them by PID
    (their process groups: a Celery worker's children too), last started first."""

    def __init__(self, logs: Path, label: str):
        self.logs = logs
        self.label = label  # what the messages start with: the script's name
        self.started: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, command: list[str], env: dict, **kwargs) -> subprocess.Popen:
        log = (self.logs / f"{name}.log").open("ab")
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True, **kwargs)
        log.close()
        self.started.append((name, process))
        print(f"{self.label}: started {name} (pid {process.pid}, log {self.logs / name}.log)",
              flush=True)
        return process

    def check(self) -> None:
        for name, process in self.started:
            if process.poll() is not None:
                raise Failed(f"{name} (pid {process.pid}) exited {process.returncode}: see "
                             f"{self.logs / name}.log")

    def stop(self) -> None:
        for _name, process in reversed(self.started):
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    continue
        deadline = time.monotonic() + 30
        for name, process in reversed(self.started):
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                print(f"{self.label}: {name} (pid {process.pid}) ignored SIGTERM: killed",
                      flush=True)
            try:
                os.killpg(process.pid, signal.SIGKILL)  # what is left of its group
            except (ProcessLookupError, PermissionError):
                pass
            process.wait()
        self.started.clear()


def wait_for(what: str, test, timeout: float, services: Services | None = None,
             every: float = 1.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if services:
            services.check()
        result = test()
        if result:
            return result
        time.sleep(every)
    raise Failed(f"timed out after {timeout:.0f} s waiting for {what}")


def listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def start_postgres(services: Services, work: Path) -> str:
    """A fresh cluster in ``work/pg`` on a free loopback port; its Airflow database URL."""
    bindir = postgres_bin()
    data = work / "pg"
    as_user = {}
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root: its own system user
        as_user = {"user": "postgres", "group": "postgres"}
    data.mkdir(mode=0o700)
    if as_user:
        shutil.chown(data, "postgres", "postgres")
    done = subprocess.run([str(bindir / "initdb"), "-D", str(data), "-U", "airflow",
                           "--auth=trust", "-E", "UTF8", "--no-locale"],
                          capture_output=True, text=True, **as_user)
    if done.returncode:
        raise Failed(f"initdb failed: {done.stderr.strip()[-500:]}")
    port = free_port()
    services.start("postgres", [str(bindir / "postgres"), "-D", str(data), "-p", str(port),
                                "-h", "127.0.0.1", "-k", str(data), "-c", "fsync=off",
                                "-c", "max_connections=200"],
                   {"PATH": os.environ["PATH"], "LANG": "C.UTF-8"}, **as_user)
    wait_for("PostgreSQL", lambda: listening(port), 60, services, 0.3)
    done = subprocess.run([str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port),
                           "-U", "airflow", "airflow"], capture_output=True, text=True)
    if done.returncode:
        raise Failed(f"createdb failed: {done.stderr.strip()[-500:]}")
    return f"postgresql+psycopg2://airflow@127.0.0.1:{port}/airflow"


def start_redis(services: Services, work: Path) -> str:
    port = free_port()
    (work / "redis").mkdir()
    services.start("redis", ["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                             "--save", "", "--appendonly", "no", "--dir", str(work / "redis")],
                   {"PATH": os.environ["PATH"]})
    wait_for("Redis", lambda: listening(port), 30, services, 0.3)
    return f"redis://127.0.0.1:{port}/0"


#: The role the DAGs' connection assumes on the loopback endpoint (moto's STS answers any).
ROLE = "arn:aws:iam::123456789012:role/govreports-lake"
BUCKET = "govreports-e2e"


#: No AWS configuration of the machine's own (files, instance metadata) is ever read.
NO_LOCAL_AWS = {"AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
                "AWS_EC2_METADATA_DISABLED": "true"}


def clean_environment() -> dict[str, str]:
    """This process's environment without Airflow's, govreports' or AWS settings: each run
    gets only the ones set for it."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("AIRFLOW", "GOVREPORTS_", "AWS_"))}


class S3:
    """An S3 endpoint on loopback (moto's standalone server, a service of ours) and the ways of
    reaching it: this script's own keys, and the DAGs' ``aws_default`` connection. With
    ``counting``, the same server behind :mod:`s3count`, which counts requests and bytes."""

    def __init__(self, services: Services, bucket: str = BUCKET, *, counting: bool = False):
        self.port = free_port()
        command = ([sys.executable, str(Path(__file__).with_name("s3count.py"))] if counting
                   else [str(BIN / "moto_server")])
        services.start("s3", [*command, "-H", "127.0.0.1", "-p", str(self.port)],
                       {"PATH": os.environ["PATH"]})
        wait_for("the S3 endpoint", lambda: listening(self.port), 60, services, 0.3)
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.bucket = bucket
        os.environ.update(self.own())  # this script reads the lakes with keys of its own
        import boto3

        boto3.client("s3").create_bucket(Bucket=bucket)

    def counts(self, reset: bool = False) -> dict:
        """What the endpoint was asked since it started or was last reset (:mod:`s3count`)."""
        import urllib.request

        request = urllib.request.Request(f"{self.endpoint}/_counts" + ("/reset" if reset
                                                                        else ""),
                                         method="POST" if reset else "GET")
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read())

    def own(self) -> dict[str, str]:
        return {"AWS_ENDPOINT_URL_S3": self.endpoint, "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                **NO_LOCAL_AWS}

    def connection(self) -> dict[str, str]:
        """The DAGs' environment: no AWS variable of its own, only the connection."""
        connection = {"conn_type": "aws", "login": "testing", "password": "testing", "extra": {
            "endpoint_url": self.endpoint, "region_name": "us-east-1", "role_arn": ROLE,
            "service_config": {"sts": {"endpoint_url": self.endpoint}}}}
        return {"AIRFLOW_CONN_AWS_DEFAULT": json.dumps(connection), **NO_LOCAL_AWS}


def airflow_env(work: Path, database: str, broker: str, api_port: int, lake: Path | str,
                registry: Path, unit_docs: int) -> dict:
    env = clean_environment()
    env.update(shared_settings())
    env.update({
        "AIRFLOW_HOME": str(work / "airflow"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": database,
        "AIRFLOW__CELERY__BROKER_URL": broker,
        "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + database,
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{api_port}",
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__HOSTNAME_CALLABLE": "pipelines.settings.worker_hostname",
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "GOVREPORTS_LAKE": str(lake),
        "GOVREPORTS_PORTALS": str(registry),
        "GOVREPORTS_ALLOW_LOOPBACK": "1",  # the sample portals are on loopback
        "GOVREPORTS_NIGHTLY_SCHEDULE": "none",  # only the run triggered here
        "GOVREPORTS_CRAWL_SHARDS": "8",
        "GOVREPORTS_UNIT_DOCS": str(unit_docs),
        "GOVREPORTS_RETRY_DELAY": "5",
    })
    return env


def airflow(env: dict, *args: str, timeout: float = 600) -> str:
    done = subprocess.run([str(BIN / "airflow"), *args], env=env, capture_output=True,
                          text=True, timeout=timeout)
    if done.returncode:
        raise Failed(f"airflow {' '.join(args)} failed: {done.stderr.strip()[-1500:]}")
    return done.stdout


def sql(database: str, query: str, *params) -> list[tuple]:
    import psycopg2

    with psycopg2.connect(database.replace("postgresql+psycopg2", "postgresql")) as conn, \
            conn.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall()


DAG = "govreports_nightly"


class Deployment:
    """Airflow on Celery, started by :func:`start_airflow`: its environment, database and
    workers' names."""

    def __init__(self, env: dict, database: str, api_port: int, workers: list[str]):
        self.env, self.database, self.api_port, self.workers = env, database, api_port, workers

    def ready(self, services: Services, dag: str = DAG, served: Path | None = None) -> None:
        """Wait for the API server, for ``served`` (a file a service writes when it is up) and
        for the DAG to be parsed; then unpause it."""
        if served is not None:
            wait_for("the sample portals", served.exists, 120, services, 0.5)
        wait_for("the API server", lambda: listening(self.api_port), 180, services)
        wait_for(f"{dag} to be parsed", lambda: sql(
            self.database, "select 1 from serialized_dag where dag_id = %s", dag), 300,
            services, 2)
        airflow(self.env, "dags", "unpause", dag)


def start_airflow(services: Services, work: Path, workers: int, lake: Path | str,
                  registry: Path, unit_docs: int, aws: dict[str, str],
                  settings: dict[str, str] | None = None) -> Deployment:
    """PostgreSQL, Redis, the API server, the DAG processor, the scheduler and ``workers``
    Celery workers (``worker1``…) serving the queues of celery.env; ``settings`` are more
    environment for all of them."""
    database = start_postgres(services, work)
    broker = start_redis(services, work)
    api_port = free_port()
    env = {**airflow_env(work, database, broker, api_port, lake, registry, unit_docs), **aws,
           **(settings or {})}
    airflow(env, "db", "migrate")
    airflow(env, "pools", "import", str(ROOT / "infra" / "airflow" / "pools.json"))
    services.start("api-server", [str(BIN / "airflow"), "api-server", "--host", "127.0.0.1",
                                  "--port", str(api_port), "--workers", "1"], env)
    services.start("dag-processor", [str(BIN / "airflow"), "dag-processor"], env)
    services.start("scheduler", [str(BIN / "airflow"), "scheduler"], env)
    queues = env["GOVREPORTS_WORKER_QUEUES"]
    names = [f"worker{n + 1}" for n in range(workers)]
    for name in names:
        services.start(name, [str(BIN / "airflow"), "celery", "worker", "--celery-hostname",
                              f"{name}@%h", "--queues", queues, "--skip-serve-logs"],
                       {**env, "GOVREPORTS_WORKER_NAME": name})
    return Deployment(env, database, api_port, names)


def trigger_and_wait(deployment: Deployment, services: Services, dag: str, run_id: str,
                     conf: dict, timeout: float) -> tuple[str, list[tuple]]:
    """Trigger one run of ``dag`` and wait for it: its final state and its task instances
    (task_id, map_index, state, hostname)."""
    airflow(deployment.env, "dags", "trigger", dag, "--run-id", run_id, "--conf",
            json.dumps(conf))
    print(f"{services.label}: triggered {dag} run {run_id}; waiting (at most {timeout:.0f} s)",
          flush=True)
    state = wait_for(f"run {run_id} to finish", lambda: next(
        (s for (s,) in sql(deployment.database, "select state from dag_run where dag_id = %s "
                                                "and run_id = %s", dag, run_id)
         if s in ("success", "failed")), None), timeout, services, 3)
    tasks = sql(deployment.database, "select task_id, map_index, state, hostname from "
                                     "task_instance where dag_id = %s and run_id = %s order by "
                                     "task_id, map_index", dag, run_id)
    return state, tasks
