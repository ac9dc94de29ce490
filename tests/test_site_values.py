"""No value taken from a site's template for the document's own: the region a site's identifier
or a portal's configuration gives, the agency a template's default 来源 line prints, and what
kind of document a report column holds (pipelines.regions, pipelines.metadata)."""

from __future__ import annotations

from datetime import date

import pytest

from pipelines.metadata import agency_from_title, document_kind, extract_metadata
from pipelines.regions import contradicted, resolve_region


def _region_code(**names) -> str | None:
    """The region code :func:`resolve_region` gives for these names (None: no region)."""
    found = resolve_region(**names)
    return found.code if found else None


REPORT = ("{title}\n一、总体情况\n全年主动公开信息一千条。\n二、主动公开政府信息情况\n"
          "三、收到和处理政府信息公开申请情况\n四、政府信息公开行政复议、行政诉讼情况\n"
          "五、存在的主要问题及改进情况\n无。\n")
#: The rest of a report's title.
T19 = "2019年政府信息公开工作年度报告"


@pytest.mark.parametrize("given,title,opening,year,code,evidence", [
    # 359000 named 省直辖县级行政单位 in 1986–1989 only: a site's identifier, not a region
    ({"site_id_code": "3590000001"}, "平潭县人民政府2019年政府信息公开工作年度报告", "", 2019,
     "350128", "names 平潭县 → 350128; agrees: SiteIDCode 3590000001 → 359000 "
               "(359000 was not in use in 2019: 350000 kept)"),
    ({"site_id_code": "3590000001"}, "我局2019年政府信息公开工作年度报告", "", 2019,
     "350000", "(359000 was not in use in 2019: 350000 kept) (the document names no place)"),
    ({"site_id_code": "3501280001"}, "永泰县人民政府2019年政府信息公开工作年度报告", "", 2019,
     "350125", "SiteIDCode 3501280001 → 350128 set aside: the document names 350125"),
    ({"configured": "350128"}, "福建省人民政府2019年政府信息公开工作年度报告", "", 2019,
     "350000", "configured region 350128 not used: the body the document names is of 350000"),
    ({"configured": "220203"}, None, "2019年，在吉林省委的领导下……", 2019,
     "220203", "configured region 220203, inside what the text names 吉林省 → 220000"),
    ({"configured": "220203"}, None, "学习借鉴永泰县的经验……", 2019,
     None, "but configured region 220203: they disagree, no region stored"),
    ({"configured": "510117"}, "我局2014年政府信息公开工作年度报告", "", 2014,
     "510100", "configured region 510117 (510117 was not in use in 2014: 510100 kept)"),
    ({"override": "530000"}, "永泰县人民政府2019年政府信息公开工作年度报告", "", 2019,
     "530000", "configured region 530000, kept although the document names 350125"),
    ({"override": "530000"}, "隆阳区人民政府2019年政府信息公开工作年度报告", "", 2019,
     "530502", "configured region 530000, refined: agency names 隆阳区 → 530502"),
], ids=["site-id-invalid-that-year-title-decides", "site-id-invalid-that-year-alone",
        "site-id-of-another-county", "configured-county-province-report",
        "configured-refines-the-opening", "configured-against-a-mentioned-place",
        "configured-renamed-since", "override-kept-with-warning", "override-refined"])
def test_a_sites_region_is_a_hint_the_documents_names_decide(given, title, opening, year, code,
                                                              evidence):
    from pipelines.metadata import agency_from_title

    found = resolve_region(**given, agency=agency_from_title(title), title=title,
                           opening=opening, year=year)
    assert found.code == code
    assert evidence in found.evidence
    assert contradicted(found.evidence) == ("set aside" in evidence or "kept although" in evidence)


def test_agency_and_title_placing_the_body_apart_keep_only_what_they_share():
    # 永泰县 and 平潭县 are both 福州's: the city stands, the county they disagree on does not
    found = resolve_region(agency="永泰县教育局", title=f"平潭县人民政府{T19}", year=2019)
    assert found.code == "350100"
    assert "they disagree, both in 350100" in found.evidence


@pytest.mark.parametrize("text,meta,agency,raw", [
    # a template prints the county's default 来源 on a township's report
    ("来源：平潭县人民政府\n" + REPORT.format(title=f"流水镇人民政府{T19}"), {}, "流水镇人民政府",
     "平潭县人民政府 (label 信息来源) set aside: the document names 流水镇人民政府"),
    ("来源：平潭县人民政府\n" + REPORT.format(title="我局2019年政府信息公开工作年度报告"),
     {}, None, "set aside: the document itself does not name it"),
    (REPORT.format(title="2019年政府信息公开工作年度报告"), {"ContentSource": "平潭县人民政府"},
     None, "(meta ContentSource) set aside"),
    ("发布机构：平潭县人民政府\n" + REPORT.format(title="2019年政府信息公开工作年度报告"),
     {"SiteName": "平潭县人民政府"}, None, "it is the site's name"),
    ("发布机构：平潭县人民政府\n" + REPORT.format(title="2019年政府信息公开工作年度报告")
     + "我局认真落实条例。\n", {}, None, "the document calls itself 我局"),
    ("发布机构：平潭县教育局\n" + REPORT.format(title="2019年政府信息公开工作年度报告")
     + "我局认真落实条例。\n", {}, "平潭县教育局", "平潭县教育局 (label)"),
    # a label value that agrees with the body the document names: the fuller name
    ("发布机构：福建省平潭县人民政府\n" + REPORT.format(title=f"平潭县人民政府{T19}"),
     {}, "福建省平潭县人民政府", "福建省平潭县人民政府 (label)"),
    # the template's default, confirmed by the document's own lines
    ("来源：平潭县人民政府\n" + REPORT.format(title="2019年政府信息公开工作年度报告")
     + "平潭县人民政府\n2020年1月20日\n", {}, "平潭县人民政府", "(signature)"),
], ids=["default-source-on-a-township-report", "default-source-document-names-nothing",
        "content-source-meta-unconfirmed", "label-is-the-site-name", "label-not-of-the-kind",
        "label-of-the-kind", "label-fuller-than-the-title", "source-confirmed-by-signature"])
def test_a_pages_agency_must_be_the_documents_own(text, meta, agency, raw):
    found = extract_metadata(text, meta=meta)
    assert found.issuing_agency == agency
    assert raw in found.raw["issuing_agency"]


@pytest.mark.parametrize("label,text,agency", [
    ("市政府办", "天水市人民政府办公室负责编制本报告。", "天水市人民政府办公室"),
    ("县府办", "本报告由清水县人民政府办公室编制，县府办负责解释。", "清水县人民政府办公室"),
    ("市政府办", "本报告由市政府办负责编制。", None),
    ("县府办", "清水县人民政府办公室与武山县人民政府办公室联合编制。", None),  # two: which?
    # 政府 for 人民政府 inside an office's name (the shape of jiangsu.gov.cn's 2013 report)
    ("江苏省政府办公厅", "江苏省人民政府办公厅编制本报告。", "江苏省人民政府办公厅"),
    ("江苏省政府办公厅", "本报告由省政府办公厅编制。", None),
    ("平潭县政府办公室", "平潭县人民政府办公室编制本报告。", "平潭县人民政府办公室"),
], ids=["spelled-out-in-the-text", "county-office-spelled-out", "never-spelled-out",
        "two-spelled-out", "government-office-spelled-out", "government-office-never-in-full",
        "county-government-office-spelled-out"])
def test_an_abbreviated_agency_is_stored_only_as_its_full_name(label, text, agency):
    found = extract_metadata(f"发布机构：{label}\n" + REPORT.format(title=T19) + text)
    assert found.issuing_agency == agency


@pytest.mark.parametrize("title,text,kind,evidence", [
    ("平潭县2019年政府信息公开工作年度报告", REPORT.format(title=""), "report", "sections"),
    ("平潭县2019年政府信息公开工作年度报告", "详见附件。", "report", "title names"),
    ("关于报送《平潭县2014年政府信息公开工作年度报告》的函",
     "省政府办公厅：\n现将我县年度报告报送你们。\n特此函告。", "letter", "title: 关于报送《》的函"),
    ("关于报送《平潭县2014年政府信息公开工作年度报告》的函",
     "省政府办公厅：\n现将年度报告报送你们。\n"
     + REPORT.format(title="平潭县2014年政府信息公开工作年度报告"),
     "report", "under a cover letter, the report's own title: 平潭县2014年"),
    # a letter on the year's disclosure work has a report's sections, but no report follows
    ("关于2014年政府信息公开工作要点落实情况的函", "省政府办公厅：\n" + REPORT.format(title=""),
     "letter", "title: 关于2014年"),
    ("政府信息公开年报", "", "other", "neither"),  # a column's name: no year, no report
    # a report's short heading near its top is no model text's or evaluation's title
    ("平潭县2019年政府信息公开工作年度报告",
     "一、总体情况\n（一）强化监督考核\n（二）规范样本管理\n" + REPORT.format(title=""),
     "report", "sections"),
    ("2015年度政府信息公开工作年度报告范文", REPORT.format(title=""), "other", "template"),
    # a report's line that ends in 函 is no letter's title
    ("平潭县2019年政府信息公开工作年度报告", "全年出具答复函12件\n" + REPORT.format(title=""),
     "report", "sections"),
    ("关于做好2019年政府信息公开工作年度报告编制工作的通知", "各乡镇：\n请于1月31日前报送。",
     "notice", "title:"),
    ("我县召开政务公开工作推进会", "近日，我县召开政务公开工作推进会，部署年度报告编制。",
     "news", "a meeting's headline"),
    ("我县政务公开工作取得新进展", "近日，我县政务公开工作取得新进展。", "news", "reads as news"),
    # the shape of guzhen.gov.cn's news of 2024-01-10: a meeting that went through a report's
    # six sections, one by one
    (None, "【工作推进】固镇县召开2023年度政府信息公开工作年报编制和发布部署会\n发布时间："
           "2024-01-10\n会上针对总体情况、主动公开政府信息情况、收到和处理政府信息公开申请情况、"
           "因政府信息公开被申请行政复议和提起行政诉讼情况、存在主要问题及改进情况六大板块的撰写"
           "要求作了说明。", "news", "a meeting's headline: 【工作推进】固镇县召开"),
    ("政务公开工作制度", "第一条 为规范政务公开工作，制定本制度。", "other", "a rule's opening"),
    # an excerpt of a rule that starts at its second article (xxgk-hj.cbs.gov.cn, 2017)
    (None, "第二条 本制度由八道江区政务公开领导小组负责解释。\n第三条 各镇(街)负责编制本区域的"
           "政府信息公开年度报告。\n第四条 年度报告主要包括：依申请公开政府信息的情况；行政复议"
           "、行政诉讼的情况；收费及减免情况；存在的主要问题及改进措施；主动公开情况。",
     "other", "a regulation's articles"),
    # a notice's title with its document number on the same line (the shape of 灞桥区's 2018
    # notice issuing six rules)
    (None, "西安市灞桥区人民政府办公室关于印发政务公开有关工作制度的通知灞政办发〔2018〕7号\n"
           "各街道办事处：\n现印发你们，请认真贯彻执行。\n第一条 为规范工作，制定本制度。\n"
           "第二条 本制度适用于全区。\n第三条 本制度自印发之日起施行。",
     "notice", "a notice's title over a regulation's articles"),
    (None, "现将我局2019年政府信息公开工作情况报告如下：\n一、组织保障", "report",
     "现将…报告如下"),
    # the shape of a newspaper's item on a province's evaluation (山东, round 12): the
    # results announced (揭晓), no report's sections
    (None, "山东政务公开第三方评估结果揭晓\n5月29日,省办公厅发布评估结果。", "news",
     "a headline: 山东政务公开第三方评估结果揭晓"),
], ids=["report-sections", "report-title-only", "letter", "report-under-a-cover-letter",
        "letter-with-sections", "column-name", "a-heading-naming-an-assessment",
        "a-model-text", "a-line-ending-in-han", "notice", "news-meeting", "news",
        "news-meeting-through-the-sections", "other", "rule-from-its-second-article",
        "notice-title-with-its-number", "report-opening-announces", "news-results-announced"])
def test_what_kind_of_document_a_report_column_holds(title, text, kind, evidence):
    found_kind, why = document_kind(title, text)
    assert found_kind == kind
    assert evidence in why


def test_a_report_under_a_cover_letter_takes_its_own_signatures_date():
    text = ("成文日期：2015-01-20\n关于报送《平潭县2014年政府信息公开工作年度报告》的函\n"
            "平潭县人民政府办公室\n2015年1月20日\n省政府办公厅：现将年度报告报送你们。\n"
            + REPORT.format(title="平潭县2014年政府信息公开工作年度报告")
            + "平潭县人民政府\n2015年1月12日\n")
    found = extract_metadata(text)
    assert found.document_kind == "report"
    assert found.written_date == date(2015, 1, 12)


@pytest.mark.parametrize("meta,published,raw", [
    ({"PubDate": "2023-08-16 10:33:59", "others": "页面生成时间 2023-08-16 10:33:59"}, None,
     "set aside: the page's generation time"),
    ({"PubDate": "2023-05-11 09:00", "others": "页面生成时间 2023-08-16 10:33:59"},
     date(2023, 5, 11), "2023-05-11 09:00"),
    ({"PubDate": "2023-05-11 09:00"}, date(2023, 5, 11), "2023-05-11 09:00"),
], ids=["pubdate-is-the-render-time", "pubdate-before-the-render", "pubdate-alone"])
def test_a_pages_render_time_is_no_publication_date(meta, published, raw):
    found = extract_metadata(REPORT.format(title=f"平潭县{T19}"), meta=meta)
    assert found.published_date == published
    assert raw in found.raw["published_date"]


def test_a_news_item_signed_by_a_bureau_is_news():
    kind, why = document_kind("1-10月德清县固定资产投资结构趋稳趋优",
                              "1-10月，全县固定资产投资完成246.79亿元，同比增长15.3%。（德清县发改局）")
    assert (kind, "signed") == ("news", why[why.index("signed"):][:6])


def test_the_lake_contract_names_every_document_kind():
    from pathlib import Path

    from pipelines.metadata import DOCUMENT_KINDS

    docs = Path(__file__).parents[1].joinpath("docs", "lake.md").read_text(encoding="utf-8")
    section = docs[docs.index("### Document kinds"):]
    assert all(f"- `{kind}`" in section for kind in DOCUMENT_KINDS)


@pytest.mark.parametrize("opening,agency", [
    ("现公布连州市人民政府机关事务管理局2019年信息公开工作年度报告。",
     "连州市人民政府机关事务管理局"),
    ("特编制高科技电子产业园2018年度政府信息公开工作年度报告。", "高科技电子产业园"),
    ("本报告由重庆解放碑中央商务区管理委员会根据《条例》要求编制。",
     "重庆解放碑中央商务区管理委员会"),
    ("特向社会公布2019年度青龙镇政府(机关)信息公开年度报告。青龙镇人民政府联系电话。",
     "青龙镇人民政府"),
    ("特向社会公布2019年度青龙镇政府(机关)信息公开年度报告。", None),  # 政府, never in full
    ("由政务公开办公室编制本报告。", None),  # an office of disclosure, no body
    # a paragraph below the page's header that names its report, and how it will call it
    # (the shape of huangshi.gov.cn's 2025 report of 黄石港区)
    ("当前栏目:县市区\n2025年黄石港区" + T19.removeprefix("2019年") + "\n来源:黄石港区政府\n"
     "索引号000014349/2026-09781 分类县市区\n发布机构黄石港区政府 发文日期2026-01-29\n文号\n"
     "黄石港区人民政府2025年政府信息公开年度报告(以下简称年报)根据《条例》编制。",
     "黄石港区人民政府"),
    ("当前栏目:县市区\n文号\n黄石港区人民政府2025年政府信息公开年度报告(以下简称年报)根据"
     "《条例》编制。", "黄石港区人民政府"),
], ids=["announces-the-body", "compiles-the-body", "by-the-body-according-to",
        "year-first-abbreviation-spelled-out", "year-first-abbreviation-not-spelled-out",
        "disclosure-office", "names-its-report-below-the-header", "names-its-report"])
def test_the_body_an_opening_names(opening, agency):
    assert extract_metadata(opening + "\n" + REPORT.format(title="")).issuing_agency == agency


@pytest.mark.parametrize("text,agency", [
    ("我中心认真落实条例。\n如对本报告有疑问，请与闽侯县土地储备发展中心办公室联系。",
     "闽侯县土地储备发展中心"),
    ("我区认真落实条例。\n如有疑问，请与东城区政府信息公开办公室联系。东城区人民政府。",
     "东城区人民政府"),
    # a township's report answered by the county's office: no township's name
    ("我镇认真落实条例。\n如有疑问，请与平潭县人民政府办公室联系。", None),
    ("全年认真落实条例。\n如有疑问，请与平潭县人民政府办公室联系。", None),  # calls itself nothing
], ids=["centre-answers-for-itself", "district-government-spelled-out",
        "county-office-answers-for-a-township", "no-self-reference"])
def test_the_body_a_contact_line_answers_for(text, agency):
    assert extract_metadata(REPORT.format(title="") + text).issuing_agency == agency


def test_a_code_not_in_use_says_so_when_the_year_is_unknown():
    found = resolve_region(site_id_code="3590000001", year=None)
    assert found.code == "350000"
    assert "(359000 was not in use in any year since 2008: 350000 kept)" in found.evidence


def test_a_report_answered_through_its_bureaus_site_is_the_bureaus():
    text = REPORT.format(title="") + ("本局认真落实条例。如有疑问，请通过泉州市统计局门户网站的"
                                      "领导信箱反映。")
    assert extract_metadata(text).issuing_agency == "泉州市统计局"


@pytest.mark.parametrize("text,agency", [
    ("2018年政府信息公开工作年度报告报送通知\n新野县人民政府电子政务办公室\n"
     "关于做好2018年政府信息公开工作年度报告编制公布工作的\n通 知\n各乡镇人民政府：\n请按时报送。",
     "新野县人民政府电子政务办公室"),
    ("一、总体情况\n新野县人民政府电子政务办公室\n关于本报告的说明\n" + REPORT.format(title=""),
     None),
], ids=["notice-issuer-above-its-title", "no-issuer-line-in-a-report"])
def test_a_notices_issuer_line(text, agency):
    assert extract_metadata(text).issuing_agency == agency


@pytest.mark.parametrize("head,title,agency", [
    # a bulleted label block above the title (real: a Yunnan county portal, texts.yaml)
    ("  • 索引号: 15253908T/2020-01119\n  • 发布机构:\n鹤庆县人民政府关于" + T19 + "\n",
     "鹤庆县人民政府关于" + T19, "鹤庆县人民政府"),
    ("· 索引号：000000/2020-00001\n· 来源：县政府办\n鹤庆县人民政府关于" + T19 + "\n",
     "鹤庆县人民政府关于" + T19, "鹤庆县人民政府"),
    # a column's name above the title (real: a Jiangsu township page, texts.yaml)
    ("乡镇(街道办)\n昌荣镇" + T19 + "\n", "昌荣镇" + T19, "昌荣镇"),
    ("部门年报\n兴化市统计局" + T19 + "\n", "兴化市统计局" + T19, "兴化市统计局"),
    # a title wrapped after the body's name stays one title
    ("清水县人民政府\n" + T19 + "\n", "清水县人民政府" + T19, "清水县人民政府"),
    ("清水县人民政府2019年政府信息公开\n工作年度报告\n", "清水县人民政府" + T19, "清水县人民政府"),
    # a province's counsellors' office (css.hunan.gov.cn's 2010 report)
    ("湖南省参事室" + T19 + "\n", "湖南省参事室" + T19, "湖南省参事室"),
], ids=["bulleted-labels-above", "dotted-labels-above", "column-name-above-township",
        "column-name-above-bureau", "wrapped-after-the-body", "wrapped-mid-title",
        "counsellors-office"])
def test_the_title_at_the_top_of_a_text_is_the_reports_own(head, title, agency):
    found = extract_metadata(head + REPORT.format(title=""))
    assert (found.title, found.issuing_agency) == (title, agency)


#: A label block as a page copied to plain text lists it (the shape of chaisang.gov.cn's 2016
#: report of 九江县: the site's category, named after the district the county became, above
#: the report's own title).
LISTED = ("- 信息类别: 柴桑区政府信息公开工作年度报告\n- 公开方式: 主动公开\n"
          "- 生成日期:2017-03-28\n- 信息索取号:000014349/2020-806659\n"
          "九江县2016年政府信息公开工作年度报告\n")


@pytest.mark.parametrize("head,field,value", [
    (LISTED, "title", "九江县2016年政府信息公开工作年度报告"),
    (LISTED, "category", "柴桑区政府信息公开工作年度报告"),
    (LISTED, "index_no", "000014349/2020-806659"),
    # a label left empty over the report's first paragraph: no value
    ("文号\n黄石港区人民政府2025年政府信息公开年度报告(以下简称年报)根据《条例》编制。\n",
     "doc_no", None),
    ("文号\n黄政办发〔2026〕3号\n", "doc_no", "黄政办发〔2026〕3号"),
], ids=["title-below-a-listed-category", "listed-category", "listed-index-number",
        "empty-label-over-a-paragraph", "label-over-its-value"])
def test_a_label_block_gives_its_values_and_no_title(head, field, value):
    found = extract_metadata(head + REPORT.format(title=""))
    assert getattr(found, field) == value


@pytest.mark.parametrize("title,agency", [
    # a repost's title keeps the document's number in front (shui5.cn's copy of a 2021 notice)
    ("桂政务发[2021]3号 广西壮族自治区政务服务和政务公开工作领导小组关于印发广西壮族自治区"
     "政府信息公开相关制度的通知", "广西壮族自治区政务服务和政务公开工作领导小组"),
    ("平政办〔2019〕5号平潭县人民政府关于做好2019年政府信息公开工作年度报告的通知",
     "平潭县人民政府"),
    ("关于做好2017年政府信息公开工作年度报告的通知", None),  # no issuer in the title
], ids=["number-then-a-leading-group", "number-then-a-government", "no-issuer"])
def test_a_titles_issuer_after_its_document_number(title, agency):
    assert agency_from_title(title) == agency


#: A report whose title names its region alone (the shapes of ningxia's 盐池县 2017 report and
#: tianjin's 2020 report, texts.yaml): the title names no body.
REGION_TITLE = "盐池县2017年政府信息公开工作年度报告\n"


@pytest.mark.parametrize("opening,agency", [
    ("《盐池县2017年政府信息公开工作年度报告》经盐池县人民政府同意,现予发布。\n",
     "盐池县人民政府"),
    ("一、总体情况\n2017年,盐池县人民政府以习近平新时代中国特色社会主义思想为指导,深化公开。\n",
     "盐池县人民政府"),
    ("一、概述\n2017年,盐池县人民政府办公室认真贯彻《条例》。\n", "盐池县人民政府办公室"),
    # written only in a website's, a contact office's or a cited document's name: no body
    ("本报告电子版可在盐池县人民政府网站下载。请与盐池县人民政府办公室联系。\n", None),
    ("根据《盐池县人民政府关于推进政务公开的意见》编制。\n一、总体情况\n2017年,全县坚持公开。\n",
     None),
    # an abbreviation of a bare level spelled out is still no place's body
    ("一、加强组织领导\n2017年度,市政府办公厅按照《昆明市人民政府办公厅关于…的通知》开展工作。\n",
     None),
    # a government that approves somebody else's document is no body of a report
    ("经盐池县人民政府同意的实施方案已印发。\n", None),
], ids=["approves-its-publication", "overview-subject", "overview-subject-an-office",
        "website-and-contact-office-only", "cited-document-only", "bare-level-spelled-out",
        "approves-something-else"])
def test_a_region_titled_report_names_its_body_only_in_its_own_words(opening, agency):
    assert extract_metadata(REGION_TITLE + opening + REPORT.format(title="")).issuing_agency \
        == agency


@pytest.mark.parametrize("label,agency,aside", [
    # a 来源 line is a site's: an office within the body the document names is not the body
    ("来源:天津市人民政府办公厅", "天津市人民政府", "a body within 天津市人民政府"),
    # the same body with its place before it is the fuller name
    ("来源:天津市人民政府", "天津市人民政府", None),
    # a 发布机构 label naming the office that put out the report its text calls the
    # government's (泰州, 2017: 发布机构 市政府办 over 现公布泰州市人民政府2017年…报告)
    ("发布机构:天津市人民政府办公厅", "天津市人民政府", "a body within 天津市人民政府"),
    # a label naming the body itself, its office unnamed
    ("发布机构:天津市人民政府", "天津市人民政府", None),
], ids=["source-line-an-office-within", "source-line-the-same-body", "issuer-label-its-office",
        "issuer-label-the-body"])
def test_a_pages_label_naming_an_office_within_the_documents_body(label, agency, aside):
    text = (f"天津市2020年政府信息公开工作年度报告\n{label}\n一、总体情况\n"
            "2020年,天津市人民政府以公开为常态。\n" + REPORT.format(title=""))
    found = extract_metadata(text)
    assert found.issuing_agency == agency
    assert (aside in found.raw["issuing_agency"]) if aside else \
        "set aside" not in found.raw["issuing_agency"]


@pytest.mark.parametrize("text,kind,title,agency", [
    # a notice's title wrapped over three lines under its one-line form (aba.gov.cn, 2018)
    ("阿坝州人民政府办公室关于做好2017年政府信息公开工作年度报告编制和公布工作的通知\n"
     "阿坝州人民政府办公室\n关于做好2017年政府信息公开工作年度报告\n编制和公布工作的通知\n"
     "各县(市)人民政府:\n现就有关事项通知如下。\n", "notice",
     "阿坝州人民政府办公室关于做好2017年政府信息公开工作年度报告编制和公布工作的通知",
     "阿坝州人民政府办公室"),
    # a body's rules for its reports, over their articles (a 2008 township's, texts.yaml)
    ("首页 > 文件库\n两家满族乡人民政府信息公开工作年度报告制度\n(试行)\n第一条 为落实《条例》,"
     "特制定本制度。\n第二条 乡政府应在每年年初制定计划。\n第三条 乡政府负责报告。\n", "other",
     "两家满族乡人民政府信息公开工作年度报告制度", "两家满族乡人民政府"),
    ("山西省人民政府办公厅政府信息公开年度报告制度(试行)\n第一条 为提高质量,制定本制度。\n"
     "第二条 各市人民政府报送年度报告。\n第三条 年度报告包括下列内容。\n", "other",
     "山西省人民政府办公厅政府信息公开年度报告制度(试行)", "山西省人民政府办公厅"),
], ids=["notice-title-over-its-wrapped-lines", "township-rules", "province-office-rules"])
def test_a_notices_or_rules_own_title_names_its_issuer(text, kind, title, agency):
    found = extract_metadata(text)
    assert (found.document_kind, found.title, found.issuing_agency) == (kind, title, agency)


@pytest.mark.parametrize("overview,year", [
    ("一、总体情况\n2021年城中区政务公开工作在区委区政府的正确领导下推进。\n", 2021),
    ("一、概述\n2009年全区主动公开信息一千条。\n", 2009),
    # a date is no year's work
    ("一、概述\n2008年5月1日《条例》正式施行以来,全区主动公开信息。\n", None),
], ids=["overview-opens-on-its-year", "overview-opens-on-its-year-short", "a-date-is-no-year"])
def test_the_year_an_overview_opens_on(overview, year):
    text = ("本年度报告由城中区人民政府办公室编制。\n" + overview
            + "二、主动公开政府信息情况\n无。\n")
    assert extract_metadata(text).report_year == year


@pytest.mark.parametrize("text,kind", [
    # a notice's title wrapped below a flattened label block (yunnan.gov.cn's 2014 notice)
    ("其他\n索引号\n53000000108201611057\n文号\n云政办函〔2014〕6号\n来源\n云南省人民政府办公厅\n"
     "公开日期\n2014-01-15\n\n云南省人民政府办公厅关于做好2013年\n政府信息公开工作年度报告编制工作的通知\n"
     "各州、市人民政府:\n现将有关事项通知如下:\n" + REPORT.format(title=""), "notice"),
    # the same label block above a report stays a report
    ("索引号\n53000000108201611057\n来源\n云南省人民政府办公厅\n"
     + REPORT.format(title="云南省2013年政府信息公开工作年度报告"), "report"),
    # a training course held: news (echinagov.com's 岳阳 item)
    ("6月21日上午,岳阳市政府信息公开工作业务知识培训班在市政务中心举行,110余人参训。\n"
     "责任编辑:admin\n", "news"),
], ids=["notice-below-a-label-block", "report-below-a-label-block", "training-course-held"])
def test_what_a_page_below_its_label_block_is(text, kind):
    assert extract_metadata(text).document_kind == kind


@pytest.mark.parametrize("opening,agency,year", [
    ("本报告根据《条例》要求,由南宁经济技术开发区管理委员会(以下简称经开区管委会)编制。\n",
     "南宁经济技术开发区管理委员会", None),
    ("根据《条例》规定,现发布《银川市民族事务委员会(宗教事务局)2024年政府信息公开工作年度报告》,"
     "本报告统计数据从2024年1月1日至12月31日。\n", "银川市民族事务委员会(宗教事务局)", 2024),
    ("2009年年报根据《条例》编制,由概述等四部分组成。\n", None, 2009),
], ids=["compiled-by-a-body-then-its-short-name", "published-a-body-of-two-names",
        "a-years-report-opens-the-text"])
def test_an_opening_that_names_its_body_or_year(opening, agency, year):
    found = extract_metadata(opening + REPORT.format(title=""))
    assert (found.issuing_agency, found.report_year) == (agency, year)


@pytest.mark.parametrize("text,kind", [
    # a notice with no title line (朔州's 2014 notice on the 2013 reports)
    ("朔政办函〔2014〕3号\n各县、区人民政府,市直各有关单位:\n为依法公布政府信息公开年度工作情况,"
     "现就做好2013年政府信息公开年度报告编写、报送及发布等有关事项通知如下:\n"
     + REPORT.format(title=""), "notice"),
    # a rule numbered 一、二、 (辽宁's 2016 rules for its annual report)
    ("为向社会公布政府信息公开工作情况,根据《条例》,制定本制度。\n一、政务公开工作年度报告起止时间为"
     "本年度1月1日至12月31日。\n二、年度报告应于每年3月31日前向社会公布。\n", "other"),
    # a report that says what a notice asked is still a report
    ("本报告根据《条例》和市政府办公厅《关于做好2016年年度报告有关事项的通知》要求编制。\n"
     + REPORT.format(title=""), "report"),
], ids=["notice-without-its-title", "rule-numbered-by-items", "report-citing-a-notice"])
def test_a_notice_or_rule_known_by_its_opening(text, kind):
    assert extract_metadata(text).document_kind == kind


@pytest.mark.parametrize("opening,agency", [
    ("本报告根据《条例》要求,由福州市晋安区人民政府信息公开办编制。\n", "福州市晋安区人民政府"),
    ("年报电子版可在江西省人民政府门户网站政府信息公开专栏下载。\n", None),
], ids=["a-governments-disclosure-office-compiles", "a-website-is-no-body"])
def test_an_opening_naming_an_office_or_a_website(opening, agency):
    text = "晋安区2016年政府信息公开工作年度报告\n" + opening + REPORT.format(title="")
    assert extract_metadata(text).issuing_agency == agency


@pytest.mark.parametrize("name,code", [
    ("连云港经济技术开发区管理委员会", "320700"),
    ("乌鲁木齐高新技术产业开发区", "650100"),
    ("连云港港口集团", None),  # a city's short name only before a zone's name
], ids=["city-zone", "city-high-tech-zone", "short-name-elsewhere"])
def test_a_zone_named_after_its_citys_short_name(name, code):
    from pipelines.regions import resolve_names

    found = resolve_names(name, year=2021)
    assert (found.code if found else None) == code


@pytest.mark.parametrize("text,agency", [
    # an office that sums up the government's report compiles it (哈尔滨市's 2017 report)
    ("本年度报告根据《条例》有关规定,由哈尔滨市人民政府政务公开办公室综合市政府、各区政府工作情况"
     "编制而成。\n", "哈尔滨市人民政府"),
    ("本年度报告根据《条例》要求,由青海省人民政府办公厅综合各市、州人民政府的年度报告编制而成。\n",
     "青海省人民政府办公厅"),
    # the government that approves it comes before the office that compiled it (盐池县 2017)
    ("《盐池县2017年政府信息公开工作年度报告》经盐池县人民政府同意,现予发布。本报告由盐池县人民政府"
     "办公室汇总各部门情况编制而成。\n", "盐池县人民政府"),
    ("根据《条例》,海口市人民政府编制了2018年政府信息公开工作年度报告。\n", "海口市人民政府"),
    # a level and no place (自治区北部湾办, 自治区人民政府办公厅) names no body; the opening does
    ("自治区北部湾办2022年政府信息公开工作年度报告\n本年度报告由广西壮族自治区北部湾经济区规划建设"
     "管理办公室(以下简称自治区北部湾办)编制。\n", "广西壮族自治区北部湾经济区规划建设管理办公室"),
    ("发布机构:自治区人民政府办公厅\n本报告根据《条例》编制。\n", None),
], ids=["disclosure-office-sums-up", "office-sums-up", "approver-before-compiler",
        "government-compiled", "level-abbreviation-in-the-title", "level-alone-in-a-label"])
def test_the_body_that_compiles_or_approves_a_report(text, agency):
    assert extract_metadata(text + REPORT.format(title="")).issuing_agency == agency


@pytest.mark.parametrize("text,kind,title", [
    # a notice's subject wrapped onto a line of its own is no report's title (武威, 2025)
    ("武威市人民政府办公室关于做好2025年政府信息公开工作年度报告编制和发布工作的通知\n"
     "武威市人民政府办公室\n关于做好2025年政府信息公开工作年度报告\n编制和发布工作的通知\n"
     "县、区人民政府,市政府各部门:\n统计期限为2025年1月1日至12月31日。\n" + REPORT.format(title=""),
     "notice", "武威市人民政府办公室关于做好2025年政府信息公开工作年度报告编制和发布工作的通知"),
    # a 通报 is a notice, its document number after it set aside (陕西, 2021)
    ("政府公报\n陕西省人民政府办公厅关于2020年度全省政务公开工作第三方评估情况的通报陕政办函〔2020〕"
     "141号\n各设区市人民政府:\n近日,召开评估会。\n", "notice",
     "陕西省人民政府办公厅关于2020年度全省政务公开工作第三方评估情况的通报"),
    # a notice's title below a site's six lines of menus (南开区, 2008)
    ("南开区政府信息公开\n您当前的位置 :南开区政府信息公开 > 制度规定 正文\n"
     "按单位分类\n按主题分类\n申请\n查询\n印发市政府办公厅关于天津市政府信息公开相关配套制度的通知\n"
     "天津市南开区人民政府办公室文件\n"
     "现将文件印发给你们,请遵照执行。\n", "notice",
     "印发市政府办公厅关于天津市政府信息公开相关配套制度的通知"),
], ids=["notice-subject-wrapped", "circular-with-its-number", "notice-below-menus"])
def test_a_notice_among_its_pages_lines(text, kind, title):
    found = extract_metadata(text)
    assert (found.document_kind, found.title) == (kind, title)


def test_a_year_announced_as_a_disclosure_report():
    text = ("根据《条例》,编制本局2018年度政府信息公开报告,并向社会公开。\n"
            + REPORT.format(title=""))
    assert extract_metadata(text).report_year == 2018


def test_a_notices_issuer_from_its_red_header():
    text = ("印发市政府办公厅关于天津市政府信息公开相关配套制度的通知\n"
            "  天津市南开区人民政府办公室文件\n南开政办发[2008] 20号\n"
            "现将文件印发给你们,请遵照执行。\n")
    found = extract_metadata(text)
    assert (found.document_kind, found.issuing_agency) == ("notice", "天津市南开区人民政府办公室")


@pytest.mark.parametrize("text,kind", [
    # a notice with no title that passes a document on (山西, 2018)
    ("各市、县人民政府,省人民政府各委、办、厅、局:\n现将《山西省2018年政务公开工作要点》印发给你们,"
     "请认真贯彻落实。\n山西省人民政府办公厅\n2018年7月24日\n" + REPORT.format(title=""), "notice"),
    # an evaluation's results sent round (西安, 2023)
    ("各区、县人民政府:\n经市政府同意,现将有关情况通报如下。\n一、评估原则\n", "notice"),
    # a wire story (人民网, 2009)
    ("人民网福州7月6日电 福建省清理出近80万条政府信息。\n"
     "据福建省2008年度政府信息公开工作年度报告透露,全省主动公开信息41万条。\n", "news"),
    # a document library's page naming the file (…的通知.pdf)
    ("PDF文库\n邹政办字〔2019〕33号:关于印发邹城市2019年政务公开工作任务分解表的通知.pdf\n16 页\n",
     "notice"),
], ids=["passes-a-document-on", "results-sent-round", "wire-story", "notice-as-a-pdf-file"])
def test_what_a_page_without_its_title_line_is(text, kind):
    assert extract_metadata(text).document_kind == kind


@pytest.mark.parametrize("text,agency", [
    ("根据通知要求,我乡编制了吉林市昌邑区两家子满族乡人民政府2020年政府信息公开工作年度报告。\n",
     "吉林市昌邑区两家子满族乡人民政府"),
    ("本报告根据《条例》编制。如对本报告存有异议,请联系曾都区府河镇人民政府(地址:府河镇滨河路1号)。"
     "2020年,我镇坚持公开。\n", "曾都区府河镇人民政府"),
    ("3月31日,山东省人民政府办公厅对外公布了2018年政府信息公开工作年度报告。\n",
     "山东省人民政府办公厅"),
    ("一、总体情况\n2022年,城中区市政公用服务中心共向区信息中心报送信息163篇。\n",
     "城中区市政公用服务中心"),
    # a report the opening says it compiles, named in 《》 (密云区's 大城子镇, 2025)
    ("根据《条例》和北京市密云区政务服务局《关于做好密云区2025年政府信息公开年报编制和公布有关工作的"
     "函》工作要求,编制《北京市密云区大城子镇人民政府2025年政府信息公开工作年度报告》。\n",
     "北京市密云区大城子镇人民政府"),
    # a prefecture's 行政公署 with its office (阿勒泰, 2016): the 行署's report
    ("现就阿勒泰地区行政公署及办公室2016年度政府信息公开工作情况报告如下。\n",
     "阿勒泰地区行政公署"),
    # 编制 followed by a cited document that is no report of a body
    ("按照要求,编制《政府信息公开指南》。\n", None),
], ids=["compiled-by-its-full-name", "contact-is-itself", "news-lede-publisher",
        "a-centre-in-its-overview", "compiles-the-report-it-names",
        "a-prefectures-office-and-itself", "compiles-a-guide"])
def test_more_openings_that_name_their_body(text, agency):
    assert extract_metadata(text + REPORT.format(title="")).issuing_agency == agency


@pytest.mark.parametrize("text,title,issuer", [
    # labelled with its title, over its wrapped lines
    ("名 称: 陵水黎族自治县人民政府办公室转发海南省人民政府办公厅印发政府信息公开配套制度的"
     "通知\n"
     "陵府办〔2011〕22号\n陵水黎族自治县人民政府办公室转发\n海南省人民政府办公厅印发政府信息公开\n"
     "配套制度的通知\n各乡、镇人民政府:\n现将文件转发给你们,请认真贯彻执行。\n",
     "陵水黎族自治县人民政府办公室转发海南省人民政府办公厅印发政府信息公开配套制度的通知",
     "陵水黎族自治县人民政府办公室"),
    # its number and recipients on its title's line (a mirror's copy of 凉山州's 2014 notice)
    ("凉山州人民政府信息公开办公室关于做好2013年政府信息公开工作年度报告编制和发布工作的通知"
     "凉府公开办函〔2014〕1号各县市政府办,州政府各部门:\n"
     "根据《条例》规定,各级行政机关应于每年3月31日前公布年度报告。现就有关事项通知如下:\n"
     "一、编制公布年度报告\n",
     "凉山州人民政府信息公开办公室关于做好2013年政府信息公开工作年度报告编制和发布工作的通知",
     "凉山州人民政府信息公开办公室"),
], ids=["labelled-over-its-wrapped-lines", "number-and-recipients-on-its-line"])
def test_a_notices_own_title_and_issuer(text, title, issuer):
    found = extract_metadata(text)
    assert (found.document_kind, found.title, found.issuing_agency) == ("notice", title, issuer)


def test_a_district_in_a_citys_list_is_not_its_region():
    from pipelines.regions import resolve_names

    text = "西安市\n达到优秀等次的是:未央区、雁塔区、新城区、碑林区、长安区政府;"
    assert resolve_names(None, text, year=2023).code == "610100"


def test_a_title_naming_its_body_wins_over_an_opening_copied_from_another():
    # 双辽市辽东街道's 2019 report opens with a sentence copied from 王奔镇's
    text = ("辽东街道办事处信息公开工作年度报告\n一、总体情况\n根据《条例》的规定,"
            "现公布王奔镇人民政府2019年政府信息公开工作年度报告。\n" + REPORT.format(title=""))
    assert extract_metadata(text).issuing_agency == "辽东街道办事处"


def test_a_deadline_is_no_news():
    text = ("各县市和各部门要按照《条例》的要求,于5月30日前将工作机构名称报州政府办公室信息科。\n"
            "二、认真编制政府信息公开指南\n")
    assert extract_metadata(text).document_kind != "news"


@pytest.mark.parametrize("opening,code", [
    # a city's news naming one of its districts' offices (常州's training day, on a mirror)
    ("10月30日,我市召开全市政务公开工作培训会。会上,天宁区政府办公室介绍了目录编制"
     "工作经验。\n", "320400"),
    # a region's report counting its bodies (西藏 2011, page 2)
    ("各政府机关主动公开政府信息。自治区直属机关主动公开16848条。各行署、拉萨市人民政府主动公开"
     "36171条。\n", None),
    # a district's own text keeps its district
    ("2021年,我区召开政务公开工作会。天宁区政府办公室负责编制。\n", "320402"),
], ids=["city-names-a-district", "one-of-the-bodies-counted", "district-names-itself"])
def test_a_place_the_text_only_mentions_is_read_at_the_texts_own_level(opening, code):
    assert _region_code(opening=opening, year=2020) == code


def test_a_plan_is_other_and_a_published_reports_body_is_its_own():
    plan = ("为提升全委政务公开工作水平,结合实际,制定本年度培训计划。\n一、指导思想\n坚持公开。\n"
            "二、培训内容及方式\n(一)会议培训。积极参加省市组织的培训,及时召开会议传达。\n")
    assert extract_metadata(plan).document_kind == "other"
    report = ("2025年政府信息公开工作年度报告\n信息来源:平川区人民政府\n根据《条例》相关规定,"
              "现向社会公布《白银市平川区发展和改革局2025年度政府信息公开工作年度报告》。\n"
              + REPORT.format(title=""))
    assert extract_metadata(report).issuing_agency == "白银市平川区发展和改革局"


@pytest.mark.parametrize("name,text,code", [
    # a zone with a name of its own after its city's short name
    ("武汉东湖新技术开发区关东街道办事处", "", "420100"),
    # a township's report writes its name under its county, if only in its address
    ("连生乡人民政府", "请与连生乡人民政府联系(电话:0468-7910006,地址:绥滨县连生乡连生村)。",
     "230422"),
    ("连生乡人民政府", "请与连生乡人民政府联系。", None),
    # under a county of two characters, in a text that names its province in a cited plan
    # (盂县's 东梁乡, 2023)
    ("东梁乡", "《山西省政务公开工作考核办法》\n"
     "2023年东梁乡通过盂县东梁乡政府信息公开平台发布信息。", "140322"),
    # no county's name before the township's: its province only
    ("东梁乡", "《山西省政务公开工作考核办法》\n2023年东梁乡通过县东梁乡政府信息公开平台发布信息。",
     "140000"),
], ids=["city-before-a-named-zone", "township-under-its-county", "township-alone",
        "township-under-a-short-county-name", "township-under-no-county"])
def test_a_bodys_place_from_its_own_names(name, text, code):
    assert _region_code(agency=name, opening=text, year=2025) == code


@pytest.mark.parametrize("text,agency", [
    # a street's party committee and its office as one subject (天津 河北区's 新开河街道, 2025)
    ("本年度报告根据《条例》编制。\n一、总体情况\n2025年,新开河街道党工委、办事处按照区委统一部署,"
     "认真贯彻落实《条例》。\n", "新开河街道"),
    ("2020年,青山镇党委、政府高度重视政务公开工作。\n", "青山镇"),
    # a party committee alone is no body a report is of
    ("2020年,青山镇党委高度重视政务公开工作。\n", None),
    # a county's committee and government: no township, no body
    ("2020年,县委、县政府高度重视政务公开工作。\n", None),
], ids=["street-committee-and-office", "town-committee-and-government",
        "a-party-committee-alone", "a-countys-committee-and-government"])
def test_a_townships_party_committee_and_body_as_one_subject(text, agency):
    assert extract_metadata(text + REPORT.format(title="")).issuing_agency == agency


@pytest.mark.parametrize("under,agency", [
    # a body's name and a month under the title (襄阳, 2017)
    ("襄阳市人民政府办公室\n(2018年2月)\n", "襄阳市人民政府办公室"),
    ("襄阳市人民政府办公室\n2018年2月3日\n", "襄阳市人民政府办公室"),
    # a site's name over a line that is no date
    ("襄阳市人民政府办公室\n信息公开专栏\n", None),
], ids=["a-month", "a-full-date", "no-date"])
def test_a_body_and_its_date_under_the_title(under, agency):
    text = "襄阳市2017年政府信息公开年度工作报告\n" + under + "本报告根据《条例》编制。\n"
    assert extract_metadata(text + REPORT.format(title="")).issuing_agency == agency


@pytest.mark.parametrize("text,title,agency", [
    # a heading letter-spaced, a pair run together (琼海市, 2011)
    ("琼 海 市人 民 政 府\n2011年政府信息公开年度报告\n",
     "琼海市人民政府2011年政府信息公开年度报告", "琼海市人民政府"),
    # a menu's row that ends like a title (信息公开年报), over the year's report title
    ("信息公开指南 信息公开年报\n信息公开月报 依申请公开\n信息公开目录\n组织机构 政府文件\n"
     "首页 >> 市政府信息公开 >> 乡镇信息公开目录 >> 张楼\n"
     "邓州市张楼乡2023年政府信息公开工作年度报告\n",
     "邓州市张楼乡2023年政府信息公开工作年度报告", "邓州市张楼乡"),
    # a menu's row of words of two characters is not letter-spaced
    ("首页 走进 高新 新闻\n高新区2017年政府信息公开工作年度报告\n",
     "高新区2017年政府信息公开工作年度报告", None),
    # a column named for the year's reports, under its breadcrumb, over the report's own title
    # (西平县's 嫘祖镇, 2021)
    ("首页 >> 政府信息公开平台 >> 政府信息公开 >> 2021年年报\n2021年年报\n"
     "嫘祖镇人民政府2021年政府信息公开工作年度报告\n来源: 西平县人民政府\n",
     "嫘祖镇人民政府2021年政府信息公开工作年度报告", "嫘祖镇人民政府"),
    # a site's name printed twice over a title that starts with it (左贡县, 2021)
    (" 左贡县人民政府\n 左贡县人民政府\n左贡县人民政府2021年度\n信息公开年度报告\n(2022年1月)\n",
     "左贡县人民政府2021年度信息公开年度报告", "左贡县人民政府"),
], ids=["letter-spaced-heading", "menu-row-over-the-title", "menu-of-two-character-words",
        "a-years-column-over-the-title", "a-sites-name-over-the-title"])
def test_a_title_under_a_pages_header(text, title, agency):
    found = extract_metadata(text + REPORT.format(title=""))
    assert (found.title, found.issuing_agency) == (title, agency)


@pytest.mark.parametrize("text,kind", [
    # a report on carrying out the year's work points, filed in the 年报 column (楚雄州, 2018)
    ("楚雄州2017年政务公开工作要点落实情况报告\n现将楚雄州2017年政务公开工作要点落实情况报告如下:\n"
     + REPORT.format(title=""), "other"),
    ("XX县2019年政府信息公开工作自查报告\n" + REPORT.format(title=""), "other"),
], ids=["work-points-carried-out", "self-check"])
def test_other_reports_on_disclosure_are_not_the_annual_one(text, kind):
    assert extract_metadata(text).document_kind == kind


def test_a_news_outlet_is_no_body():
    text = ("河南新规:政府9方面信息必须公开\n来源:新华社\n"
            "新华社郑州8月15日电(记者李丽静)记者从河南省人民政府获悉,该省于近日全面推进政府信息公开工作。\n")
    assert extract_metadata(text).issuing_agency is None


@pytest.mark.parametrize("text,agency", [
    ("根据《条例》规定,玉林市人民政府办公室编制了《玉林市2016年政府信息公开工作年度报告》。\n",
     "玉林市人民政府办公室"),
    ("一、总体情况\n2020年,砖路镇不断完善制度建设,提升主动公开信息质量。\n", "砖路镇"),
], ids=["compiled-the-cited-report", "a-town-as-the-overviews-subject"])
def test_round_nine_openings(text, agency):
    assert extract_metadata(text + REPORT.format(title="")).issuing_agency == agency


def test_a_government_and_its_office_are_no_body_of_two_names():
    # (贵阳市's 2021 report: the two bodies that wrote it, never one name)
    text = ("根据《条例》要求,现公布《贵阳市人民政府(市人民政府办公厅)2021年政府信息公开工作"
            "年度报告》。\n" + REPORT.format(title=""))
    assert extract_metadata(text).issuing_agency in (None, "贵阳市人民政府")


def test_a_short_name_shared_by_a_city_and_its_district_decides_nothing():
    found = resolve_region(opening="各区市县人民政府,广安经开区、枣山园区管委会,市政府各部门:\n",
                           year=2020)
    assert found is None or found.code[4:] == "00"


@pytest.mark.parametrize("name,text,code", [
    # 城中区 is 西宁's and 柳州's: the papers a body publishes in are its own place's
    ("城中区市政公用服务中心", "在青海日报、西宁晚报等纸媒上刊登报道3篇。", "630103"),
    ("城中区市政公用服务中心", "在柳州日报刊登报道2篇。", "450202"),
    ("城中区市政公用服务中心", "在人民日报刊登报道3篇。", None),
    # a paper decides nothing alone: a text naming no place of its own stays unplaced
    (None, "辽宁日报讯 省政务公开办分期分批培训。", None),
    # papers of both places named: still two
    ("城中区市政公用服务中心", "在西宁晚报、柳州日报刊登。", None),
], ids=["two-papers-of-one-place", "the-other-citys-paper", "a-national-paper",
        "a-paper-alone", "papers-of-both"])
def test_a_places_press_tells_apart_places_of_one_name(name, text, code):
    assert _region_code(agency=name, opening=text, year=2022) == code


@pytest.mark.parametrize("name,code", [
    ("北京大兴国际机场临空经济区(廊坊)管理委员会", "131000"),
    ("中国（河北）自由贸易试验区大兴机场片区（廊坊）管理委员会", "131000"),
    ("中国(河北)自由贸易试验区管理委员会", "130000"),
    # a parenthesised word that is no province's or city's short name
    ("海南省农垦(集团)管理委员会", "460000"),
    ("高新区(新区)管理委员会", None),
], ids=["zone-qualified-by-its-city", "province-then-city", "free-trade-zone",
        "not-a-place", "no-place-at-all"])
def test_a_place_in_parentheses_in_a_bodys_name(name, code):
    assert _region_code(agency=name, year=2022) == code


@pytest.mark.parametrize("text,agency", [
    ("本年度报告由靖安县人民政府办公室结合有关统计数据编制。\n", "靖安县人民政府办公室"),
    ("本报告由德清县发展和改革局会同各科室编制。\n", "德清县发展和改革局"),
    ("一、总体情况\n在2024年,长春市经济合作局坚决贯彻落实《条例》。\n", "长春市经济合作局"),
    ("2023年,东风镇人民政府全面推进政务公开。\n", "东风镇人民政府"),
], ids=["compiled-with-the-statistics", "compiled-with-its-sections",
        "in-the-year-resolutely", "the-year-fully"])
def test_more_verbs_after_a_bodys_name(text, agency):
    assert extract_metadata(text + REPORT.format(title="")).issuing_agency == agency


@pytest.mark.parametrize("agency,title,code", [
    # the prefecture renamed a city that year: its office compiles the city's report
    ("海东地区行署办公室", "海东市2013年度政府信息公开工作年度报告", "630000"),
    # two districts of one city
    ("玄武区人民政府", "秦淮区2020年政府信息公开工作年度报告", "320100"),
    ("长沙县人民政府", "望城区2020年政府信息公开工作年度报告", "430100"),
    # two provinces: nothing
    ("长沙县人民政府", "海淀区2020年政府信息公开工作年度报告", None),
], ids=["renamed-prefecture", "two-districts-of-a-city", "a-county-and-a-district-of-a-city",
        "two-provinces"])
def test_a_body_and_a_title_that_disagree_keep_what_they_share(agency, title, code):
    assert _region_code(agency=agency, title=title, year=2013 if "海东" in title else 2020) == code


@pytest.mark.parametrize("text,year,agency", [
    # the 来源 line names the body the title names, more fully: taken
    ("天津市宝坻区人民政府 2019年12月3日星期二\n\n宝坻区大钟庄镇政府信息公开工作年度报告 (2019年)\n"
     "来源:天津市宝坻区大钟庄镇人民政府\n", 2019, "天津市宝坻区大钟庄镇人民政府"),
    ("清水县教育局政府信息公开工作年度报告（2021年度）\n", 2021, "清水县教育局"),
], ids=["year-in-parentheses-after-a-space", "year-in-full-width-parentheses"])
def test_a_titles_year_in_parentheses_at_its_end(text, year, agency):
    found = extract_metadata(text + REPORT.format(title=""))
    assert (found.report_year, found.issuing_agency) == (year, agency)


@pytest.mark.parametrize("text,agency", [
    ("根据《条例》要求,现将西安市人民政府2021年政府信息公开工作年度报告予以公开。\n",
     "西安市人民政府"),
    ("根据《条例》要求,昌都市人民政府信息公开办公室汇总全市政府信息公开情况编制而成本报告。\n",
     "昌都市人民政府"),
    ("根据《条例》要求,现将2021年政府信息公开工作年度报告公布如下。\n", None),
], ids=["now-publishes-the-named-body", "a-governments-disclosure-office-sums-up",
        "now-publishes-no-body"])
def test_round_eleven_openings(text, agency):
    assert extract_metadata(text + REPORT.format(title="")).issuing_agency == agency


@pytest.mark.parametrize("text", [
    # the district's notice forwards the province's, whose header and signature follow
    "各街道办事处,区直各有关部门:\n现将《河南省人民政府办公厅关于印发2021年河南省政务公开工作要点"
    "的通知》(豫政办〔2021〕26号)转发给你们,请认真贯彻落实。\n河南省人民政府办公厅\n"
    "关于印发2021年河南省政务公开工作要点的\n通 知\n各省辖市人民政府:\n"
    "现印发给你们,请认真贯彻落实。\n"
    "河南省人民政府办公厅 2021年6月1日\n",
    "各乡镇人民政府:\n现将《市人民政府办公室关于做好政务公开工作的通知》予以转发,请遵照执行。\n"
    "附件:\n市人民政府办公室\n2021年3月2日\n",
], ids=["forwarded-with-its-header-and-signature", "forwarded-bare-level"])
def test_a_forwarded_documents_issuer_is_not_the_notices(text):
    found = extract_metadata(text)
    assert found.document_kind == "notice"
    assert found.issuing_agency is None


def test_a_forwarding_notice_keeps_its_own_signature():
    text = ("各街道办事处:\n现将《河南省人民政府办公厅关于印发2021年河南省政务公开工作要点的通知》"
            "转发给你们,请认真贯彻落实。\n中站区人民政府办公室\n2021年6月10日\n")
    assert extract_metadata(text).issuing_agency == "中站区人民政府办公室"


@pytest.mark.parametrize("source,agency", [
    ("鞍山高新技术产业开发区管理委员会", "鞍山高新技术产业开发区管理委员会"),
    ("鞍山市人民政府", "鞍山高新区"),
], ids=["the-zone-in-full", "another-body"])
def test_a_zones_short_name_spelt_out_by_its_page(source, agency):
    text = (f"鞍山高新区2020年度政府信息公开工作报告\n信息来源:{source} 发布时间:2021-01-29\n"
            "2020年,高新区深入贯彻落实《条例》。\n")
    assert extract_metadata(text + REPORT.format(title="")).issuing_agency == agency


@pytest.mark.parametrize("opening,code", [
    # an evaluation of a region's cities lists their governments (广西's five-year review)
    ("本次评估对象覆盖广西壮族自治区14市人民政府:南宁市人民政府、柳州市人民政府、桂林市人民政府。\n",
     "450000"),
    ("南宁市人民政府、柳州市人民政府分列第一、二位。\n", None),
    # one body, not a list
    ("2020年,南宁市人民政府坚持公开。\n", "450100"),
    # places an evaluation ranks (山东's results, round 12): none is the text's own
    ("◆潍坊市政务公开名列16市首位\n在16家市中,潍坊市名列第1位,青岛市、济南市分列第2位到第3位。\n"
     "山东省人民政府办公厅委托评估。\n", "370000"),
    ("寿光市位居全省第一,诸城市排名第二。\n", None),
    # a place that leads its own sentence is not ranked
    ("潍坊市坚持以公开为常态,名列前茅。\n", "370700"),
], ids=["a-list-of-governments-under-their-region", "a-list-alone", "one-government",
        "ranked-places-then-the-province", "ranked-places-alone", "a-place-not-ranked"])
def test_governments_in_a_list_or_a_ranking_are_not_the_texts_region(opening, code):
    assert _region_code(opening=opening, year=2020) == code


@pytest.mark.parametrize("text,agency", [
    ("本年度报告由沈阳市沈河区人民政府办公室编制而成。\n一、总体情况\n"
     "2020年沈河区人民政府按照《要点》有关要求,扎实推进政务公开。\n", "沈河区人民政府"),
    ("本报告由福州市大数据发展管理委员会办公室编制完成本报告。\n一、总体情况\n"
     "2019年,福州市大数据发展管理委员会根据《条例》要求,推进公开。\n",
     "福州市大数据发展管理委员会"),
    # the office alone compiles, and its body is no subject: the office, as written
    ("本年度报告由沈阳市沈河区人民政府办公室编制而成。\n一、总体情况\n2020年,我区推进公开。\n",
     "沈阳市沈河区人民政府办公室"),
], ids=["a-governments-office-compiles-its-report", "a-committees-office-compiles-its-report",
        "the-office-alone"])
def test_the_body_of_the_office_that_compiles_its_report(text, agency):
    assert extract_metadata(text + REPORT.format(title="")).issuing_agency == agency


def test_a_report_published_below_a_copied_pages_menus():
    menus = "".join(f"栏目{i} | 首页 | 政务公开 | 政务服务 | 互动交流\n" for i in range(12))
    text = (menus + "根据《条例》规定,现公布泰州市人民政府2017年政府信息公开工作年度报告。\n"
            + REPORT.format(title=""))
    assert len(menus) > 300
    assert extract_metadata(text).issuing_agency == "泰州市人民政府"
