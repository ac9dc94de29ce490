"""govreports_backfill: a triggered catch-up over chosen portals or provinces, report years or a
publication-date range. ``mode=recrawl`` re-crawls those portals (re-checking every known
document conditionally) and processes what they hold; ``mode=reprocess`` rebuilds from the raw
zone without fetching. The partitions touched come from the params and the data, never from
``logical_date``. (``airflow backfill create --dag-id govreports_nightly …`` backfills the
nightly DAG itself, which never reads its dates either.)"""

from __future__ import annotations

from _govreports import (
    airflow_call,
    crawl_shard,
    crawl_task_args,
    default_args,
    from_crawl_of,
    plan_shards,
    processing_chain,
    run_batch,
    start_date,
)
from airflow.sdk import Param, dag, get_current_context, task

PARAMS = {
    "mode": Param("recrawl", enum=["recrawl", "reprocess"]),
    "portal_ids": Param([], type="array", description="Portals (default: all enabled)"),
    "provinces": Param([], type="array", description="Province codes, e.g. [\"530000\"]"),
    "years": Param([], type="array", description="Report years, e.g. [2019, 2020]"),
    "published_from": Param(None, type=["null", "string"], format="date"),
    "published_to": Param(None, type=["null", "string"], format="date"),
    "portals_file": Param(None, type=["null", "string"]),
    "lake": Param(None, type=["null", "string"]),
    "shards": Param(None, type=["null", "integer"], minimum=1,
                    description="Crawl processes at most (default $GOVREPORTS_CRAWL_SHARDS or 4)"),
    "crawl_settings": Param("", type="string"),
}


@dag(dag_id="govreports_backfill", schedule=None,
     start_date=start_date(), catchup=False,
     max_active_runs=1,
     params=PARAMS, tags=["govreports", "backfill"],
     default_args=default_args(),
     doc_md=__doc__)
def govreports_backfill():
    @task
    def shards() -> list[dict]:
        params = dict(get_current_context()["params"])
        if not from_crawl_of(params):
            return []  # reprocess: no crawl (the mapped task is skipped)
        return airflow_call(plan_shards, params, run_batch())

    @task(**crawl_task_args())
    def crawl(shard: dict) -> dict:
        return airflow_call(crawl_shard, shard, run_batch(),
                            dict(get_current_context()["params"]), revalidate=True)

    crawled = crawl.expand(shard=shards())
    processing_chain(crawled, from_crawl=None, scoped=True)


govreports_backfill()
