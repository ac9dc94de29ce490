"""govreports_nightly: crawl every enabled portal (sharded, one process per shard), then decode
the documents, extract reports and load the lake's partitions. Daily at 02:30 Asia/Shanghai
(``GOVREPORTS_NIGHTLY_SCHEDULE`` changes it)."""

from __future__ import annotations

from _govreports import (
    airflow_call,
    crawl_shard,
    crawl_task_args,
    default_args,
    nightly_schedule,
    plan_shards,
    processing_chain,
    run_batch,
    start_date,
)
from airflow.sdk import Param, dag, get_current_context, task

PARAMS = {
    "portals_file": Param(None, type=["null", "string"],
                          description="Portal registry (default $GOVREPORTS_PORTALS or "
                                      "crawlers/portals.yaml)"),
    "lake": Param(None, type=["null", "string"], description="Lake URL (default "
                                                             "$GOVREPORTS_LAKE or ./lake)"),
    "portal_ids": Param([], type="array", description="Only these portals (default: all)"),
    "shards": Param(None, type=["null", "integer"], minimum=1,
                    description="Crawl processes at most (default $GOVREPORTS_CRAWL_SHARDS or 4)"),
    "crawl_settings": Param("", type="string",
                            description="Scrapy settings NAME=VALUE, space separated"),
}


@dag(dag_id="govreports_nightly",
     schedule=nightly_schedule(),
     start_date=start_date(),
     catchup=False, max_active_runs=1, params=PARAMS,
     tags=["govreports", "crawl", "nightly"],
     default_args=default_args(),
     doc_md=__doc__)
def govreports_nightly():
    @task
    def shards() -> list[dict]:
        return airflow_call(plan_shards, dict(get_current_context()["params"]), run_batch())

    @task(**crawl_task_args())
    def crawl(shard: dict) -> dict:
        return airflow_call(crawl_shard, shard, run_batch(),
                            dict(get_current_context()["params"]))

    crawled = crawl.expand(shard=shards())
    processing_chain(crawled, from_crawl=True, scoped=False)


govreports_nightly()
