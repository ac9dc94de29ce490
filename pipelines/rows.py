"""How a table row travels inside a report's text, and the one parser of it.

:mod:`pipelines.extract` renders an HTML table row as one line of tab-separated cells (a blank
cell is a value: statistics tables leave zeros blank). Flattened copies of reports print rows
with ``|`` between cells, often ending in a separator ("14 | |"). The metadata stage, the
statistics stage and the text readers get (``reports.text``) all read rows with
:func:`row_cells`.
"""

from __future__ import annotations

#: What separates the cells of a rendered HTML row.
CELL = "\t"
#: What separates cells where a reader sees them (``reports.text``) and flattened copies print.
READABLE_CELL = " | "


def row_cells(line: str) -> list[str] | None:
    """The cells of a row, stripped; None when the line is not a row. A ``|``-separated line's
    last separator ends the row rather than opening a cell ("14 | |" is 14 and one blank)."""
    if CELL in line:
        return [cell.strip() for cell in line.split(CELL)]
    if "|" in line:
        cells = line.split("|")
        if not cells[-1].strip():
            cells = cells[:-1]
        return [cell.strip() for cell in cells]
    return None


def readable(text: str) -> str:
    """The text as a reader gets it: each rendered row's cells separated by `` | `` (as
    reports' own flattened copies print them); other lines as they are."""
    return "\n".join(READABLE_CELL.join(row_cells(line)).strip() if CELL in line else line
                     for line in text.split("\n"))
