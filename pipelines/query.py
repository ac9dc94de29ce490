"""DuckDB over the lake: views ``reports`` and ``report_stats`` with partition columns, and
``report_latest`` (one row per report however many copies were collected).

The tables are registered as pyarrow datasets on the store's own filesystem (local or S3 with
the credentials boto3 resolved), so querying an ``s3://`` lake needs no DuckDB extension and no
second credential setup; scans stay lazy and partition filters prune files.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from pipelines.errors import InputError, LakeDamaged
from pipelines.lake import Lake, damaged_message
from pipelines.schema import PARTITION_SCHEMA, TABLES, dataset_schema


def table_dataset(lake: Lake, table: str) -> ds.Dataset | pa.Table:
    """A lazily read dataset of ``table`` (an empty table when nothing has landed yet)."""
    parts = lake.partitions(table)
    if not parts:
        return dataset_schema(table).empty_table()
    filesystem, base = lake.store.arrow_filesystem()
    files = [f"{base}/{part.key(table)}" for part in parts]
    return ds.dataset(
        files,
        schema=dataset_schema(table),
        format="parquet",
        filesystem=filesystem,
        partitioning=ds.HivePartitioning(PARTITION_SCHEMA),
        partition_base_dir=f"{base}/{table}",
    )


#: DuckDB settings of the lake's reader: no file, network or extension access of its own (the
#: views are scanned by pyarrow, on the store's filesystem), no Python variables as tables.
READ_ONLY = {"enable_external_access": False, "autoinstall_known_extensions": False,
             "autoload_known_extensions": False, "allow_community_extensions": False,
             "python_enable_replacements": False}


#: One row per report (``report_key``; a row without a key is its own report): the best copy,
#: with the URLs of the others. Best: a copy on a government (.gov.cn) host over one elsewhere
#: (a mirror) over an ingested file; then the newest (published, then fetched); then doc_id.
REPORT_LATEST = """
CREATE VIEW report_latest AS
WITH copies AS (
  SELECT *, coalesce(report_key, 'doc:' || doc_id) AS _report,
         CASE WHEN regexp_matches(url, '^https?://([^/:]+[.])?gov[.]cn([:/]|$)') THEN 0
              WHEN url LIKE 'http%' THEN 1 ELSE 2 END AS _origin
  FROM reports
), ranked AS (
  SELECT *, row_number() OVER (PARTITION BY _report ORDER BY _origin, published_date DESC NULLS
           LAST, fetched_at DESC NULLS LAST, doc_id) AS _rank,
         list(url ORDER BY url) OVER (PARTITION BY _report) AS _urls,
         count(*) OVER (PARTITION BY _report) AS copies
  FROM copies
)
SELECT * EXCLUDE (_report, _origin, _rank, _urls),
       list_filter(_urls, lambda u: u IS DISTINCT FROM url) AS other_sources
FROM ranked WHERE _rank = 1
"""

#: The views beyond the tables.
VIEWS = ("report_latest",)


def connect(lake: Lake) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with one view per lake table, read-only towards the
    world: SQL can read the views and nothing else (``COPY … TO``, ``ATTACH``, ``INSTALL``,
    ``read_csv('/etc/…')`` are refused), and the configuration is locked once the views are
    registered so that no statement can lift that."""
    con = duckdb.connect(config=READ_ONLY)
    for table in TABLES:
        con.register(table, table_dataset(lake, table))
    con.execute(REPORT_LATEST)
    con.execute("SET lock_configuration = true")
    return con


def run_query(lake: Lake, sql: str) -> tuple[list[str], list[tuple]]:
    """Column names and rows of ``sql`` over the lake; :class:`InputError` for a statement
    that tries to reach beyond the lake's views, :class:`LakeDamaged` naming a damaged
    partition file."""
    con = connect(lake)
    try:
        relation = con.sql(sql)
        if relation is None:  # a statement without a result (e.g. SET)
            return [], []
        return relation.columns, relation.fetchall()
    except (duckdb.PermissionException, duckdb.InvalidInputException) as exc:
        first = str(exc).splitlines()[0]
        if isinstance(exc, duckdb.PermissionException) or "configuration" in first:
            raise InputError(
                f"query refused ({first}): `govreports query` only reads the lake's views "
                f"({', '.join([*TABLES, *VIEWS])}); it cannot read or write files, attach "
                "databases, install extensions or change settings") from None
        _name_damaged(lake, exc)
        raise
    except duckdb.Error as exc:
        _name_damaged(lake, exc)
        raise


def _name_damaged(lake: Lake, exc: Exception) -> None:
    """After a failed scan: raise :class:`LakeDamaged` for the first partition file that is
    not readable Parquet, if that was the cause (only then are the files' footers read)."""
    if "parquet" not in str(exc).lower():
        return
    for table in TABLES:
        for part in lake.partitions(table):
            try:
                data = lake.store.read(part.key(table))
                pq.read_metadata(pa.BufferReader(data))
            except (pa.ArrowException, OSError) as damage:
                raise LakeDamaged(damaged_message(part.key(table), part, damage)) from None
