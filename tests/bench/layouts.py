"""A corpus of report pages in varied layouts, written by the project (no page is copied from a
portal), each with its gold text: the report's own words as authored, for text F1.

Ten layouts, six of which have no content container the extractor knows (so its generic rules
or trafilatura decide): TRS (GBK), Hanweb, Ucap with a Word-pasted table, a 2019-template table
page, a traditional-character mirror with pinyin noise, a sidebar portal page, an old page laid
out in tables, an HTML5 ``<article>`` page, a grid-framework page whose paragraphs are
``<div>`` blocks beside a column of related and popular links, and an old GBK page whose text
is ``<font>`` lines cut by ``<br>`` in one table cell. Pages differ by a seed: body, paragraph
count, navigation, table values.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

BODIES = ["清水县人民政府", "秦安县教育局", "南漳县人民政府办公室", "安宁市自然资源局",
          "平潭县市场监督管理局", "达拉特旗人民政府", "铜山区交通运输局", "格尔木市林业和草原局"]
SENTENCES = [
    "本机关认真贯彻落实《中华人民共和国政府信息公开条例》，坚持以公开为常态、不公开为例外。",
    "全年主动公开政府信息{n}条，其中规范性文件{m}件，政策解读{k}篇。",
    "依托政府门户网站、政务新媒体和政务公开专栏，及时发布重点领域信息。",
    "严格落实信息发布审查制度，确保公开内容准确规范。",
    "围绕财政预决算、重大建设项目、公共资源配置等重点领域加大公开力度。",
    "全年共收到政府信息公开申请{k}件，均在法定期限内答复。",
    "加强政策解读和回应关切，对社会关注的热点问题及时作出回应。",
    "组织开展政务公开业务培训{k}次，提升工作人员业务水平。",
    "存在的主要问题是公开内容的针对性和时效性有待提高。",
    "下一步将进一步完善工作机制，推动政务公开工作提质增效。",
]
HEADINGS = ["一、总体情况", "二、主动公开政府信息情况", "三、收到和处理政府信息公开申请情况",
            "四、政府信息公开行政复议、行政诉讼情况", "五、存在的主要问题及改进情况",
            "六、其他需要报告的事项"]
NAV = ["首页", "政务公开", "政务服务", "互动交流", "走进本地", "专题专栏", "信息公开指南",
       "信息公开制度", "法定主动公开内容", "政府信息公开年报", "依申请公开", "联系我们"]
LAYOUTS = ("trs", "hanweb", "ucap-word", "table-2019", "mirror-traditional", "sidebar",
           "table-layout", "article", "grid", "font-br")
#: Layouts with no content container the extractor knows: its generic rules, or trafilatura,
#: decide.
FALLBACK = frozenset({"mirror-traditional", "sidebar", "table-layout", "article", "grid",
                      "font-br"})


@dataclass
class Page:
    layout: str
    name: str
    html: bytes
    gold: str


def _body(rng: random.Random) -> list[tuple[str, list[str]]]:
    sections = []
    for heading in HEADINGS:
        count = rng.randint(2, 5)
        paragraphs = [rng.choice(SENTENCES).format(n=rng.randint(50, 3000), m=rng.randint(1, 40),
                                                   k=rng.randint(1, 90))
                      + rng.choice(SENTENCES).format(n=rng.randint(50, 3000),
                                                     m=rng.randint(1, 40), k=rng.randint(1, 90))
                      for _ in range(count)]
        sections.append((heading, paragraphs))
    return sections


def _table(rng: random.Random, *, word: bool = False) -> tuple[str, list[str]]:
    rows = [["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"]]
    for label in ("规章", "行政规范性文件"):
        rows.append([label, *(str(rng.randint(0, 30)) for _ in range(3))])
    cell = ("<td style='border:solid windowtext 1.0pt'><p class=MsoNormal><span "
            "style='font-family:仿宋_GB2312'>{}</span></p></td>" if word else "<td>{}</td>")
    html = "<table border='1'>" + "".join(
        "<tr>" + "".join(cell.format(c) for c in row) + "</tr>" for row in rows) + "</table>"
    return html, [" ".join(row) for row in rows]


def _paragraphs(sections, *, word: bool = False) -> tuple[str, list[str]]:
    html, gold = [], []
    for heading, paragraphs in sections:
        html.append(f"<p><strong>{heading}</strong></p>" if not word else
                    f"<p class=MsoNormal><b><span style='font-size:16pt'>{heading}</span></b></p>")
        gold.append(heading)
        for text in paragraphs:
            html.append(f"<p>{text}</p>" if not word else
                        f"<p class=MsoNormal style='text-indent:32pt'><span>{text}</span></p>")
            gold.append(text)
    return "".join(html), gold


def _chrome(rng: random.Random, body: str) -> tuple[str, str]:
    """A portal's header and footer as real ones are: a mega-menu of every column, inline
    styles and scripts, link lists, hidden share and QR boxes (most of a page's bytes)."""
    columns = [f"{rng.choice(NAV)}{n}" for n in range(rng.randint(120, 220))]
    menu = "".join(
        f"<li class='menu-item'><a href='/col/col{n}/index.html' target='_blank' "
        f"title='{name}'>{name}</a><ul class='sub'>" + "".join(
            f"<li><a href='/col/col{n}{k}/index.html'>{name}子栏目{k}</a></li>"
            for k in range(rng.randint(0, 3))) + "</ul></li>"
        for n, name in enumerate(columns))
    style = "<style>" + "".join(
        f".c{n} {{margin:{n % 7}px {n % 5}px;padding:0 {n % 3}px;font-size:{12 + n % 6}px;"
        f"color:#{n * 2654435761 % 0xFFFFFF:06x};}}" for n in range(rng.randint(150, 300))) \
        + "</style>"
    script = "<script>" + "".join(
        f"function f{n}(a,b){{var x=a+b*{n};if(x>{n}){{return x-{n};}}return x;}}"
        for n in range(rng.randint(100, 250))) + "</script>"
    header = (f"{style}{script}<div class='header'><div class='logo'>{body}门户网站</div>"
              f"<div class='search'><input type='text' placeholder='请输入关键字'/>"
              f"<button>搜索</button></div><ul class='nav mega'>{menu}</ul></div>")
    links = "".join(f"<a href='http://www.{n}.gov.cn/' target='_blank'>{name}政府网</a> "
                    for n, name in enumerate(rng.sample(BODIES * 6, 40)))
    footer = ("<div class='share' style='display:none'><a>微信</a><a>微博</a>"
              "<img src='/qr.png' alt='二维码'/></div>"
              f"<div class='links'><span>相关链接：</span>{links}</div>"
              "<div class='footer'><p>主办单位：" + body + "办公室　网站标识码：6205210001</p>"
              "<p>ICP备案号：陇ICP备05000000号　公安机关备案号：62052102000001</p>"
              "<p>地址：县城人民路1号　邮编：741000　联系电话：0938-0000000</p></div>"
              + script)
    return header, footer


def page(layout: str, seed: int) -> Page:
    rng = random.Random(f"{layout}-{seed}")
    body = rng.choice(BODIES)
    year = rng.randint(2015, 2023)
    title = f"{body}{year}年政府信息公开工作年度报告"
    sections = _body(rng)
    header, footer = _chrome(rng, body)
    labels = (f"<table class='xxgk'><tr><td>索引号：</td>"
              f"<td>620521-{seed:05d}/{year + 1}-00012</td><td>发布机构：</td><td>{body}</td>"
              f"</tr><tr><td>发布日期：</td>"
              f"<td>{year + 1}-01-2{seed % 9}</td><td>文号：</td><td></td></tr></table>")
    encoding = "utf-8"
    if layout in ("trs", "hanweb", "ucap-word", "table-2019"):
        word = layout == "ucap-word"
        text_html, gold = _paragraphs(sections, word=word)
        table_html, table_gold = _table(rng, word=word)
        text_html += table_html
        gold += table_gold
        if layout == "table-2019":
            table_html, table_gold = _table(rng)
            text_html = text_html + "<p>三、收到和处理政府信息公开申请情况</p>" + table_html
            gold += ["三、收到和处理政府信息公开申请情况", *table_gold]
        container = {"trs": "<div class='TRS_Editor'>{}</div>",
                     "hanweb": "<div id='zoom'>{}</div>",
                     "ucap-word": "<div id='UCAP-CONTENT'><div class=WordSection1>{}</div></div>",
                     "table-2019": "<div class='TRS_Editor'>{}</div>"}[layout]
        main = (f"{header}<div class='main'><h1>{title}</h1>{labels}"
                f"{container.format(text_html)}</div>{footer}")
        if layout == "trs":
            encoding = "gbk"
    elif layout == "mirror-traditional":
        import opencc

        to_traditional = opencc.OpenCC("s2t").convert
        text_html, gold = _paragraphs(sections)
        text_html = to_traditional(text_html).replace("報告", "報(bào)告").replace(
            "政務", "政務(wù)")
        main = (f"<div class='top'>镜像站 · 政府公开资料汇编</div><div class='wrap'>"
                f"<div class='post'><h2>{to_traditional(title)}</h2>"
                f"<div class='post-body'>{text_html}</div></div>"
                f"<div class='aside'><h3>熱門文章</h3><ul>" + "".join(
                    f"<li><a href='/p/{i}.html'>{to_traditional(b)}年度報告</a></li>"
                    for i, b in enumerate(BODIES)) + "</ul></div></div>")
    elif layout == "sidebar":
        text_html, gold = _paragraphs(sections)
        menu = "".join(f"<li><a href='/m{i}/'>{n}</a></li>" for i, n in enumerate(NAV))
        main = (f"{header}<div class='container'><div class='left-menu'><ul>{menu}</ul></div>"
                f"<div class='right-box'><div class='position'>当前位置：首页 &gt; 政务公开 &gt; "
                f"年度报告</div><div class='detail'><div class='detail-title'>{title}</div>"
                f"{labels}<div class='detail-text'>{text_html}</div></div></div></div>{footer}")
    elif layout == "table-layout":
        text_html, gold = _paragraphs(sections)
        main = (f"<table width='100%'><tr><td colspan='2'>{header}</td></tr><tr>"
                f"<td width='200' valign='top'><table>" + "".join(
                    f"<tr><td><a href='/n{i}/'>{n}</a></td></tr>" for i, n in enumerate(NAV))
                + f"</table></td><td valign='top'><table width='100%'><tr><td align='center'>"
                f"<b>{title}</b></td></tr><tr><td>{text_html}</td></tr></table></td></tr>"
                f"<tr><td colspan='2'>{footer}</td></tr></table>")
    elif layout == "grid":
        text_html, gold = _paragraphs(sections)
        text_html = text_html.replace("<p>", "<div style='text-indent:2em'>").replace(
            "</p>", "</div>")
        related = "".join(f"<li><a href='/a/{i}.html'>{b}{year}年政府信息公开工作年度报告</a>"
                          f"<span>{year + 1}-01-1{i}</span></li>"
                          for i, b in enumerate(rng.sample(BODIES, 6)))
        main = (f"{header}<div class='container'><ol class='breadcrumb'><li>首页</li>"
                f"<li>信息公开</li><li>年报</li></ol><div class='row'><div class='col-md-9'>"
                f"<div class='art-head'><h3>{title}</h3><p class='info'>来源：{body}　"
                f"浏览次数：{rng.randint(10, 999)}　【字体：大 中 小】</p></div>"
                f"<div class='art-con'>{text_html}</div><div class='prev-next'>"
                f"<a href='/a/prev.html'>上一篇：关于开展政务公开培训的通知</a>"
                f"<a href='/a/next.html'>下一篇：政府信息公开指南</a></div></div>"
                f"<div class='col-md-3'><h4>相关文章</h4><ul>{related}</ul><h4>热门排行</h4>"
                f"<ul>{related}</ul></div></div></div>{footer}")
    elif layout == "font-br":
        encoding = "gbk"
        gold = [heading if i == 0 else text for heading, paragraphs in sections
                for i, text in enumerate([heading, *paragraphs])]
        lines = "".join(f"<br>&nbsp;&nbsp;&nbsp;&nbsp;{line}<br>" for line in gold)
        main = (f"<center><table width='778' border='0'><tr><td>{header}</td></tr>"
                f"<tr><td height='30' bgcolor='#E8F0F8'><font color='#CC0000'>您现在的位置："
                f"首页 &gt;&gt; 政务公开</font></td></tr><tr><td align='center'><font size='4'>"
                f"<b>{title}</b></font><br><font size='2'>发布日期：{year + 1}年2月1日　"
                f"点击数：{rng.randint(10, 999)}</font></td></tr><tr><td><font size='3'>"
                f"{lines}</font></td></tr><tr><td align='center'>【<a href='javascript:"
                f"window.print()'>打印本页</a>】【<a href='javascript:window.close()'>关闭窗口</a>"
                f"】</td></tr><tr><td>{footer}</td></tr></table></center>")
    else:  # article
        text_html, gold = _paragraphs(sections)
        main = (f"<header>{header}</header><main><article><h1>{title}</h1>"
                f"<section class='meta'>发布时间：{year + 1}-02-0{seed % 9 + 1}</section>"
                f"<section class='body'>{text_html}</section></article>"
                f"<aside><h2>相关链接</h2><ul>" + "".join(
                    f"<li><a href='/r/{i}'>{n}</a></li>" for i, n in enumerate(NAV[:6]))
                + f"</ul></aside></main><footer>{footer}</footer>")
    charset = "gbk" if encoding == "gbk" else "utf-8"
    html = (f"<!DOCTYPE html><html><head><meta http-equiv='Content-Type' content='text/html; "
            f"charset={charset}'><title>{title}_{body}门户网站</title></head><body>{main}"
            f"<script>var _hmt = _hmt || [];</script></body></html>")
    return Page(layout, f"{layout}-{seed:05d}.html", html.encode(encoding, "replace"),
                "\n".join(gold))


def corpus(count: int) -> Iterator[Page]:
    """``count`` pages, the layouts in turn."""
    for n in range(count):
        yield page(LAYOUTS[n % len(LAYOUTS)], n // len(LAYOUTS))


def write(folder: Path, count: int) -> dict[str, str]:
    """Write ``count`` pages into ``folder``; returns page name → gold text."""
    folder.mkdir(parents=True, exist_ok=True)
    golds = {}
    for item in corpus(count):
        (folder / item.name).write_bytes(item.html)
        golds[item.name] = item.gold
    return golds
