"""Golden cases for extraction + metadata + region, one folder per CMS layout under
``tests/golden/extract``: ``input.*`` as served, ``meta.json`` (URL), ``expected.json`` (the
record's metadata fields) and ``expected.txt`` (its text). Regenerate with
``pytest tests/test_extract_golden.py --regen-golden`` and review the diff."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.document import build_report, extract_document
from pipelines.records import RawDocument, Source

CASES = sorted(p for p in (Path(__file__).parent / "golden" / "extract").iterdir() if p.is_dir())
FIELDS = ("title", "index_no", "issuing_agency", "category", "doc_no", "written_date",
          "published_date", "report_year", "report_year_evidence", "province_code",
          "province_name", "city_code", "county_code", "region_evidence")
# Page furniture that must never reach a report's text.
FURNITURE = ("索引号", "打印本页", "关闭窗口", "ICP备", "分享到", "当前位置", "网站标识码",
             "您当前的位置", "浏览次数", "版权所有")


def _build(case: Path):
    [source] = case.glob("input.*")
    meta = json.loads((case / "meta.json").read_text(encoding="utf-8"))
    data = source.read_bytes()
    url = meta["url"] or source.absolute().as_uri()
    raw = RawDocument("0" * 64, len(data), Source(url=url, kind="http" if meta["url"] else "file",
                                                   fetched_at="2026-01-01T00:00:00+00:00",
                                                   filename=source.name))
    extracted = extract_document(raw, data)
    report, _ = build_report(raw, extracted)
    columns = report.to_row()
    row = {name: columns[name] for name in FIELDS}
    row = {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in row.items()}
    row["container"] = extracted.container
    return report, row


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden_case(case, regen_golden):
    report, row = _build(case)
    if regen_golden:
        (case / "expected.json").write_text(
            json.dumps(row, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        (case / "expected.txt").write_text(report.text, encoding="utf-8")
    assert row == json.loads((case / "expected.json").read_text(encoding="utf-8"))
    assert report.text == (case / "expected.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize("case", [c for c in CASES if c.name != "plain-text-seed"],
                         ids=[c.name for c in CASES if c.name != "plain-text-seed"])
def test_page_furniture_stays_out_of_the_text(case):
    report, _ = _build(case)
    for furniture in FURNITURE:
        assert furniture not in report.text, furniture


@pytest.mark.parametrize(
    ("case", "expected"),
    [("trs", {"index_no": "01525767-7-/2020-0131001", "issuing_agency": "隆阳区西邑乡人民政府",
              "written_date": "2020-01-20", "published_date": "2020-01-31",
              "report_year": 2019, "county_code": "530502", "container": "trs"}),
     ("hanweb", {"issuing_agency": "七星关区人民政府市东街道办事处", "report_year": 2020,
                 "published_date": "2021-01-30", "county_code": "520502",
                 "container": "hanweb"}),
     ("ucap", {"index_no": "11220381MB0123456A/2020-00031", "issuing_agency": "刘房子街道办事处",
               "published_date": "2020-03-02", "report_year": 2019, "county_code": "220381",
               "container": "ucap"}),
     # the item's publisher, the office of the body its title names: the body's report
     ("gkmlpt", {"issuing_agency": "龙潭区人民政府", "report_year": 2013,
                      "county_code": "220203", "published_date": "2014-03-26"}),
     # No CMS container: the block holding most of the page's running text.
     ("generic", {"report_year": 2019, "published_date": "2020-02-10", "container": "densest",
                  "county_code": "532323"}),
     ("ambiguous-agency", {"province_code": None, "region_evidence": None}),
     ("ambiguous-agency-resolved", {"county_code": "330106"}),
     ("plain-text-seed", {"index_no": "01525767-7-/2020-0131001", "report_year": 2019,
                          "published_date": "2020-01-31", "county_code": "530502"})],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_what_each_layout_must_yield(case, expected):
    """Independent of the golden files: the facts each page states, read back."""
    _, row = _build(next(c for c in CASES if c.name == case))
    assert {k: row[k] for k in expected} == expected
