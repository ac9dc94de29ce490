"""The one parser of a table row as text carries it (pipelines.rows), and what each reader of
rows makes of the same lines."""

from __future__ import annotations

import pytest

from pipelines.rows import readable, row_cells

ROWS = {
    "rendered-html-row": ("项目\t本年新增\t\t总数", ["项目", "本年新增", "", "总数"]),
    "rendered-row-spaces": (" 规章 \t 3 ", ["规章", "3"]),
    "pipe-row-ending-in-a-separator": ("14 | |", ["14", ""]),
    "pipe-row": ("行政许可 | 12 | 3", ["行政许可", "12", "3"]),
    "pipe-row-opening-with-a-separator": ("| a | b |", ["", "a", "b"]),
    "plain-line": ("一、总体情况", None),
    "empty": ("", None),
}


@pytest.mark.parametrize("line,cells", ROWS.values(), ids=ROWS.keys())
def test_row_cells(line, cells):
    assert row_cells(line) == cells


def test_a_reader_sees_rendered_rows_with_pipes_and_other_lines_as_they_are():
    text = "一、总体情况\n项目\t本年新增\t\t总数\n\t3\n14 | |"
    assert readable(text) == "一、总体情况\n项目 | 本年新增 |  | 总数\n| 3\n14 | |"


def test_the_statistics_and_metadata_stages_read_rows_with_the_one_parser():
    from pipelines.metadata import _cells
    from pipelines.stat_tables import tokens

    assert tokens("项目\t\t3\n14 | |\n说明") == [("项目", True), ("", True), ("3", True),
                                            ("14", True), ("", True), ("说明", False)]
    # A label block printed between separators has no empty cells at its ends.
    assert _cells("| 索引号 | 123 |") == ["索引号", "123"]
    assert _cells("索引号\t\t123") == ["索引号", "", "123"]
