"""govreports_reprocess: rebuild chosen ``reports``/``report_stats`` partitions from the raw zone
when extraction improves, fetching nothing. A scope of provinces and years replaces exactly
those partitions; a scope of portals upserts their rows; no scope rebuilds everything."""

from __future__ import annotations

from _govreports import default_args, processing_chain, start_date
from airflow.sdk import Param, dag

PARAMS = {
    "provinces": Param([], type="array", description="Province codes, e.g. [\"530000\"]"),
    "years": Param([], type="array", description="Report years, e.g. [2019]"),
    "portal_ids": Param([], type="array", description="Only documents of these portals"),
    "lake": Param(None, type=["null", "string"]),
}


@dag(dag_id="govreports_reprocess", schedule=None,
     start_date=start_date(), catchup=False,
     max_active_runs=1,
     params=PARAMS, tags=["govreports", "reprocess"],
     default_args=default_args(retries=1),
     doc_md=__doc__)
def govreports_reprocess():
    processing_chain(from_crawl=False, scoped=True)


govreports_reprocess()
