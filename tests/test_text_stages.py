"""Decode, extract and metadata as pure functions, on the seeds and on small built inputs."""

from __future__ import annotations

import io
from datetime import date

import pytest

from pipelines.decode import declared_charset, decode
from pipelines.errors import DocumentRejected
from pipelines.extract import extract, sniff_kind
from pipelines.metadata import extract_metadata, parse_date
from tests import word_pages
from tests.conftest import SEEDS

TEXT = "龙潭区人民政府2013年政府信息公开工作年度报告"


@pytest.mark.parametrize(
    ("data", "headers", "detected", "declared"),
    [
        (TEXT.encode("utf-8"), None, "utf-8", None),
        (TEXT.encode("gbk"), None, "gb18030", None),
        (b'<meta charset="gb2312">' + TEXT.encode("gbk"), None, "gb18030", "gb2312"),
        (TEXT.encode("gbk"), {"Content-Type": "text/html; charset=utf-8"}, "gb18030", "utf-8"),
        (b"\xef\xbb\xbf" + TEXT.encode("utf-8"), None, "utf-8", None),
    ],
    ids=["utf8", "gbk-undeclared", "gbk-meta", "gbk-header-lies-utf8", "utf8-bom"],
)
def test_decode(data, headers, detected, declared):
    decoded = decode(data, headers=headers)
    assert TEXT in decoded.text
    assert decoded.encoding_detected == detected and decoded.encoding_declared == declared


@pytest.mark.parametrize(
    ("data", "reason"),
    [(b"", "empty"), (b" \r\n\t", "empty"), (b"\x00\x01\x02\x03" * 100, "binary"),
     (bytes(range(128, 256)) * 4, "implausible"),
     ((TEXT.encode("gbk") + b"\xff" * 8) * 5, "undecodable")],
    ids=["empty", "whitespace", "control-bytes", "random-hanzi", "undecodable"],
)
def test_decode_rejects_non_text(data, reason):
    with pytest.raises(DocumentRejected) as caught:
        decode(data)
    assert caught.value.reason == reason and caught.value.stage == "decode"


def test_a_few_undecodable_bytes_are_counted_not_hidden():
    data = TEXT.encode("gbk") * 20 + b"\xff" + TEXT.encode("gbk") * 20
    decoded = decode(data)
    assert decoded.encoding_detected == "gb18030" and decoded.undecodable_bytes == 1
    assert decoded.repairs == ["undecodable_bytes"] and decoded.text.count("\ufffd") == 1


def test_declared_charset_prefers_the_header():
    html = b'<meta http-equiv="Content-Type" content="text/html; charset=GBK">'
    assert declared_charset(html, {"content-type": "text/html;charset=UTF-8"}) == "utf-8"
    assert declared_charset(html) == "gbk"


def test_html_page_text_title_and_meta():
    page = ("<html><head><title>站点 - 标题</title>"
            '<meta name="ArticleTitle" content="西邑乡2019年政府信息公开年度报告">'
            '<meta name="PubDate" content="2020-01-31 09:00">'
            "<script>var x = '不要';</script><style>p{}</style></head>"
            "<body><p>一、总体情况</p><table><tr><td>索引号</td><td>01525767-7-/2020-0131001</td>"
            "</tr></table></body></html>").encode("gbk")
    result = extract(page, filename="t.html")
    assert result.kind == "html" and result.title == "西邑乡2019年政府信息公开年度报告"
    assert "一、总体情况" in result.text and "不要" not in result.text and "p{}" not in result.text
    assert "索引号\t01525767-7-/2020-0131001" in result.text
    assert result.meta["PubDate"] == "2020-01-31 09:00"
    meta = extract_metadata(result.text, title=result.title, meta=result.meta,
                            metadata_lines=result.metadata_lines)
    assert meta.published_date == date(2020, 1, 31) and meta.report_year == 2019


def test_docx_text_includes_tables():
    import docx

    document = docx.Document()
    document.add_paragraph("市东街道2020年政府信息公开工作年度报告")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "行政许可", "42"
    buffer = io.BytesIO()
    document.save(buffer)
    result = extract(buffer.getvalue(), filename="report.docx")
    assert result.kind == "docx"
    assert "市东街道2020年政府信息公开工作年度报告" in result.text and "行政许可\t42" in result.text


@pytest.mark.parametrize(
    ("head", "filename", "kind"),
    [(b"%PDF-1.4", "a.html", "pdf"), (b"PK\x03\x04", "a.doc", "docx"),
     (b"<!DOCTYPE html><html>", "a.txt", "html"), ("正文".encode(), "a.txt", "text"),
     ("正文".encode(), "a.shtml", "html")],
    ids=["pdf-misnamed", "zip", "html-misnamed", "text", "shtml-by-name"],
)
def test_sniff_kind_trusts_bytes_before_names(head, filename, kind):
    assert sniff_kind(head, filename) == kind


@pytest.mark.parametrize(
    ("value", "expected"),
    [("2020-01-31", date(2020, 1, 31)), ("2021-01-30 21:04", date(2021, 1, 30)),
     ("2019年12月3日", date(2019, 12, 3)), ("2020/1/5", date(2020, 1, 5)),
     ("2020-13-01", None), ("", None), ("浏览量", None)],
    ids=["iso", "iso-time", "chinese", "slashes", "bad-month", "empty", "no-date"],
)
def test_parse_date(value, expected):
    assert parse_date(value) == expected


SEED_EXPECTATIONS = {
    "000": {"title": "刘房子街道2019年度政务公开工作年度报告", "report_year": 2019,
            "issuing_agency": "刘房子街道办事处", "written_date": date(2020, 2, 26)},
    # Starts with its body: no title is stated; year and agency come from the opening.
    "001": {"title": None, "report_year": 2019, "issuing_agency": "牟定县信访局"},
    "002": {"title": "龙潭区人民政府2013年政府信息公开工作年度报告", "report_year": 2013,
            "issuing_agency": "龙潭区人民政府"},
    "003": {"title": "西邑乡2019年政府信息公开年度报告", "report_year": 2019,
            "index_no": "01525767-7-/2020-0131001", "issuing_agency": "隆阳区西邑乡人民政府",
            "category": "政府信息公开年报", "doc_no": None, "published_date": date(2020, 1, 31)},
    "004": {"title": "毕节市七星关区人民政府市东街道办事处2020年政府信息公开工作年度报告",
            "report_year": 2020, "published_date": date(2021, 1, 30),
            "written_date": date(2021, 1, 21), "issuing_agency": "七星关区人民政府市东街道办事处"},
}


@pytest.mark.parametrize("seed", sorted(SEED_EXPECTATIONS), ids=lambda s: f"seed-{s}")
def test_seed_metadata(seed):
    [path] = SEEDS.glob(f"{seed}_*.txt")
    result = extract(path.read_bytes(), filename=path.name)
    meta = extract_metadata(result.text, title=result.title, meta=result.meta,
                            metadata_lines=result.metadata_lines)
    for name, expected in SEED_EXPECTATIONS[seed].items():
        assert getattr(meta, name) == expected, name


def test_report_year_from_the_publication_date_only_for_an_annual_report():
    from pipelines.metadata import report_year

    published = date(2021, 3, 30)
    assert report_year("政府信息公开工作年度报告", "正文", published) == (
        2020, "published 2021-03-30 − 1 (an annual report appears the year after)")
    assert report_year("关于开展培训的通知", "正文", published) == (None, None)
    assert report_year("二〇一九年政府信息公开工作年度报告", "", published) == (
        2019, "title: 二〇一九年")


def test_a_list_page_title_fills_a_report_that_states_none():
    from pipelines.document import build_report, extract_document
    from pipelines.records import RawDocument, Source

    [seed] = SEEDS.glob("001_*.txt")
    source = Source(url="http://127.0.0.1/nb/1.html", kind="http", fetched_at="",
                    filename=seed.name,
                    context={"title": "牟定县信访局2019年政府信息公开工作年度报告"})
    raw = RawDocument("0" * 64, 1, source)
    report, _ = build_report(raw, extract_document(raw, seed.read_bytes()))
    assert report.metadata.title == "牟定县信访局2019年政府信息公开工作年度报告"
    assert report.metadata.raw["title"].endswith("(list page)")


# -- pages pasted from Word into an old editor -------------------------------------------------

@pytest.mark.parametrize("shell", word_pages.SHELLS)
@pytest.mark.parametrize("paragraphs,page_breaks", [(0, False), (1, True), (6, True)],
                         ids=["tables-only", "few-lines-page-breaks", "paragraphs-page-breaks"])
def test_a_word_pasted_table_report_is_read_whole(shell, paragraphs, page_breaks):
    """A 2021 report that is mostly its tables, pasted from Word (IE markup, <o:p>, xml
    namespace PIs, years split across spans), in a shell whose content block has no known
    name: its text is the report's, not the portal's menus (char F1 ≥ 0.9)."""
    from tests.bench.bench_text import f1

    data, gold = word_pages.word_page(len(shell) + paragraphs, shell, paragraphs=paragraphs,
                                      page_breaks=page_breaks)
    found = extract(data, filename="report.html")
    assert f1(found.text, gold) >= 0.9, found.text[:400]
    assert "栏目" not in found.text and "首页" not in found.text


_LINES = ["一、总体情况", "本机关认真贯彻落实《中华人民共和国政府信息公开条例》。",
          "全年主动公开政府信息二千一百三十一条，其中规范性文件二十九件。",
          "二、收到和处理政府信息公开申请情况", "全年共收到政府信息公开申请二十二件，均按时答复。",
          "三、存在的主要问题及改进情况", "存在的主要问题是公开内容的针对性和时效性有待提高。",
          "下一步将进一步完善工作机制，加强政策解读和回应关切，推动政务公开工作提质增效。",
          "四、其他需要报告的事项", "本年度未收取信息处理费，落实上级政务公开工作要点情况良好。",
          "依托政府门户网站、政务新媒体和政务公开专栏，及时发布财政预决算等重点领域信息。"]
_RELATED = "".join(f"<li><a href='/a/{n}.html'>某县{n}局二〇一九年政府信息公开工作年度报告</a>"
                   f"<span>2020-01-1{n}</span></li>" for n in range(8))
DIV_PARAGRAPHS = {  # pages whose paragraphs are <div> blocks, beside lists of related reports
    "indented-divs": "".join(f"<div style='text-indent:2em'>{line}</div>" for line in _LINES),
    "plain-divs-in-a-section": "<section>" + "".join(f"<div>{line}</div>" for line in _LINES)
                               + "</section>",
    "divs-with-line-breaks": "".join(f"<div>{line}<br/></div>" for line in _LINES),
}


@pytest.mark.parametrize("body", DIV_PARAGRAPHS.values(), ids=DIV_PARAGRAPHS.keys())
def test_paragraphs_in_div_blocks_are_the_text_without_the_page_around_them(body):
    page = (f"<html><body><div class='logo'>某县人民政府门户网站</div><div class='main'>"
            f"<div class='left'><h3>某县2019年政府信息公开工作年度报告</h3>"
            f"<p class='info'>来源：某县人民政府　浏览次数：650</p><div class='con'>{body}</div>"
            f"<div class='prev'><a href='/p.html'>上一篇：关于开展培训的通知</a></div></div>"
            f"<div class='right'><h4>相关文章</h4><ul>{_RELATED}</ul></div></div>"
            f"<div class='footer'>主办单位：某县人民政府办公室</div></body></html>")
    text = extract(page.encode(), filename="page.html").text
    assert text.split("\n") == _LINES


_TABLE = [["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"], ["规章", "0", "0", "3"],
          ["行政规范性文件", "12", "1", "45"]]
_WORD_TABLE = "<table border=1>" + "".join(
    "<tr>" + "".join(f"<td style='border:solid windowtext 1.0pt'><p class=MsoNormal><span>{cell}"
                     "</span></p></td>" for cell in row) + "</tr>" for row in _TABLE) + "</table>"


def _word(lines: list[str]) -> str:
    return "".join(f"<p class=MsoNormal style='text-indent:32pt'><span>{line}</span></p>"
                   for line in lines)


WORD_SECTIONS = {  # a Word paste cut into sections (a landscape table is a section of its own)
    "text-table-text": (
        f"<div class=WordSection1>{_word(_LINES[:6])}</div>"
        f"<div class=WordSection2>{_WORD_TABLE}</div><div class=WordSection3>{_word(_LINES[6:])}"
        "</div>", [*_LINES[:6], *("\t".join(row) for row in _TABLE), *_LINES[6:]]),
    "two-text-sections": (
        f"<div class=Section1>{_word(_LINES[:5])}</div><div class=Section2>{_word(_LINES[5:])}"
        "</div>", _LINES),
}


@pytest.mark.parametrize("body, lines", WORD_SECTIONS.values(), ids=WORD_SECTIONS.keys())
def test_a_report_cut_into_sections_is_read_whole_by_the_density_rule(body, lines):
    page = (f"<html><body><div class='logo'>某县人民政府门户网站</div><div class='art'>"
            f"<h2>某县2020年政府信息公开工作年度报告</h2><div class='desc'>来源：某县</div>"
            f"<div class='text'>{body}</div></div><div class='right'><ul>{_RELATED}</ul></div>"
            f"</body></html>")
    extracted = extract(page.encode(), filename="page.html")
    assert extracted.container == "densest"
    assert extracted.text.split("\n") == lines
