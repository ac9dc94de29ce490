"""Metadata on the goldens (tests/golden/metadata/cases.yaml): every value a text states is
found, and nothing it does not state is stored (a wrong value is worse than NULL). Recall per
field: ``python -m tests.golden.metadata.recall``."""

from __future__ import annotations

from datetime import date

import pytest

from pipelines.metadata import extract_metadata
from pipelines.regions import find_places, resolve_names, resolve_region
from tests.golden.metadata.recall import found, judge, load_cases, report_of

CASES = load_cases()


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_a_golden_reports_metadata(case):
    values = found(report_of(case))
    verdict = judge(case, values)
    wrong = {k: values[k] for k, v in verdict.items() if v == "wrong"}
    missed = {k: case["expect"][k] for k, v in verdict.items() if v == "missed"}
    assert not wrong, f"wrong values (expected {case['expect']})"
    assert not missed, f"missed values (got {values})"


def test_every_golden_states_every_measured_field():
    from tests.golden.metadata.recall import FIELDS

    for case in CASES:
        assert set(case["expect"]) == set(FIELDS), case["id"]
    assert len({c["id"] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("text,names", [
    ("郫县人民政府", ["郫县"]),
    ("成都市郫县人民政府", ["成都市", "郫县"]),
    ("市委和县委的要求", []),  # 和县 (安徽) inside a sentence is no place
    ("根据沛县的经验", []),
    ("一、概述\n沛县人民政府", ["沛县"]),
], ids=["short-at-start", "short-after-a-place", "short-in-a-sentence", "short-mid-line",
        "short-at-a-line-start"])
def test_two_character_place_names_only_where_a_name_is_expected(text, names):
    assert [name for name, _ in find_places(text)] == names


@pytest.mark.parametrize("text,code", [
    ("黔东南州农业农村局", "522600"),  # 黔东南苗族侗族自治州 (qdn.gov.cn's 2022 report)
    ("黔西南州人民政府", "522300"),
    ("西双版纳州教育局", "532800"),
    ("恩施州人民政府", "422800"),
    ("海西州人民政府", "632800"),  # 海西蒙古族藏族自治州
    ("楚雄州人民政府", "532300"),
    ("积石山自治县人民政府", "622927"),  # 积石山保安族东乡族撒拉族自治县
], ids=["qiandongnan", "qianxinan", "xishuangbanna", "enshi", "haixi", "chuxiong",
        "jishishan-county"])
def test_an_autonomous_prefecture_or_county_by_its_short_name(text, code):
    [(_name, places)] = find_places(text, year=2022)
    assert [p.code for p in places] == [code]


@pytest.mark.parametrize("index_no,year,code", [
    ("330212/2019-00031", 2018, "330212"),
    ("620521-001/2020-00012", 2019, "620521"),
    ("01525767-7-/2020-0131001", 2019, None),  # an organisation code, not a region
    ("510124/2017-00001", 2017, "510100"),  # 郫县's code, no longer in use: its city kept
    ("202001-00012", 2020, None),  # no province starts with 20
    ("620702081/2026-00007", 2025, "620702"),  # 甘州区's 街道
    ("000014349/2017-00049", 2016, None),  # the State Council's organisation code
    ("000014348/2010-00012", 2009, None),  # not an organisation code, nor a region
    ("530102001/2020-00001", 2019, "530102"),
    ("530102004/2020-00001", 2019, None),  # 53010200-4: an organisation code
], ids=["region-code", "region-code-dash", "org-code", "code-not-valid-that-year",
        "not-a-province", "township-code", "nine-digit-org-code", "nine-digits-no-region",
        "township-code-2", "township-code-that-is-an-org-code"])
def test_a_region_code_at_the_start_of_the_index_number(index_no, year, code):
    found = resolve_region(index_no=index_no, year=year)
    assert (found.code if found else None) == code
    if code is not None and not index_no.startswith(code):
        assert f"was not in use in {year}: {code} kept" in found.evidence


#: How reports of 2008–2018 end their opening (the shape of xinhuaqu.gov.cn's 2025 report:
#: "请与新华区人民政府办公室联系(地址:建设路283号院,联系电话:0375-4938743,邮编:467000)").
ASK = "如对本报告有疑问，请与{body}联系（地址：人民大街1077号，邮编：{postcode}）。"


@pytest.mark.parametrize("body,postcode,code", [
    ("新华区人民政府办公室", "467000", "410402"),  # 平顶山's, not 石家庄's nor 沧州's
    ("新华区人民政府办公室", "050051", None),  # 石家庄's and 沧州's are both in 河北
    ("西安区政务公开办公室", "136200", "220403"),  # 辽源's, not 牡丹江's
    ("西安区政务公开办公室", "157000", "231005"),
    ("西安区政务公开办公室", "710000", None),  # 陕西: neither 西安区 is there
    ("西安区政务公开办公室", None, None),
    ("牡丹江市西安区政务公开办公室", "136200", "231005"),  # a name the postcode cannot undo
], ids=["xinhua-henan", "xinhua-two-in-hebei", "xian-jilin", "xian-heilongjiang",
        "xian-postcode-elsewhere", "xian-no-postcode", "named-city-over-postcode"])
def test_a_postcode_tells_apart_places_of_one_name(body, postcode, code):
    opening = "本报告由政务公开办公室编制。" + (
        ASK.format(body=body, postcode=postcode) if postcode else f"请与{body}联系。")
    found = resolve_region(opening=opening, year=2010)
    assert (found.code if found else None) == code
    if code is not None and body.startswith(("西安区", "新华区")):
        assert f"postcode {postcode}" in found.evidence


def test_a_postcode_that_disagrees_with_a_named_parent_decides_nothing():
    # 西安区 of the agency's name: 牡丹江's by the city the text names, 辽源's by the postcode.
    found = resolve_names("西安区政务公开办公室", "牡丹江市", postcode="136200")
    assert (found.code, found.source) == ("231000", "text")  # the agency's 西安区 passed over
    assert resolve_names("西安区政务公开办公室", "牡丹江市", postcode="157000").code == "231005"


@pytest.mark.parametrize("published,note", [
    ("2020-03-20", None),
    ("2019-11-05", "before the year ended"),
    ("2024-05-06", "years later (re-posted)"),
], ids=["in-time", "before-the-year-ended", "re-posted"])
def test_the_years_evidence_says_when_the_publication_date_contradicts_it(published, note):
    text = f"标题：平潭县人民政府2019年政府信息公开工作年度报告\n发布日期：{published}\n正文。"
    meta = extract_metadata(text)
    assert meta.report_year == 2019 and meta.published_date == date.fromisoformat(published)
    assert meta.report_year_evidence.startswith("title: 2019年")
    if note is None:
        assert ";" not in meta.report_year_evidence
    else:
        assert note in meta.report_year_evidence


@pytest.mark.parametrize("text,title", [
    ("标题：某县2019年政府信息公开工作年度报告\n正文", "某县2019年政府信息公开工作年度报告"),
    ("| 名称 | 某县2019年 政府信息公开工作年度报告 |\n正文", "某县2019年政府信息公开工作年度报告"),
    ("索引号：330212/2019-00031\n本机关2018年政府信息公开工作年度报告\n正文",
     "本机关2018年政府信息公开工作年度报告"),
    ("名称：关于开展培训的通知\n正文", None),  # a 名称 that is no report title
], ids=["label-cell", "pipe-row-with-a-space", "after-a-label-line", "not-a-report"])
def test_a_title_from_a_label_block_without_its_label(text, title):
    assert extract_metadata(text).title == title


@pytest.mark.parametrize("title,agency", [
    ("全椒县人民政府2019年政府信息公开工作年度报告", "全椒县人民政府"),  # a place starting 全
    ("镇江市人民政府2019年政府信息公开工作年度报告", "镇江市人民政府"),
    ("镇人民政府2019年政府信息公开工作年度报告", None),  # a level, no body
    ("我局2019年政府信息公开工作年度报告", None),
    ("《清水县人民政府2019年政府信息公开工作年度报告》", "清水县人民政府"),
    ("清水县资讯中心2019年政府信息公开工作年度报告", "清水县信息中心"),  # Taiwan vocabulary
], ids=["place-starting-with-a-level-word", "zhenjiang", "bare-level", "pronoun",
        "in-title-marks", "taiwan-term"])
def test_the_agency_a_title_names(title, agency):
    assert extract_metadata(f"{title}\n正文。").issuing_agency == agency


@pytest.mark.parametrize("page_title,text,title", [
    ("清水县人民政府门户网站", "清水县人民政府2019年政府信息公开工作年度报告\n正文。",
     "清水县人民政府2019年政府信息公开工作年度报告"),
    ("政府信息公开", "标题：清水县人民政府2019年政府信息公开工作年度报告\n正文。",
     "清水县人民政府2019年政府信息公开工作年度报告"),
    ("清水县2019年政府信息公开年报", "正文第一行，不是标题。\n正文。",
     "清水县2019年政府信息公开年报"),
    ("关于开展培训的通知", "正文第一行，不是标题。", "关于开展培训的通知"),
], ids=["site-name", "column-name", "page-title-is-the-report's", "not-a-report-at-all"])
def test_a_pages_title_gives_way_to_the_reports_own(page_title, text, title):
    meta = extract_metadata(text, title=page_title)
    assert meta.title == title


@pytest.mark.parametrize("name,joint", [
    ("沂水县自然资源和规划局沂水县住房和城乡建设局", True),
    ("天水市公安局清水县分局", False),  # a city bureau's county branch: one body
    ("毕节市七星关区人民政府市东街道办事处", False),
    ("吉林市龙潭区人民政府", False),
], ids=["two-bodies", "branch", "street-office-of-a-district-government", "city-and-district"])
def test_two_bodies_run_together_are_no_name(name, joint):
    from pipelines.metadata import _joint

    assert _joint(name) is joint


@pytest.mark.parametrize("name,code", [
    ("关岭自治县永宁镇人民政府", "520424"),  # 关岭布依族苗族自治县
    ("石柱自治县人民政府", "500240"),  # 石柱土家族自治县
    ("关岭布依族苗族自治县人民政府", "520424"),
], ids=["guanling-short", "shizhu-short", "guanling-full"])
def test_an_autonomous_county_is_known_by_its_short_form(name, code):
    from pipelines.regions import resolve_names

    assert resolve_names(name, year=2020).code == code


@pytest.mark.parametrize("text", [
    "标题：牟定县2019年政务(wù)公开工作年度报(bào)告\n正文。",
    "牟定县2019年政务(wù)公开工作年度报(bào)告\n正文。",
    "首页\n政务公开\n无障碍\n简体 繁體\n牟定县2019年政务(wù)公开工作年度报(bào)告\n正文。",
], ids=["label-cell", "first-line", "below-a-pages-menus"])
def test_a_mirrors_title_is_repaired_like_its_text(text):
    found = extract_metadata(text)
    assert (found.title, found.report_year) == ("牟定县2019年政务公开工作年度报告", 2019)


@pytest.mark.parametrize("name,code", [
    ("来凤经济开发区", "422827"),  # 来凤县
    ("浙江省东阳经济开发区管理委员会", "330783"),  # 东阳市
    ("番禺经济技术开发区管委会", "440113"),  # 番禺区
    ("东阳镇人民政府", None),  # a town may share a county's short name: not before a town
    ("和平街道办事处", None),
], ids=["county-zone", "city-zone-after-its-province", "district-zone", "a-town-of-that-name",
        "a-street-of-that-name"])
def test_a_countys_short_name_places_only_its_zone(name, code):
    from pipelines.regions import resolve_names

    found = resolve_names(name, year=2020)
    assert (found.code if found else None) == code
