"""``report_panel``: one row per report (the best copy of each ``report_key``) with the key
figures of its statistical tables as named columns."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from pipelines.lake import Lake
from pipelines.metadata import Metadata
from pipelines.query import PANEL_IDENTITY, PANEL_INDICATORS, run_query
from pipelines.records import Report, StatCell
from pipelines.stat_tables import TABLE2, TABLE3_COLUMNS, TABLE4_COLUMNS, expected_rows
from tests.conftest import load_rows

KEY = "530502:西邑乡人民政府/2021"


def _report(n: int, url: str, template: str, key: str | None = KEY,
            published: str = "2022-01-20") -> Report:
    return Report(doc_id=f"d{n}", url=url, content_sha256=f"{n:064d}",
                  fetched_at=datetime(2026, 1, 1, tzinfo=UTC), province_code="530000",
                  metadata=Metadata(report_year=2021, issuing_agency="隆阳区西邑乡人民政府",
                                    published_date=date.fromisoformat(published)),
                  report_key=key, template=template, stats_consistent=template != "pre2019")


def _cells(doc_id: str, *cells: tuple[str, str, str, str | None]) -> list[StatCell]:
    return [StatCell(doc_id, table, row, column, None if value is None else Decimal(value),
                     value or "-") for table, row, column, value in cells]


def _panel(tmp_path, reports, cells) -> list[dict]:
    lake = Lake.open(str(tmp_path / "lake"), writable=True)
    load_rows(lake, reports, cells)
    columns, rows = run_query(lake, "select * from report_panel order by doc_id")
    return [dict(zip(columns, row, strict=True)) for row in rows]


GOV = "http://www.longyang.gov.cn/ndbg/2021.html"

CASES = {
    "2021-withheld-is-the-sum-of-its-reasons": (
        "2021",
        [("三", "withheld_state_secret", "total", "2"), ("三", "withheld_third_party_rights",
                                                         "total", "3"),
         ("三", "withheld_state_secret", "natural_person", "2")],
        {"outcome_withheld": Decimal(5), "outcome_disclosed": None}),
    "2021-requests-and-carried-over": (
        "2021",
        [("三", "received_new", "total", "12"), ("三", "received_new", "natural_person", "10"),
         ("三", "carried_over", "total", "1"), ("三", "carried_forward", "total", "2")],
        {"requests_received": Decimal(12), "requests_from_natural_persons": Decimal(10),
         "requests_carried_over": Decimal(1), "requests_carried_forward": Decimal(2)}),
    "2021-other-handling-sums-three-rows": (
        "2021",
        [("三", "other_overdue_correction", "total", "1"), ("三", "other_unpaid_fee", "total",
                                                            "1"),
         ("三", "other_other", "total", "4")],
        {"outcome_other": Decimal(6)}),
    "2019-other-handling-is-one-row": (
        "2019", [("三", "other_handling", "total", "3")], {"outcome_other": Decimal(3)}),
    "2021-fees-and-documents-in-force": (
        "2021",
        [("二", "administrative_fees", "amount_10k_yuan", "1.5"),
         ("二", "rules", "made", "2"), ("二", "rules", "in_force", "9"),
         ("二", "normative_documents", "in_force", "30")],
        {"fees_10k_yuan": Decimal("1.5"), "rules_made": Decimal(2),
         "rules_in_force": Decimal(9), "normative_documents_in_force": Decimal(30)}),
    "2019-made-is-newly-made-and-no-fee-amount": (
        "2019",
        [("二", "rules", "newly_made", "4"), ("二", "rules", "total_published", "40"),
         ("二", "administrative_fees", "previous_year", "7")],
        {"rules_made": Decimal(4), "rules_in_force": None, "fees_10k_yuan": None}),
    "review-and-litigation-by-result": (
        "2021",
        [("四", "administrative_review", "maintained", "3"),
         ("四", "administrative_review", "total", "4"),
         ("四", "litigation_direct", "corrected", "1"),
         ("四", "litigation_after_review", "pending", "2")],
        {"review_maintained": Decimal(3), "review_total": Decimal(4),
         "litigation_direct_corrected": Decimal(1), "litigation_after_review_pending": Decimal(2),
         "litigation_direct_total": None}),
    "a-dash-cell-is-null": (
        "2021", [("二", "administrative_licensing", "decisions", None)],
        {"licensing_decisions": None}),
    "a-pre2019-table-has-no-indicators": (
        "pre2019", [("pre2019", "indicator_1", "value", "5")],
        {i.column: None for i in PANEL_INDICATORS}),
}


@pytest.mark.parametrize("template,cells,expected", CASES.values(), ids=CASES.keys())
def test_indicators_are_derived_from_the_cells(tmp_path, template, cells, expected):
    [row] = _panel(tmp_path, [_report(1, GOV, template)], _cells("d1", *cells))
    assert {column: row[column] for column in expected} == expected
    assert row["template"] == template and row["report_key"] == KEY


def test_one_row_per_report_with_the_best_copys_figures(tmp_path):
    mirror = _report(1, "http://mirror.example.invalid/2021.html", "2021", published="2022-03-01")
    best = _report(2, GOV, "2021")
    cells = [*_cells("d1", ("三", "received_new", "total", "99")),
             *_cells("d2", ("三", "received_new", "total", "12"))]
    rows = _panel(tmp_path, [mirror, best], cells)
    assert [(r["doc_id"], r["copies"], r["requests_received"]) for r in rows] == [
        ("d2", 2, Decimal(12))]


def test_reports_without_tables_or_key_keep_their_row(tmp_path):
    rows = _panel(tmp_path, [_report(1, GOV, "unknown", key=None),
                             _report(2, "http://other.gov.cn/a.html", "unknown", key=None)], [])
    assert [(r["doc_id"], r["report_key"], r["requests_received"]) for r in rows] == [
        ("d1", None, None), ("d2", None, None)]


def test_failed_checks_are_counted(tmp_path):
    report = _report(1, GOV, "2021")
    report.stats_consistent = False
    report.stats_failed_checks = ["表三 total: 一+二 (5) ≠ （七）总计+四 (4)", "missing: 表三 x"]
    [row] = _panel(tmp_path, [report], [])
    assert (row["stats_consistent"], row["failed_checks"]) == (False, 2)


def test_the_columns_are_the_identity_then_the_indicators(tmp_path):
    lake = Lake.open(str(tmp_path / "lake"), writable=True)
    columns, _ = run_query(lake, "select * from report_panel")
    assert columns == [*PANEL_IDENTITY, *[i.column for i in PANEL_INDICATORS]]


def _produced() -> set[tuple[str, str, str]]:
    """Every (table, row_key, column_key) the statistics stage can produce for a template."""
    cells = set()
    for template in ("2019", "2021"):
        rows = expected_rows(template)
        cells |= {("三", row, column) for row in rows["三"] for column in TABLE3_COLUMNS}
        cells |= {("四", row, column) for row in rows["四"] for column in TABLE4_COLUMNS}
        for columns, table2_rows in TABLE2[template].values():
            cells |= {("二", row, column) for row, _ in table2_rows for column in columns}
    return cells


@pytest.mark.parametrize("indicator", PANEL_INDICATORS, ids=lambda i: i.column)
def test_every_indicator_reads_cells_the_statistics_stage_produces(indicator):
    produced = _produced()
    wanted = {(indicator.table, row, column) for row in indicator.row_keys
              for column in indicator.column_keys}
    assert wanted & produced, f"{indicator.column} reads no cell the statistics stage makes"
    # Every row key is one the stage makes (a renamed key would silently become NULL).
    assert {row for _, row, _ in wanted} <= {row for _, row, _ in produced}
