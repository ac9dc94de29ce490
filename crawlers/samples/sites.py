"""Fixture portals built from the seed reports, one per CMS family, for ``make run``, the tests
and the demo (``govreports serve-samples``).

Every page follows the layout its family really uses (see pipelines/families/): TRS lists
paginated by ``createPageHTML`` and served as GBK, a Hanweb column loaded through
``dataproxy.jsp`` and another through the jpaas JSON API, a Ucap column, a gkmlpt JSON API and a
繁體 mirror site with "下一页" links. One report exists only as a PDF attachment. Index numbers,
dates and site codes on these pages are made up for the fixtures; the report texts are the
seeds'. Deterministic: the same bytes every time.
"""

from __future__ import annotations

import html
import io
import json
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

from crawlers.samples.server import Page, Request, Site
from pipelines.errors import ConfigError

SEEDS = Path(__file__).with_name("seeds")
#: First line of ``crawlers/sample_portals.yaml`` (written by ``write_sample_registry``).
SAMPLE_REGISTRY_NOTE = "# Fixture portals served by `govreports serve-samples` (default port)."
#: Default port of ``serve-samples``; each portal has its own loopback address.
DEFAULT_PORT = 8780


@dataclass(frozen=True)
class SamplePortal:
    """A fixture site and the registry entry that crawls it."""

    site: Site
    entry: dict  # without start_urls' host and port, filled in by registry_entries
    start_paths: tuple[str, ...]
    reports: int  # how many reports a crawl of it must land


def seed_lines(number: str) -> list[str]:
    [path] = SEEDS.glob(f"{number}_*.txt")
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _paragraphs(lines: list[str]) -> str:
    return "\n".join(f"<p>{html.escape(line)}</p>" for line in lines)


def _page(text: str, charset: str = "utf-8") -> Page:
    # What a charset cannot hold becomes a numeric character reference, as gateways do.
    return Page(text.encode(charset, "xmlcharrefreplace"), f"text/html; charset={charset}")


def _detail(title: str, meta_rows: list[tuple[str, str]], body: str, *, container: str,
            charset: str = "utf-8", site: str = "", extra_head: str = "") -> str:
    cells = "".join(f"<tr><th>{k}：</th><td>{html.escape(v)}</td></tr>" for k, v in meta_rows)
    return f"""<!DOCTYPE html>
<html><head><meta http-equiv="Content-Type" content="text/html; charset={charset}">
<meta name="SiteName" content="{site}">{extra_head}
<title>{html.escape(title)}_{site}</title></head>
<body><div class="crumbs">当前位置：<a href="/">首页</a> &gt; 政府信息公开 &gt; 年报</div>
<table class="xxgk_table">{cells}</table>
<h1>{html.escape(title)}</h1>
{container.format(body=body)}
<div class="footer">主办单位：{site}　网站标识码：0000000000</div>
</body></html>"""


# -- TRS: 吉林 (GBK, two list pages, one report only as a PDF) --------------------------------

def _trs_list(items: list[tuple[str, str, str]], page: int, count: int) -> str:
    lis = "\n".join(f'<li><a href="{href}" title="{html.escape(t)}" target="_blank">'
                    f"{html.escape(t)}</a><span>{d}</span></li>" for href, t, d in items)
    return f"""<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<title>政府信息公开年报</title></head><body>
<div class="list"><ul>
{lis}
</ul></div>
<div class="page"><script type="text/javascript">
createPageHTML({count}, {page}, "index", "html");
</script></div></body></html>"""


def _pdf(lines: list[str]) -> bytes:
    """A PDF whose text layer holds the lines (CJK through a standard CID font)."""
    try:
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.cidfonts import UnicodeCIDFont
        from reportlab.pdfgen import canvas
    except ImportError:
        raise ConfigError("the sample portals need reportlab, which the runtime does not: "
                          "pip install 'govreports[samples]'") from None

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, invariant=1)  # invariant: no timestamps, same bytes each run
    y = 800
    for line in lines:
        for start in range(0, max(len(line), 1), 38):  # wrap at the page width
            if y < 40:
                pdf.showPage()
                y = 800
            pdf.setFont("STSong-Light", 10)
            pdf.drawString(40, y, line[start:start + 38])
            y -= 14
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def trs_jilin(host: str) -> SamplePortal:
    site = "吉林省人民政府（样例）"
    liufangzi = seed_lines("000")
    longtan = seed_lines("002")
    t000 = liufangzi[0] + liufangzi[1]
    t002 = longtan[0] + longtan[1]
    base = "/zwgk/zfxxgknb/"
    detail_000 = _detail(t000, [("索引号", "11220381MB0123456A/2020-00031"),
                                ("发文机构", "公主岭市刘房子街道办事处"),
                                ("成文日期", "2020年02月26日"), ("发布日期", "2020-03-02")],
                         _paragraphs(liufangzi[2:]), charset="gb2312", site=site,
                         container='<div class="TRS_Editor">{body}</div>')
    pointer = _detail(t002, [("索引号", "11220203013512345K/2014-00012"),
                             ("发文机构", "吉林市龙潭区人民政府"), ("发布日期", "2014-03-25")],
                      '<p>详见附件：<a href="./W020140325512345678901.pdf">'
                      f"{html.escape(t002)}.pdf</a></p>", charset="gb2312", site=site,
                      container='<div class="TRS_Editor">{body}</div>')
    routes = {
        base: _page(_trs_list([("./202003/t20200302_1001.html", t000, "2020-03-02")], 0, 2),
                    "gbk"),
        base + "index.html": _page(_trs_list([("./202003/t20200302_1001.html", t000,
                                               "2020-03-02")], 0, 2), "gbk"),
        base + "index_1.html": _page(_trs_list([("./201403/t20140325_2002.html", t002,
                                                 "2014-03-25")], 1, 2), "gbk"),
        base + "202003/t20200302_1001.html": _page(detail_000, "gbk"),
        base + "201403/t20140325_2002.html": _page(pointer, "gbk"),
        base + "201403/W020140325512345678901.pdf": Page(_pdf(longtan), "application/pdf"),
    }
    return SamplePortal(
        Site("sample-trs-jilin", host, routes),
        {"id": "sample-trs-jilin", "name": site, "province": "220000", "cms": "trs"},
        (base,), reports=2)


# -- Hanweb: 保山市隆阳区 (a dataproxy.jsp column and a jpaas column, the same report in both) --

def hanweb_longyang(host: str) -> SamplePortal:
    site = "保山市隆阳区人民政府（样例）"
    lines = seed_lines("003")
    title, body = lines[0], lines[12:]
    art = "/art/2020/1/31/art_1001_4567.html"
    detail = _detail(title, [("索引号", "01525767-7-/2020-0131001"),
                             ("发布机构", "隆阳区西邑乡人民政府"), ("生成日期", "2020-01-20"),
                             ("公开日期", "2020-01-31")], _paragraphs(body), site=site,
                     extra_head='<meta name="Maketime" content="2020-01-31 10:12:00">',
                     container="<div class=\"article\"><!--ZJEG_RSS.content.begin-->{body}"
                               "<!--ZJEG_RSS.content.end--></div>")
    record = (f'<li><a href="{art}" target="_blank" title="{title}">{title}</a>'
              "<span>2020-01-31</span></li>")
    dataproxy_col = f"""<html><head><meta charset="utf-8"><title>政府信息公开年报</title></head>
<body><div id="1001"><script type="text/javascript">
var jpage = new JPage({{col:1,webid:'31',path:'/',columnid:'1001',sourceContentType:'1',
unitid:'5001',webname:'{site}',permissiontype:0}});
</script><script language="javascript" src="/module/web/jpage/jpage.js"></script></div>
</body></html>"""
    jpaas_col = """<html><head><meta charset="utf-8"><title>部门年报</title></head>
<body><div id="jpaas-list" data-web-id="31" data-page-id="1002" data-tag-id="ndbg"
data-tpl-set-id="7"></div>
<script src="/api-gateway/jpaas-publish-server/front/page/build/unit.js"></script>
</body></html>"""

    def dataproxy(request: Request) -> Page:
        if request.form.get("columnid") != "1001":
            return Page(b"<datastore><totalrecord>0</totalrecord><recordset/></datastore>",
                        "text/xml; charset=utf-8", validators=False)
        xml = ("<?xml version='1.0' encoding='utf-8'?><datastore><nextgroup>"
               "<![CDATA[<a href=\"/module/web/jpage/dataproxy.jsp?page=1\">]]></nextgroup>"
               f"<recordset><record><![CDATA[{record}]]></record></recordset>"
               "<totalrecord>1</totalrecord><totalpage>1</totalpage></datastore>")
        return Page(xml.encode("utf-8"), "text/xml; charset=utf-8", validators=False)

    def jpaas(request: Request) -> Page:
        data = {"success": True, "data": {"html": f"<ul>{record}</ul>", "total": 1}}
        return Page(json.dumps(data, ensure_ascii=False).encode(),
                    "application/json; charset=utf-8", validators=False)

    routes = {
        "/col/col1001/index.html": _page(dataproxy_col),
        "/col/col1002/index.html": _page(jpaas_col),
        "/module/web/jpage/dataproxy.jsp": dataproxy,
        "/api-gateway/jpaas-publish-server/front/page/build/unit": jpaas,
        art: _page(detail),
    }
    return SamplePortal(
        Site("sample-hanweb-longyang", host, routes),
        {"id": "sample-hanweb-longyang", "name": site, "region": "530502", "cms": "hanweb"},
        ("/col/col1001/index.html", "/col/col1002/index.html"), reports=1)


# -- Ucap: 毕节市七星关区 ------------------------------------------------------------------------

def ucap_qixingguan(host: str) -> SamplePortal:
    site = "毕节市七星关区人民政府（样例）"
    lines = seed_lines("004")
    title = lines[0]
    path = "/xxgk/ndbg/202101/t20210130_3001.html"
    detail = f"""<!DOCTYPE html><html><head><meta charset="utf-8">
<meta name="SiteName" content="{site}"><title>{title}-{site}</title></head>
<body><table class="table_content">
<tr><td class="c1">索引号</td><td class="c2">11520502MB1591234X/2021-00017</td>
<td class="c3">发文机关</td><td class="c4">七星关区人民政府市东街道办事处</td></tr>
<tr><td class="c1">成文日期</td><td class="c2">2021年01月21日</td>
<td class="c3">发布日期</td><td class="c4">2021年01月30日</td></tr></table>
<div class="pages_content"><ucaptitle>{title}</ucaptitle>
<div id="UCAP-CONTENT"><ucapcontent>
{_paragraphs(lines[3:])}
</ucapcontent></div></div></body></html>"""
    listing = f"""<html><head><meta charset="utf-8"><title>年度报告</title>
<script src="/ucap/common.js"></script></head><body><div class="ucap-list"><ul>
<li><a href="./202101/t20210130_3001.html">{title}</a><span>2021-01-30</span></li>
</ul></div><div class="pages">共1页</div></body></html>"""
    routes = {"/xxgk/ndbg/index.htm": _page(listing), path: _page(detail)}
    return SamplePortal(
        Site("sample-ucap-qixingguan", host, routes),
        {"id": "sample-ucap-qixingguan", "name": site, "region": "520502", "cms": "ucap"},
        ("/xxgk/ndbg/index.htm",), reports=1)


# -- gkmlpt: 牟定县 (JSON list API, two pages) -------------------------------------------------

def gkmlpt_mouding(host: str) -> SamplePortal:
    site = "牟定县人民政府（样例）"
    lines = seed_lines("001")
    title = "牟定县信访局2019年政府信息公开工作年度报告"
    post = "/gkmlpt/content/2/2001/post_2001.html"
    detail = f"""<!DOCTYPE html><html><head><meta charset="utf-8">
<meta name="SiteName" content="{site}"><title>{title}</title></head><body>
<div class="introduce"><table>
<tr><td>索引号：</td><td>11532323015243210X/2020-00005</td><td>分类：</td><td>年度报告</td></tr>
<tr><td>发布机构：</td><td>牟定县信访局</td><td>发布日期：</td><td>2020-02-10</td></tr>
</table></div>
<div class="article-content">{_paragraphs(lines)}</div></body></html>"""
    index = """<html><head><meta charset="utf-8"><title>政府信息公开目录</title>
<script>window._CONFIG = {SID: '532323', TREE: {"id": 2, "name": "年度报告"}};</script>
</head><body><div id="app"></div></body></html>"""
    article = {"id": 2001, "title": title, "identifier": "11532323015243210X/2020-00005",
               "publisher": "牟定县信访局", "document_number": "", "date": 1581264000,
               "attachment": []}

    def api(request: Request) -> Page:
        page = int(request.query.get("page") or 1)
        items = [dict(article, url=f"http://{request.headers['host']}{post}")] if page == 1 else []
        data = {"articles": items, "total": 1, "page": page, "size": 10}
        return Page(json.dumps(data, ensure_ascii=False).encode(),
                    "application/json; charset=utf-8", validators=False)

    routes = {"/gkmlpt/index": _page(index), "/gkmlpt/api/all/2": api, post: _page(detail)}
    return SamplePortal(
        Site("sample-gkmlpt-mouding", host, routes),
        {"id": "sample-gkmlpt-mouding", "name": site, "region": "532323", "cms": "gkmlpt"},
        ("/gkmlpt/index",), reports=1)


# -- generic: a 繁體 mirror (Big5 gateway) of 西邑乡's report, "下一页" pagination ----------------

@cache
def _mirror_text(lines: tuple[str, ...]) -> list[str]:
    """Lines converted to 繁體 with the mirror's pinyin noise after some characters."""
    import opencc
    from pypinyin import Style, pinyin

    convert = opencc.OpenCC("s2tw").convert
    out = []
    for line in lines:
        traditional = convert(line)
        noisy = []
        for simplified, char in zip(line, traditional, strict=False):
            noisy.append(char)
            if char != simplified and ord(char) % 3 == 0:  # some converted characters
                noisy.append("(" + pinyin(simplified, style=Style.TONE)[0][0] + ")")
        out.append("".join(noisy) + traditional[len(line):])
    return out


def mirror_xiyi(host: str) -> SamplePortal:
    lines = _mirror_text(tuple(seed_lines("003")[12:]))
    title = _mirror_text(("西邑乡2019年政府信息公开年度报告",))[0]
    gate = "/gate/big5/www.longyang.gov.cn"
    detail = f"""<html><head><meta http-equiv="Content-Type" content="text/html; charset=big5">
<title>{title}</title></head><body><div class="nav">首頁 | 政務公開</div>
<div class="content"><h2>{title}</h2><div class="info">發布時間：2020-01-31</div>
{_paragraphs(lines)}</div><div class="foot">版權所有</div></body></html>"""
    page1 = f"""<html><head><meta charset="utf-8"><title>政務公開</title></head><body><ul>
<li><a href="{gate}/zwgk/tzgg/1.html">關於開展安全生產檢查的通知</a> 2020-02-01</li>
<li><a href="{gate}/zwgk/tzgg/2.html">關於春節期間值班安排的通知</a> 2020-01-20</li>
</ul><div class="page"><a href="{gate}/zwgk/list_2.html">下一页</a></div></body></html>"""
    page2 = f"""<html><head><meta charset="utf-8"><title>政務公開</title></head><body><ul>
<li><a href="{gate}/zwgk/ndbg/202001/t20200131_4567.html">{title}</a> 2020-01-31</li>
</ul><div class="page"><a href="{gate}/zwgk/list.html">上一页</a></div></body></html>"""
    routes = {
        f"{gate}/zwgk/list.html": _page(page1),
        f"{gate}/zwgk/list_2.html": _page(page2),
        f"{gate}/zwgk/ndbg/202001/t20200131_4567.html": _page(detail, "big5hkscs"),
        f"{gate}/zwgk/tzgg/1.html": _page("<html><body>通知</body></html>"),
        f"{gate}/zwgk/tzgg/2.html": _page("<html><body>通知</body></html>"),
    }
    return SamplePortal(
        Site("sample-mirror-big5", host, routes),
        {"id": "sample-mirror-big5", "name": "隆阳区政府网站繁體镜像（样例）", "province": "530000",
         "cms": "generic"},
        (f"{gate}/zwgk/list.html",), reports=1)


BUILDERS = (trs_jilin, hanweb_longyang, ucap_qixingguan, gkmlpt_mouding, mirror_xiyi)
#: The loopback address of each sample portal: 127.0.0.11, .12, …
FIRST_HOST = 11


#: At most this many copies of the sample portals (copy k on 127.a.b.x, k = 256a + b): 10,000
#: portals, the largest run of ``make scale``.
MAX_COPIES = 2000


def sample_portals(port: int = DEFAULT_PORT, copies: int = 1) -> list[SamplePortal]:
    """The sample portals, each on its own 127.0.0.x address and the given port (0: free).
    ``copies`` > 1 serves every family again on more loopback hosts, for runs at scale: copy
    ``k`` on 127.a.b.11… (k = 256a + b: copy 7 on 127.0.7.11…, copy 300 on 127.1.44.11…), its
    portal ids ending in ``-k`` (``sample-trs-jilin-007``)."""
    if not 1 <= copies <= MAX_COPIES:
        raise ConfigError(f"--copies {copies}: give 1 to {MAX_COPIES} copies of the sample "
                          "portals")
    out = []
    for copy in range(copies):
        for offset, build in enumerate(BUILDERS):
            sample = build(f"127.{copy // 256}.{copy % 256}.{FIRST_HOST + offset}")
            if copy:
                suffix = f"-{copy:03d}"
                sample = replace(sample, site=replace(sample.site, name=sample.site.name + suffix),
                                 entry={**sample.entry, "id": sample.entry["id"] + suffix})
            sample.site.port = port
            out.append(sample)
    return out


def registry_entries(samples: list[SamplePortal]) -> list[dict]:
    """Registry entries for started (or default-port) sample portals."""
    return [{**s.entry, "start_urls": [s.site.url(p) for p in s.start_paths],
             "source": "fixture portal built from the seeds (govreports serve-samples)"}
            for s in samples]


def write_sample_registry(path: Path) -> None:
    """(Re)write ``crawlers/sample_portals.yaml`` for the default port."""
    from crawlers.portals import dump_portals

    header = (f"{SAMPLE_REGISTRY_NOTE}\n# Generated by crawlers/samples/sites.py "
              "(write_sample_registry); tests check the two agree.\n")
    path.write_text(header + dump_portals(registry_entries(sample_portals())), encoding="utf-8")
