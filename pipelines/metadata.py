"""Metadata stage: title, 索引号, agency, category, 文号, dates and report year from a document.

Pure functions over extracted text and page meta tags. Each value is taken only from a place
that states it (a labelled field, a title, a meta tag); what is not stated stays None.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

# Label variants seen on portals → field name. Labels are compared with all whitespace removed.
LABELS = {
    "索引号": "index_no",
    "发文机构": "issuing_agency", "发布机构": "issuing_agency", "发文单位": "issuing_agency",
    "公开责任部门": "issuing_agency",
    "公开目录": "category", "主题分类": "category", "分类": "category", "组配分类": "category",
    "文号": "doc_no", "发文字号": "doc_no", "文件编号": "doc_no",
    "成文日期": "written_date", "生成日期": "written_date",
    "发布日期": "published_date", "公开日期": "published_date", "发布时间": "published_date",
    "日期": "published_date",
}
# Labels that carry no field of ours but end another label's value (so 文号 stays empty when
# the next line is 浏览量).
OTHER_LABELS = {"浏览量", "有效性", "时效", "字体", "来源", "访问量", "信息来源"}

_SPACES = re.compile(r"[\s\u3000\xa0]+")
_LABEL_WITH_VALUE = re.compile(r"^(?P<label>[^:：]{1,12})[:：](?P<value>.*)$")
_DATE = re.compile(
    r"(?P<y>(?:19|20)\d{2})\s*(?:[-/.年])\s*(?P<m>\d{1,2})\s*(?:[-/.月])\s*(?P<d>\d{1,2})")
_YEAR_IN_TITLE = re.compile(r"((?:19|20)\d{2})\s*年")


@dataclass
class Metadata:
    title: str | None = None
    index_no: str | None = None
    issuing_agency: str | None = None
    category: str | None = None
    doc_no: str | None = None
    written_date: date | None = None
    published_date: date | None = None
    report_year: int | None = None
    raw: dict[str, str] = field(default_factory=dict)  # each value as found, before parsing


def parse_date(value: str | None) -> date | None:
    """The first full date in ``value`` (ISO, ``/``, ``.`` or ``YYYY年M月D日``), else None."""
    if not value:
        return None
    match = _DATE.search(value)
    if not match:
        return None
    try:
        return date(int(match["y"]), int(match["m"]), int(match["d"]))
    except ValueError:
        return None


def labelled_fields(lines: list[str]) -> dict[str, str]:
    """Values of the metadata block: ``label：value`` on one line, or a label line followed by
    its value line (how table cells come out once flattened). First occurrence wins."""
    found: dict[str, str] = {}
    for line in lines:
        if "\t" in line:  # a table row: label cell, value cell, label cell, …
            _pair_cells([c.strip() for c in line.split("\t")], found)
    cleaned = [_SPACES.sub("", line) for line in lines]
    for i, line in enumerate(cleaned):
        name = LABELS.get(line.rstrip(":："))
        value = None
        if name is not None:
            nxt = cleaned[i + 1] if i + 1 < len(cleaned) else ""
            is_label = nxt.rstrip(":：") in LABELS or nxt.rstrip(":：") in OTHER_LABELS
            value = "" if is_label else lines[i + 1].strip()
        else:
            match = _LABEL_WITH_VALUE.match(lines[i].strip())
            if match:
                name = LABELS.get(_SPACES.sub("", match["label"]))
                value = match["value"].strip()
                # A value followed by another label on the same line ("2021-01-30 字体:[]").
                value = re.split(r"\s+(?:" + "|".join(OTHER_LABELS) + r")[:：]", value)[0]
        if name and name not in found:
            found[name] = value.strip() if value else ""
    return found


def _label_of(cell: str) -> str:
    return _SPACES.sub("", cell).rstrip(":：")


def _pair_cells(cells: list[str], found: dict[str, str]) -> None:
    for i, cell in enumerate(cells):
        name = LABELS.get(_label_of(cell))
        if name is None or name in found:
            continue
        value = cells[i + 1] if i + 1 < len(cells) else ""
        label = _label_of(value)
        found[name] = "" if label in LABELS or label in OTHER_LABELS else value


def title_from_text(lines: list[str]) -> str | None:
    """The title at the top of a plain-text report, joined when it wraps over two lines.

    Only a short line (or two) that names itself a report counts; a text that starts with its
    body has no title here (None), rather than a sentence passed off as one."""
    head = [line.strip() for line in lines[:3] if line.strip()]
    if not head or len(head[0]) > 60:
        return None
    candidates = [head[0]]
    if len(head) > 1 and len(head[1]) <= 30 and not head[0].endswith(("报告", "年报")):
        candidates.insert(0, head[0] + head[1])
    for title in candidates:
        if title.endswith(("报告", "年报")) and not re.search(r"[，,。；]", title):
            return title
    return None


def report_year_from_title(title: str | None) -> int | None:
    """The covered year a title states (``2019年度…``, ``…2013年政府信息公开…``)."""
    if not title:
        return None
    match = _YEAR_IN_TITLE.search(title)
    return int(match.group(1)) if match else None


def extract_metadata(text: str, *, title: str | None = None,
                     meta: dict[str, str] | None = None) -> Metadata:
    """Metadata of a report from its text and (for a web page) its title and meta tags."""
    meta = meta or {}
    lines = [line for line in text.splitlines() if line.strip()]
    fields = labelled_fields(lines[:80])
    result = Metadata(raw=dict(fields))
    result.title = title or meta.get("ArticleTitle") or title_from_text(lines)
    for name in ("index_no", "issuing_agency", "category", "doc_no"):
        setattr(result, name, fields.get(name) or None)
    result.written_date = parse_date(fields.get("written_date"))
    published_raw = fields.get("published_date") or meta.get("PubDate")
    if published_raw:
        result.raw["published_date"] = published_raw
    result.published_date = parse_date(published_raw)
    result.report_year = report_year_from_title(result.title)
    return result
