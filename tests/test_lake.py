"""Raw zone and partition loads: content addressing, idempotence, exact partition replacement."""

from __future__ import annotations

import hashlib
from dataclasses import fields
from datetime import UTC, datetime

import pyarrow as pa
import pytest

from pipelines.lake import Lake, Partition
from pipelines.metadata import Metadata
from pipelines.process import current_versions
from pipelines.records import RawDocument, Report, Source, StatCell, reports_table
from pipelines.schema import REPORT_STATS_SCHEMA, REPORTS_SCHEMA
from tests.conftest import load_rows


def _source(url="http://127.0.0.1/a.html", fetched_at="2026-01-01T00:00:00+00:00", **kw):
    return Source(url=url, kind="http", fetched_at=fetched_at, **kw)


def _report(doc_id, province="220000", year=2019, title="t"):
    return Report(doc_id=doc_id, url=f"http://127.0.0.1/{doc_id}", content_sha256="0" * 64,
                  fetched_at=datetime(2026, 1, 1, tzinfo=UTC),
                  metadata=Metadata(title=title, report_year=year), province_code=province)


@pytest.fixture
def lake(lake_url):
    lake = Lake.open(lake_url, writable=True)
    return lake


@pytest.mark.parametrize("record,schema", [
    (Report, REPORTS_SCHEMA), (StatCell, REPORT_STATS_SCHEMA)], ids=["reports", "report_stats"])
def test_a_record_has_exactly_the_columns_of_its_table(record, schema):
    """One source of truth: a field added to a record (or to ``Metadata``, which ``Report``
    composes) without its column, or a column without its field, fails here."""
    if record is Report:  # building its table checks that the report and its schema agree
        columns = reports_table([_report("d1")]).column_names
    else:
        columns = [f.name for f in fields(record)]
    assert sorted(columns) == sorted(schema.names)
    assert len(columns) == len(set(columns))


def test_a_report_row_carries_its_metadata_in_the_columns():
    report = _report("d1", title="西邑乡2019年报")
    report.metadata.raw = {"title": "西邑乡2019年报 (h1)"}
    row = report.to_row()
    assert list(row) == REPORTS_SCHEMA.names
    assert (row["title"], row["report_year"], row["metadata_raw"]) == (
        "西邑乡2019年报", 2019, [("title", "西邑乡2019年报 (h1)")])
    pa.Table.from_pylist([row], schema=REPORTS_SCHEMA)  # the row has the table's types


def test_raw_is_content_addressed_with_a_sidecar(lake):
    data = "刘房子街道".encode()
    doc, wrote = lake.put_raw(data, _source(http_status=200, headers={"Content-Type": "text/html"}))
    sha = hashlib.sha256(data).hexdigest()
    assert wrote and doc.sha256 == sha
    assert lake.read_raw(sha) == data
    sidecars = [k for k in lake.store.list("raw/") if k.endswith(".json")]
    assert sidecars == [f"raw/{sha[:2]}/{sha}.{doc.source.source_id}.json"]
    [listed] = list(lake.raw_documents())
    assert listed.source.http_status == 200 and listed.source.headers["Content-Type"] == "text/html"


def test_storing_the_same_bytes_again_writes_nothing_and_keeps_first_fetch(lake):
    data = b"<html>x</html>"
    lake.put_raw(data, _source(fetched_at="2026-01-01T00:00:00+00:00"))
    doc, wrote = lake.put_raw(data, _source(fetched_at="2026-02-01T00:00:00+00:00"))
    assert not wrote
    assert doc.source.fetched_at == "2026-01-01T00:00:00+00:00"
    assert len(list(lake.store.list("raw/"))) == 2  # the bytes and one sidecar


def test_same_bytes_from_two_sources_are_stored_once(lake):
    data = b"same report"
    lake.put_raw(data, _source(url="http://127.0.0.1/dept/a.html"))
    lake.put_raw(data, _source(url="http://127.0.0.1/nb/a.html"))
    keys = list(lake.store.list("raw/"))
    assert sum(not k.endswith(".json") for k in keys) == 1
    assert {d.source.url for d in lake.raw_documents()} == {
        "http://127.0.0.1/dept/a.html", "http://127.0.0.1/nb/a.html"}


def test_documents_are_identified_by_url_files_by_path():
    file_a = RawDocument("a" * 64, 1, Source(url="file:///x/a.txt", kind="file", fetched_at=""))
    file_a2 = RawDocument("b" * 64, 1, Source(url="file:///x/a.txt", kind="file", fetched_at=""))
    file_b = RawDocument("a" * 64, 1, Source(url="file:///y/b.txt", kind="file", fetched_at=""))
    web_v1 = RawDocument("a" * 64, 1, _source(url="http://127.0.0.1/r.html"))
    web_v2 = RawDocument("b" * 64, 1, _source(url="http://127.0.0.1/r.html"))
    assert file_a.doc_id == file_a2.doc_id != file_b.doc_id  # a path's new bytes: one document
    assert web_v1.doc_id == web_v2.doc_id != file_a.doc_id


def test_identical_local_files_are_one_report_under_the_path_ingested_last():
    def file(url, sha, at):
        return RawDocument(sha * 64, 1, Source(url=url, kind="file", fetched_at=at))

    docs = [file("file:///a.txt", "a", "2026-01-02"), file("file:///b.txt", "a", "2026-01-03"),
            file("file:///c.txt", "a", "2026-01-03"), file("file:///d.txt", "d", "2026-01-01"),
            RawDocument("a" * 64, 1, _source(url="http://127.0.0.1/same-bytes.html"))]
    versions, copies = current_versions(docs)
    assert sorted(d.source.url for d in versions) == [
        "file:///b.txt", "file:///d.txt", "http://127.0.0.1/same-bytes.html"]
    assert copies == {docs[0].doc_id, docs[2].doc_id}


@pytest.mark.parametrize(
    ("part", "prefix"),
    [
        (Partition("220000", 2019), "reports/province=220000/year=2019/"),
        (Partition(None, 2019), "reports/province=__HIVE_DEFAULT_PARTITION__/year=2019/"),
        (Partition("220000", None), "reports/province=220000/year=__HIVE_DEFAULT_PARTITION__/"),
    ],
    ids=["known", "null-province", "null-year"],
)
def test_partition_paths_round_trip(lake, part, prefix):
    rows = pa.Table.from_pylist([_report("d1").to_row()], schema=REPORTS_SCHEMA)
    lake.write_partition_if("reports", part, rows, None)
    assert part.key("reports") == prefix + "data.parquet"
    assert lake.partitions("reports") == [part]
    assert lake.read_partition("reports", part).equals(rows)


def _snapshot(lake):
    return {k: lake.store.read(k) for k in lake.store.list("reports/")}


def _versioned(part: Partition) -> list[str]:
    """A partition's files of a document's rows: its versions, then its report."""
    return [part.key("report_versions"), part.key("reports")]


def test_loading_the_same_reports_twice_writes_nothing(lake):
    reports = [_report("a"), _report("b", year=2020), _report("c", province=None, year=None)]
    first = load_rows(lake, reports, [])
    parts = [Partition("220000", 2019), Partition("220000", 2020), Partition(None, None)]
    assert sorted(first.written) == sorted(k for p in parts for k in _versioned(p))
    before = _snapshot(lake)
    second = load_rows(lake, reports, [])
    assert second.written == [] and second.unchanged == 6
    assert _snapshot(lake) == before


def test_a_document_that_changes_partition_moves_without_duplicate(lake):
    load_rows(lake, [_report("a", year=None), _report("b", year=None)], [])
    result = load_rows(lake, [_report("a", year=2019)], [])
    null_part, new_part = Partition("220000", None), Partition("220000", 2019)
    assert lake.read_partition("reports", null_part)["doc_id"].to_pylist() == ["b"]
    assert lake.read_partition("reports", new_part)["doc_id"].to_pylist() == ["a"]
    assert set(result.written) == {*_versioned(null_part), *_versioned(new_part)}


def test_a_partition_left_empty_is_removed(lake):
    load_rows(lake, [_report("a", year=None)], [])
    result = load_rows(lake, [_report("a", year=2019)], [])
    assert result.deleted == _versioned(Partition("220000", None))
    assert lake.partitions("reports") == [Partition("220000", 2019)]


def test_rebuild_replaces_exactly_the_scoped_partition(lake):
    load_rows(lake, [_report("a"), _report("b"), _report("c", province="530000")], [])
    other = Partition("530000", 2019).key("reports")
    untouched = lake.store.read(other)
    scope = Partition("220000", 2019)
    result = load_rows(lake, [_report("a", title="new")], [], rebuild=lambda p: p == scope)
    rows = lake.read_partition("reports", scope)
    # "b" has no sidecar (none of these rows do): its row stays, and the load says so.
    assert rows["doc_id"].to_pylist() == ["a", "b"]
    assert rows["title"].to_pylist() == ["new", "t"]
    assert [(d, reason) for d, _sha, _url, reason in result.kept_unsourced] == [
        ("b", "sidecar_missing")]
    assert result.written == _versioned(scope)  # the version's row: its title
    assert lake.store.read(other) == untouched


def test_a_rebuild_removes_a_row_that_claims_another_documents_bytes(lake):
    from pipelines.records import Source

    doc, _ = lake.put_raw(b"bytes of a", Source(url="http://127.0.0.1/a", kind="http",
                                                fetched_at="2026-01-01T00:00:00+00:00"))
    impostor = _report("impostor")
    impostor.content_sha256 = doc.sha256  # bytes whose only sidecar is a's
    load_rows(lake, [impostor], [])
    scope = Partition("220000", 2019)
    result = load_rows(lake, [], [], rebuild=lambda p: p == scope)
    assert lake.read_partition("reports", scope) is None
    assert result.removed_unsourced == ["impostor"]
    assert "impostor" in " ".join(result.warnings())


def test_stats_follow_their_report_partition(lake):
    cell = StatCell("a", "三", "received_new", "natural_person", None, "", None)
    load_rows(lake, [_report("a")], [cell])
    stats = lake.read_partition("report_stats", Partition("220000", 2019))
    assert stats.schema.equals(REPORT_STATS_SCHEMA)
    assert stats["row_key"].to_pylist() == ["received_new"]
