"""What the govreports DAGs' tasks do: the DAG files stay thin (a task is one call here).
Listed in ``.airflowignore``: it defines no DAG. Tasks read and write the lake and hand each
other keys and counts, never documents. The plain functions need no Airflow; the last section
wires the shared processing chain as TaskFlow tasks.

Configuration comes from the environment through :mod:`pipelines.settings`
(``GOVREPORTS_LAKE``, ``GOVREPORTS_PORTALS``, ``GOVREPORTS_CRAWL_SHARDS``,
``GOVREPORTS_CRAWL_SETTINGS``, ``GOVREPORTS_RETRY_DELAY``, ``GOVREPORTS_NIGHTLY_SCHEDULE``),
overridable per run by DAG params; S3 credentials from the Airflow connection ``aws_default``
(through the Amazon provider's hook) when it exists, else the standard AWS chain.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

from pipelines.errors import CrawlFailure, Terminal

log = logging.getLogger(__name__)

CRAWL_POOL = "govreports_crawl"
#: The Celery queue of the crawl shards (processing tasks use Airflow's default queue); the
#: workers of infra/airflow/celery.env serve both.
CRAWL_QUEUE = "govreports_crawl"
#: One slot: loads from different runs (nightly, backfill, reprocess) never interleave their
#: read-modify-write of a partition.
LOAD_POOL = "govreports_load"


#: The DAGs' timezone: their schedules, and the dates their report pages are filed under.
TIMEZONE = "Asia/Shanghai"


def start_date():
    """Every DAG's start date (none catches up on runs before it was deployed)."""
    import pendulum

    return pendulum.datetime(2026, 1, 1, tz=TIMEZONE)


def settings():
    """The environment's ``GOVREPORTS_*`` settings as a task reads them: a bad value fails the
    task at once (:class:`Permanent`), in one line naming the variable."""
    from pipelines.settings import BadSetting, current

    try:
        return current()
    except BadSetting as exc:
        raise Permanent(str(exc)) from None


def parse_settings():
    """The settings the DAG files read when they are parsed (schedule, retry delays): the
    environment's, or the defaults when a value is bad, so that the DAGs still import; their
    first task then fails naming the bad value (:func:`airflow_call`)."""
    from pipelines.settings import BadSetting, Settings, current

    try:
        return current()
    except BadSetting:
        return Settings()


def nightly_schedule() -> str | None:
    """When the nightly DAG runs: ``GOVREPORTS_NIGHTLY_SCHEDULE`` (a cron expression in the DAG's
    timezone; ``none``: only when triggered, as ``make celery-e2e`` does)."""
    given = parse_settings().nightly_schedule
    return None if given.lower() == "none" else given


def default_args(retries: int = 2) -> dict:
    from datetime import timedelta

    return {"owner": "govreports", "retries": retries,
            "retry_delay": timedelta(seconds=parse_settings().retry_delay),
            "retry_exponential_backoff": True,
            "max_retry_delay": timedelta(hours=1)}


def crawl_task_args() -> dict:
    """A crawl shard: the crawl pool and queue, longer retry delays, a bound on its run
    time."""
    from datetime import timedelta

    return {"pool": CRAWL_POOL, "queue": CRAWL_QUEUE, "retries": 2,
            "retry_delay": timedelta(seconds=2 * parse_settings().retry_delay),
            "execution_timeout": timedelta(hours=6)}


class Permanent(Terminal):
    """A failure of the DAG's own that a retry cannot fix (no portal selected, a refused
    command, a shard whose portals are down for terminal reasons). Like every
    :class:`~pipelines.errors.Terminal` error, it fails the task at once (:func:`airflow_call`
    turns it into ``AirflowFailException``)."""


def lake_url(params: dict | None = None) -> str:
    url = (params or {}).get("lake") or settings().lake
    if "://" not in url:
        url = Path(url).resolve().as_uri()
    return url


def registry(params: dict | None = None) -> str | None:
    return (params or {}).get("portals_file") or settings().portals or None


def aws_environment() -> dict[str, str]:
    """The ``aws_default`` connection as the standard variables boto3 and a crawl subprocess
    read, resolved by Airflow's Amazon provider: keys, a session token, a role assumed
    (``role_arn`` in the extra), the S3 endpoint and region. Nothing when there is no such
    connection, or when it names no keys and no role (the pods' own role, IRSA, an instance
    profile: the standard chain, which refreshes itself, is better than a frozen copy).

    Credentials of an assumed role are temporary: a crawl shard longer than the role's session
    (one hour unless the extra's ``assume_role_kwargs`` sets ``DurationSeconds``) should run
    with a role of its own instead."""
    try:
        from airflow.providers.amazon.aws.hooks.base_aws import AwsGenericHook
        from airflow.sdk import BaseHook

        BaseHook.get_connection("aws_default")
    except Exception:  # no connection defined (or not inside Airflow): the standard chain
        return {}
    hook = AwsGenericHook(aws_conn_id="aws_default", client_type="s3")
    config = hook.conn_config
    env = {}
    if config.aws_access_key_id or config.role_arn:
        credentials = hook.get_credentials()  # assumes the role when the connection names one
        env["AWS_ACCESS_KEY_ID"] = credentials.access_key
        env["AWS_SECRET_ACCESS_KEY"] = credentials.secret_key
        if credentials.token:
            env["AWS_SESSION_TOKEN"] = credentials.token
    endpoint = config.get_service_endpoint_url("s3")
    if endpoint:
        env["AWS_ENDPOINT_URL_S3"] = endpoint
    if config.region_name:
        env["AWS_DEFAULT_REGION"] = config.region_name
    return env


def lake_aws(params: dict | None) -> dict[str, str]:
    """What a process working on the run's lake needs of ``aws_default``: its variables for an
    S3 lake, nothing for a local one (a role is assumed only when the lake needs it)."""
    return aws_environment() if lake_url(params).startswith("s3://") else {}


def _open_lake(params: dict | None):
    from pipelines.lake import Lake

    os.environ.update(lake_aws(params))  # what boto3 sees in this task's process
    return Lake.open(lake_url(params), writable=True)


def _govreports_process(params: dict, args: list[str], refused: str
                        ) -> subprocess.CompletedProcess:
    """``govreports ARGS`` in a process of its own, with the lake's AWS settings; its output
    joins this task's log. Exit 2 (bad input or configuration) is :class:`Permanent`, with the
    command's last line of error (``refused`` when it printed none)."""
    done = subprocess.run([_govreports(), *args], capture_output=True, text=True,
                          env={**os.environ, **lake_aws(params)})
    sys.stdout.write(done.stdout)
    sys.stderr.write(done.stderr)
    if done.returncode == 2:
        raise Permanent(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else refused)
    return done


# -- crawl --------------------------------------------------------------------------------------

def plan_shards(params: dict, batch: str | None = None) -> list[dict]:
    """The crawl's shards: portal ids grouped so that a host is only ever in one shard. With a
    batch, their number is kept in ``_work/<batch>/shards.json``: a cleared run that plans fewer
    shards does not process the manifests of shards it no longer has."""
    from crawlers.portals import load_portals, select
    from crawlers.shards import shards

    wanted = list(params.get("portal_ids") or [])
    portals = select(load_portals(registry(params)), wanted)
    provinces = {str(p) for p in params.get("provinces") or []}
    if provinces:
        portals = [p for p in portals if p.province in provinces]
    if not portals:
        raise Permanent(f"no enabled portal matches portal_ids={wanted} provinces="
                        f"{sorted(provinces)} in {registry(params) or 'crawlers/portals.yaml'}")
    count = int(params.get("shards") or settings().crawl_shards)
    planned = [{"shard": i, "portals": ids} for i, ids in enumerate(shards(portals, count))]
    if batch is not None:
        lake = _open_lake(params)
        lake.write_json(lake.work_key(batch, "shards.json"), planned)
    return planned


def crawl_shard(shard: dict, batch: str, params: dict, *, revalidate: bool = False) -> dict:
    """Crawl one shard in its own process (Scrapy's reactor cannot restart inside a worker);
    the run manifest is ``_runs/<batch>-crawl-<shard>.json``, rewritten by a retry."""
    command = ["crawl", "--lake", lake_url(params), "--run-id", f"{batch}-crawl-{shard['shard']}"]
    if registry(params):
        command += ["--portals", registry(params)]
    for portal_id in shard["portals"]:
        command += ["--portal", portal_id]
    if revalidate:
        command.append("--revalidate")
    for pair in _settings(params):
        command += ["--set", pair]
    log.info("crawl shard %s: %s %s", shard["shard"], _govreports(), " ".join(command))
    done = _govreports_process(params, command, "bad crawl configuration")
    lake = _open_lake(params)
    key = lake.manifest_key(f"{batch}-crawl-{shard['shard']}")
    if done.returncode not in (0, 1):
        raise RuntimeError(f"crawl of shard {shard['shard']} exited {done.returncode}")
    from pipelines.records import RunManifest

    try:
        manifest = RunManifest.from_json(lake.read_json(key))
    except KeyError:
        raise RuntimeError(f"crawl of shard {shard['shard']} exited {done.returncode} without "
                           f"writing {key}") from None
    if manifest.status != "finished":
        raise RuntimeError(f"crawl of shard {shard['shard']} exited {done.returncode} before "
                           f"finishing (manifest {key} is {manifest.status!r})")
    down = {pid: o for pid, o in manifest.portals.items() if o.is_down()}
    counts = manifest.counts
    summary = {"shard": shard["shard"], "manifest": key, "portals": len(shard["portals"]),
               "documents": counts.get("documents", 0), "attachments": counts.get("attachments",
                                                                                   0),
               "failed": counts.get("failed", 0), "blocked": counts.get("blocked", 0),
               "down": sorted(down)}
    if down:
        reasons = {f["reason"] for o in down.values() for f in o.failures} | \
                  {"anti_bot" for o in down.values() if o.blocked}
        message = (f"portal(s) {', '.join(sorted(down))} could not be crawled "
                   f"({', '.join(sorted(reasons)) or 'nothing fetched'}); the shard's other "
                   "portals landed")
        if reasons and not any(CrawlFailure.is_transient(r) for r in reasons):
            raise Permanent(message)
        raise RuntimeError(message)
    return summary


def _govreports() -> str:
    sibling = Path(sys.executable).with_name("govreports")
    return str(sibling) if sibling.exists() else (shutil.which("govreports") or "govreports")


def _settings(params: dict) -> list[str]:
    given = params.get("crawl_settings") or settings().crawl_settings
    if isinstance(given, dict):
        return [f"{k}={v}" for k, v in given.items()]
    return [pair for pair in given.split() if pair]


def crawl_manifests(params: dict, batch: str) -> list[str]:
    """The crawl manifests this batch's shards wrote: read from the lake, so a failed shard's
    partial landings are processed too and a cleared task's XCom is not needed."""
    lake = _open_lake(params)
    try:
        planned = {lake.manifest_key(f"{batch}-crawl-{s['shard']}")
                   for s in lake.read_json(lake.work_key(batch, "shards.json"))}
    except KeyError:  # shards planned without a batch: every manifest of the batch
        planned = None
    return [key for key in lake.manifest_keys(f"{batch}-crawl-")
            if planned is None or key in planned]


# -- processing stages --------------------------------------------------------------------------

def plan_batch(params: dict, batch: str, *, from_crawl: bool, scope: dict | None = None) -> dict:
    from pipelines import stages

    lake = _open_lake(params)
    manifests = crawl_manifests(params, batch) if from_crawl else None
    return stages.plan(lake, batch, crawl_manifests=manifests, scope=scope)


def decode(params: dict, batch: str, unit: int | None = None) -> dict:
    return _stage_process(params, "decode", batch, unit)


def extract(params: dict, batch: str, unit: int | None = None) -> dict:
    return _stage_process(params, "extract", batch, unit)


def _stage_process(params: dict, stage: str, batch: str, unit: int | None) -> dict:
    """Run a document stage in a process of its own (``govreports stage``). Its document
    workers need a clean parent: an Airflow task on a Celery worker is forked from a prefork
    pool child, whose multiprocessing state (billiard's: a daemon mark, an unpicklable auth
    key) refuses it children; and a unit's memory goes back when its process ends. The counts
    returned are the stage's own record of the unit, read from the lake."""
    from pipelines import stages

    command = ["stage", stage, "--lake", lake_url(params), "--batch", batch]
    if unit is not None:
        command += ["--unit", str(unit)]
    done = _govreports_process(params, command, f"{stage} of batch {batch} refused its input")
    if done.returncode:
        raise RuntimeError(f"{stage} of batch {batch} unit {unit} exited {done.returncode}: "
                           f"{done.stderr.strip()[-500:]}")
    return stages.unit_counts(_open_lake(params), batch, stage, unit)


def load(params: dict, batch: str) -> dict:
    from pipelines import stages

    return stages.load(_open_lake(params), batch, run_id=batch)


def scope(params: dict) -> dict:
    from pipelines import stages

    checked = stages.scope_of(
        provinces=params.get("provinces") or (), years=params.get("years") or (),
        portals=params.get("portal_ids") or (), published_from=params.get("published_from"),
        published_to=params.get("published_to"))
    return checked.to_json()  # an XCom carries JSON


def summary(params: dict, batch: str, crawls: list[str] | None) -> str:
    """One readable paragraph about the run (the summarize task's log, and ``make run``'s end)."""
    from pipelines.records import RunManifest

    lake = _open_lake(params)
    lines = [f"govreports batch {batch} · lake {lake.url}"]
    down: list[str] = []
    empty: list[str] = []
    for key in crawls or []:
        manifest = RunManifest.from_json(lake.read_json(key))
        for portal_id, outcome in sorted(manifest.portals.items()):
            c = outcome.counts
            state = {"down": "DOWN", "suspect_empty": "EMPTY", "failing": "FAIL",
                     "needs_browser": "JS", "partial": "PART"}.get(outcome.status, "ok")
            if state == "DOWN":
                down.append(portal_id)
            elif state in ("EMPTY", "FAIL", "JS", "PART"):
                note = c.get("status_note")
                empty.append(f"{portal_id} ({note})" if note else portal_id)
            lines.append(f"  crawl {portal_id:28s} {state:4s} lists {c['list_pages']:3d} "
                         f"documents {c['documents']:3d} attachments {c['attachments']:3d} "
                         f"new {c['new_bytes']:3d} known {c['known_skipped']:3d} "
                         f"failed {c['failed']:3d} blocked {c['blocked']:3d}")
    body = lake.read_json(lake.manifest_key(batch), None)
    if body is not None:
        run = RunManifest.from_json(body)
        counts = run.counts
        lines.append(f"  processed {counts['inputs']} documents → {counts['reports']} reports, "
                     f"{counts['rejects']} rejects; partitions written "
                     f"{counts['partitions_written']}, unchanged "
                     f"{counts['partitions_unchanged']}, removed {counts['partitions_deleted']}")
        for label, n in sorted(run.body["reports_by_partition"].items()):
            lines.append(f"    {label}: {n} reports")
    if down:
        lines.append(f"  portal(s) down: {', '.join(down)} (their crawl shard failed)")
    if empty:
        lines.append(f"  portal(s) whose lists pointed to no report or to far fewer than "
                     f"announced (suspect_empty) or fewer (partial), whose lists a script "
                     f"fills (needs_browser), "
                     f"or none of whose reports landed (failing): "
                     f"{', '.join(empty)}")
    return "\n".join(lines)


def report(params: dict, day: str) -> list[str]:
    """Write the lake's coverage and quality page into the lake (``_reports/<day>/index.html``
    and ``_reports/latest/index.html``); returns their keys."""
    from pipelines import quality_page as stage

    return stage.publish(_open_lake(params), day)


def report_day(run_after) -> str:
    """The date a run's report is filed under: when the run was due, in the schedule's zone
    (a retry files it under the same date)."""
    from zoneinfo import ZoneInfo

    return run_after.astimezone(ZoneInfo(TIMEZONE)).date().isoformat()


# -- Airflow wiring shared by the DAGs ----------------------------------------------------------

TABLES = ("reports", "report_stats", "report_versions")


def table_assets() -> dict:
    """One Airflow Asset per lake table, so consumer DAGs can schedule on new data
    (``schedule=[Asset("govreports.reports")]``). Named, not located: the same DAGs serve
    several lakes, and each event's ``extra`` says which lake and which partitions changed."""
    from airflow.sdk import Asset

    return {table: Asset(name=f"govreports.{table}", group="govreports") for table in TABLES}


def airflow_call(call, *args, **kwargs):
    """Run a task body, its settings checked first. A :class:`~pipelines.errors.Terminal`
    failure (a bad setting, bad input or configuration, a damaged file, :class:`Permanent`)
    fails the task without retry; a transient one (storage, a busy lake) is retried."""
    from airflow.sdk.exceptions import AirflowFailException

    try:
        settings()
        return call(*args, **kwargs)
    except Terminal as exc:
        raise AirflowFailException(str(exc)) from exc


def run_batch() -> str:
    """This DAG run's batch id (from its run id: never from ``logical_date``, None on manual
    runs)."""
    from airflow.sdk import get_current_context

    from pipelines.records import batch_id

    context = get_current_context()
    return batch_id(f"{context['dag'].dag_id}-{context['run_id']}")


def from_crawl_of(params: dict) -> bool:
    return params.get("mode", "recrawl") == "recrawl"


def processing_chain(after=None, *, from_crawl: bool | None, scoped: bool):
    """plan → per work unit (mapped: any worker takes any unit) decode → extract → load →
    summary and report page, after ``after`` (the crawl, or nothing). The plan runs when some
    crawl shards failed too (their partial landings are processed); the load waits for every
    unit; the summary and the report page run whatever happened before them (a failed report
    page fails the run, never the load). Airflow judges a run by its last tasks, so a
    ``watcher`` downstream of every task fails the run when any of them failed.
    ``from_crawl`` None: the run's ``mode`` param decides (``recrawl`` or ``reprocess``)."""
    from airflow.sdk import get_current_context, task, task_group
    from airflow.sdk.exceptions import AirflowFailException

    assets = table_assets()

    @task(trigger_rule="all_done")
    def plan() -> list[dict]:
        """The batch's work units (``GOVREPORTS_UNIT_DOCS`` documents at most each)."""
        params = dict(get_current_context()["params"])
        given = airflow_call(scope, params) if scoped else None
        crawled = from_crawl_of(params) if from_crawl is None else from_crawl
        return airflow_call(plan_batch, params, run_batch(), from_crawl=crawled,
                            scope=given)["units"]

    @task
    def decode_documents(unit: dict) -> dict:
        return airflow_call(decode, dict(get_current_context()["params"]), unit["batch"],
                            unit["unit"])

    @task
    def extract_reports(decoded: dict) -> dict:
        return airflow_call(extract, dict(get_current_context()["params"]), decoded["batch"],
                            decoded["unit"])

    @task_group(group_id="work_unit")
    def work_unit(unit: dict):
        """One unit's documents, decoded then extracted (a retry redoes this unit only)."""
        return extract_reports(decode_documents(unit))

    @task(outlets=list(assets.values()), pool=LOAD_POOL)
    def load_partitions(extracted: list[dict]) -> dict:
        context = get_current_context()
        loaded = airflow_call(load, dict(context["params"]), run_batch())
        for table, asset in assets.items():
            context["outlet_events"][asset].extra = {
                "lake": lake_url(dict(context["params"])),
                "partitions_written": [k for k in loaded["written"] if k.startswith(f"{table}/")],
                "partitions_deleted": [k for k in loaded["deleted"] if k.startswith(f"{table}/")],
                "manifest": loaded["manifest"]}
        return loaded

    @task(trigger_rule="all_done", retries=0)
    def summarize(_loaded=None) -> str:
        params = dict(get_current_context()["params"])
        batch = run_batch()
        crawled = from_crawl_of(params) if from_crawl is None else from_crawl
        text = airflow_call(summary, params, batch,
                            crawl_manifests(params, batch) if crawled else None)
        print(text)
        return text

    @task(trigger_rule="all_done", retries=1)
    def report_page(_loaded=None) -> list[str]:
        context = get_current_context()
        return airflow_call(report, dict(context["params"]),
                            report_day(context["dag_run"].run_after))

    @task(trigger_rule="one_failed", retries=0)
    def watcher() -> None:
        raise AirflowFailException("a task of this run failed (see the tasks marked failed)")

    planned = plan()
    if after is not None:
        after >> planned  # order only: the plan reads the crawl manifests from the lake
    extracted = work_unit.expand(unit=planned)
    loaded = load_partitions(extracted)
    summarized = summarize(loaded)
    reported = report_page(loaded)
    watch = watcher()
    for step in (after, planned, extracted, loaded, summarized, reported):
        if step is not None:
            step >> watch
    return loaded
