"""The spool: rows added chunk by chunk come back by partition, each exactly once, on disk as in
memory, however chunks and partitions interleave."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pytest

from pipelines.lake import Partition
from pipelines.schema import TABLES
from pipelines.spool import Spool

FETCHED = datetime(2026, 1, 1, tzinfo=UTC)
PARTS = [("530000", 2019), ("220000", 2019), ("530000", 2020), (None, 2021)]


def chunk(start: int, parts: list[tuple]) -> tuple[pa.Table, pa.Table]:
    reports = [{"doc_id": f"d{start + i}", "province_code": p, "report_year": y,
                "url": f"http://x.gov.cn/{start + i}.html", "content_sha256": f"{start + i:064x}",
                "fetched_at": FETCHED} for i, (p, y) in enumerate(parts)]
    cells = [{"doc_id": r["doc_id"], "table": "二", "row_key": "r", "column_key": "c",
              "raw": str(n)} for n, r in enumerate(reports)]
    return (pa.Table.from_pylist(reports, schema=TABLES["reports"]),
            pa.Table.from_pylist(cells, schema=TABLES["report_stats"]))


# Orders in which a partition's pieces are written between other partitions' pieces.
ORDERS = {
    "round-robin": [PARTS[i % 4:i % 4 + 1] for i in range(12)],
    "new-partition-late": [[PARTS[0]], [PARTS[1]], [PARTS[0]], [PARTS[2]], [PARTS[1]],
                           [PARTS[0], PARTS[3]], [PARTS[2], PARTS[1]]],
    "mixed-chunks": [PARTS, PARTS[::-1], PARTS[1:3], [PARTS[3]] * 3, PARTS[:1]],
}


@pytest.mark.parametrize("disk", [True, False], ids=["on-disk", "in-memory"])
@pytest.mark.parametrize("order", ORDERS.values(), ids=ORDERS.keys())
def test_every_row_comes_back_once_in_its_partition(disk, order):
    spool = Spool.on_disk() if disk else Spool()
    expected: dict[Partition, set[str]] = {}
    start = 0
    try:
        for parts in order:
            reports, cells = chunk(start, parts)
            spool.add_tables(reports, cells)
            for i, (p, y) in enumerate(parts):
                expected.setdefault(Partition(p, y), set()).add(f"d{start + i}")
            start += len(parts)
        assert spool.partitions("reports") == set(expected)
        for part, ids in expected.items():
            for table in ("reports", "report_stats"):
                got = spool.rows(table, part)["doc_id"].to_pylist()
                assert sorted(got) == sorted(ids), (table, part)
    finally:
        spool.close()
