"""Versions of a report: cosmetic differences are no change, the report's own words and numbers
are (pipelines.changes)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pipelines.changes import compare, content_digest, normalized_lines

REPORT = ("平潭县2019年政府信息公开工作年度报告\n一、总体情况\n全年主动公开政府信息1200条。\n"
          "我县认真落实条例。\n二、主动公开政府信息情况\n公开规范性文件12件。\n"
          "三、收到和处理政府信息公开申请情况\n本年新收申请5件。\n")
CELLS = [(("三", "received_new", "total"), Decimal("5")),
         (("三", "carried_over", "total"), Decimal("0"))]


@pytest.mark.parametrize("other", [
    REPORT.replace("\n", "\n\n").replace("全年", "  全年"),
    REPORT.replace("1200", "１２００"),  # full-width digits
    REPORT + "浏览次数：1532\n",
    REPORT + "【打印本页】【关闭窗口】\n",
    REPORT + "更新时间：2024-03-02 10:15:07\n",
    REPORT + "2024-03-02 10:15\n",
    "今天是2024年3月2日 星期六\n" + REPORT,
], ids=["whitespace-and-empty-lines", "full-width-digits", "visit-counter", "print-links",
        "update-timestamp", "footer-clock", "page-clock"])
def test_cosmetic_differences_are_the_same_version(other):
    assert content_digest(other, CELLS) == content_digest(REPORT, CELLS)
    change = compare(REPORT, other, CELLS, CELLS)
    assert (change.chars_added, change.chars_removed, change.sections_changed,
            change.cells_changed) == (0, 0, [], [])


def test_a_changed_number_and_a_removed_paragraph_are_a_new_version():
    edited = REPORT.replace("我县认真落实条例。\n", "").replace("申请5件", "申请3件")
    cells = [(("三", "received_new", "total"), Decimal("3")), CELLS[1]]
    assert content_digest(edited, cells) != content_digest(REPORT, CELLS)
    change = compare(REPORT, edited, CELLS, cells)
    assert change.chars_removed == len("我县认真落实条例。") + 1  # and the 5
    assert change.chars_added == 1  # the 3
    assert change.sections_changed == ["一、总体情况", "三、收到和处理政府信息公开申请情况"]
    assert change.cells_changed == [("三/received_new/total", Decimal("5"), Decimal("3"))]


@pytest.mark.parametrize("old,new,changed", [
    ([CELLS[0]], [], [("三/received_new/total", Decimal("5"), None)]),
    ([], [CELLS[0]], [("三/received_new/total", None, Decimal("5"))]),
    ([(CELLS[0][0], Decimal("5.0"))], [CELLS[0]], []),  # one value, two scales
], ids=["cell-gone", "cell-added", "same-value-other-scale"])
def test_cells_compared_by_value(old, new, changed):
    assert compare(REPORT, REPORT, old, new).cells_changed == changed
    assert (content_digest(REPORT, old) == content_digest(REPORT, new)) is (not changed)


def test_a_digit_changed_in_three_places_is_counted_in_each_section():
    other = REPORT.replace("2019", "2018").replace("1200", "1300").replace("12件", "13件")
    change = compare(REPORT, other, CELLS, CELLS)
    assert change.sections_changed == ["(before sections)", "一、总体情况",
                                       "二、主动公开政府信息情况"]
    assert change.chars_added == change.chars_removed == 3


def test_template_lines_are_dropped_but_report_dates_stay():
    lines = normalized_lines("统计期限自2019年1月1日至2019年12月31日。\n2020-01-15\n浏览量：12")
    assert lines == ["统计期限自2019年1月1日至2019年12月31日。"]
