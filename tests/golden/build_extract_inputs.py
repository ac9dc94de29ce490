"""Build the extraction golden inputs (one page per CMS layout) from the seeds.

Run ``python tests/golden/build_extract_inputs.py`` (``… OUT`` writes the cases under ``OUT``
instead: tests/test_golden_builders.py checks the build against the committed inputs); expected
outputs are written by ``pytest tests/test_extract_golden.py --regen-golden`` and reviewed as a
diff. Each page carries the furniture real portals wrap around a report (breadcrumbs, the
metadata block, share and print buttons, footers with ICP lines) so the tests can check that
none of it reaches ``text``. Layouts follow the CMS families of pipelines/families/.
Deterministic: running it again rewrites the same bytes.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

HERE = Path(__file__).parent / "extract"
SEEDS = Path(__file__).parent.parent.parent / "crawlers" / "samples" / "seeds"


def seed(prefix: str, *, skip: int = 0) -> list[str]:
    [path] = SEEDS.glob(f"{prefix}_*.txt")
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return lines[skip:]


def paragraphs(lines: list[str]) -> str:
    return "\n".join(f"<p>{line.replace(chr(0xa0), '&nbsp;')}</p>" for line in lines)


FOOTER = """<div class="footer"><p>主办单位：{site}　技术支持：某某信息技术有限公司</p>
<p>网站标识码：{code}　{icp}　公网安备 53050202000123号</p></div>"""
SHARE = '<div class="share">分享到：<a href="#">微信</a><a href="#">微博</a></div>'
PRINT = '<div class="tools"><a href="javascript:window.print()">【打印本页】</a>' \
        '<a href="javascript:window.close()">【关闭窗口】</a></div>'


def write(root: Path, case: str, data: bytes, ext: str, gold: list[str] | None = None,
          **meta) -> None:
    """Write a case; ``gold`` is the report's text as authored (what the page's content holds),
    independent of any extractor: the benchmark scores extractors against it."""
    folder = root / case
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("input.*"):
        old.unlink()
    (folder / f"input.{ext}").write_bytes(data)
    if gold is not None:
        (folder / "gold.txt").write_text("\n".join(gold) + "\n", encoding="utf-8")
    (folder / "meta.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1) + "\n",
                                      encoding="utf-8")


def trs(root: Path) -> None:
    body = seed("003")[12:]  # the report without the flattened metadata lines at its top
    site, code = "保山市隆阳区人民政府", "5305020001"
    html = f"""<!DOCTYPE html>
<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<meta name="SiteName" content="{site}"><meta name="SiteDomain" content="www.longyang.gov.cn">
<meta name="SiteIDCode" content="{code}"><meta name="ColumnName" content="政府信息公开年报">
<meta name="ArticleTitle" content="西邑乡2019年政府信息公开年度报告">
<meta name="PubDate" content="2020-01-31 10:12"><meta name="ContentSource" content="西邑乡">
<title>西邑乡2019年政府信息公开年度报告_{site}</title>
<script>var countPage = 3//共多少页</script></head>
<body><div class="header"><a href="/">首页</a></div>
<div class="crumbs">当前位置：<a href="/">首页</a> &gt; <a href="../">政府信息公开</a> &gt; 年报</div>
<table class="xxgk_table"><tr><th>索&nbsp;引&nbsp;号：</th><td>01525767-7-/2020-0131001</td>
<th>发文机构：</th><td>隆阳区西邑乡人民政府</td></tr>
<tr><th>公开目录：</th><td>政府信息公开年报</td><th>文　　号：</th><td></td></tr>
<tr><th>成文日期：</th><td>2020年01月20日</td><th>发布日期：</th><td>2020-01-31</td></tr></table>
<h1>西邑乡2019年政府信息公开年度报告</h1>
<div class="TRS_Editor"><div class="Custom_UnionStyle">
{paragraphs(body)}
</div></div>
{SHARE}{PRINT}
{FOOTER.format(site=site, code=code, icp="滇ICP备05001234号")}
</body></html>"""
    write(root, "trs", html.encode("gbk"), "html", gold=body,
          url="http://127.0.0.1:8001/zwgk/zfxxgknb/202001/t20200131_4567.html",
          about="TRS WCM detail page, GBK, th/td metadata table, gov meta tags")


def hanweb(root: Path) -> None:
    lines = seed("004")
    body = lines[3:-2]
    signature = lines[-2:]
    site = "毕节市七星关区人民政府"
    html = f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><meta name="SiteName" content="{site}">
<meta name="ColumnName" content="政府信息公开年报"><meta name="Maketime" content="2021-01-30 21:04:11">
<title>{lines[0]}</title></head>
<body><div class="bt-position">您当前的位置：<a href="/">首页</a> &gt; 信息公开 &gt; 年报</div>
<div class="xxgk-info"><ul>
<li><span>索 引 号：</span><span>11520502MB1591234X/2021-00017</span></li>
<li><span>发布机构：</span><span>七星关区人民政府市东街道办事处</span></li>
<li><span>文件编号：</span><span></span></li>
<li><span>生成日期：</span><span>2021-01-21</span></li>
<li><span>公开日期：</span><span>2021-01-30</span></li></ul></div>
<div class="article">
<!--ZJEG_RSS.content.begin--><meta name="ContentStart">
{paragraphs(body)}
<p style="text-align:right">{signature[0]}</p><p style="text-align:right">{signature[1]}</p>
<meta name="ContentEnd"><!--ZJEG_RSS.content.end-->
</div>
{PRINT}
{FOOTER.format(site=site, code="5205020001", icp="黔ICP备12003456号")}
</body></html>"""
    write(root, "hanweb", html.encode("utf-8"), "html", gold=body + signature,
          url="http://127.0.0.2:8002/art/2021/1/30/art_1234_5678.html",
          about="大汉 Hanweb JCMS page, UTF-8, li/span metadata, ZJEG_RSS content markers, "
                "a 统一社会信用代码 in the 索引号")


def ucap(root: Path) -> None:
    lines = seed("000")
    title = lines[0] + lines[1]
    html = f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><meta name="SiteName" content="公主岭市人民政府">
<title>{title}-公主岭市人民政府</title></head>
<body><div class="location">首页 &gt; 政务公开 &gt; 政府信息公开年报</div>
<table class="table_content">
<tr><td class="c1">索引号</td><td class="c2">11220381MB0123456A/2020-00031</td>
<td class="c3">主题分类</td><td class="c4">政府信息公开年报</td></tr>
<tr><td class="c1">发文机关</td><td class="c2">刘房子街道办事处</td>
<td class="c3">成文日期</td><td class="c4">2020年02月26日</td></tr>
<tr><td class="c1">标题</td><td class="c2" colspan="3">{title}</td></tr>
<tr><td class="c1">发文字号</td><td class="c2"></td><td class="c3">发布日期</td>
<td class="c4">2020年03月02日</td></tr></table>
<div class="pages_content"><ucaptitle>{title}</ucaptitle>
<div id="UCAP-CONTENT"><ucapcontent>
{paragraphs(lines[2:])}
</ucapcontent></div></div>
{SHARE}
{FOOTER.format(site="公主岭市人民政府", code="2203810001", icp="吉ICP备05003691号")}
</body></html>"""
    write(root, "ucap", html.encode("utf-8"), "html", gold=lines[2:],
          url="http://127.0.0.3:8003/zwgk/zfxxgknb/202003/t20200302_91.html",
          about="开普云 Ucap page: table_content c1–c4 cells, ucaptitle, #UCAP-CONTENT")


def gkmlpt(root: Path) -> None:
    lines = seed("002")
    item = {
        "id": 3456789, "title": lines[0] + lines[1],
        "identifier": "11220203013512345K/2014-00012",
        "publisher": "吉林市龙潭区人民政府办公室", "document_number": "",
        "classify_main_name": "政府信息公开年报", "classify_theme_name": "综合政务",
        "created_at": "2014-03-25", "display_publish_time": 1395792000,
        "url": "http://127.0.0.4:8004/gkmlpt/content/3/3456/post_3456789.html",
        "content": paragraphs(lines[2:60]),
        "attachment": [],
    }
    write(root, "gkmlpt", json.dumps(item, ensure_ascii=False, indent=1).encode("utf-8"), "json",
          url=item["url"], about="one item of a gkmlpt /api/all/ JSON answer")


def generic(root: Path) -> None:
    lines = seed("001")
    html = f"""<html><head><meta charset="utf-8">
<title>牟定县信访局2019年政府信息公开工作年度报告 - 牟定县人民政府</title></head>
<body><div id="nav"><a href="/">首页</a> | <a href="/zwgk/">政务公开</a></div>
<div class="main"><div class="left"><h2>牟定县信访局2019年政府信息公开工作年度报告</h2>
<div class="info">发布时间：2020-02-10　来源：牟定县信访局　浏览次数：128</div>
<div class="article-body">
{paragraphs(lines)}
</div></div></div>
<div class="bottom">版权所有：牟定县人民政府　滇ICP备09876543号</div></body></html>"""
    write(root, "generic", html.encode("utf-8"), "html", gold=lines,
          url="http://127.0.0.5:8005/zwgk/ndbg/2020/0210/17.html",
          about="a page of no known CMS (trafilatura path): a 繁體 mirror copy of seed 001 "
                "with pinyin, label：value metadata in one line")


def ambiguous(root: Path) -> None:
    html = """<html><head><meta charset="utf-8"><title>西湖区人民政府2020年政府信息公开工作年度报告</title>
</head><body><div id="zoom"><p>西湖区人民政府2020年政府信息公开工作年度报告</p>
<p>一、总体情况</p><p>2020年，区政府认真贯彻落实《中华人民共和国政府信息公开条例》。</p></div>
</body></html>"""
    paragraphs_ = ["西湖区人民政府2020年政府信息公开工作年度报告", "一、总体情况",
                   "2020年，区政府认真贯彻落实《中华人民共和国政府信息公开条例》。"]
    write(root, "ambiguous-agency", html.encode("utf-8"), "html", gold=paragraphs_,
          url="http://127.0.0.6:8006/art/2021/1/20/art_1_2.html",
          about="西湖区 is two places (杭州 330106, 南昌 360103) and nothing else names one: "
                "no region is decided")
    write(root, "ambiguous-agency-resolved",
          html.replace("区政府认真", "杭州市西湖区人民政府认真").encode("utf-8"), "html",
          gold=[p.replace("区政府认真", "杭州市西湖区人民政府认真") for p in paragraphs_],
          url="http://127.0.0.6:8006/art/2021/1/20/art_1_3.html",
          about="the same with 杭州市 named in the text: the parent picks 330106")


def plain_text(root: Path) -> None:
    [path] = SEEDS.glob("003_*.txt")
    write(root, "plain-text-seed", path.read_bytes(), "txt", url=None,
          about="seed 003 as plain text: flattened label/value lines at the top")


def main(root: Path = HERE) -> None:
    """Write every case's inputs under ``root`` (the committed cases by default)."""
    trs(root)
    hanweb(root)
    ucap(root)
    gkmlpt(root)
    generic(root)
    ambiguous(root)
    plain_text(root)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", nargs="?", type=Path, default=HERE,
                        help="folder to write the cases in (default: tests/golden/extract)")
    main(parser.parse_args().out)
