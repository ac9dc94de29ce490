"""Every version of a report kept and compared, through ``govreports ingest`` as a user runs it:
a report file edited between runs (a number in its table, a paragraph removed), touched only
cosmetically, and put back (pipelines.history, pipelines.changes)."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal

import duckdb
import pyarrow as pa
import pytest

from tests.conftest import SEEDS

SEED = SEEDS / "003_6f0460d6ccc8a243.txt"  # a 2019-template report with its tables
REMOVED = "三是完善政务公开考核细则"


def _rows(cli, lake_url, sql):
    result = cli("query", "--lake", lake_url, "--format", "json", sql)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _edited(text: str) -> str:
    """A number revised in table 三 (natural persons' new requests, and the total: 0 → 2) and
    a paragraph of section 五 removed."""
    lines = text.split("\n")
    start = lines.index("一、本年新收政府信息公开申请数量")
    zeros = [i for i in range(start + 1, start + 16) if lines[i] == "0"]
    lines[zeros[0]] = lines[zeros[-1]] = "2"
    return "\n".join(line for line in lines if not line.startswith(REMOVED))


def _cosmetic(text: str) -> str:
    """The same report re-rendered: wider spacing, a visit counter and an update stamp."""
    return text.replace("\n", "\n\n") + "\n更新时间：2020-02-03 09:12:45\n浏览次数：318\n"


def _ingest(cli, lake_url, folder, text):
    (folder / "report.txt").write_text(text, encoding="utf-8")
    done = cli("ingest", "--lake", lake_url, folder)
    assert done.returncode == 0, done.stderr


def test_edits_between_runs_are_versions_and_cosmetic_ones_are_not(cli, lake_url, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    original = SEED.read_text(encoding="utf-8")
    _ingest(cli, lake_url, folder, original)
    [first] = _rows(cli, lake_url, "select version, fetched_at, last_seen from report_versions")
    assert first["version"] == 1

    _ingest(cli, lake_url, folder, _cosmetic(original))
    [seen] = _rows(cli, lake_url, "select version, fetched_at, last_seen from report_versions")
    assert (seen["version"], seen["fetched_at"]) == (1, first["fetched_at"])
    assert seen["last_seen"] > first["last_seen"]  # seen again, no new version

    _ingest(cli, lake_url, folder, _edited(original))
    # Each version's statistics: the edited cells as each version had them, the rest the same.
    stats = _rows(cli, lake_url, "select version, cell, value from report_version_stats")
    cells = {v: {r["cell"]: Decimal(r["value"]) for r in stats if r["version"] == v}
             for v in (1, 2)}
    [count] = _rows(cli, lake_url, "select count(*) as n from report_stats "
                                   "where value is not null")
    assert len(cells[1]) == len(cells[2]) == count["n"] > 2
    assert {c: (cells[1][c], cells[2][c]) for c in cells[1] if cells[1][c] != cells[2][c]} == {
        "三/received_new/natural_person": (0, 2), "三/received_new/total": (0, 2)}

    _ingest(cli, lake_url, folder, original)  # put back: v1 → v2 → v1 is a third version
    changes = _rows(cli, lake_url, "select from_version, to_version, chars_added, "
                                   "chars_removed, sections_changed, cells_changed, "
                                   "year_changed, agency_changed, template_changed "
                                   "from report_changes order by to_version")
    assert [(c["from_version"], c["to_version"]) for c in changes] == [(1, 2), (2, 3)]
    edit, back = changes
    assert edit["sections_changed"] == ["三、收到和处理政府信息公开申请情况",
                                        "五、存在的主要问题及改进措施"]
    assert {(c["cell"], Decimal(c["old"]), Decimal(c["new"])) for c in edit["cells_changed"]} \
        == {("三/received_new/natural_person", 0, 2), ("三/received_new/total", 0, 2)}
    assert edit["chars_removed"] > len(REMOVED) and edit["chars_added"] == 2
    assert (back["chars_added"], back["chars_removed"]) == (edit["chars_removed"],
                                                           edit["chars_added"])
    assert not any(edit[f"{what}_changed"] for what in ("year", "agency", "template"))

    [report] = _rows(cli, lake_url, "select version, first_seen, last_seen, "
                                    "(select count(*) from report_versions) as versions "
                                    "from reports")
    assert report["version"] == 3 and report["versions"] == 3
    assert report["first_seen"] == first["fetched_at"]
    assert _rows(cli, lake_url, "select version, cell, value from report_version_stats "
                                "where version = 3 order by cell") == \
        _rows(cli, lake_url, "select 3 as version, cell, value from report_version_stats "
                             "where version = 1 order by cell")


def test_reprocessing_the_same_bytes_makes_no_version(cli, tmp_path):
    lake = tmp_path / "lake"
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(SEED, folder / "report.txt")
    assert cli("ingest", "--lake", lake, folder).returncode == 0
    forced = cli("process", "--lake", lake, "--force")
    assert forced.returncode == 0, forced.stderr
    assert _rows(cli, str(lake), "select doc_id, version from report_versions") == \
        _rows(cli, str(lake), "select doc_id, version from reports")
    assert _rows(cli, str(lake), "select count(*) as n from report_changes") == [{"n": 0}]


def _version(number: int, changed: list[tuple[str, int | None, int | None]] | None) -> dict:
    return {"doc_id": "d", "version": number, "cells_changed": None if changed is None else [
        {"cell": cell, "old": None if old is None else Decimal(old),
         "new": None if new is None else Decimal(new)} for cell, old, new in changed]}


@pytest.mark.parametrize("versions, current, expected", [
    pytest.param([_version(1, None), _version(2, [("三/a/total", 0, 2)])],
                 {"三/a/total": 2, "三/b/total": 5},
                 {1: {"三/a/total": 0, "三/b/total": 5}, 2: {"三/a/total": 2, "三/b/total": 5}},
                 id="a-number-revised"),
    pytest.param([_version(1, None), _version(2, [("三/a/total", None, 7)])], {"三/a/total": 7},
                 {1: {}, 2: {"三/a/total": 7}}, id="a-cell-added"),
    pytest.param([_version(1, None), _version(2, [("三/a/total", 4, None)])], {},
                 {1: {"三/a/total": 4}, 2: {}}, id="a-cell-removed"),
    pytest.param([_version(1, None), _version(2, [("三/a/total", 1, 2)]),
                  _version(3, [("三/a/total", 2, 3)])], {"三/a/total": 3},
                 {1: {"三/a/total": 1}, 2: {"三/a/total": 2}, 3: {"三/a/total": 3}},
                 id="one-cell-revised-twice"),
])
def test_each_version_has_the_statistics_it_had(versions, current, expected):
    from pipelines.query import REPORT_VERSION_STATS
    from pipelines.schema import REPORT_STATS_SCHEMA, dataset_schema

    con = duckdb.connect()
    con.register("report_versions", pa.Table.from_pylist(
        versions, schema=dataset_schema("report_versions")))
    con.register("report_stats", pa.Table.from_pylist(
        [{"doc_id": "d", "table": cell.split("/")[0], "row_key": cell.split("/")[1],
          "column_key": cell.split("/")[2], "value": Decimal(value)}
         for cell, value in current.items()], schema=REPORT_STATS_SCHEMA))
    con.execute(REPORT_VERSION_STATS)
    found: dict[int, dict] = {v["version"]: {} for v in versions}
    for version, cell, value in con.execute(
            "select version, cell, value from report_version_stats").fetchall():
        found[version][cell] = value
    assert found == expected
