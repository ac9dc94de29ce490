"""What changed between two versions of a report, once cosmetic differences are set aside.

A report's *content* is its text and its statistics' values. Two fetches of one document are
the same version when their content is equal after :func:`normalized_lines`: whitespace and
full-width forms, and the lines a page's template puts around the text (a visit counter, a
print or update timestamp, print/close links) do not count. Only a change in the report's own
words or numbers makes a new version (:func:`content_digest`). :func:`compare` says what
changed: characters added and removed, the sections touched, and the statistics cells whose
value moved.
"""

from __future__ import annotations

import difflib
import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

#: Lines of a page's template, not of the report: visit counters, print and update stamps,
#: print/close/share links, a clock. Such a line changes on every fetch.
_TEMPLATE_LINE = re.compile(
    r"^(?:[【\[]?(?:打印本页|打印|关闭窗口|关闭|返回顶部|收藏|分享到?)[】\]]?)+$"
    r"|(?:浏览|访问|阅读|点击)(?:次数|量|数)?[:：]?\d+次?"
    r"|(?:更新|打印|生成|访问|浏览|当前)(?:时间|日期)[:：]"
    r"|^\d{4}[-/年.]\d{1,2}[-/月.]\d{1,2}日?(?:\s*\d{1,2}:\d{2}(?::\d{2})?)?$"
    r"|^(?:今天是)?\d{4}年\d{1,2}月\d{1,2}日\s*(?:星期|周)[一二三四五六日天]$")
_SPACE = re.compile(r"\s+")
#: A section of a report: 一、总体情况 … 六、其他需要报告的事项 (2019 and 2021 templates),
#: 一、概述 … (earlier ones); not the rows of its tables numbered the same way
#: (一、本年新收…申请数量).
_SECTION = re.compile(r"^([一二三四五六七八九十]{1,2})[、.．]"
                      r"(\S{0,36}?(?:情况|事项|措施|问题|概述|概况))$")

CellKey = tuple[str, str, str]  # table, row_key, column_key


def normalized_lines(text: str | None) -> list[str]:
    """The text's lines as compared between versions: NFKC forms (full-width digits and
    letters as ASCII), no whitespace at all (a rewrap or a re-indent is no change), no empty
    lines and no template lines."""
    lines = []
    for line in unicodedata.normalize("NFKC", text or "").split("\n"):
        line = _SPACE.sub("", line)
        if line and not _TEMPLATE_LINE.search(line):
            lines.append(line)
    return lines


def _cells(cells: Iterable[tuple[CellKey, Decimal | None]]) -> dict[CellKey, Decimal | None]:
    return {key: (value.normalize() if value is not None else None) for key, value in cells}


def content_digest(text: str | None, cells: Iterable[tuple[CellKey, Decimal | None]]) -> str:
    """A fingerprint of a version's content: equal for two fetches exactly when their
    normalised text and their statistics' values are equal."""
    digest = hashlib.sha256("\n".join(normalized_lines(text)).encode("utf-8"))
    for key, value in sorted(_cells(cells).items()):
        digest.update(f"\x00{'/'.join(key)}={value}".encode())
    return digest.hexdigest()


@dataclass
class Change:
    """What one version changed against the one before it."""

    chars_added: int = 0
    chars_removed: int = 0
    #: Sections whose text changed, by their heading (一、总体情况); ``(before sections)`` for
    #: text above the first one.
    sections_changed: list[str] = field(default_factory=list)
    #: Statistics cells whose value changed: (table/row/column, old, new); None where a cell
    #: is absent or empty in one version.
    cells_changed: list[tuple[str, Decimal | None, Decimal | None]] = field(default_factory=list)


def compare(old_text: str | None, new_text: str | None,
            old_cells: Iterable[tuple[CellKey, Decimal | None]],
            new_cells: Iterable[tuple[CellKey, Decimal | None]]) -> Change:
    """What changed from one version to the next, after normalisation (see the module)."""
    old_lines, new_lines = normalized_lines(old_text), normalized_lines(new_text)
    change = Change()
    touched: set[int] = set()  # indexes into new_lines (or old_lines) of changed lines
    touched_old: set[int] = set()
    # Lines first, then characters inside the lines that differ: a character diff of whole
    # reports (tens of thousands of characters) is quadratic.
    lines = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for op, a1, a2, b1, b2 in lines.get_opcodes():
        if op == "equal":
            continue
        touched.update(range(b1, b2))
        touched_old.update(range(a1, a2))
        old, new = "\n".join(old_lines[a1:a2]), "\n".join(new_lines[b1:b2])
        chars = difflib.SequenceMatcher(None, old, new, autojunk=False)
        for cop, c1, c2, d1, d2 in chars.get_opcodes():
            if cop in ("replace", "delete"):
                change.chars_removed += len(old[c1:c2].replace("\n", ""))
            if cop in ("replace", "insert"):
                change.chars_added += len(new[d1:d2].replace("\n", ""))
    sections = _section_of(new_lines)
    old_sections = _section_of(old_lines)
    # In the order of the text (the new version's, then the old one's for its own sections).
    first = {name: i for i, name in reversed(list(enumerate(old_sections)))}
    first.update({name: i for i, name in reversed(list(enumerate(sections)))})
    names = {sections[i] for i in touched} | {old_sections[i] for i in touched_old}
    change.sections_changed = sorted(names, key=lambda name: (first[name], name))
    before, after = _cells(old_cells), _cells(new_cells)
    for key in sorted(before.keys() | after.keys()):
        if before.get(key) != after.get(key):
            change.cells_changed.append(("/".join(key), before.get(key), after.get(key)))
    return change


def _section_of(lines: list[str]) -> list[str]:
    """Each line's section heading (一、总体情况), or ``(before sections)``."""
    current, found = "(before sections)", []
    for line in lines:
        match = _SECTION.match(line)
        if match:
            current = f"{match[1]}、{match[2]}"
        found.append(current)
    return found

