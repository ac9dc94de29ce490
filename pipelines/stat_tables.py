"""Statistics stage: the reports' tables as numbers, with their consistency checks (勾稽关系).

Pure: a report's text in, ``(template, cells, failed checks, notes)`` out. The text is read as
a stream of cells — one per line in flattened text (seeds 003, 004, PDF/DOCX text), separated
by tabs where :mod:`pipelines.extract` rendered an HTML table row, or by ``|`` — and numbers are
aligned to the template's rows by their labels: a row label followed directly by exactly as
many values as the template has columns is a row; anything else is reported as ambiguous in
``notes`` rather than guessed. Labels, not positions, carry the alignment, which is why
rowspan/colspan headers and merged cells do not matter here.

Templates (the State Council's report formats): ``2021`` (国办公开办函〔2021〕30号), ``2019``
(〔2019〕60号) and ``pre2019`` (the free-form 统计表 with 累计数 / 本年发生数). Keys are listed,
with their Chinese labels, in ``docs/lake.md``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from pipelines.records import StatCell
from pipelines.rows import row_cells

# -- templates --------------------------------------------------------------------------------

#: 表三 columns, in order: 自然人, 法人或其他组织 (商业企业, 科研机构, 社会公益组织, 法律服务机构,
#: 其他), 总计.
TABLE3_COLUMNS = ("natural_person", "commercial_enterprise", "research_institution",
                  "public_interest_org", "legal_service_org", "other_org", "total")

#: 表三 rows: key, a label fragment that identifies it, and whether it is a leaf of （一）–（六）.
TABLE3_ROWS = (
    ("received_new", "本年新收", False),
    ("carried_over", "上年结转", False),
    ("disclosed", "予以公开", True),
    ("partially_disclosed", "部分公开", True),
    ("withheld_state_secret", "国家秘密", True),
    ("withheld_prohibited_by_law", "法律行政法规禁止", True),
    ("withheld_three_safeties", "三安全一稳定", True),
    ("withheld_third_party_rights", "第三方合法权益", True),
    ("withheld_internal_affairs", "三类内部事务", True),
    ("withheld_process_information", "四类过程性", True),
    ("withheld_enforcement_files", "行政执法案卷", True),
    ("withheld_query_matters", "行政查询事项", True),
    ("unavailable_not_held", "不掌握", True),
    ("unavailable_needs_creation", "没有现成信息", True),
    ("unavailable_still_unclear", "补正后", True),
    ("not_handled_petition", "信访举报投诉", True),
    ("not_handled_repeated", "重复申请", True),
    ("not_handled_publication", "公开出版物", True),
    ("not_handled_mass_repeated", "大量反复", True),
    ("not_handled_confirmation", "确认或重新出具", True),
    ("other_overdue_correction", "逾期不补正", True),  # 2021: （六）1
    ("other_unpaid_fee", "收费通知", True),  # 2021: （六）2
    ("total_handled", "总计", False),
    ("carried_forward", "结转下年度", False),
)
# （六）其他处理: one row in 2019 (``other_handling``), a group of three in 2021 whose third
# leaf is a bare "3.其他" (``other_other``).
OTHER_HANDLING, OTHER_OTHER = "other_handling", "other_other"

#: 表二: per 第二十条 item, its columns and rows (key, label fragment), per template.
TABLE2 = {
    "2021": {
        "一": (("made", "repealed", "in_force"),
              (("normative_documents", "规范性文件"), ("rules", "规章"))),
        "五": (("decisions",), (("administrative_licensing", "行政许可"),)),
        "六": (("decisions",), (("administrative_penalty", "行政处罚"),
                               ("administrative_coercion", "行政强制"))),
        "八": (("amount_10k_yuan",), (("administrative_fees", "行政事业性收费"),)),
    },
    "2019": {
        "一": (("newly_made", "newly_published", "total_published"),
              (("normative_documents", "规范性文件"), ("rules", "规章"))),
        "五": (("previous_year", "change", "decisions"),
              (("administrative_licensing", "行政许可"),
               ("other_external_services", "其他对外管理服务事项"))),
        "六": (("previous_year", "change", "decisions"),
              (("administrative_penalty", "行政处罚"), ("administrative_coercion", "行政强制"))),
        "八": (("previous_year", "change"), (("administrative_fees", "行政事业性收费"),)),
        "九": (("procurement_count", "procurement_amount"),
              (("government_procurement", "政府集中采购"),)),
    },
}

#: 表四: 15 cells, three groups of five.
TABLE4_GROUPS = ("administrative_review", "litigation_direct", "litigation_after_review")
TABLE4_COLUMNS = ("maintained", "corrected", "other", "pending", "total")

_MARKERS = {
    "2021": ("本年制发件数", "现行有效件数", "本年废止件数", "逾期不补正", "收费通知要求"),
    "2019": ("本年新制作数量", "本年新公开数量", "对外公开总数量", "上一年项目数量",
             "采购项目数量"),
    "pre2019": ("统计指标", "累计数", "本年发生数", "年发生数", "统计表"),
}

_NUMBER = re.compile(r"^(?P<sign>[+-]?)\s*(?P<num>\d+(?:\.\d+)?)\s*"
                     r"(?P<unit>万元|元|件|条|个|次|人次|人|项)?$")
_NOT_APPLICABLE = {"-", "—", "--", "/", "无"}
_SECTION = re.compile(r"^([一二三四五六七八九十]+)、")
_ITEM = re.compile(r"第二十条第[(（]([一二三四五六七八九十]+)[)）]项")
# 4.公开信息总数 (the dot is sometimes lost in Word-pasted text: 15新闻发布会…)
_PRE2019_ROW = re.compile(r"^(\d{1,2})(?:[.、．]\s*|(?=[\u4e00-\u9fff]))(.+)$")
# Sub-items, three levels deep: ⑴ or (1), then ①, then Ⅰ; each may start with 其中:
_PRE2019_LEVELS = ("⑴⑵⑶⑷⑸⑹⑺⑻⑼⑽", "①②③④⑤⑥⑦⑧⑨⑩", "ⅠⅡⅢⅣⅤⅥⅦⅧⅨⅩ")
_PRE2019_SUB = re.compile(r"^(?:其中[:：])?\s*(?:([⑴⑵⑶⑷⑸⑹⑺⑻⑼⑽①②③④⑤⑥⑦⑧⑨⑩ⅠⅡⅢⅣⅤⅥⅦⅧⅨⅩ])"
                          r"|[(（]([1-9])[)）])")


@dataclass
class Statistics:
    template: str = "unknown"
    cells: list[StatCell] = field(default_factory=list)
    failed_checks: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # ambiguous alignments, said not guessed
    #: Rows of a table the report has that were not read (``表三 carried_over``).
    missing: list[str] = field(default_factory=list)

    @property
    def consistent(self) -> bool | None:
        """True/False when the template's checks ran; None when there were no cells."""
        if not self.cells or self.template == "pre2019":
            return None
        return not self.failed_checks


def detect_template(text: str) -> str:
    """``2021``, ``2019``, ``pre2019`` or ``unknown``, from the tables' own wording (not the
    year: a 2020 report may still use the 2019 template)."""
    compact = re.sub(r"\s+", "", text)
    for template in ("2021", "2019", "pre2019"):
        if sum(marker in compact for marker in _MARKERS[template]) >= 2:
            return template
    return "unknown"


def parse_value(raw: str) -> tuple[Decimal | None, str | None] | None:
    """(value, unit) of a statistics cell; None when the text is not a value at all.
    A blank cell is 0, a dash is "not applicable" (value None); ``+12`` is 12."""
    text = raw.strip().replace(",", "").replace("，", "")
    if text == "":
        return Decimal(0), None
    if text in _NOT_APPLICABLE:
        return None, None
    match = _NUMBER.match(text)
    if not match:
        return None
    try:
        value = Decimal(match["num"])
    except InvalidOperation:
        return None
    return (-value if match["sign"] == "-" else value), match["unit"]


def tokens(text: str) -> list[tuple[str, bool]]:
    """The text as a stream of cells: (text, is_table_cell). Cells of a tab- or ``|``-separated
    row keep their blanks (a blank cell is a value); empty lines of flattened text do not."""
    out: list[tuple[str, bool]] = []
    for line in text.split("\n"):
        cells = row_cells(line)
        if cells is not None:
            out.extend((cell, True) for cell in cells)
        elif line.strip():
            out.append((line.strip(), False))
    return out


def parse(doc_id: str, text: str) -> Statistics:
    """The statistics of one report's text."""
    template = detect_template(text)
    result = Statistics(template=template)
    if template == "unknown":
        return result
    stream = tokens(text)
    if template == "pre2019":
        _pre2019(doc_id, stream, result)
        return result
    sections = _templated(doc_id, stream, template, result)
    _check(result)
    _report_missing(result, template, sections)
    return result


def expected_rows(template: str) -> dict[str, list[str]]:
    """Per table, the row keys a ``2019`` or ``2021`` template report fills."""
    table3 = [key for key, _, _ in TABLE3_ROWS]
    if template == "2019":  # （六）其他处理 is one row
        table3 = [k for k in table3 if k not in ("other_overdue_correction", "other_unpaid_fee")]
        table3.insert(table3.index("total_handled"), OTHER_HANDLING)
    else:
        table3.insert(table3.index("total_handled"), OTHER_OTHER)
    table2 = [key for _, rows in TABLE2[template].values() for key, _ in rows]
    return {"二": table2, "三": table3, "四": list(TABLE4_GROUPS)}


def _report_missing(result: Statistics, template: str, sections: set[str]) -> None:
    """Every row of a table the report has is read, or said missing (``表三 carried_over``;
    the checks that need it compare against 0)."""
    read = {(cell.table, cell.row_key) for cell in result.cells}
    for table, rows in expected_rows(template).items():
        if table not in sections:
            continue  # the report has no such table (a section left out), nothing to miss
        for row in rows:
            if (table, row) not in read:
                result.missing.append(f"表{table} {row}")


def _values(stream, start: int, count: int):
    """The values right after position ``start``: (list of (value, unit, raw), next index)."""
    found = []
    j = start
    while j < len(stream):
        raw, in_table = stream[j]
        if raw == "" and not in_table:
            j += 1
            continue
        parsed = parse_value(raw)
        if parsed is None:
            break
        found.append((parsed[0], parsed[1], raw))
        j += 1
        if len(found) == count:
            break
    return found, j


def _norm(label: str) -> str:
    return re.sub(r"\s+", "", label).replace("（", "(").replace("）", ")")


def _templated(doc_id: str, stream, template: str, result: Statistics) -> set[str]:
    """Read the tables of a 2019/2021 template report; returns the tables whose sections the
    text has."""
    section = item = None
    sections: set[str] = set()
    in_other_group = False
    emitted: set[tuple[str, str]] = set()

    def emit(table: str, row: str, label: str, columns, values) -> None:
        if (table, row) in emitted:
            result.notes.append(f"表{table} {row}: found twice, the second kept out")
            return
        emitted.add((table, row))
        for column, (value, unit, raw) in zip(columns, values, strict=True):
            result.cells.append(StatCell(doc_id, table, row, column, value, raw, unit,
                                         row_label=label))

    i = 0
    while i < len(stream):
        raw, _ = stream[i]
        label = _norm(raw)
        heading = _SECTION.match(label)
        if heading:  # a section title, or a 表三 row that starts the same way (二、上年结转…)
            new = ("二" if "主动公开" in label else "三" if "收到和处理" in label
                   else "四" if "行政复议" in label and "情况" in label
                   else "end" if heading[1] in ("五", "六", "七") else None)
            if new is not None:
                section, item = (None if new == "end" else new), None
                if section:
                    sections.add(section)
                i += 1
                continue
        if section == "二":
            match = _ITEM.search(label)
            if match:
                item = match[1]
            elif item in TABLE2[template]:
                columns, rows = TABLE2[template][item]
                key = next((k for k, fragment in rows if fragment in label), None)
                if key is not None:
                    values, after = _values(stream, i + 1, len(columns))
                    if len(values) == len(columns):
                        emit("二", key, raw, columns, values)
                        i = after
                        continue
                    if values:
                        result.notes.append(f"表二 {key}: {len(values)} of {len(columns)} "
                                            "values follow its label; left out")
        elif section == "三":
            key = None
            if "其他处理" in label:
                in_other_group = True
                key = OTHER_HANDLING
            elif in_other_group and re.fullmatch(r"3?[.、．]?其他", label):
                key = OTHER_OTHER
            else:
                key = next((k for k, fragment, _ in TABLE3_ROWS if fragment in label), None)
                if key in ("total_handled", "carried_forward"):
                    in_other_group = False
            if key is not None:
                values, after = _values(stream, i + 1, len(TABLE3_COLUMNS))
                if len(values) == len(TABLE3_COLUMNS):
                    emit("三", key, raw, TABLE3_COLUMNS, values)
                    i = after
                    continue
                if values and key != OTHER_HANDLING:
                    result.notes.append(f"表三 {key}: {len(values)} of 7 values follow its "
                                        "label; left out")
        elif section == "四":
            values, after = _values(stream, i, 15)
            if len(values) == 15:
                for g, group in enumerate(TABLE4_GROUPS):
                    emit("四", group, group, TABLE4_COLUMNS, values[g * 5:(g + 1) * 5])
                section = None
                i = after
                continue
        i += 1
    return sections

def _check(result: Statistics) -> None:
    """The 勾稽关系: 表三 per column 一+二 = （七）+四 and （七） = the sum of the leaves of
    （一）–（六）; per row, 总计 = the sum of the six applicant columns; 表四 per group, 总计 = the
    sum of the other four. Failed checks are data: the report still lands."""
    t3: dict[str, dict[str, Decimal]] = {}
    t4: dict[str, dict[str, Decimal]] = {}
    for cell in result.cells:
        target = t3 if cell.table == "三" else t4 if cell.table == "四" else None
        if target is not None and cell.value is not None:
            target.setdefault(cell.row_key, {})[cell.column_key] = cell.value
    leaves = {k for k, _, leaf in TABLE3_ROWS if leaf} | {OTHER_HANDLING, OTHER_OTHER}
    if t3:
        for column in TABLE3_COLUMNS:
            def get(row: str, column: str = column) -> Decimal:
                return t3.get(row, {}).get(column, Decimal(0))

            if {"received_new", "total_handled", "carried_forward"} <= t3.keys():
                left = get("received_new") + get("carried_over")
                right = get("total_handled") + get("carried_forward")
                if left != right:
                    result.failed_checks.append(
                        f"表三 {column}: 一+二 ({left}) ≠ （七）总计+四 ({right})")
            if "total_handled" in t3:
                leaf_sum = sum((get(row) for row in leaves if row in t3), Decimal(0))
                if leaf_sum != get("total_handled"):
                    result.failed_checks.append(
                        f"表三 {column}: （七）总计 ({get('total_handled')}) ≠ leaves of "
                        f"（一）–（六） ({leaf_sum})")
        for row, values in t3.items():
            if "total" in values:
                others = sum((values.get(c, Decimal(0)) for c in TABLE3_COLUMNS[:-1]),
                             Decimal(0))
                if others != values["total"]:
                    result.failed_checks.append(
                        f"表三 {row}: 总计 ({values['total']}) ≠ the six applicant columns "
                        f"({others})")
    for group, values in t4.items():
        if "total" in values:
            parts = sum((values.get(c, Decimal(0)) for c in TABLE4_COLUMNS[:-1]), Decimal(0))
            if parts != values["total"]:
                result.failed_checks.append(
                    f"表四 {group}: 总计 ({values['total']}) ≠ the four results ({parts})")


def _pre2019(doc_id: str, stream, result: Statistics) -> None:
    """The free-form 统计表: numbered indicators (``4.公开信息总数``) and their sub-items
    (``其中:⑴…``), each with one value per column (累计数 / 本年发生数, or 统计数)."""
    columns: tuple[str, ...] = ("value",)
    path: list[int] = []  # the indicator number, then one number per sub-item level
    i = 0
    while i < len(stream):
        raw, _ = stream[i]
        label = _norm(raw)
        if label in ("累计数", "累计"):
            columns = ("cumulative", "this_year")
        elif label in ("统计数", "数量"):
            columns = ("value",)
        row = _PRE2019_ROW.match(label)
        sub = None if row else _PRE2019_SUB.match(label)
        key = None
        if row and not parse_value(raw):
            path = [int(row[1])]
        elif sub and path:
            level, number = 1, int(sub[2]) if sub[2] else 0
            for depth, marks in enumerate(_PRE2019_LEVELS, start=1):
                if sub[1] and sub[1] in marks:
                    level, number = depth, marks.index(sub[1]) + 1
            path = path[:level] + [0] * (level - len(path[:level])) + [number]
        if (row and not parse_value(raw)) or (sub and path):
            key = "indicator_" + "_".join(map(str, path))
        if key is not None:
            values, after = _values(stream, i + 1, len(columns))
            if len(values) == len(columns):
                for column, (value, unit, cell_raw) in zip(columns, values, strict=True):
                    result.cells.append(StatCell(doc_id, "pre2019", key, column, value,
                                                 cell_raw, unit, row_label=raw))
                i = after
                continue
        i += 1
