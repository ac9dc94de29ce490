"""Report pages pasted from Word into an old portal's editor, written by the project (no page is
copied from a portal): IE-era markup (uppercase tags, unquoted attributes, ``<o:p>``,
``<?xml:namespace …/>`` processing instructions, ``<!--ewebeditor:page-->`` page breaks), years
split across spans, and a 2021-template report that is mostly its four tables, inside a shell
whose content block has no name the extractor knows. Each page comes with its gold text."""

from __future__ import annotations

import random

from tests.bench.layouts import HEADINGS, NAV, SENTENCES
from tests.test_stat_tables import LEAVES_2021

SHELLS = ("layout-table", "div-unknown-class", "div-no-class")
_PI = '<?xml:namespace prefix = o ns = "urn:schemas-microsoft-com:office:office" />'


def _para(text: str, year: int) -> str:
    # Word splits runs where the formatting changes: "202" "1" "年" in three spans.
    head, last = str(year)[:3], str(year)[3]
    text = text.replace(f"{year}年", f"<SPAN lang=EN-US>{head}</SPAN><SPAN lang=EN-US>{last}"
                                     "</SPAN><SPAN style=\"FONT-FAMILY: 仿宋\">年</SPAN>")
    return ('<P class=MsoNormal style="TEXT-INDENT: 32pt; LINE-HEIGHT: 28pt; mso-line-height-rule:'
            f' exactly"><SPAN style="FONT-SIZE: 16pt">{text}{_PI}<o:p></o:p></SPAN></P>')


def _cell(value: str, span: str = "") -> str:
    return (f'<TD {span} style="BORDER-RIGHT: windowtext 1pt solid; PADDING-LEFT: 5.4pt" '
            'vAlign=center><P class=MsoNormal style="TEXT-ALIGN: center" align=center>'
            f'<SPAN lang=EN-US style="FONT-SIZE: 10.5pt">{value}<o:p></o:p></SPAN></P></TD>')


def _table(rows: list[list[str]], gold: list[str]) -> str:
    out = ['<TABLE class=MsoNormalTable style="BORDER-COLLAPSE: collapse" cellSpacing=0 '
           "cellPadding=0 border=1><TBODY>"]
    for row in rows:
        out.append("<TR>" + "".join(_cell(c) for c in row) + "</TR>")
        gold.append(" ".join(row))
    out.append("</TBODY></TABLE>")
    return "".join(out)


def word_page(seed: int, shell: str, *, paragraphs: int, page_breaks: bool
              ) -> tuple[bytes, str]:
    """(GBK bytes of the page, gold text)."""
    rng = random.Random(seed)
    year = rng.randint(2021, 2024)
    gold: list[str] = []
    html: list[str] = []

    def say(text: str) -> None:
        html.append(_para(text, year))
        gold.append(text)

    def figures(n: int) -> list[str]:
        return [str(rng.randint(0, 9)) for _ in range(n)]

    say(HEADINGS[0])
    say(f"{year}年，" + rng.choice(SENTENCES).format(n=rng.randint(50, 900), m=3, k=5))
    for _ in range(paragraphs):
        say(rng.choice(SENTENCES).format(n=rng.randint(50, 900), m=rng.randint(1, 40),
                                         k=rng.randint(1, 90)))
    say(HEADINGS[1])
    html.append(_table([["第二十条第（一）项"],
                        ["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"],
                        ["规章", *figures(3)], ["行政规范性文件", *figures(3)],
                        ["第二十条第（五）项"], ["信息内容", "本年处理决定数量"],
                        ["行政许可", *figures(1)], ["第二十条第（六）项"],
                        ["行政处罚", *figures(1)], ["行政强制", *figures(1)],
                        ["第二十条第（八）项"], ["信息内容", "本年收费金额（单位：万元）"],
                        ["行政事业性收费", *figures(1)]], gold))
    if page_breaks:
        html.append('<!--ewebeditor:page title=""-->')
    say(HEADINGS[2])
    rows = [["申请人情况"],
            ["自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计"],
            ["一、本年新收政府信息公开申请数量", *figures(7)],
            ["二、上年结转政府信息公开申请数量", *figures(7)]]
    for group, leaves in LEAVES_2021:
        rows += [[group, *figures(7)]] if leaves is None else \
            [[leaf, *figures(7)] for leaf in leaves]
    rows.append(["四、结转下年度继续办理", *figures(7)])
    html.append(_table(rows, gold))
    if page_breaks:
        html.append('<!--ewebeditor:page title=""-->')
    say(HEADINGS[3])
    html.append(_table([["行政复议", "行政诉讼"],
                        ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"],
                        figures(15)], gold))
    say(HEADINGS[4])
    say(rng.choice(SENTENCES[8:]))
    body = "".join(html)
    title = f"某县教育局{year}年政府信息公开工作年度报告"
    nav = "".join(f'<TR><TD height=24><A href="/n{i}/">{name}</A></TD></TR>'
                  for i, name in enumerate(NAV * 3))
    dated = f"发布时间：{year + 1}-01-2{seed % 9} 点击数：{rng.randint(10, 999)}"
    if shell == "layout-table":
        main = (f"<TABLE width=1000 align=center><TR><TD colSpan=2><IMG src=\"/top.jpg\"></TD>"
                f"</TR><TR><TD width=200 vAlign=top><TABLE>{nav}</TABLE></TD><TD vAlign=top>"
                f"<TABLE width=\"100%\"><TR><TD align=center><B>{title}</B></TD></TR>"
                f"<TR><TD>{dated}</TD></TR><TR><TD class=bt_content>{body}</TD></TR></TABLE>"
                "</TD></TR><TR><TD colSpan=2>版权所有：某县人民政府 技术支持：某公司</TD></TR>"
                "</TABLE>")
    else:
        named = ' class="wz_nr"' if shell == "div-unknown-class" else ""
        menu = "".join(f"<LI><A href=/c{i}/>{n}</A></LI>" for i, n in enumerate(NAV))
        main = (f"<DIV class=top><UL>{menu}</UL></DIV><DIV class=main><H3>{title}</H3>"
                f"<DIV>{dated}</DIV><DIV{named}>{body}</DIV></DIV>"
                "<DIV class=foot>版权所有：某县人民政府</DIV>")
    page = ("<HTML><HEAD><META http-equiv=Content-Type content=\"text/html; charset=gb2312\">"
            f"<TITLE>{title}</TITLE></HEAD><BODY>{main}</BODY></HTML>")
    return page.encode("gbk"), "\n".join(gold)
