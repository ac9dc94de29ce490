"""Metadata stage: title, 索引号, agency, category, 文号, dates and report year of a document.

Pure functions over the extracted text, the page's metadata lines and its meta tags. Each value
is taken from a place that states it, in order of trust (the labelled block, the standard gov
meta tags, the signature block, the title, the opening sentence), and its raw form is kept in
``raw``; what nothing states stays None.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone

from pipelines.records import Metadata
from pipelines.repair import repair_title
from pipelines.rows import CELL, row_cells

# Label variants seen on portals → field name. Labels are compared with all whitespace removed.
LABELS = {
    "索引号": "index_no", "索取号": "index_no", "信息索取号": "index_no",
    "发文机构": "issuing_agency", "发布机构": "issuing_agency", "发文单位": "issuing_agency",
    "公开责任部门": "issuing_agency", "发文机关": "issuing_agency", "发布单位": "issuing_agency",
    "信息来源": "source", "来源": "source",
    "公开主体": "issuing_agency", "信息公开主体": "issuing_agency", "发布部门": "issuing_agency",
    "发文部门": "issuing_agency", "所属机构": "issuing_agency",
    "公开目录": "category", "主题分类": "category", "分类": "category", "组配分类": "category",
    "信息分类": "category", "信息类别": "category", "所属主题": "category",
    "主题词": "keywords",
    "文号": "doc_no", "发文字号": "doc_no", "文件编号": "doc_no",
    "成文日期": "written_date", "生成日期": "written_date", "制发日期": "written_date",
    "发布日期": "published_date", "公开日期": "published_date", "发布时间": "published_date",
    "日期": "published_date",
    "有效性": "validity", "时效": "validity",
    "标题": "title", "名称": "title", "文章标题": "title", "信息名称": "title", "题名": "title",
}
# Labels that carry no field of ours but end another label's value (so 文号 stays empty when
# the next cell is 浏览量).
OTHER_LABELS = {"浏览量", "字体", "访问量", "浏览次数", "点击数", "公开方式", "公开时限",
                "公开范围", "公开形式"}

_SPACES = re.compile(r"[\s\u3000\xa0]+")
# Another label later on the same line ends a value: "2021-01-30 21:04 字体:[]".
# (?<!\s): a run of spaces is tried from its start only, so a long run stays linear.
_NEXT_LABEL = re.compile(r"(?<!\s)\s+(?:" + "|".join(sorted(OTHER_LABELS | set(LABELS), key=len,
                                                       reverse=True)) + r")\s*[:：]")
_LABEL_WITH_VALUE = re.compile(r"^(?P<label>[^:：\t]{1,12})[:：](?P<value>.*)$")
_DATE = re.compile(
    r"(?P<y>(?:19|20)\d{2})\s*(?:[-/.年])\s*(?P<m>\d{1,2})\s*(?:[-/.月])\s*(?P<d>\d{1,2})")
_CN_DIGITS = str.maketrans("〇○零一二三四五六七八九", "00012345678" + "9")
_CN_DATE = re.compile(r"([〇○零一二三四五六七八九]{4})年([一二三四五六七八九十]{1,2})月"
                      r"([一二三四五六七八九十]{1,3})日")
_YEAR_IN_TITLE = re.compile(r"((?:19|20)\d{2})\s*年度?")
_ANY_YEAR = r"(?:(?:19|20)\d{2}|[〇○零一二三四五六七八九]{4})"
_CN_YEAR = re.compile(r"([〇○零一二三四五六七八九]{4})\s*年")
_ORG = (r"(?:人民政府|人民政府办公室|办事处|委员会|管理委员会|街道|乡|镇|苏木|局|委|办|厅|院|署"
        r"|所|中心|政府|办公室|参事室|研究室|领导小组|分局|支队|大队|队|站|馆|社|会"
        r"|开发区|高新区|工业园区|产业园|示范区|实验区|管理区|行政公署)")
#: A body's second name (一个机构两块牌子): 银川市民族事务委员会(宗教事务局); not its office
#: (贵阳市人民政府(市人民政府办公厅): two bodies).
_SECOND_NAME = rf"(?:[(（](?![省市县区])[\u4e00-\u9fff]{{2,12}}?{_ORG}[)）])?"
_AGENCY_LINE = re.compile(rf"^(?:[\u4e00-\u9fff（）()]{{2,40}}{_ORG}{_SECOND_NAME}"
                          r"|[\u4e00-\u9fff]{1,2}苏木)$")
#: A party committee (青山镇党委, …党工委, …党组): no body a report is of.
_PARTY_COMMITTEE = re.compile(r"党工?委$|党组$")
#: A township's or street's party committee before its own body, the two as one subject
#: (2025年,新开河街道党工委、办事处按照…; XX镇党委、政府高度重视…): the body is the township's.
_PARTY_AND_TOWNSHIP = r"(?:(?<=[乡镇道木])(?:党委|党工委)[、和及与]\s*(?:人民)?(?:政府|办事处))"
_OPENING_AGENCY = (
    # "《盐池县2017年…年度报告》经盐池县人民政府同意，现予发布": the government that approves
    # its publication (before the office that compiled it, 由…办公室汇总…编制)
    re.compile(r"经(?P<agency>[\u4e00-\u9fff（）()]{2,30}?人民政府)(?:审定|批准)?同意[,，]?\s*"
               r"(?:现予以?|予以|现|特)?(?:发布|公布|印发|公开)"),
    # "2019年，XX县信访局认真……", "本年度XX局政府信息……", "2020年,XX镇党委、政府高度重视…"
    re.compile(rf"(?:年以来|年度|年)[,，]?\s*(?P<agency>[\u4e00-\u9fff]{{2,30}}?{_ORG})"
               rf"{_PARTY_AND_TOWNSHIP}?"
               r"(?:政府信息|政务公开|信息公开|认真|深入|坚持|坚决|严格|按照|根据|共|不断|持续"
               r"|全面|积极|高度重视|紧紧围绕)"),
    # "XX县人民政府办公室根据《条例》……" at the very start
    re.compile(rf"^\s*(?P<agency>[\u4e00-\u9fff（）()]{{2,30}}?{_ORG})"
               r"(?:根据|按照|依据|依照|认真|坚持|严格|深入|现将|特?向社会)"),
    # "本报告……由XX县人民政府办公室编制", "由XX局根据……编制", "由XX办公室结合有关统计数据编制"
    re.compile(rf"由(?P<agency>[\u4e00-\u9fff（）()]{{2,30}}?{_ORG})"
               r"(?:[(（]以下简称[^)）]{1,12}[)）])?"
               r"(?:(?:根据|按照|依据|依照|负责|组织|结合|会同|牵头)[^。，,；;\n]{0,16}?编制"
               r"|编制|根据|按照|依据|依照|综合|汇总)"),
    # a news lede: "3月31日,山东省人民政府办公厅对外公布了2018年…年度报告", "日前,贵州省人民政府
    # 正式向社会发布2020年…": the body that publishes the year's report
    re.compile(rf"(?:\d{{1,2}}日|日前|近日)[,，]\s*(?P<agency>[\u4e00-\u9fff（）()]{{2,30}}?{_ORG})"
               r"(?:正式)?(?:向社会|对外)?(?:发布|公布)了?\s*(?:19|20)\d{2}\s*年"),
    # "…,昌都市人民政府信息公开办公室汇总全市政府信息公开情况编制而成本报告"
    re.compile(rf"[,，。]\s*(?P<agency>[\u4e00-\u9fff（）()]{{2,30}}?{_ORG})(?:汇总|综合)"
               r"[^。，,；;\n]{0,20}?编制"),
    # "…,海口市人民政府编制了2018年政府信息公开工作年度报告"
    re.compile(rf"[,，。]\s*(?P<agency>[\u4e00-\u9fff（）()]{{2,30}}?{_ORG})编制了?\s*"
               r"《?[\u4e00-\u9fff]{0,8}?(?:19|20)\d{2}\s*年"),
    # "特向社会公布2019年度青龙镇政府(机关)信息公开年度报告": the year first
    re.compile(rf"公[布开](?:19|20)\d{{2}}\s*年度?(?P<agency>[\u4e00-\u9fff]{{2,30}}?{_ORG})"
               r"(?:[(（][^)）]{0,6}[)）])?(?:政府信息公开|政务公开|信息公开)"),
)
#: The sentence that publishes the body's own report, looked for as far down as a copied
#: page's menus push it: "现公布连州市人民政府机关事务管理局2019年信息公开工作年度报告",
#: "特编制高科技电子产业园2018年度…", "现发布《银川市民族事务委员会(宗教事务局)2024年…》" (a
#: body of two names), "现将西安市人民政府2021年政府信息公开工作年度报告予以公开", "…工作要求,
#: 编制《北京市密云区大城子镇人民政府2025年…》".
_PUBLISHES_ITS_REPORT = re.compile(
    r"(?:现将|现就|现(?:予以?|向社会)?公[布开]|特编制|编制了|编制(?=《)|现发布)《?"
    rf"(?P<agency>[\u4e00-\u9fff（）()]{{2,30}}?{_ORG}{_SECOND_NAME})"
    # a body with its office (现就阿勒泰地区行政公署及办公室2016年度…): the body's report
    r"(?:及其?办公[室厅])?(?:政府信息公开|信息公开)?\s*(?:19|20)\d{2}\s*年")
#: What a body does as its report's subject: "2020年沈河区人民政府按照…".
_AS_SUBJECT = r"(?:按照|根据|认真|坚持|深入|全面|积极|严格|紧紧围绕|高度重视|进一步|持续|不断|以)"
#: The overview's first sentence, when a government is its subject: "一、总体情况 2020年，天津市
#: 人民政府以…" (further down than the sentences above, below the report's preface).
_OVERVIEW_SUBJECT = re.compile(
    r"一\s*[、.．]\s*(?:总体情况|概述|基本情况)[。\s]*(?:19|20)\d{2}\s*年度?[,，]\s*"
    r"(?P<agency>[\u4e00-\u9fff（）()]{2,30}?人民政府(?:办公[厅室])?"
    rf"|[\u4e00-\u9fff]{{2,12}}?(?:乡|镇|街道|苏木)(?={_PARTY_AND_TOWNSHIP})){_PARTY_AND_TOWNSHIP}?"
    rf"(?:{_AS_SUBJECT}|围绕)")
#: A paragraph that names the report it opens, body first, and says how it will call it:
#: "黄石港区人民政府2025年政府信息公开年度报告(以下简称年报)根据…" (below a page's header, so
#: further down than the sentences above are looked for).
_NAMES_ITSELF = re.compile(rf"(?:^|\n)\s*(?P<agency>[\u4e00-\u9fff（）()]{{2,30}}?{_ORG})\s*"
                           r"(?:19|20)\d{2}\s*年度?[^\n，,。]{0,24}?(?:年度报告|年报)\s*"
                           r"[(（]以下简称")
#: Each opening pattern and how far into the text it is looked for.
_OPENING_SEARCHES = (*((pattern, 300) for pattern in _OPENING_AGENCY), (_NAMES_ITSELF, 1500),
                     (_PUBLISHES_ITS_REPORT, 1500), (_OVERVIEW_SUBJECT, 2000))
#: Words no body's name holds: a verb means a sentence was cut, not a name.
_NOT_A_NAME = re.compile(r"认真|贯彻|落实|根据|按照|开展|推进|做好|进一步|报告|可在|下载|电子版")
#: A government's office of disclosure: 福州市晋安区人民政府信息公开办(公室).
_DISCLOSURE_OFFICE = re.compile(r"^(?P<body>.+人民政府)(?:政府)?(?:信息公开|政务公开)(?:工作)?"
                                r"(?:领导小组)?(?:办公室|办)$")
#: A website or a news outlet is no body, whoever runs it (江西省人民政府门户网站; 来源:新华社).
_WEBSITE = re.compile(r"(?:网站|门户|网)$|^(?:新华社|中新社)$|(?:通讯社|报社|日报|晚报|电视台)$")
#: A name starting with a pronoun or a bare level (我局, 本办, 县人民政府, 镇人民政府) names no
#: body, unless a place's name starts that way (全椒县, 镇江市, 乡宁县).
_BARE = re.compile(r"^(?:[我本该贵全各省市县区镇乡街]|自治[区州县旗])")
#: What mirrors splice into names (gambling and lottery spam): such a name is not stored.
SPAM = re.compile(r"娱乐城|娱乐场|赌|博彩|彩票|葡京|威尼斯人|百家乐|老虎机|棋牌|真人|时时彩|六合彩"
                  r"|投注|开户|注册送|官网|体育平台|电子游艺|pk10|bet|casino", re.I)
_PERIOD = re.compile(r"(?:统计|数据)[^。\n]{0,20}?(?:自|从|为)?\s*((?:19|20)\d{2})\s*年\s*0?1\s*月"
                     r"\s*0?1\s*日")
#: "2019年以来，", "2019年度", "2020年，在区委……" at the start of one of the first lines.
_OPENING_YEAR = re.compile(r"^[^。\n]{0,10}?((?:19|20)\d{2})\s*年(?:度|以来|[,，]|年报)", re.M)
#: The overview's first sentence opens on the year it reports: "一、总体情况 2021年城中区政务公开
#: 工作在…" (a date, 2008年5月1日, is no year's work).
_OVERVIEW_YEAR = re.compile(r"一\s*[、.．]\s*(?:总体情况|概述|基本情况)[。\s]*[^。\n\d]{0,6}?"
                            r"((?:19|20)\d{2})\s*年(?![\d０-９月])")
#: "截至2023年12月31日": the end of the year reported on.
_AS_OF = re.compile(r"截[至止]到?\s*((?:19|20)\d{2})\s*年\s*12\s*月\s*31\s*日")
#: "现公布我局2022年政府信息公开工作年度报告", "现将我县2018年度政府信息公开工作情况报告如下"
#: (a disclosure report: 公开 in the words between, so not a 2019年政府工作报告).
_ANNOUNCED = re.compile(r"((?:19|20)\d{2})\s*年度?(?=[\u4e00-\u9fff、]{0,24}?公开)"
                        r"[\u4e00-\u9fff、]{0,24}?(?:年度报告|年报|工作报告|情况报告|公开报告)")
#: Cited documents (《国务院办公厅关于做好2019年政府信息公开年度报告工作的通知》): their years
#: are not the report's.
_CITED = re.compile(r"《[^》\n]{0,80}》")
_ANNUAL = re.compile(r"年度报告|年报|工作报告")


def parse_date(value: str | None) -> date | None:
    """The first full date in ``value``: ISO, ``/``, ``.``, ``YYYY年M月D日``, ``二〇二〇年一月
    三十一日`` or a Unix timestamp (seconds or milliseconds, read in China time)."""
    if not value:
        return None
    value = str(value).strip()
    if re.fullmatch(r"\d{10}|\d{13}", value):
        seconds = int(value) / (1000 if len(value) == 13 else 1)
        return datetime.fromtimestamp(seconds, timezone(timedelta(hours=8))).date()
    match = _DATE.search(value)
    if match:
        y, m, d = int(match["y"]), int(match["m"]), int(match["d"])
    else:
        cn = _CN_DATE.search(value)
        if not cn:
            return None
        y, m, d = int(cn[1].translate(_CN_DIGITS)), _cn_number(cn[2]), _cn_number(cn[3])
    try:
        return date(y, m, d)
    except ValueError:
        return None


def _cn_number(text: str) -> int:
    """一 … 九十九 → 1 … 99 (a day of the month, an article's number)."""
    digits = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
    if "十" not in text:
        return digits.get(text, 0)
    tens, _, ones = text.partition("十")
    return digits.get(tens, 1) * 10 + digits.get(ones, 0)


#: List bullets a page's label block puts before each label (``• 索引号：…``).
_BULLETS = "•·●◆■▪□◇○-*"  # and a list's "- " / "* " as a page copied to plain text has them


#: The longest line read as the value of a label on the line above it.
_VALUE_LINE = 80


def _label_of(cell: str) -> str:
    return _SPACES.sub("", cell).lstrip(_BULLETS).rstrip(":：")


def _is_label(cell: str) -> bool:
    label = _label_of(cell)
    return label in LABELS or label in OTHER_LABELS


def labelled_fields(lines: list[str]) -> dict[str, str]:
    """Values of the metadata block, first occurrence winning: table rows (``label⇥value⇥…``,
    as :mod:`pipelines.extract` renders cells), ``label：value`` on one line, or a label line
    followed by its value line (how flattened cells read in plain text)."""
    found: dict[str, str] = {}

    def put(name: str | None, value: str) -> None:
        if name and name not in found:
            found[name] = value.strip()

    for i, line in enumerate(lines):
        cells = _cells(line)
        j = 0
        while j < len(cells):
            cell = cells[j]
            name = LABELS.get(_label_of(cell))
            if name is not None:
                nxt = cells[j + 1] if j + 1 < len(cells) else None
                if nxt is None and len(cells) == 1:  # a label alone: its value is the next line
                    after = lines[i + 1].strip() if i + 1 < len(lines) else ""
                    # unless that line is a label, or a paragraph (文号 left empty, the
                    # report's first paragraph under it)
                    put(name, "" if _is_label(_cells(after)[0] if after else "")
                        or len(after) > _VALUE_LINE or "。" in after else after)
                elif nxt is not None and not _is_label(nxt):
                    put(name, nxt)
                    j += 1
                else:
                    put(name, "")
            else:
                match = _LABEL_WITH_VALUE.match(cell)
                if match:
                    value = match["value"].strip()
                    value = _NEXT_LABEL.split(value)[0]
                    put(LABELS.get(_label_of(match["label"])), value)
            j += 1
    return found


def _cells(line: str) -> list[str]:
    """The cells of a line (:func:`pipelines.rows.row_cells`; one cell when it is no row). A
    label block printed with ``|`` may open and close with separators: no empty cells there."""
    cells = row_cells(line)
    if cells is None:
        return [line.strip()]
    if CELL not in line:
        while len(cells) > 1 and not cells[0]:
            cells.pop(0)
        while len(cells) > 1 and not cells[-1]:
            cells.pop()
    return cells


def _is_label_line(line: str) -> bool:
    """A line of a label block (``索引号：…``, ``| 名称 | … |``), never a title."""
    cells = _cells(line)
    if len(cells) > 1 or line.lstrip().startswith("|"):
        return True
    match = _LABEL_WITH_VALUE.match(line.strip())
    return bool(match and _is_label(match["label"]))


def tidy_title(title: str | None) -> str | None:
    """A title with the spaces a wrap left between its words removed (``2019年 政府…``)."""
    if not title:
        return title
    return re.sub(r"(?<=[\u4e00-\u9fff\d])[\s\u3000]+(?=[\u4e00-\u9fff])", "", title.strip())


def is_report_title(value: str | None) -> bool:
    return _title_like(value) and bool(re.search(r"报告|年报", value))


def _title_like(value: str | None) -> bool:
    """Whether a line may be a title: short, and no sentence's punctuation."""
    return bool(value) and len(value) <= 80 and not re.search(r"[，,。；]", value)


def title_from_text(lines: list[str]) -> str | None:
    """The title at the top of a plain-text report, joined when it wraps over two lines.

    Only a short line (or two) that names itself a report counts; a text that starts with its
    body has no title here (None), rather than a sentence passed off as one."""
    head = []
    for line in lines[:12]:
        line = _ATTACHMENT_MARK.sub("", line.strip()).strip("《》“”\"")
        if len(head) == 0 and len(line) > 60:
            # a flattened page: the title and the first section on one line
            line = (_TITLE_THEN_BODY.match(line) or [line])[0]
        if line and _HANZI.search(line) and not _is_label_line(line) \
                and not _HEAD_NOISE.match(line):  # not "EN", not a URL
            # repaired as a title is: a line is too short for the text's thresholds
            line = repair_title(line)
            if len(head) == 1 and line.startswith(head[0]):
                # a site's name over a title that starts with it (左贡县人民政府 / 左贡县人民政府
                # / 左贡县人民政府2021年度 / 信息公开年度报告): the title's lines follow
                head[0] = line
                continue
            head.append(line)
        if len(head) == 3:
            break
    if not head or len(head[0]) > 60:
        return None
    # One line, or a title wrapped over two or three short ones.
    candidates = [head[0]]
    if len(head) > 1 and _wraps(head[0], head[1]):
        candidates.insert(0, head[0] + head[1])
        if len(head) > 2 and _wraps(head[0] + head[1], head[2]):
            candidates.insert(0, head[0] + head[1] + head[2])
    for title in candidates:
        if _names_itself(title) and not re.search(r"[，,。；]", title):
            if (not _annual_report_title(title) or _YEARS_COLUMN.match(title)) and \
                    (below := _title_below(lines)):
                # a column's name (部门年报) or a menu's row (信息公开指南 信息公开年报) over
                # the year's report title
                return below
            return tidy_title(title)
    return _title_below(lines)


def _title_below(lines: list[str]) -> str | None:
    """A copied page's menus and clock above the title: a line of its own further down that
    is a year's disclosure report's title (not a column's name: 2021年年报)."""
    for line in lines[:40]:
        if "报" not in line and "報" not in line:
            continue  # no title of a report (报告, 報告, 报(bào)告): not repaired for nothing
        line = repair_title(_ATTACHMENT_MARK.sub("", line.strip()).strip("《》“”\"•· "))
        if _annual_report_title(line) and not _YEARS_COLUMN.match(line) \
                and not _HEAD_NOISE.match(line):  # a breadcrumb (首页 >> … >> 2021年年报)
            return tidy_title(line)
    return None


#: A column named for a year's reports, over the report's own title: "2021年年报", "2020年度报告".
_YEARS_COLUMN = re.compile(r"^(?:19|20)\d{2}\s*年度?\s*(?:年报|年度报告|报告)$")


def _wraps(above: str, line: str) -> bool:
    """Whether a short ``line`` may be the rest of a title begun on the line ``above``: not when
    that line is a title already, or ``line`` is a year's report's title of its own (a column's
    name above it, 乡镇(街道办), is not the start of the title), unless ``above`` is a body's
    name (清水县人民政府 / 2019年政府信息公开工作年度报告)."""
    return len(line) <= 30 and not _names_itself(above) and (
        not _annual_report_title(line) or bool(_AGENCY_LINE.match(above)))


def _names_itself(title: str) -> bool:
    """Whether a line ends the way a report's title does."""
    # "…年度报告（2022年度）", "…年度报告 (2019年)"
    core = re.sub(r"\s*[（(][^（）()]{1,12}[）)]$", "", title)
    return core.endswith(("报告", "年报")) or (
        core.endswith("的公告") and "报告" in core)  # 关于公布…年度报告的公告


_HANZI = re.compile(r"[\u4e00-\u9fff]")
#: "清水县人民政府2019年 政府信息公开工作年度报告 一、总体情况 2019年,…" on one line.
_TITLE_THEN_BODY = re.compile(r"^(.{6,60}?(?:年度报告|年报))(?=\s*一\s*[、.．]|\1)")
#: "附件1：" before a title (a report attached to a notice).
_ATTACHMENT_MARK = re.compile(r"^附\s*件\s*\d*\s*[:：]?\s*")
#: Lines a copied page carries above its title: breadcrumbs, font and print buttons, counters.
_HEAD_NOISE = re.compile(r"^(?:当前位置|您的位置|您现在的位置|位置[:：]|首页\s*[>»/]|.*[>»].*[>»]"
                         r"|【?字[体号]|打印|关闭|分享到?|浏览次数|点击[数量率]|阅读[数量次])")


#: A page's clock in its header (2019年12月3日星期二): today's date, no document's.
_CLOCK = re.compile(r"星期|周[一二三四五六日天]")


def signature(lines: list[str]) -> tuple[str | None, str | None]:
    """(agency, date) of the signature block at the end of a report: a short organisation
    name followed by a date, within the last few lines."""
    tail = [line.strip() for line in lines[-6:] if line.strip() and not _CLOCK.search(line)]
    for i in range(len(tail) - 1, -1, -1):
        # "清水县人民政府办公室    2020年1月10日" on one line
        same_line = re.fullmatch(r"(\S{2,40}?)[\s\u3000]+(\S.{4,18})", tail[i])
        if same_line and parse_date(same_line[2]) and _AGENCY_LINE.match(same_line[1]):
            return same_line[1], same_line[2]
        if i > 0 and parse_date(tail[i]) and len(tail[i]) <= 20:
            name = tail[i - 1]
            if _AGENCY_LINE.match(name):
                return name, tail[i]
            return None, tail[i]
    return None, None


def heading(lines: list[str]) -> tuple[str | None, str | None]:
    """(agency, date) of a signature block under the title (Word-made reports put the body and
    the date there): an organisation name line followed by a date line, in the first lines."""
    head = [line.strip() for line in lines[:6] if line.strip()]
    for name, when in zip(head, head[1:], strict=False):
        if _CLOCK.search(when):
            continue  # a site's name over the page's clock
        if not _AGENCY_LINE.match(name):
            continue
        if len(when) <= 20 and parse_date(when):
            return name, when
        if _MONTH_LINE.match(when):
            return name, None  # 襄阳市人民政府办公室 / (2018年2月): a month, no day
    return None, None


#: A heading's date that names its month alone: "(2018年2月)".
_MONTH_LINE = re.compile(r"^[(（]?\s*(?:19|20)\d{2}\s*年\s*\d{1,2}\s*月\s*[)）]?$")


def agency_from_title(title: str | None) -> str | None:
    """The body a title names before its year: ``龙潭区人民政府2013年…`` → 龙潭区人民政府."""
    if not title:
        return None
    # "桂政务发[2021]3号 广西…领导小组关于印发…": the document's number before its title
    title = _LEADING_DOC_NO.sub("", title.strip("《》“”\""))
    body = rf"([\u4e00-\u9fff（）()]{{2,40}}?{_ORG}|[\u4e00-\u9fff]{{1,2}}苏木)"
    disclosure = r"(?:政府信息公开|政务公开|信息公开|政府信息)"
    match = (
        # "龙潭区人民政府2013年…", "XX县人民政府关于公布2018年…",
        # "XX县人民政府办公室关于XX县2019年…"
        re.match(rf"^{body}(?:关于(?:公布|发布|印发)?[\u4e00-\u9fff]{{0,10}}?)?\s*{_ANY_YEAR}\s*年",
                 title)
        # year first: "2019年清水县人民政府政府信息公开工作年度报告"
        or re.match(rf"^{_ANY_YEAR}\s*年度?\s*{body}{disclosure}", title)
        # year after: "清水县教育局政府信息公开工作年度报告（2019年度）"
        or re.match(rf"^{body}{disclosure}.*{_ANY_YEAR}\s*年", title)
        # a report's title naming its body and no year: "辽东街道办事处信息公开工作年度报告" (over
        # an opening that names another, copied from another body's report)
        or re.match(rf"^{body}{disclosure}[\u4e00-\u9fff]{{0,12}}(?:年度报告|年报)$", title)
        # a body's rules for its reports: "两家满族乡人民政府信息公开工作年度报告制度"
        or re.match(rf"^{body}{disclosure}[\u4e00-\u9fff]{{0,20}}{_RULE_LINE.pattern}", title)
        # a document's title names its issuer before 关于: "平潭县人民政府 关于…的通告",
        # or before what it passes on: "陵水黎族自治县人民政府办公室转发…的通知"
        or re.match(rf"^{body}\s*(?:关于|转发|印发)", title))
    if not match or _took_disclosures_word(match.group(1), title[match.end(1):]):
        return None
    return _from_its_place(match.group(1))


def _from_its_place(name: str) -> str:
    """A name from its first place on, without what stands before it (a label's 标题, a
    breadcrumb's 文件类信息公开, a sentence's 并向社会公布)."""
    from pipelines.regions import find_places

    places = find_places(name)
    if places and not name.startswith(places[0][0]):
        return name[name.find(places[0][0]):]
    return name


def _took_disclosures_word(agency: str, rest: str) -> bool:
    """Whether a name ending in 政府 took it from 政府信息公开 (``西乡塘区政府信息公开…`` reads
    西乡塘区 + 政府信息公开 as well as 西乡塘区政府 + 信息公开): no body is stated then. A
    人民政府 is a body either way."""
    return agency.endswith("政府") and not agency.endswith("人民政府") and \
        rest.startswith("信息公开")


#: Taiwan vocabulary a mirror's conversion to traditional put into a mainland body's name
#: (信息 → 資訊); converted back character by character it reads 资讯. These words name no
#: mainland body, so the mainland word is restored in agency names only (not in the text:
#: OpenCC's Taiwan phrase table would also turn 档案局 into 文件局).
TAIWAN_TERMS = {"资讯": "信息", "网路": "网络", "软体": "软件", "数位": "数字"}


def mainland_terms(name: str) -> str:
    for taiwan, mainland in TAIWAN_TERMS.items():
        name = name.replace(taiwan, mainland)
    return name


def report_year(title: str | None, text: str, published: date | None) -> tuple[int | None,
                                                                                str | None]:
    """(year the report covers, the evidence). From the title, then the statistics period or
    the opening of the text; from the publication date only for a report that calls itself an
    annual one (reports appear by 31 March of the next year)."""
    if title:
        match = _YEAR_IN_TITLE.search(title)
        if match:
            return int(match[1]), f"title: {match[0].strip()}"
        match = _CN_YEAR.search(title)
        if match:
            return int(match[1].translate(_CN_DIGITS)), f"title: {match[0].strip()}"
    opening = _CITED.sub("《》", text[:1500])
    for pattern, what in ((_PERIOD, "statistics period from {}-01-01"),
                          (_AS_OF, "as of {}-12-31"), (_ANNOUNCED, "announces the {} report")):
        match = pattern.search(opening)
        if match:
            return int(match[1]), f"text: {what.format(match[1])}"
    match = _OPENING_YEAR.search(opening[:600])
    if match:
        return int(match[1]), f"text: opening {match[0].strip()[-8:]}"
    match = _OVERVIEW_YEAR.search(opening)
    if match:
        return int(match[1]), f"text: the overview opens {match[1]}年"
    if published and (_ANNUAL.search(title or "") or _ANNUAL.search(opening)):
        return published.year - 1, (f"published {published.isoformat()} − 1 "
                                    "(an annual report appears the year after)")
    return None, None


#: What a document in a report column may be. Only a ``report`` is a report: the others keep
#: their rows (nothing is dropped for a judgement) but the views of reports leave them out.
DOCUMENT_KINDS = ("report", "letter", "notice", "news", "other")
#: The sections of a disclosure report (every template since 2008 has most of them).
_SECTIONS = {
    "总体情况": re.compile(r"总体情况|概述|基本情况"),
    "主动公开": re.compile(r"主动公开"),
    "依申请公开": re.compile(r"依申请公开|公开申请"),
    "复议诉讼": re.compile(r"行政复议|行政诉讼|申诉"),
    "收费": re.compile(r"收[取费]|费用|减免"),
    "问题改进": re.compile(r"存在的(?:主要)?问题|改进|不足"),
}
#: A letter's title and its closing words.
_LETTER_TITLE = re.compile(r"函$|^关于报送")
#: A letter's title as a line of the text: 关于报送…的函.
_LETTER_LINE = re.compile(r"^关于.*函$|^关于报送")
_LETTER_CLOSING = re.compile(r"特此函[告复达]|此函|函告如下")
_NOTICE_TITLE = re.compile(r"(?:通知|通告|通报|公告|公示|启事)$")
#: A document's number before its title: "桂政务发[2021]3号 广西壮族自治区…关于印发…".
_LEADING_DOC_NO = re.compile(r"^[\u4e00-\u9fff]{1,8}[〔\[［(（]\s*(?:19|20)\d{2}\s*[〕\]］)）]"
                             r"\s*\d{1,4}\s*号\s*")
#: A title line's document number after it: "…的通知灞政办发〔2018〕7号".
_TRAILING_DOC_NO = re.compile(r"(?<=[知告函报])\s*[\u4e00-\u9fff]{1,8}[〔\[［(（]\s*(?:19|20)\d{2}"
                              r"\s*[〕\]］)）]\s*\d{1,4}\s*号"
                              # its recipients run on (…1号各县市政府办,州政府各部门:)
                              r"(?:\s*[^。\n]{2,60}?[:：])?$")
#: A notice's title as a line of the text: …关于印发…的通知.
_NOTICE_LINE = re.compile(r"关于.*的(?:通知|通告|通报|公告)$|(?:通\s*知|通\s*告)$")
#: Documents about reports that are no body's report: a model text, an evaluation.
_NOT_A_REPORT = re.compile(r"(?:报告|年报)(?:范文|模板|样本|参考格式)|范文|评估报告|测评报告"
                           # a report on the year's work points or a check, not the annual one
                           r"|落实情况(?:的)?报告|自查(?:情况)?报告|整改(?:情况)?报告|督查(?:情况)?报告")
#: A regulation's articles at the start of its lines.
_ARTICLES = re.compile(r"^\s*第([一二三四五六七八九十]{1,3})条(?!第)", re.M)


def _articles_run(numbers: list[str]) -> bool:
    """Whether three articles follow on (第一条, 第二条, 第三条; or 第二条… in an excerpt that
    starts further down): a regulation's, not a report table's 第二十条 rows."""
    found = {_cn_number(n) for n in numbers}
    return any({n, n + 1, n + 2} <= found for n in found)
#: A news headline about reports: 贵州省发布2016年政府信息公开工作年度报告, …优秀年度报告出炉,
#: 山东政务公开第三方评估结果揭晓.
_HEADLINE = re.compile(r"^[^关]{2,20}?(?:发布|公布|晒出)了?(?:19|20)\d{2}\s*年|(?:出炉|揭晓)$")
#: A news item's closing attribution: "（德清县发改局）", "（通讯员 张三）".
_NEWS_SIGNED = re.compile(r"[（(](?:通讯员|记者|来源[:：])?\s*[\u4e00-\u9fff]{2,20}[）)]\s*$")
#: (日前 "a few days ago", not 5月30日前 "before 30 May": a deadline is no news)
_NEWS_TEXT = re.compile(r"记者|通讯员|讯[）)]|近日|(?<![\d一二三四五六七八九十〇])日前|召开|举办"
                        r"|举行|开展了|专题培训|培训会|培训班|调研|\d{1,2}月\d{1,2}日电|透露")
#: A notice without its title line: "现就做好2013年…年度报告编写、报送及发布等有关事项通知如下",
#: "现将《山西省2018年政务公开工作要点》印发给你们，请认真贯彻落实".
_NOTICE_OPENING = re.compile(r"(?:通\s*知|通\s*报)\s*如\s*下|印发给你们"
                             r"|请认真(?:贯彻)?(?:落实|执行)|请遵照执行")
#: A rule's or a plan's opening: "根据《条例》,制定本制度。一、…" (its items numbered 一、二、 not
#: 第一条), "结合实际,制定本年度培训计划".
_RULE_OPENING = re.compile(r"制定本(?:年度)?[\u4e00-\u9fff]{0,6}?"
                           r"(?:制度|办法|规定|细则|规则|计划|方案)")
#: A news item's headline on a meeting: "【工作推进】固镇县召开2023年度…年报编制和发布部署会"
#: (the meeting goes through a report's sections, and is no report).
_MEETING = re.compile(r"(?:召开|举办|举行)[^，,。]{2,40}?(?:会议?|培训班?)$")


_FILE_SUFFIX = re.compile(r"\.(?:pdf|docx?|wps|ofd)$", re.I)


def _below_labels(text: str) -> list[str]:
    """A text's first lines without its label block (索引号 / 530000… / 文号 / 云政办函〔2014〕6号
    as a page's cells read flattened): a notice's title may stand below a dozen such lines."""
    # a document library's line names the file: "…的通知.pdf"
    lines = [_FILE_SUFFIX.sub("", line.strip()) for line in text.split("\n", 40)[:40]]
    kept, value_next = [], False
    for line in lines:
        if value_next and line and len(line) <= _VALUE_LINE and "。" not in line \
                and not _is_label(line):
            value_next = False
            continue  # a label's value on the line below it
        value_next = _is_label(line)
        if line and not value_next and not _is_label_line(line):
            kept.append(line)
    return kept


def document_kind(title: str | None, text: str) -> tuple[str, str]:
    """(kind, evidence): whether a document is a disclosure report, a letter (函, such as one
    sending a report on), a notice, a news item or something else. The report's own sections
    decide first; under a cover letter or a notice, the report's own title must follow too
    (a letter on the year's disclosure work has the same sections, and is no report)."""
    head = _CITED.sub("《》", (title or "").strip().strip("《》“”\""))
    lead = [head] + [_CITED.sub("《》", line) for line in _below_labels(text)[:10]]
    # the letter's title: the document's, or a short line of its own at the top of the text
    # (its document number after it set aside)
    titles = [_TRAILING_DOC_NO.sub("", line) for line in lead[1:]]
    letter = bool(_LETTER_TITLE.search(head)) or any(
        _LETTER_LINE.search(line) and _title_like(line) for line in titles)
    notice = bool(_NOTICE_TITLE.search(head)) or any(
        _NOTICE_LINE.search(line) and _title_like(line) for line in titles)
    # the title, or a title's line of its own (a report's heading 强化考核 is neither)
    if _NOT_A_REPORT.search(head) or any(_NOT_A_REPORT.search(line) and is_report_title(line)
                                         for line in lead[1:]):
        return "other", f"a template or an evaluation, no body's report: {head or lead[1]}"
    if _articles_run(_ARTICLES.findall(text[:3000])):
        return ("notice", "a notice's title over a regulation's articles") if notice else \
            ("other", "a regulation's articles (第一条, 第二条…), no report")
    if not notice and (rule := _RULE_OPENING.search(text[:400])):
        return "other", f"a rule's opening: {rule[0]}"
    noticed = not (letter or notice) and _NOTICE_OPENING.search(_CITED.sub("《》", text[:800]))
    meeting = next((line for line in lead if _MEETING.search(line) and _title_like(line)),
                   None)
    if meeting and not any(map(_annual_report_title, lead)):
        return "news", f"a meeting's headline: {meeting}"
    sections = [name for name, pattern in _SECTIONS.items() if pattern.search(text[:60000])]
    found = f"text has the report's sections: {'、'.join(sections)}"
    if noticed and not _inner_report_title(text):
        return "notice", "a notice's opening (…通知如下), no title line"
    if len(sections) >= 4 and not (letter or notice):
        return "report", found
    if letter or notice:
        inner = _inner_report_title(text)
        if inner and len(sections) >= 4:
            wrapper = "a cover letter" if letter else "a notice"
            return "report", f"{found}; under {wrapper}, the report's own title: {inner}"
        # 关于公布2018年政府信息公开工作年度报告的公告, the report following it
        if notice and _ANNUAL.search(title or "") and not _ASKS_FOR_REPORTS.search(head) \
                and _report_follows(text):
            return "report", f"a notice publishing the report, the report below it: {head}"
        if letter:
            return "letter", f"title: {head}" if _LETTER_TITLE.search(head) else \
                f"a letter's title: {next(filter(_LETTER_LINE.search, titles))}"
        return "notice", f"title: {head}" if _NOTICE_TITLE.search(head) else \
            f"a notice's title: {next(filter(_NOTICE_LINE.search, titles))}"
    if _LETTER_CLOSING.search(text[-400:]):
        return "letter", "text closes as a letter (特此函告)"
    headline = next((line for line in lead if _HEADLINE.search(line) and _title_like(line)),
                    None)
    if headline:
        return "news", f"a headline: {headline}"
    if _annual_report_title(head):
        return "report", f"title names a disclosure report: {head}"
    opens = _report_follows(text)
    if opens:
        return "report", f"the text opens as a disclosure report ({opens})"
    if _NEWS_TEXT.search(text[:600]) or _NEWS_SIGNED.search(text[-60:]):
        return "news", "text reads as news (近日, 召开, 记者…, or signed （XX局） at its end), " \
                       "no report's sections"
    return "other", (f"neither a report's title nor its sections ({len(sections)} of "
                     f"{len(_SECTIONS)} found)")


#: The first section of a disclosure report: 一、总体情况, 一、概述, 一、政府信息公开工作开展情况.
_FIRST_SECTION = re.compile(
    r"(?:^|[。：:])\s*一\s*[、.．]\s*(?:总体情况|概述|基本情况|[^\n]{0,16}公开)", re.M)
#: "本报告根据《条例》…", "本年度报告依据…": the text calls itself a report as it opens.
_SELF_REPORT = re.compile(r"本(?:年度)?报告(?:是)?(?:根据|依据|依照|按照)")


def _report_follows(text: str) -> str | None:
    """How the text opens as a disclosure report (the opening announces it, states its
    statistics period, or opens its first section and speaks of disclosure), or None."""
    opening = _CITED.sub("《》", text[:1500])
    announced = _ANNOUNCED.search(opening)
    if _REPORTS_BELOW.search(opening) or (announced and re.search(
            r"现|特|予以", opening[max(0, announced.start() - 30):announced.start()])):
        return "现将…报告如下"
    if _SELF_REPORT.search(opening[:300]):
        return "本报告根据《条例》…"
    if _PERIOD.search(opening) or _AS_OF.search(opening):
        return "its statistics period"
    if (_FIRST_SECTION.search(opening) or _TITLE_THEN_BODY.search(opening)) \
            and "公开" in opening:
        return "一、总体情况"
    return None


def _annual_report_title(line: str) -> bool:
    """Whether a line is the title of a year's disclosure report."""
    return is_report_title(line) and _names_itself(line) and bool(_DISCLOSURE.search(line)) \
        and bool(_YEAR_IN_TITLE.search(line) or _CN_YEAR.search(line))


#: A rule's title: "两家满族乡人民政府信息公开工作年度报告制度(试行)".
_RULE_LINE = re.compile(r"(?:制度|办法|规定|细则|规则)(?:[(（]试行[)）])?$")


def _letter_or_notice_title(title: str) -> bool:
    return bool(_LETTER_TITLE.search(title) or _NOTICE_TITLE.search(title))


def _lead_title(lines: list[str]) -> str | None:
    """A letter's, a notice's or a rule's title on a line of its own at the top of its
    text."""
    for line in lines[:10]:
        line = _TRAILING_DOC_NO.sub("", line.strip())  # …的通报陕政办函〔2020〕141号
        if _title_like(line) and not _is_label_line(line) and (
                _LETTER_LINE.search(line) or _NOTICE_LINE.search(line) or _RULE_LINE.search(line)):
            return line
    return None


#: A notice that passes another document on: 现将《…》转发给你们, 予以转发.
_FORWARDS = re.compile(r"转发给你们|予以转发|现转发|特转发|转发如下")


@functools.lru_cache(maxsize=8)
def _forwarded_issuers(text: str) -> frozenset[str]:
    """The bodies whose documents a text passes on: X of 《X关于…》 in a sentence that forwards
    it (现将《河南省人民政府办公厅关于印发…的通知》…转发给你们). Their names, signatures and red
    headers follow in the text; they are not this document's. (Asked for each name a document
    offers: read once a text.)"""
    if "转发" not in text[:2000]:
        return frozenset()
    return frozenset(
        match["issuer"] for sentence in re.split(r"[。\n]{2,}|。", text[:2000])
        if _FORWARDS.search(sentence) or "转发《" in sentence
        for match in re.finditer(rf"《(?P<issuer>[\u4e00-\u9fff（）()]{{2,40}}?{_ORG})"
                                 r"(?:关于|印发)", _SPACES.sub("", sentence)))


def _issuer_line(lines: list[str]) -> str | None:
    """A notice's or letter's issuer on a line of its own above its 关于… title (新野县人民政府
    电子政务办公室 / 关于做好…的 / 通知), or named by its red header (…人民政府办公室文件).
    Below a line that passes a document on (现将《…》转发给你们), such lines are that document's:
    not this notice's issuer."""
    passing = next((i for i, line in enumerate(lines[:12]) if _FORWARDS.search(line)), 12)
    lines = lines[:passing]
    for name, title in zip(lines[:6], lines[1:7], strict=False):
        if _AGENCY_LINE.match(name.strip()) and title.strip().startswith("关于"):
            return name.strip()
    for line in lines[:12]:
        # a document's red header (版头): "天津市南开区人民政府办公室文件"
        line = _SPACES.sub("", line)
        if line.endswith("文件") and _AGENCY_LINE.match(header := line.removesuffix("文件")):
            return header
    return None


#: What a notice asks of reports: 关于做好…, 关于报送….
_TASKS = r"关于(?:认真|进一步)?(?:做好|报送|编制|开展{})"
#: A notice that asks for reports (关于做好…年度报告编制工作的通知) states their statistics
#: period too, and publishes none.
_ASKS_FOR_REPORTS = re.compile(_TASKS.format(""))
#: A notice's subject, wrapped onto a line of its own, is no report's title: 关于做好2025年政府
#: 信息公开工作年度报告 / 编制和发布工作的通知 (关于印发… too).
_REPORT_TASK = re.compile("^" + _TASKS.format("|印发"))


def _inner_report_title(text: str) -> str | None:
    """The report's own title on a line of its own below a cover letter or notice."""
    for line in text.split("\n")[1:400]:
        line = tidy_title(_ATTACHMENT_MARK.sub("", line.strip()).strip("《》“”\""))
        if line and _annual_report_title(line) and not _REPORT_TASK.search(line):
            return line
    return None


def not_a_report(result: Metadata) -> None:
    """A letter, notice or news item covers no report year: its year is NULL, and says why
    (a letter about the 2014 report is not the 2014 report)."""
    if result.document_kind not in (None, "report") and result.report_year is not None:
        result.report_year = None
        result.report_year_evidence = f"none: a {result.document_kind}, not a report"


_DISCLOSURE = re.compile(r"公开|年报")
#: "现将我局2019年政府信息公开工作情况报告如下", "特向社会公布本年度报告"
_REPORTS_BELOW = re.compile(r"公开[^。\n]{0,40}?(?:报告如下|年度报告如下|特向社会公布|现予公布)")


def extract_metadata(text: str, *, title: str | None = None, meta: dict[str, str] | None = None,
                     metadata_lines: list[str] | None = None,
                     from_files: bool = False) -> Metadata:
    """Metadata of a report from its text and, for a web page, its title, meta tags and
    metadata lines (the whole page cell by cell). ``from_files``: the text is the page's files'
    (attachments, pictures), whose own label block is read after the page's."""
    meta = meta or {}
    lines = [_unspaced(line) for line in text.splitlines() if line.strip()]
    block = (metadata_lines or []) + lines[:80] if from_files or not metadata_lines \
        else metadata_lines
    fields = labelled_fields(block)
    result = Metadata(raw={k: v for k, v in fields.items() if v})
    # A label's title repaired as a title is (every pinyin annotation removed, 繁→简): a
    # label block is too short for the text's thresholds.
    labelled_title = repair_title(fields.get("title") or "")
    labelled_title = labelled_title if is_report_title(labelled_title) else None
    text_title = title_from_text(lines)
    # A page's own title first, unless it is a site's name or a column's ("政府信息公开") and
    # the label block or the text's first lines state the report's.
    result.title = (title if is_report_title(title) else None) or tidy_title(labelled_title) \
        or text_title or title
    for name in ("index_no", "category", "doc_no"):
        setattr(result, name, fields.get(name) or None)

    result.document_kind, result.document_kind_evidence = document_kind(result.title, text)
    if result.document_kind in ("letter", "notice"):
        # a letter's or a notice's own title: its label's (名称：…的通知, over the last line of
        # the title wrapped below it), or its title line, over a line of its wrapped title that
        # names the report it is about (关于做好2017年…年度报告 / 编制和公布工作的通知)
        named = tidy_title(repair_title(fields.get("title") or ""))
        if named and _title_like(named) and _letter_or_notice_title(named):
            result.title = named
        elif not _letter_or_notice_title(result.title or ""):
            result.title = _lead_title(lines) or result.title
    elif result.title is None and result.document_kind == "other":
        result.title = _lead_title(lines)  # a rule's title line over its articles
    # A report under a cover letter: the lines under the title, and the page's 成文日期, are
    # the letter's; the report's own date is its signature's at the end.
    covered = "under a cover letter" in result.document_kind_evidence
    signed_by, signed_on = signature(lines)
    headed_by, headed_on = heading(lines) if not covered else (None, None)
    notice = result.document_kind in ("letter", "notice")
    _choose_agency(result, text, lines, site=meta.get("SiteName"), page=[
        ("label", fields.get("issuing_agency")), ("meta ContentSource", meta.get("ContentSource")),
        ("label 信息来源", fields.get("source"))], own=[
        ("signature", lambda: signed_by), ("heading", lambda: headed_by),
        ("title", lambda: agency_from_title(result.title)),
        ("opening", lambda: _opening_agency(text)), ("contact line", lambda: _contact_agency(text)),
        ("issuer line", lambda: _issuer_line(lines) if notice else None)])

    written_raw = signed_on if covered else \
        fields.get("written_date") or signed_on or headed_on
    result.written_date = parse_date(written_raw)
    if written_raw:
        result.raw["written_date"] = written_raw
    published_raw = fields.get("published_date") or _page_date(meta, result.raw)
    result.published_date = parse_date(published_raw)
    if published_raw:
        result.raw["published_date"] = published_raw
    result.report_year, result.report_year_evidence = report_year(
        result.title, text, result.published_date)
    result.report_year_evidence = _against_publication(
        result.report_year, result.report_year_evidence, result.published_date)
    not_a_report(result)
    return result


def _choose_agency(result: Metadata, text: str, lines: list[str], *, site: str | None,
                   page: list[tuple[str, str | None]], own: list[tuple[str, Callable]]) -> None:
    """The issuing agency, with where it was found in ``raw``.

    The document's own words (``own``: its signature, the name under its title, its title, its
    opening…; each found only when those before it name none) name the body. What the page
    around it says (``page``: the label block, the
    ContentSource meta tag, a 来源 line) may be the site template's default (来源：XX县人民政府
    on every page of a county site, whoever wrote the document): it is taken when it agrees with
    the body the document names (one name inside the other: the label's is the fuller, when it
    is that body with its place before it, not an office within it), or,
    when the document names none, when the document's own lines name it. A 发布机构 label (a
    field each document fills) is also taken when the body the text calls itself (我局, 本镇)
    is of its kind and it is not the site's own name. Otherwise it is set aside, and ``raw``
    says so."""
    named = next(((where, value, name) for where, find in own
                  if (name := _own_name(value := find(), where, text))), None)
    aside = []
    for where, value in page:
        name = _own_name(value, where, text)
        if not name:
            continue
        if named is None and not _named_in(name, result.title, lines):
            why = _unconfirmed(name, where, text, site)
            if why:
                aside.append(f"{value} ({where}) set aside: {why}")
                continue
        if named is not None and _zone_spelt_out(named[2], name):
            # 鞍山高新区 in the title, 鞍山高新技术产业开发区管理委员会 on the page
            named = (where, value, name)
            break
        if named is not None and not (name in named[2] or named[2] in name):
            aside.append(f"{value} ({where}) set aside: the document names {named[2]}")
            continue
        if named is not None and named[2] in name and \
                name.split(named[2])[-1] not in ("", "人民政府", "办事处"):
            # 来源：天津市人民政府办公厅 for 天津市人民政府: an office within the body, not the
            # body more fully named (平潭县教育局 for 教育局, 隆阳区西邑乡人民政府 for 西邑乡).
            # A 发布机构 label naming the office (市政府办) says who put the report out, not
            # whose it is (现公布泰州市人民政府…)
            aside.append(f"{value} ({where}) set aside: a body within {named[2]}, "
                         "which the document names")
            continue
        if named is None or len(name) > len(named[2]):
            named = (where, value, name)
        break
    if named is not None:
        result.issuing_agency = named[2]
        result.raw["issuing_agency"] = "; ".join([f"{named[1]} ({named[0]})", *aside])
    elif aside:
        result.raw["issuing_agency"] = "; ".join(aside)


#: A zone's usual short names, and what they stand for.
_ZONE_SHORT = (("高新技术产业开发区", "高新区"), ("经济技术开发区", "经开区"))


def _zone_spelt_out(short: str, full: str) -> bool:
    """Whether ``full`` is the zone ``short`` names in full: 鞍山高新区 (a title's) and
    鞍山高新技术产业开发区管理委员会 (the page's 来源), with or without 管委会 after either."""
    def core(name: str) -> str:
        name = re.sub(r"(?:管理委员会|管委会)$", "", name)
        for long, abbreviated in _ZONE_SHORT:
            name = name.replace(long, abbreviated)
        return name

    return any(abbreviated in short for _, abbreviated in _ZONE_SHORT) and \
        any(long in full for long, _ in _ZONE_SHORT) and core(full) == core(short)


#: How a report calls its own body: 我局, 本委, 我镇, 本街道.
_SELF = re.compile(r"[我本](局|委|厅|院|署|中心|办|街道|苏木|乡|镇|县|区|市|旗)")


def _unconfirmed(name: str, where: str, text: str, site: str | None) -> str | None:
    """Why a page's value that the document does not write is not taken as its body (None: it
    is): only a 发布机构 label may be, when it is not the site's name and the body the text
    calls itself (我局, 本镇) is of its kind."""
    if where != "label":
        return "the document itself does not name it (a site template's default?)"
    if site and name == _SPACES.sub("", site):
        return "it is the site's name, and the document itself does not name it"
    selves = {m for m in _SELF.findall(text[:3000])}
    if selves and not any(_of_kind(name, kind) for kind in selves):
        return f"the document calls itself 我{'/'.join(sorted(selves))}, and names no such body"
    return None


def _of_kind(name: str, kind: str) -> bool:
    """Whether a body's name is of the kind a pronoun names (我局: …局; 我县: …县人民政府)."""
    if kind in ("局", "委", "厅", "院", "署", "中心"):
        return bool(re.search(rf"{kind}(?:办公室)?$|{kind}员会$", name))
    if kind == "办":
        return bool(re.search(r"办(?:公室|事处)?$", name))
    return bool(re.search(rf"{kind}(?:人民政府|政府|办事处)?(?:办公室)?$", name))


def _own_name(value: str | None, where: str, text: str) -> str | None:
    """``value`` as a body's name (mainland terms), or None when it is none: not shaped like a
    body's name, spam, a cut sentence, a pronoun or a bare level (an abbreviation such as
    市政府办 becomes the full name the text writes, else None), or two bodies run together."""
    name = _SPACES.sub("", value or "")
    if not name or not _AGENCY_LINE.match(name) or SPAM.search(name) or _WEBSITE.search(name):
        return None
    if name in _forwarded_issuers(text):
        return None  # the issuer of a document this one passes on (现将《X关于…》转发给你们)
    if _ABBREVIATED.match(name):
        return _spelled_out(name, text)
    # 管理委员会 and 人民政府 abbreviated (…管委会办公室, 中河乡政府; not 政府信息公开办公室):
    # only as the document writes them in full
    full = name.replace("管委会", "管理委员会") if "管委会" in name else \
        name[:-2] + "人民政府" if name.endswith("政府") and not name.endswith("人民政府") else \
        _GOVERNMENT_OFFICE.sub("人民政府", name) if _GOVERNMENT_OFFICE.search(name) else None
    if full is not None:
        # a bare level spelled out (市政府办公厅 → 市人民政府办公厅) still names no place
        bare = _BARE.match(full) and not _starts_with_place(full)
        return mainland_terms(full) if full in text and not bare else None
    if _BARE.match(name) and not _starts_with_place(name):
        return None
    if where == "opening" and _PARTY_COMMITTEE.search(name):
        return None  # 2020年,青山镇党委高度重视…: a party committee, no body a report is of
    if where == "opening" and "公开" in name:
        # an office of disclosure (政务公开办公室 compiles, 信息公开办 answers) is no body
        # whose report it is; a title's issuer may hold the word (…政府信息与政务公开办公室).
        # A government's own (由福州市晋安区人民政府信息公开办编制) compiles the government's.
        office = _DISCLOSURE_OFFICE.match(name)
        return mainland_terms(office["body"]) if office and _starts_with_place(office["body"]) \
            else None
    if not where.startswith(("label", "meta")) and (_NOT_A_NAME.search(name) or _joint(name)):
        return None  # a sentence cut short ("本办认真贯彻落实政府"), or two bodies
    return mainland_terms(name)


#: Abbreviated bodies (市政府办, 县府办, 区政府办公室, 县政府; …管委会 below): stored only as
#: the full name the document writes out.
#: 政府 for 人民政府 in an office's name: 江苏省政府办公厅 is 江苏省人民政府办公厅.
_GOVERNMENT_OFFICE = re.compile(r"(?<!人民)政府(?=办公[厅室])")
_ABBREVIATED = re.compile(r"^(?P<level>[省市县区旗])(?:人民)?政?府(?P<office>办(?:公室)?)?$")


def _spelled_out(abbreviation: str, text: str) -> str | None:
    """The full name the text writes for an abbreviation (县府办 → 清水县人民政府办公室), when it
    writes exactly one."""
    match = _ABBREVIATED.match(abbreviation)
    ending = "人民政府办公室" if match["office"] else "人民政府"
    full = set()
    for found in re.finditer(rf"[\u4e00-\u9fff]{{1,12}}?{match['level']}{ending}", text):
        if match["office"] is None and text.startswith("办公室", found.end()):
            continue
        name = _from_its_place(found[0])  # 与武山县人民政府 → 武山县人民政府
        if _starts_with_place(name):
            full.add(name)
    return mainland_terms(full.pop()) if len(full) == 1 else None


def _named_in(name: str, title: str | None, lines: list[str]) -> bool:
    """Whether the document's own lines (its title, its text but for label lines) write
    ``name``, or the name without its leading place (天水市清水县教育局: 清水县教育局)."""
    from pipelines.regions import find_places

    forms = {name}
    found = find_places(name)
    if found and name.startswith(found[0][0]) and _starts_with_place(name[len(found[0][0]):]):
        forms.add(name[len(found[0][0]):])  # still a place's body, not a bare 人民政府
    own_lines = [title or ""] + [line for line in lines if not _is_label_line(line)]
    return any(form in line for form in forms for line in own_lines)


def _page_date(meta: dict[str, str], raw: dict[str, str]) -> str | None:
    """The publication date a page's meta tags give, unless it is the time the page was
    generated (``<meta name="others" content="页面生成时间 2023-08-16 10:33:59">`` beside a
    PubDate of the same instant: a template's render time, not the document's date)."""
    generated = " ".join(v for v in meta.values() if "生成时间" in v)
    for name in ("PubDate", "publishdate", "Maketime"):
        value = (meta.get(name) or "").strip()
        if value and value in generated:
            raw["published_date"] = f"{value} (meta {name}) set aside: the page's generation time"
            return None
        if value:
            return value
    return None


def _against_publication(year: int | None, evidence: str | None,
                         published: date | None) -> str | None:
    """The evidence, saying so when the publication date contradicts the year the report's
    own words give (posted before that year ended, or re-posted years later): the words win."""
    if year is None or published is None or not evidence or evidence.startswith("published"):
        return evidence
    if published.year <= year:
        return (f"{evidence}; published {published.isoformat()}, before the year ended: "
                "the report's own words kept")
    if published.year > year + 2:
        return (f"{evidence}; published {published.isoformat()}, years later (re-posted): "
                "the report's own words kept")
    return evidence


def _unspaced(line: str) -> str:
    """A line a PDF's text layer or a letter-spaced heading spaced out character by character
    (``饶 河 县 人 民 政 府``; ``琼 海 市人 民 政 府``, a pair run together here and there) read
    as written; any other line (a menu's row: 首页 走进高新 政务公开) as it is."""
    tokens = line.split()
    if len(tokens) >= 4 and all(len(t) <= 2 for t in tokens) \
            and 3 * sum(len(t) == 1 for t in tokens) >= 2 * len(tokens):
        return "".join(tokens)
    return line


#: Endings of a body that is a branch of the body named before it.
_BRANCHES = ("分局", "支队", "大队", "中队", "派出所", "分院", "分中心", "分所", "管理所", "工作站")


def _joint(name: str) -> bool:
    """Whether a name is two bodies run together (a joint report: 沂水县自然资源和规划局
    沂水县住房和城乡建设局): a place's name starts it and starts again after a body's name."""
    from pipelines.regions import find_places

    found = find_places(name)
    if not found or not name.startswith(found[0][0]) or name.endswith(_BRANCHES):
        return False  # 天水市公安局清水县分局 is one body: a city bureau's county branch
    position = 0
    for place, _ in found:
        start = name.find(place, position)
        if start > 0 and re.search(rf"{_ORG}$", name[:start]):
            return True
        position = start + len(place)
    return False


def _starts_with_place(name: str) -> bool:
    from pipelines.regions import find_places

    found = find_places(name[:12])
    return bool(found) and name.startswith(found[0][0])


#: "如对本报告有疑问，请与闽侯县土地储备发展中心办公室联系", "…请通过泉州市统计局门户网站…反映":
#: the unit that answers for the report.
_CONTACT = re.compile(r"请(?:与|向|通过)(?P<unit>[\u4e00-\u9fff]{4,40}?)"
                      r"(?:联系|咨询|反映|门户网站|网站)"
                      # "请联系曾都区府河镇人民政府(地址:…)"
                      r"|请联系(?P<named>[\u4e00-\u9fff]{4,40}?)(?=[(（:：,，。])")
#: The office inside a body that answers questions: the body is the name before it.
_ANSWERING_OFFICE = re.compile(r"(?:综合|信息公开|政务公开|党政)?(?:办公室|办)$")


def _contact_agency(text: str) -> str | None:
    """The body whose office the report names for questions (请与X办公室联系), when the
    report calls itself a body of that kind (我中心, 我区): a county's office answering for a
    township's report is no township's name."""
    match = _CONTACT.search(text[:6000])
    if not match:
        return None
    # 东城区政府信息公开办公室: 东城区政府
    body = _ANSWERING_OFFICE.sub("", match["unit"] or match["named"])
    selves = set(_SELF.findall(text[:6000]))
    if not body or not selves or not any(_of_kind(body, kind) for kind in selves):
        return None
    return body


def _opening_agency(text: str) -> str | None:
    """The first body an opening's sentence names (each pattern in turn: a match that is no
    body's name, such as 本报告由…, gives way to the next)."""
    for pattern, window in _OPENING_SEARCHES:
        match = pattern.search(text[:window])
        if match:
            agency = _from_its_place(match.group("agency"))
            if not _took_disclosures_word(agency, text[match.end("agency"):]) and \
                    _own_name(agency, "opening", text):
                return _body_of_its_office(agency, text)
    return None


def _body_of_its_office(agency: str, text: str) -> str:
    """The body whose office compiled its report (由沈阳市沈河区人民政府办公室编制), when the
    text names that body in full as its report's subject (2020年沈河区人民政府按照…): the
    report is the body's; else the office, as found."""
    if not agency.endswith("办公室") or len(agency) < 7:
        return agency
    body = agency.removesuffix("办公室")
    # with or without its city before it (沈阳市沈河区人民政府, 沈河区人民政府)
    names = {body, re.sub(r"^[\u4e00-\u9fff]{2,7}?[省市](?=[\u4e00-\u9fff]{2,}[区县市旗])", "",
                          body)}
    for name in sorted(names, key=len, reverse=True):
        if len(name) >= 4 and re.search(rf"(?:年度?|^)[,，]?\s*{re.escape(name)}{_AS_SUBJECT}",
                                        text[:3000], re.M):
            return body
    return agency


def report_key(agency: str | None, year: int | None, region_code: str | None) -> str | None:
    """The identity of a report across its copies (a body's own site, a county's hub, a
    mirror): the finest region the body's own name places it in (else the report's region),
    the body's name without its leading place names, and the year:
    ``620521:教育局/2020`` for 天水市清水县教育局 and 清水县教育局 alike. None when the body,
    its region or the year is unknown: copies are never merged on a guess."""
    from pipelines.regions import find_places, resolve_names

    if not agency or year is None:
        return None
    name = mainland_terms(_SPACES.sub("", unicodedata.normalize("NFKC", agency)))
    placed = resolve_names(name, year=year)
    region = placed.code if placed is not None else region_code
    if not region:
        return None
    position = 0
    for place, _ in find_places(name, year=year):
        if not name.startswith(place, position):
            break
        position += len(place)
    body = name[position:] or name
    return f"{region}:{body}/{year}"
