"""DuckDB over the lake: views ``reports`` and ``report_stats`` with partition columns.

The tables are registered as pyarrow datasets on the store's own filesystem (local or S3 with
the credentials boto3 resolved), so querying an ``s3://`` lake needs no DuckDB extension and no
second credential setup; scans stay lazy and partition filters prune files.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds

from pipelines.lake import Lake
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


def connect(lake: Lake) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with one view per lake table."""
    con = duckdb.connect()
    for table in TABLES:
        con.register(table, table_dataset(lake, table))
    return con


def run_query(lake: Lake, sql: str) -> tuple[list[str], list[tuple]]:
    """Column names and rows of ``sql`` over the lake."""
    relation = connect(lake).sql(sql)
    if relation is None:  # a statement without a result (e.g. SET)
        return [], []
    return relation.columns, relation.fetchall()
