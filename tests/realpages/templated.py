"""Pages built on a real portal's template: a saved page (tests/realpages/pages/) with its
document swapped for another (title, text, and what the template prints around it), so that
shapes no saved page shows (a township's report under the site's default 来源, another
county's report reposted, a report under its cover letter) are tried on the whole real template:
its site meta block, breadcrumb, JavaScript-bound fields, default 来源 line and footer. These
pages are built by the tests, not copied: the real pages are corpus.yaml's."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent


@dataclass(frozen=True)
class Template:
    page: str  # the saved page whose template is used
    site_region: str  # what a registry would configure for the site
    titles: tuple[str, ...]  # XPaths of the elements that print the document's title
    content: str  # XPath of the element holding the document's text
    agency: str | None = None  # XPath of the element printing the template's 来源 / 发布机构


TEMPLATES = {
    # Fujian's shared government-site platform (TRS), a 2014 page of 平潭: ArticleTitle meta,
    # <title>, the article's title block, 来源：平潭县人民政府 printed on every page.
    "trs-fujian": Template(
        "fj-pingtan-dishui-2013-report", "350128",
        ("//meta[@name='ArticleTitle']", "//div[contains(@class, 'article_title ')]"),
        "//div[contains(@class, 'article_content')]", "//span[@class='article_source']"),
    # Jiangsu's ucap platform, a 沭阳 county page: <ucaptitle>, the label table's 名称 and
    # 发布机构 cells.
    "ucap-jiangsu": Template(
        "js-shuyang-fgj-2023-report", "321322",
        ("//ucaptitle", "//td[normalize-space()='名称']/following-sibling::td[1]"),
        "//ucapcontent", "//td[normalize-space()='发布机构']/following-sibling::td[1]"),
}


def build(template: str, *, title: str, lines: list[str], agency: str | None = None) -> bytes:
    """The template's page holding another document: its title everywhere the page prints
    one, ``lines`` as its paragraphs, and ``agency`` where the template prints its 来源 or
    发布机构 (left as the saved page has it when None)."""
    import lxml.html

    shape = TEMPLATES[template]
    root = lxml.html.fromstring((HERE / "pages" / f"{shape.page}.html").read_bytes())
    for path in shape.titles:
        for node in root.xpath(path):
            if node.tag == "meta":
                node.set("content", title)
            else:
                _set_text(node, title)
    for node in root.xpath("//title"):
        _set_text(node, title)
    content, = root.xpath(shape.content)
    _set_text(content, "")
    for line in lines:
        paragraph = lxml.html.Element("p")
        paragraph.text = line
        content.append(paragraph)
    if agency is not None and shape.agency:
        for node in root.xpath(shape.agency):
            _set_text(node, f"来源：{agency}" if node.tag == "span" else agency)
    return lxml.html.tostring(root, encoding="unicode", doctype="<!DOCTYPE html>").encode()


def _set_text(node, text: str) -> None:
    for child in list(node):
        node.remove(child)
    node.text = text
