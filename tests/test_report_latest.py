"""``report_latest``: one row per report_key, the best copy chosen and the others listed."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from pipelines.lake import Lake, Partition
from pipelines.metadata import Metadata
from pipelines.query import run_query
from pipelines.records import Report
from tests.conftest import load_rows

KEY = "620521:教育局/2020"


def _copy(url: str, published: str | None, key: str | None = KEY, n: int = 0) -> Report:
    return Report(doc_id=f"d{n}", url=url, content_sha256=f"{n:064d}",
                  fetched_at=datetime(2026, 1, 1, tzinfo=UTC), province_code="620000",
                  metadata=Metadata(report_year=2020, published_date=date.fromisoformat(
                      published) if published else None), report_key=key)


@pytest.mark.parametrize("copies,best", [
    ([("http://www.qingshui.gov.cn/a.html", "2021-01-20"),
      ("http://mirror.example.invalid/a.html", "2021-03-01")], "http://www.qingshui.gov.cn/a.html"),
    ([("http://jyj.qingshui.gov.cn:8080/a.html", "2021-01-20"),
      ("http://www.qingshui.gov.cn/b.html", "2021-02-01")], "http://www.qingshui.gov.cn/b.html"),
    ([("file:///copies/a.txt", "2021-03-01"),
      ("http://mirror.example.invalid/a.html", None)], "http://mirror.example.invalid/a.html"),
    ([("http://gov.cn.example.invalid/a.html", "2021-03-01"),
      ("http://www.qingshui.gov.cn/a.html", "2021-01-20")], "http://www.qingshui.gov.cn/a.html"),
], ids=["gov-over-a-newer-mirror", "newest-among-gov", "web-over-a-file", "lookalike-host"])
def test_the_best_copy_is_the_one_row(tmp_path, copies, best):
    lake = Lake.open(str(tmp_path / "lake"), writable=True)
    load_rows(lake, [_copy(url, published, n=n) for n, (url, published) in enumerate(copies)], [])
    columns, rows = run_query(lake, "select url, copies, other_sources from report_latest")
    assert [dict(zip(columns, row, strict=True)) for row in rows] == [
        {"url": best, "copies": len(copies),
         "other_sources": sorted(u for u, _ in copies if u != best)}]


def test_reports_without_a_key_are_never_merged(tmp_path):
    lake = Lake.open(str(tmp_path / "lake"), writable=True)
    load_rows(lake, [_copy("http://a.gov.cn/1.html", None, key=None, n=1),
                _copy("http://a.gov.cn/2.html", None, key=None, n=2)], [])
    _, rows = run_query(lake, "select count(*) from report_latest")
    assert rows == [(2,)]


def test_a_partition_written_before_report_key_is_upgraded_when_rewritten(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from pipelines.schema import REPORTS_SCHEMA

    lake = Lake.open(str(tmp_path / "lake"), writable=True)
    old = _copy("http://www.qingshui.gov.cn/old.html", "2021-01-20", n=1)
    version_1 = pa.Table.from_pylist([old.to_row()], schema=REPORTS_SCHEMA).drop_columns(
        ["report_key"])
    buffer = pa.BufferOutputStream()
    pq.write_table(version_1, buffer)  # as a version-1 writer left it
    lake.store.write(Partition.of(old).key("reports"), buffer.getvalue().to_pybytes())
    _, rows = run_query(lake, "select report_key from reports")
    assert rows == [(None,)]  # read as NULL
    load_rows(lake, [_copy("http://www.qingshui.gov.cn/new.html", "2021-01-25", n=2)], [])
    _, rows = run_query(lake, "select url, report_key from reports order by url")
    assert rows == [("http://www.qingshui.gov.cn/new.html", KEY),
                    ("http://www.qingshui.gov.cn/old.html", None)]
