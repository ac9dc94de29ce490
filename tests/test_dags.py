"""The Airflow DAGs, executed by Airflow itself (``airflow dags test`` on SQLite) against the
sample portals on loopback and lakes on the loopback S3 endpoint (reached through the
``aws_default`` connection) or on local disk."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import boto3
import pyarrow as pa
import pytest

from crawlers.samples.server import Page, SampleServer, Site
from crawlers.samples.sites import registry_entries, sample_portals
from pipelines.lake import Lake, Partition
from pipelines.query import run_query
from tests.conftest import loopback_aws
from tests.portal_sites import write_registry

pytestmark = pytest.mark.e2e  # real processes: crawls, races, Airflow

ROOT = Path(__file__).parent.parent
BIN = Path(sys.executable).parent
FAST = "DOWNLOAD_DELAY=0 AUTOTHROTTLE_ENABLED=False RETRY_TIMES=0"


@pytest.fixture(scope="module")
def airflow_home(tmp_path_factory):
    """An Airflow home with its SQLite database migrated, and the environment that uses it."""
    home = tmp_path_factory.mktemp("airflow")
    env = {**os.environ,
           "AIRFLOW_HOME": str(home),
           "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
           "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
           "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
           "GOVREPORTS_RETRY_DELAY": "0.2"}
    for name in ("GOVREPORTS_LAKE", "GOVREPORTS_PORTALS", "AWS_ENDPOINT_URL_S3",
                 "AWS_ENDPOINT_URL", "AIRFLOW_CONN_AWS_DEFAULT"):
        env.pop(name, None)
    done = subprocess.run([str(BIN / "airflow"), "db", "migrate"], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return home, env


def dag_test(env: dict, dag_id: str, conf: dict,
             logical_date: str | None = None) -> tuple[int, str, dict[str, str]]:
    """Run a DAG once through Airflow; returns the exit status, the log and every task's
    final state (``task`` or ``task[map_index]``)."""
    command = [str(BIN / "airflow"), "dags", "test", dag_id, *([logical_date] if logical_date
                                                               else []), "-c", json.dumps(conf)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
    log = done.stdout + done.stderr
    run_id = re.search(r"run_id='?(manual__[^\s,']+)", log)
    assert run_id, log[-3000:]
    # Read from Airflow's own database (an `airflow tasks states-for-dag-run` would start
    # Airflow once more for the same answer).
    with sqlite3.connect(Path(env["AIRFLOW_HOME"]) / "airflow.db") as db:
        rows = db.execute("select task_id, map_index, state from task_instance "
                          "where dag_id = ? and run_id = ?", (dag_id, run_id[1])).fetchall()
    assert rows, (run_id[1], log[-2000:])
    return done.returncode, log, {
        task + (f"[{index}]" if index != -1 else ""): state for task, index, state in rows}


def query(lake: Lake, sql: str) -> list[dict]:
    columns, rows = run_query(lake, sql)
    return [dict(zip(columns, row, strict=True)) for row in rows]


def seen_apart(lake: Lake) -> tuple[list[dict], dict[str, object]]:
    """The reports' rows but their ``last_seen``, and each one's ``last_seen`` by URL: a night
    that finds the same bytes (its re-checks' 304s) moves only that."""
    rows = query(lake, "select * exclude (last_seen) from reports order by doc_id")
    return rows, {r["url"]: r["last_seen"] for r in query(lake, "select url, last_seen "
                                                                 "from reports")}


def summary_of(log: str) -> str:
    match = re.search(r"^govreports batch .*?(?=^\S)", log + "\nend", re.M | re.S)
    return match[0] if match else ""


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    """The sample portals on free ports, their registry, and the server (for its hit log)."""
    portals = sample_portals(port=0)
    with SampleServer([p.site for p in portals]) as server:
        registry = tmp_path_factory.mktemp("registry") / "portals.yaml"
        write_registry(registry, registry_entries(portals))
        yield registry, server


# -- the DAG files ------------------------------------------------------------------------------

DAGBAG_PROBE = """
import json, sys
sys.path.insert(0, "{dags}")  # as Airflow does for its DAGS_FOLDER
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder="{dags}",
             known_pools={{"default_pool", "govreports_crawl", "govreports_load"}})
print(json.dumps({{"errors": {{k: str(v) for k, v in bag.import_errors.items()}},
                  "warnings": [w.message for w in bag.dag_warnings],
                  "params": {{d: sorted(dag.params.keys()) for d, dag in bag.dags.items()}}}}))
"""


def test_the_dag_files_import_cleanly_and_do_no_work_at_import(airflow_home, tmp_path):
    _, env = airflow_home
    # Importing the DAG files does no work: a lake that does not exist is never touched. The
    # pools the tasks name must exist (known_pools): a DAG naming an unknown pool is a warning.
    # A bad setting does not stop them importing (their first task names it).
    env = {**env, "GOVREPORTS_LAKE": str(tmp_path / "nowhere"), "GOVREPORTS_PORTALS":
           str(tmp_path / "nowhere.yaml"), "GOVREPORTS_RETRY_DELAY": "soon"}
    done = subprocess.run([sys.executable, "-c", DAGBAG_PROBE.format(dags=ROOT / "dags")],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    bag = json.loads(done.stdout.strip().splitlines()[-1])
    assert bag["errors"] == {} and bag["warnings"] == []
    assert set(bag["params"]) == {"govreports_nightly", "govreports_backfill",
                                  "govreports_reprocess"}
    assert {"mode", "provinces", "years", "published_from", "published_to", "portal_ids"} <= \
        set(bag["params"]["govreports_backfill"])
    assert not (tmp_path / "nowhere").exists()


# -- nightly ------------------------------------------------------------------------------------

def through_connection(env: dict, endpoint: str, key: str, secret: str, *,
                       role_arn: str | None = None) -> dict:
    """The DAG runs' environment reaching S3 only through the Airflow connection
    ``aws_default`` (no AWS endpoint or keys of its own); with ``role_arn``, the tasks assume
    that role (the loopback endpoint's STS) and use its temporary credentials."""
    connection = {"conn_type": "aws", "login": key, "password": secret,
                  "extra": {"endpoint_url": endpoint, "region_name": "us-east-1"}}
    if role_arn:
        connection["extra"].update(role_arn=role_arn,
                                   service_config={"sts": {"endpoint_url": endpoint}})
    env = {k: v for k, v in env.items() if not k.startswith("AWS_")}
    env.update({"AIRFLOW_CONN_AWS_DEFAULT": json.dumps(connection),
                "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
                "AWS_EC2_METADATA_DISABLED": "true"})
    return env


def make_bucket(name: str) -> None:
    client = boto3.client("s3")
    if name not in [b["Name"] for b in client.list_buckets().get("Buckets", [])]:
        client.create_bucket(Bucket=name)


def anti_bot_site(host: str) -> Site:
    wall = Page(b"<html><script>$_ts=window['$_ts'];$_ts.nsd=1;</script></html>", status=412,
                validators=False)
    return Site("wall", host, {"/xxgk/ndbg/": wall})


def test_a_failing_portal_fails_its_own_crawl_task_while_the_others_land(airflow_home, samples,
                                                                         tmp_path):
    registry, _ = samples
    ucap = [e for e in registry_entries_of(registry) if e["id"] == "sample-ucap-qixingguan"]
    with SampleServer([anti_bot_site("127.0.0.41")]) as walls:
        entries = [*ucap,
                   {"id": "refusing", "name": "连不上", "cms": "trs",  # nothing listens on :9
                    "start_urls": ["http://127.0.0.42:9/ndbg/index.html"]},
                   {"id": "walled", "name": "有防护", "cms": "generic",
                    "start_urls": [walls.sites[0].url("/xxgk/ndbg/")]}]
        mixed = write_registry(tmp_path / "mixed.yaml", entries)
        _, env = airflow_home
        env = {**env, "GOVREPORTS_PORTALS": str(mixed), "GOVREPORTS_LAKE": str(tmp_path / "lake")}
        status, log, states = dag_test(env, "govreports_nightly",
                                       {"crawl_settings": FAST, "shards": 3})
    assert status != 0
    shard_of = {}
    for match in re.finditer(r"crawl shard (\d+): .*?--portal (\S+)", log):
        shard_of.setdefault(match[2], match[1])
    assert states[f"crawl[{shard_of['sample-ucap-qixingguan']}]"] == "success"
    assert states[f"crawl[{shard_of['refusing']}]"] == "failed"
    assert states[f"crawl[{shard_of['walled']}]"] == "failed"
    assert states["load_partitions"] == "success" and states["summarize"] == "success"
    assert states["watcher"] == "failed"  # the run fails with its shards
    # A refused connection may pass: it is retried. An anti-bot wall will not: it is not.
    tries = {pid: len(re.findall(rf"crawl shard {n}: ", log)) for pid, n in shard_of.items()}
    assert tries["refusing"] == 3 and tries["walled"] == 1, tries
    assert "portal(s) down: refusing, walled" in summary_of(log)
    rows = query(Lake.open(str(tmp_path / "lake")), "select portal_id from reports")
    assert rows == [{"portal_id": "sample-ucap-qixingguan"}]


def registry_entries_of(path: Path) -> list[dict]:
    import yaml

    return yaml.safe_load(path.read_text(encoding="utf-8"))["portals"]


# -- backfill and reprocess ---------------------------------------------------------------------

@contextmanager
def own_s3_keys(s3_endpoint: str):
    """This process's own AWS environment for the loopback endpoint, for a module's fixture (a
    function-scoped ``aws_env`` cannot serve it); yields the keys."""
    own = loopback_aws(s3_endpoint)
    saved = {k: os.environ.get(k) for k in own}
    os.environ.update(own)
    try:
        yield own
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def worker_bucket(purpose: str) -> str:
    """A bucket of this xdist worker (workers may share one S3 server)."""
    name = f"govreports-{purpose}-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    make_bucket(name)
    return name


def dag_env(airflow_home, samples, s3_endpoint: str, own: dict, lake_url: str, *,
            role_arn: str | None = None) -> dict:
    registry, _ = samples
    _, env = airflow_home
    env = through_connection(env, s3_endpoint, own["AWS_ACCESS_KEY_ID"],
                             own["AWS_SECRET_ACCESS_KEY"], role_arn=role_arn)
    return {**env, "GOVREPORTS_PORTALS": str(registry), "GOVREPORTS_LAKE": lake_url}


@pytest.fixture(scope="module")
def crawled_lake(airflow_home, samples, s3_endpoint):
    """A lake on the loopback S3 endpoint that the nightly DAG has filled from the sample
    portals, with that run's log and task states. This process reads it with keys of its own,
    the DAGs through ``aws_default``."""
    with own_s3_keys(s3_endpoint) as own:
        lake_url = f"s3://{worker_bucket('nightly')}/lake"
        env = dag_env(airflow_home, samples, s3_endpoint, own, lake_url)
        # Work units of two documents: the decode and extract tasks are mapped over several.
        env["GOVREPORTS_UNIT_DOCS"] = "2"
        status, log, states = dag_test(env, "govreports_nightly", {"crawl_settings": FAST})
        assert status == 0, log[-3000:]
        yield lake_url, env, log, states


@pytest.fixture(scope="module")
def lake_to_rebuild(airflow_home, samples, s3_endpoint):
    """A lake on the loopback S3 endpoint that ``govreports run`` filled from the sample
    portals (what the reprocess DAGs rebuild from), and the DAGs' environment for it."""
    registry, _ = samples
    with own_s3_keys(s3_endpoint) as own:
        lake_url = f"s3://{worker_bucket('rebuild')}/lake"
        done = subprocess.run([str(BIN / "govreports"), "run", "--portals", str(registry),
                               "--lake", lake_url, *[x for pair in FAST.split()
                                                     for x in ("--set", pair)]],
                              capture_output=True, text=True, timeout=300,
                              env={**os.environ, "GOVREPORTS_LAKE": ""})
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        # The rebuilding DAGs reach the lake as an assumed role (temporary credentials).
        yield lake_url, dag_env(airflow_home, samples, s3_endpoint, own, lake_url,
                                role_arn="arn:aws:iam::123456789012:role/govreports-lake")


def tamper(lake: Lake, part: Partition) -> None:
    """Add a row no document stands behind to a partition (what a rebuild must remove)."""
    rows, version = lake.read_partition_versioned("reports", part)
    fake = rows.slice(0, 1).to_pylist()[0] | {"doc_id": "0" * 16, "title": "不该存在的行"}
    lake.write_partition_if("reports", part, pa.concat_tables([
        rows, pa.Table.from_pylist([fake], schema=rows.schema)]), version)


@pytest.mark.parametrize("dag_id,conf", [
    ("govreports_reprocess", {"provinces": ["530000"], "years": [2019]}),
    ("govreports_backfill", {"mode": "reprocess", "provinces": ["530000"], "years": [2019]}),
], ids=["reprocess-dag", "backfill-reprocess"])
def test_rebuilding_a_partition_replaces_exactly_that_partition(lake_to_rebuild, dag_id, conf):
    lake_url, env = lake_to_rebuild
    lake = Lake.open(lake_url, writable=True)
    target = Partition("530000", 2019)
    tamper(lake, target)
    others = {k: lake.store.read(k) for k in lake.store.list("reports/")
              if not k.startswith(target.prefix("reports"))}
    stats_before = {k: lake.store.read(k) for k in lake.store.list("report_stats/")}
    status, log, states = dag_test(env, dag_id, conf)
    assert status == 0 and set(states.values()) <= {"success", "skipped"}, states
    assert states["watcher"] == "skipped"
    titles = [r["title"] for r in lake.read_partition("reports", target).to_pylist()]
    assert len(titles) == 3 and "不该存在的行" not in titles
    assert {k: lake.store.read(k) for k in lake.store.list("reports/")
            if not k.startswith(target.prefix("reports"))} == others
    assert {k: lake.store.read(k) for k in lake.store.list("report_stats/")} == stats_before
    if dag_id == "govreports_backfill":
        assert states["crawl"] == "skipped"  # reprocess mode fetches nothing


def test_a_recrawl_backfill_revalidates_known_documents_and_changes_nothing(crawled_lake,
                                                                          samples):
    lake_url, env, *_ = crawled_lake
    _, server = samples
    lake = Lake.open(lake_url)
    before, seen_before = seen_apart(lake)
    stats_before = {k: lake.store.read(k) for k in lake.store.list("report_stats/")}
    since = len(server.hits)
    status, log, states = dag_test(env, "govreports_backfill", {
        "mode": "recrawl", "portal_ids": ["sample-ucap-qixingguan"], "crawl_settings": FAST})
    assert status == 0 and set(states.values()) == {"success", "skipped"}, states
    detail = [h for h in server.hits[since:] if "/t2021" in h.path]
    assert detail and all(h.conditional and h.status == 304 for h in detail)
    # The same bytes: the same rows and cells, those documents seen again now.
    after, seen_after = seen_apart(lake)
    assert after == before
    assert {k: lake.store.read(k) for k in lake.store.list("report_stats/")} == stats_before
    moved = {url for url, moment in seen_after.items() if moment != seen_before[url]}
    assert moved == {url for url in seen_after
                     if any(url.endswith(h.path) for h in detail)}, moved
    assert all(seen_after[url] > seen_before[url] for url in moved)


def test_nightly_lands_the_sample_reports_on_s3_and_a_backfilled_rerun_adds_nothing(
        airflow_home, crawled_lake):
    lake_url, env, log, states = crawled_lake
    assert set(states.values()) == {"success", "skipped"}, states
    assert sum(1 for t in states if t.startswith("crawl[")) == 4  # five portals, four shards
    assert "processed 7 documents → 6 reports, 0 rejects" in summary_of(log)
    # Seven documents, five portals, units of two at most: a unit per portal or pair of
    # small portals (a page and its PDF together), each decoded and extracted by its own tasks.
    units = {t.split("[")[1] for t in states if t.startswith("work_unit.extract_reports[")}
    assert len(units) >= 4, states
    assert units == {t.split("[")[1] for t in states
                     if t.startswith("work_unit.decode_documents[")}

    lake = Lake.open(lake_url)
    rows = query(lake, "select portal_id, province_code, report_year, title "
                       "from reports order by all")
    assert len(rows) == 6 and all(r["title"] and r["report_year"] for r in rows)
    assert {r["province_code"] for r in rows} == {"220000", "520000", "530000"}

    # One Asset event per table from that run, saying which lake and partitions changed.
    home, _ = airflow_home
    with sqlite3.connect(home / "airflow.db") as db:
        events = db.execute("select a.name, e.extra from asset_event e join asset a "
                            "on a.id = e.asset_id order by e.id").fetchall()
    first = {}
    for name, extra in events:  # (other tests' runs may share this Airflow: other lakes)
        if json.loads(extra)["lake"] == lake_url:
            first.setdefault(name, json.loads(extra))
    assert set(first) == {"govreports.reports", "govreports.report_stats",
                          "govreports.report_versions"}
    assert len(first["govreports.reports"]["partitions_written"]) == 4

    # After the load, the run filed its report page in the lake: under its date and as latest.
    pages = sorted(lake.store.list("_reports/"))
    assert lake.report_page_key("latest") in pages
    dated = [k for k in pages if re.fullmatch(r"_reports/\d{4}-\d\d-\d\d/index\.html", k)]
    assert dated and lake.store.read(dated[-1]) == lake.store.read(lake.report_page_key("latest"))
    page = lake.store.read(lake.report_page_key("latest")).decode()
    assert 'id="coverage-heatmap"' in page and 'data-portal-status="sample-ucap-qixingguan"' in page
    [n] = [r["n"] for r in query(lake, "select count(*) as n from report_latest "
                                       "where province_code = '530000' and report_year = 2019")]
    assert f'data-province="530000" data-year="2019">{n}</td>' in page

    # A run at a past logical date (what a backfill makes) crawls and processes like any
    # night: the list pages are unchanged, so no new bytes and no new rows (its share of
    # re-checks is answered 304: those documents were seen again, their last_seen moves).
    raw_before = sorted(lake.store.list("raw/"))
    rows_before, seen_before = seen_apart(lake)
    stats_before = {k: lake.store.read(k) for k in lake.store.list("report_stats/")}
    status, log, states = dag_test(env, "govreports_nightly", {"crawl_settings": FAST},
                                   logical_date="2026-11-01T18:30:00+00:00")
    assert status == 0 and set(states.values()) == {"success", "skipped"}, states
    assert re.search(r"processed \d+ documents → \d+ reports, 0 rejects;",
                     summary_of(log)), summary_of(log)
    assert sorted(lake.store.list("raw/")) == raw_before
    rows_after, seen_after = seen_apart(lake)
    assert rows_after == rows_before
    assert {k: lake.store.read(k) for k in lake.store.list("report_stats/")} == stats_before
    assert all(seen_after[url] >= moment for url, moment in seen_before.items())


def test_a_backfill_of_the_nightly_dag_plans_one_run_per_day(airflow_home):
    _, env = airflow_home
    # The scheduler plans from the DAGs it has parsed into its database.
    parsed = subprocess.run([str(BIN / "airflow"), "dags", "reserialize"], env=env,
                            capture_output=True, text=True, timeout=300)
    assert parsed.returncode == 0, parsed.stderr[-2000:]
    plan = subprocess.run([str(BIN / "airflow"), "backfill", "create", "--dag-id",
                           "govreports_nightly", "--from-date", "2026-11-01", "--to-date",
                           "2026-11-03", "--dry-run"], env=env, capture_output=True, text=True,
                          timeout=300)
    assert plan.returncode == 0, plan.stderr[-2000:]
    # 02:30 in Asia/Shanghai is 18:30 UTC the day before.
    assert re.findall(r"2026-11-0\d 18:30:00\+00:00", plan.stdout) == [
        "2026-11-01 18:30:00+00:00", "2026-11-02 18:30:00+00:00"]
