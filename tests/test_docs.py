"""docs/lake.md matches what is written: its examples run, its column tables match the schema."""

from __future__ import annotations

import hashlib
import re
import runpy
import shlex
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from pipelines.document import build_report, extract_document
from pipelines.lake import Lake
from pipelines.query import PANEL_IDENTITY, PANEL_INDICATORS
from pipelines.records import RawDocument, Source, StatCell
from pipelines.schema import REPORT_STATS_SCHEMA, REPORT_VERSIONS_SCHEMA, REPORTS_SCHEMA
from tests.conftest import SEEDS, load_rows

DOC = (Path(__file__).parent.parent / "docs" / "lake.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```(\w+)\n(.*?)```", DOC, flags=re.S)
DUCKDB = [code for lang, code in BLOCKS if lang == "sql" and not code.startswith("-- athena")]
PYTHON = [code for lang, code in BLOCKS if lang == "python"]
#: The ``govreports query`` examples of the shell blocks, as argument lists.
QUERIES = [shlex.split(line)[2:] for lang, code in BLOCKS if lang == "sh"
           for line in code.splitlines() if line.startswith("govreports query ")]


@pytest.fixture(scope="module")
def lake_dir(tmp_path_factory):
    """A folder holding ``lake/`` with the seeds, a note of unknown region and year (the null
    partition) and one statistical cell, so that every example has rows to read."""
    folder = tmp_path_factory.mktemp("docs")
    lake = Lake.open(str(folder / "lake"), writable=True)
    note = folder / "note.txt"
    note.write_text("本单位政务公开工作情况说明，未注明年份和地区。", encoding="utf-8")
    reports = []
    for path in [*sorted(SEEDS.glob("*.txt")), note]:
        source = Source(url=path.as_uri(), kind="file", fetched_at="2026-01-01T00:00:00+00:00",
                        filename=path.name)
        doc, _ = lake.put_raw(path.read_bytes(), source)
        reports.append(build_report(doc, extract_document(doc, path.read_bytes()))[0])
    cell = StatCell(reports[3].doc_id, "三", "received_new", "total", Decimal("0"), "")
    load_rows(lake, reports, [cell])
    # The note's second version, a month later: a sentence added and a count given
    # (report_changes).
    note.write_text(note.read_text(encoding="utf-8") + "\n本年新收申请3件。", encoding="utf-8")
    source = Source(url=note.as_uri(), kind="file", fetched_at="2026-02-01T00:00:00+00:00",
                    filename=note.name)
    doc, _ = lake.put_raw(note.read_bytes(), source)
    revised = build_report(doc, extract_document(doc, note.read_bytes()))[0]
    load_rows(lake, [revised], [StatCell(revised.doc_id, "三", "received_new", "total",
                                         Decimal("3"), "3")])
    return folder


def test_the_examples_were_found():
    assert len(DUCKDB) >= 2 and len(PYTHON) >= 1


@pytest.mark.parametrize("sql", DUCKDB, ids=[f"duckdb-{i}" for i in range(len(DUCKDB))])
def test_duckdb_examples_run(lake_dir, monkeypatch, sql):
    monkeypatch.chdir(lake_dir)
    rows = duckdb.sql(sql).fetchall()
    assert rows, "the example returned no rows"


def test_duckdb_reads_the_null_partition_as_null(lake_dir, monkeypatch):
    monkeypatch.chdir(lake_dir)
    rows = {(p, y): n for p, y, n in duckdb.sql(DUCKDB[0]).fetchall()}
    assert rows == {("220000", 2013): 1, ("220000", 2019): 1, ("520000", 2020): 1,
                    ("530000", 2019): 2, (None, None): 1}


@pytest.mark.parametrize("code", PYTHON, ids=[f"python-{i}" for i in range(len(PYTHON))])
def test_python_examples_run(lake_dir, monkeypatch, capsys, code, tmp_path):
    monkeypatch.chdir(lake_dir)
    script = tmp_path / "example.py"
    script.write_text(code, encoding="utf-8")
    runpy.run_path(str(script))
    assert "5 reports" in capsys.readouterr().out


def _documented_columns(heading: str) -> list[str]:
    section = DOC.split(heading, 1)[1].split("\n#", 1)[0]
    return re.findall(r"^\| `(\w+)` \|", section, flags=re.M)


@pytest.mark.parametrize(
    ("heading", "schema"),
    [("## `reports` columns", REPORTS_SCHEMA), ("## `report_stats` columns", REPORT_STATS_SCHEMA),
     ("## `report_versions`", REPORT_VERSIONS_SCHEMA)],
    ids=["reports", "report_stats", "report_versions"],
)
def test_documented_columns_match_the_schema(heading, schema):
    assert _documented_columns(heading) == schema.names


def test_documented_panel_columns_match_the_view():
    assert _documented_columns("## `report_panel`") == [
        *PANEL_IDENTITY, *[indicator.column for indicator in PANEL_INDICATORS]]


def test_the_query_examples_were_found():
    assert any("report_panel" in " ".join(args) for args in QUERIES)


@pytest.mark.parametrize("args", QUERIES, ids=[f"query-{i}" for i in range(len(QUERIES))])
def test_query_examples_run(lake_dir, cli, args):
    result = cli("query", "--lake", lake_dir / "lake", *args)
    assert result.returncode == 0, result.stderr
    assert "0 row(s)" not in result.stdout and len(result.stdout.splitlines()) > 2


def test_athena_ddl_names_every_reports_column():
    [ddl] = [code for lang, code in BLOCKS if lang == "sql" and code.startswith("-- athena")]
    declared = re.findall(
        r"(?:^|[(,])\s*(\w+) (?:string|date|int|float|boolean|timestamp|array|map)",
        ddl.split("PARTITIONED BY")[0], flags=re.M)
    assert declared == REPORTS_SCHEMA.names


def test_raw_document_ids_are_what_the_doc_says():
    doc = RawDocument("ab" * 32, 1, Source(url="http://127.0.0.1/x", kind="http", fetched_at=""))
    assert doc.doc_id == hashlib.sha256(b"http://127.0.0.1/x").hexdigest()[:32]


def _listed(marker: str) -> list[list[str]]:
    """The rows of the table between ``<!-- marker -->`` and ``<!-- end of marker -->``."""
    table = re.search(rf"<!-- {marker} -->\n(.*?)<!-- end of {marker} -->", DOC, re.S)
    assert table, marker
    rows = [line.strip("|").split(" | ") for line in table[1].splitlines()[2:]]
    return [[cell.strip() for cell in row] for row in rows]


def test_the_reject_reasons_are_the_ones_the_code_gives():
    from pipelines.errors import RejectReason

    assert [row[0] for row in _listed("reject reasons")] == [f"`{r}`" for r in RejectReason]


def test_the_crawl_failure_reasons_and_their_retries_are_the_codes():
    from pipelines.errors import CrawlFailure

    rows = _listed("crawl failure reasons")
    keys = [row[0].strip("`") for row in rows]
    assert keys == ["http_<status>" if r is CrawlFailure.HTTP else str(r) for r in CrawlFailure]
    for key, (_, _, retried) in zip(keys, rows, strict=True):
        if key != "http_<status>":
            assert (retried == "yes") == CrawlFailure.is_transient(key), key
    assert [CrawlFailure.is_transient(CrawlFailure.http(s)) for s in (404, 403, 408, 429, 503)] \
        == [False, False, True, True, True]
