"""The recall ratchet: per field, the share of stated values the pipeline finds on the metadata
goldens and on the real portal pages may not fall below what it was when the floor was set,
and no value may be wrong. A change that lowers one must lower its floor here, and say why in
its commit. Figures: ``python -m tests.golden.metadata.recall``, ``python -m
tests.realpages.measure``."""

from __future__ import annotations

import pytest

from tests.golden.metadata import recall as goldens
from tests.realpages import measure as realpages

#: (corpus, part) → field → the lowest recall allowed. Set from the measured figures.
FLOORS = {
    ("goldens", "cases.yaml"): dict.fromkeys(goldens.FIELDS, 1.0),
    ("goldens", "holdout.yaml"): dict.fromkeys(goldens.FIELDS, 1.0),
    ("goldens", "holdout_messy.yaml"): dict.fromkeys(goldens.FIELDS, 1.0),
    # issuing_agency 0.92: the 2014 letter signs as 平潭综合实验区管委会办公室 and never writes
    # 管理委员会: an abbreviation is stored only as the full name the document writes
    ("realpages", "bare"): {**dict.fromkeys(realpages.FIELDS, 1.0), "issuing_agency": 0.92},
    ("realpages", "registered"): {**dict.fromkeys(realpages.FIELDS, 1.0),
                                  "issuing_agency": 0.92},
    # issuing_agency 0.97 (0.86 before session 43): a region-titled report's body from its
    # own words (经X人民政府同意…发布, the overview's subject), and the labels read by one
    # convention (texts.yaml's header: seven labels of bodies the text does not write, null)
    # round 4 (16 texts joined): province and city 0.98 (朔州's notice names its city only
    # as 朔 in 朔政办函), agency 0.96 (a spam mirror's rule whose title carries the mirror's name)
    # round 5 (16 joined): county 0.98 (a zone's 花都区 named only by its platform's name)
    # round 6 (16 joined): city and county 0.97 (城中区 of 西宁 or 柳州, named alone), agency 0.96
    # round 7 (16 joined): province 0.97 (a training's news on a mirror names no place of its
    # own), agency 0.95
    # round 8 (16 joined): agency 0.92 (bodies written only by abbreviation or in a news item),
    # city 0.97, county 0.97 (a zone of two provinces: 北京大兴国际机场临空经济区(廊坊))
    # round 9 (16 joined): agency 0.90 (a doubled 人民政府政府办公室; a notice whose red header a
    # mirror replaced with spam)
    # round 10 (16 joined): agency 0.89 (119 of 133; a town's office named only as contact, a
    # committee written only as 管委会)
    # session 44: province 0.98 (167 of 170: a paper's place tells apart 城中区, a place in
    # parentheses places a zone, (廊坊)), city and county 0.98 and 0.97, agency 0.90 (121 of
    # 133: 由…结合有关统计数据编制, 在2024年,X坚决…)
    # round 11 (16 joined): province 0.97 (182 of 186: a 苏木's report that names no banner or
    # league, 明仁苏木), agency 0.91 (132 of 145)
    # round 12 (16 joined, session 45): agency 0.91 (145 of 158: 珠海高新…管委会 written only
    # so, a spam mirror's guide naming its body only in its own title)
    # round 13 (16 joined): unchanged (agency 156 of 171)
    # round 14 (16 joined): agency 0.90 (167 of 184: a 繁體 plan's issuer over its wrapped
    # title, a prefecture's report scoped to its 办公厅, a 2004 press briefing)
    ("realtexts", "text"): {"document_kind": 1.0, "report_year": 1.0, "province_code": 0.97,
                            "city_code": 0.98, "county_code": 0.98, "issuing_agency": 0.90},
    # the texts kept aside, after their one measurement (see the corpus's header); province,
    # city and county raised after the postcode rule, which one of them (西安区, 邮编136200)
    # showed to be missing: that text is no longer unseen; round 3's 14 added
    # year 1.0 and agency 0.97 since session 43 (the year an overview opens on; the agency as
    # for the texts above)
    # round 4's 16 held out: city 0.94 and county 0.93 (a Tianjin district named only in a
    # cited plan's title)
    # round 5's 16 held out: province 0.98 and city 0.93 (武汉东湖新技术开发区's street: 武汉 before
    # a zone named after its lake; 66 of 71), agency 0.95 (news items that name no body in full)
    # round 6's 16 held out: agency 1.0 after its news ledes (日前,贵州省人民政府正式向社会发布…)
    # round 7's 16 held out: county 0.94, agency 0.96 (96 of 99; 贺州's cover notice, 我办编制了)
    # round 8's 16 held out: agency 0.93
    # round 10's 16 held out: county 0.93 (85 of 91), agency 0.92 (132 of 142)
    # session 44: city 0.93 (121 of 129), agency 0.93 (133 of 143): 海东市's 2013 report,
    # compiled by 海东地区行署办公室 (由…负责组织编制, now read), keeps its agency and the
    # province both names lie in, not the title's city (the prefecture was renamed that year)
    # round 11's 16 held out: city 0.94 (136 of 144), county 0.94 (95 of 101), agency 0.93
    # round 12's 16 held out: city 0.95 (150 of 157), county 0.95 (105 of 110), agency 0.92
    # (153 of 166: a town named only as 请与扎赉特旗好力保镇联系)
    # round 13's 16 held out: unchanged (city 161 of 168, agency 165 of 179)
    # round 14's 16 held out: agency 0.91 (174 of 190: a notice's issuer named only in running
    # text on a document-sharing site, a 繁體 press item)
    ("realtexts", "text held-out"): {"document_kind": 1.0, "report_year": 1.0,
                                     "province_code": 0.98, "city_code": 0.95,
                                     "county_code": 0.95, "issuing_agency": 0.91},
}


def _totals(corpus: str, part: str):
    if corpus == "goldens":
        return goldens.measure([goldens.FILES[0].with_name(part)])
    source = realpages.TEXTS if corpus == "realtexts" else realpages.CORPUS
    held_out = part.endswith("held-out")
    pages = [p for p in realpages.load_pages(source) if bool(p.get("holdout")) is held_out]
    return realpages.measure(pages, part.removesuffix(" held-out"))


@pytest.mark.parametrize("corpus,part", FLOORS, ids=[f"{c}-{p}" for c, p in FLOORS])
def test_recall_stays_above_its_floor_and_nothing_is_wrong(corpus, part):
    totals = _totals(corpus, part)
    assert set(totals) == set(FLOORS[(corpus, part)])
    wrong = {name: c["wrong"] for name, c in totals.items() if c["wrong"]}
    assert not wrong, "wrong values"
    below = {name: f"{goldens.recall(c):.3f} < {FLOORS[(corpus, part)][name]}"
             for name, c in totals.items() if goldens.recall(c) < FLOORS[(corpus, part)][name]}
    assert not below, "recall fell below its floor"
