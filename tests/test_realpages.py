"""Real portal pages (tests/realpages/corpus.yaml): no value the pipeline stores may be wrong,
with or without the portal's region configured; NULL is allowed where the page does not say.
Recall per field: ``python -m tests.realpages.measure`` (floors: tests/test_recall_floors.py)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.golden.metadata.recall import verdict
from tests.realpages import measure
from tests.realpages.measure import HERE, MODES, judge, load_pages, report_of

PAGES = load_pages()
#: The real report texts (those kept aside were measured apart once, then joined the tests).
TEXTS = load_pages(measure.TEXTS)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("page", PAGES, ids=[p["id"] for p in PAGES])
def test_no_value_of_a_real_page_is_wrong(page, mode):
    verdicts = judge(page, report_of(page, mode))
    wrong = {name: value for name, (outcome, value) in verdicts.items() if outcome == "wrong"}
    assert not wrong, f"wrong values (gold: {page['gold']})"


@pytest.mark.parametrize("item", TEXTS, ids=[t["id"] for t in TEXTS])
def test_no_value_of_a_real_report_text_is_wrong(item):
    verdicts = judge(item, measure.text_report_of(item))
    wrong = {name: value for name, (outcome, value) in verdicts.items() if outcome == "wrong"}
    assert not wrong, f"wrong values (gold: {item['gold']})"


@pytest.mark.parametrize("page", PAGES, ids=[p["id"] for p in PAGES])
def test_a_real_page_is_its_sources_copy(page):
    """Each page says where it was copied from, and is the file that was copied (unedited)."""
    source = page["source"]
    assert source["repo"].count("/") == 1 and source["path"] and len(source["commit"]) == 40
    assert source["page_url"].startswith(("http://", "https://"))
    data = Path(HERE / "pages" / f"{page['id']}.html").read_bytes()
    assert hashlib.sha256(data).hexdigest() == page["sha256"]
    assert set(page["gold"]) >= {"document_kind", "report_year", "province_code",
                                 "issuing_agency"}


def test_every_saved_page_is_in_the_corpus():
    assert sorted(p.stem for p in (HERE / "pages").glob("*.html")) == \
        sorted(p["id"] for p in PAGES)


# -- other documents on the real templates -----------------------------------------------------

SECTIONS = ["一、总体情况", "本年度认真贯彻落实《中华人民共和国政府信息公开条例》。",
            "二、主动公开政府信息情况", "三、收到和处理政府信息公开申请情况",
            "四、政府信息公开行政复议、行政诉讼情况", "五、存在的主要问题及改进情况", "无。"]
#: (template, title, lines, the template's 来源/发布机构, expected values: a list holds every
#: acceptable one, None in it NULL too).
TEMPLATED = {
    "township-report-under-the-sites-default-source": (
        "trs-fujian", "流水镇人民政府2019年政府信息公开工作年度报告",
        ["2019年，流水镇认真落实政务公开工作。", *SECTIONS], None,
        {"document_kind": "report", "report_year": 2019, "issuing_agency": "流水镇人民政府",
         "province_code": "350000", "city_code": [None, "350100"],
         "county_code": [None, "350128"]}),
    "province-report-reposted-on-a-zone-site": (
        "trs-fujian", "福建省人民政府办公厅2019年政府信息公开工作年度报告", SECTIONS, None,
        {"document_kind": "report", "report_year": 2019, "issuing_agency": "福建省人民政府办公厅",
         "province_code": "350000", "city_code": None, "county_code": None}),
    "another-countys-report-reposted": (
        "trs-fujian", "永泰县人民政府2019年政府信息公开工作年度报告", SECTIONS, None,
        {"document_kind": "report", "report_year": 2019, "issuing_agency": "永泰县人民政府",
         "province_code": "350000", "city_code": "350100", "county_code": "350125"}),
    "report-under-its-cover-letter": (
        "trs-fujian", "关于报送《平潭县2014年政府信息公开工作年度报告》的函",
        ["省政府办公厅：", "现将我县2014年政府信息公开工作年度报告报送你们，请审阅。", "特此函告。",
         "平潭县人民政府办公室", "2015年1月20日", "平潭县2014年政府信息公开工作年度报告",
         *SECTIONS, "平潭县人民政府", "2015年1月12日"], None,
        {"document_kind": "report", "report_year": 2014, "written_date": "2015-01-12",
         "province_code": "350000", "county_code": [None, "350128"]}),
    "a-letter-sending-the-report": (
        "trs-fujian", "关于报送《平潭县2014年政府信息公开工作年度报告》的函",
        ["省政府办公厅：", "现将我县2014年政府信息公开工作年度报告报送你们，请审阅。", "特此函告。",
         "平潭县人民政府办公室", "2015年1月20日"], None,
        {"document_kind": "letter", "report_year": None}),
    "a-notice-on-preparing-reports": (
        "trs-fujian", "关于做好2019年政府信息公开工作年度报告编制发布工作的通知",
        ["各乡镇、各部门：", "请于2020年1月31日前报送本单位年度报告。"], None,
        {"document_kind": "notice", "report_year": None}),
    "department-report-naming-no-place": (
        "trs-fujian", "2019年政府信息公开工作年度报告",
        ["2019年，我局认真落实政务公开工作。", *SECTIONS], None,
        {"document_kind": "report", "report_year": 2019, "issuing_agency": None,
         "province_code": "350000", "city_code": [None, "350100"],
         "county_code": [None, "350128"]}),
    "township-report-under-the-countys-label": (
        "ucap-jiangsu", "沭阳县沭城街道办事处2023年政府信息公开工作年度报告",
        ["2023年，沭城街道认真落实政务公开工作。", *SECTIONS], "沭阳县人民政府",
        {"document_kind": "report", "report_year": 2023,
         "issuing_agency": "沭阳县沭城街道办事处", "province_code": "320000",
         "city_code": "321300", "county_code": "321322"}),
    "bureau-report-under-the-governments-label": (
        "ucap-jiangsu", "2023年政府信息公开工作年度报告",
        ["2023年，我局认真落实政务公开工作。", *SECTIONS], "沭阳县人民政府",
        {"document_kind": "report", "report_year": 2023, "issuing_agency": None,
         "province_code": "320000", "city_code": [None, "321300"],
         "county_code": [None, "321322"]}),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", TEMPLATED)
def test_no_value_of_a_document_on_a_real_template_is_taken_from_the_site(case, mode):
    from tests.realpages.measure import crawled_report
    from tests.realpages.templated import TEMPLATES, build

    template, title, lines, agency, expected = TEMPLATED[case]
    data = build(template, title=title, lines=lines, agency=agency)
    region = TEMPLATES[template].site_region if mode == "registered" else None
    row = crawled_report(data, f"https://example.gov.cn/{case}.htm", region).to_row()
    found = {name: row[name] for name in expected}
    assert {name: verdict(expected[name], found[name]) for name in expected} == \
        {name: "null" if found[name] is None else "right" for name in expected}, found


def test_a_new_rounds_texts_are_measured_before_they_join(tmp_path, capsys):
    """``measure --candidates DIR``: a round's entries and texts outside the corpus, each wrong
    value named with its gold."""
    (tmp_path / "texts").mkdir()
    (tmp_path / "texts" / "one.txt").write_text(
        "平潭县人民政府2019年政府信息公开工作年度报告\n一、总体情况\n", encoding="utf-8")
    (tmp_path / "entries.yaml").write_text(
        "- id: one\n  url: null\n  kind: report\n  gold:\n    document_kind: report\n"
        "    report_year: 2019\n    issuing_agency: 平潭县教育局\n", encoding="utf-8")
    measure.measure_candidates(tmp_path)
    out = capsys.readouterr().out
    assert "wrong  issuing_agency  one: gold '平潭县教育局', stored '平潭县人民政府'" in out
    assert "1 candidate texts" in out and "report_year     recall 100.0% (1/1)" in out
