"""One test over every CMS family (pipelines.families.FAMILIES): each is one module with a
sample portal and a golden directory, is detected on its own sample, its lists lead to the
sample's reports, its containers hold a report's text, and the crawler and the extractor read
the same dates and attachments from its pages. A family added without one of these fails
here, by name."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from crawlers.samples import server
from crawlers.samples.sites import sample_portals
from pipelines import families
from pipelines.decode import decode
from pipelines.document import build_report
from pipelines.extract import extract
from pipelines.families import CONTAINERS, FAMILIES, MARKERS, Listed, ListPage, NextPage
from pipelines.families.base import attachment_links, markup_tree
from pipelines.files import is_attachment_url
from pipelines.records import RawDocument, Source

ROOT = Path(__file__).parent.parent
GOLDEN = ROOT / "tests" / "golden" / "extract"
SAMPLES = {s.entry["cms"]: s for s in sample_portals(8780)}
NAMES = list(FAMILIES)
REPORT_LINES = ["一、总体情况", "本机关2019年主动公开政府信息一百二十条。"]


def fetch(sample, url: str, form=None) -> tuple[str, str] | None:
    """(text, content type) the sample site answers ``url`` with, without a socket."""
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    route = sample.site.routes.get(path) or sample.site.routes.get(parts.path)
    if route is None:
        return None
    if callable(route):
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        route = route(server.Request("POST" if form else "GET", parts.path, query,
                                     dict(form or {}), {"host": parts.netloc}))
    if is_attachment_url(url) or route.content_type.startswith("application/pdf"):
        return None
    return decode(route.body, headers={"content-type": route.content_type}).text, \
        route.content_type


def walk(sample, name: str) -> tuple[families.Family, list[Listed]]:
    """Read a sample portal's lists as the crawler does: detection on the first page, then
    what the family and any list page's navigation ask for, each once."""
    start = sample.site.url(sample.start_paths[0])
    text, content_type = fetch(sample, start)
    family = families.detect(ListPage.parse(start, text, content_type=content_type))
    queue, seen, listed = [NextPage(start)], set(), []
    while queue and len(seen) < 50:
        ask = queue.pop(0)
        key = (ask.url, json.dumps(ask.form, sort_keys=True))
        if key in seen or (answer := fetch(sample, ask.url, ask.form)) is None:
            continue
        seen.add(key)
        page = ListPage.parse(ask.url, answer[0], content_type=answer[1], state=ask.state)
        for found in itertools.chain(family.parse_list(page),
                                     families.navigation(page, family)):
            (listed if isinstance(found, Listed) else queue).append(found)
    return family, listed


@pytest.mark.parametrize("name", NAMES)
def test_a_family_is_one_module_with_a_sample_and_a_golden_directory(name):
    module = ROOT / "pipelines" / "families" / f"{name}.py"
    assert module.is_file(), f"the {name} family's module"
    assert FAMILIES[name].__module__ == f"pipelines.families.{name}"
    assert name in SAMPLES, f"a sample portal with cms: {name} in crawlers/samples/sites.py"
    golden = GOLDEN / name
    assert list(golden.glob("input.*")) and (golden / "expected.json").is_file(), \
        f"a golden directory {golden.relative_to(ROOT)}"
    container = json.loads((golden / "expected.json").read_text(encoding="utf-8"))["container"]
    # A generic page has no markup of its own: the block densest in text is its container.
    assert container in ({name, "densest"} if name == "generic" else {name})


@pytest.mark.parametrize("name", NAMES)
def test_a_family_is_detected_on_its_own_sample_and_its_lists_lead_to_the_reports(name):
    sample = SAMPLES[name]
    family, listed = walk(sample, name)
    assert family.name == name
    assert len({item.url for item in listed}) >= sample.reports


def _container_page(container) -> str:
    attributes = "".join([f' class="wide {container.class_token} x"' if container.class_token
                          else "", f' id="{container.element_id}"' if container.element_id
                          else ""])
    tag = container.tag or "div"
    return (f"<html><body><div class='menu'><a href='/'>首页</a><a href='/a'>机构概况</a></div>"
            f"<div class='side'><p>热点专题：优化营商环境十条措施解读与问答汇编</p></div>"
            f"<{tag}{attributes}><p>一、总体情况</p><p>本机关2019年主动公开政府信息一百二十条。</p>"
            f"</{tag}><div class='footer'>版权所有 主办单位：某某人民政府</div></body></html>")


@pytest.mark.parametrize("family_name,container", CONTAINERS,
                         ids=[f"{f}-{c.name}" for f, c in CONTAINERS])
def test_each_container_holds_the_report_and_names_its_family(family_name, container):
    extracted = extract(_container_page(container).encode(), filename="a.html")
    assert extracted.container == family_name
    assert extracted.text.split("\n") == REPORT_LINES


@pytest.mark.parametrize("family_name,markers", MARKERS, ids=[f for f, _ in MARKERS])
def test_markers_hold_the_report_and_name_their_family(family_name, markers):
    begin = markers.begin.pattern.replace("\\", "")
    end = markers.end.pattern.replace("\\", "")
    page = (f"<html><body><div class='menu'><a href='/'>首页</a></div><div class='article'>{begin}"
            f"<p>一、总体情况</p></div><div><p>本机关2019年主动公开政府信息一百二十条。</p>{end}"
            "</div><div class='footer'>版权所有</div></body></html>")
    extracted = extract(page.encode(), filename="a.html")
    assert extracted.container == family_name
    assert extracted.text.split("\n") == REPORT_LINES


@pytest.mark.parametrize("name", NAMES)
def test_the_crawler_and_the_extractor_agree_on_dates_and_attachments(name):
    """What the list says a document's date is, the document's own metadata says too; the
    attachments the crawler fetches with a page are the ones the extractor joins to it."""
    sample = SAMPLES[name]
    _, listed = walk(sample, name)
    dated = compared = 0
    for item in listed:
        answer = None if is_attachment_url(item.url) else fetch(sample, item.url)
        if answer is None:
            continue
        data = answer[0].encode("utf-8")
        raw = RawDocument("0" * 64, len(data), Source(url=item.url, kind="http",
                                                       fetched_at="2026-01-01T00:00:00+00:00"))
        extracted = extract(data, url=item.url, headers={"content-type": "text/html; "
                                                                         "charset=utf-8"},
                            filename=urlsplit(item.url).path.rsplit("/", 1)[-1] or None)
        published = build_report(raw, extracted)[0].to_row()["published_date"]
        if item.date and published:
            assert published.isoformat() == item.date, item.url
            dated += 1
        host = urlsplit(item.url).hostname
        crawled = {url for url, _ in attachment_links(markup_tree(answer[0]), item.url)
                   if urlsplit(url).hostname == host}
        joined = {url for url, _ in extracted.links}
        assert crawled <= joined, item.url
        compared += 1
    assert compared >= 1, "the sample lists a document page"
    # The generic sample prints its date inside the text block, where the metadata stage does
    # not look; the list's date fills its row (pipelines.document.LIST_FIELDS).
    assert dated >= 1 or name == "generic", "the sample lists a document that states its date"


# -- each family's own paging and data interfaces, on its sample's pages ------------------------

def read(name: str, ask: NextPage | str) -> list[Listed | NextPage]:
    """What the sample's family makes of one answer."""
    sample = SAMPLES[name]
    ask = NextPage(sample.site.url(ask)) if isinstance(ask, str) else ask
    text, content_type = fetch(sample, ask.url, ask.form)
    page = ListPage.parse(ask.url, text, content_type=content_type, state=ask.state)
    return list(FAMILIES[name]().parse_list(page))


def test_trs_pagination_comes_from_create_page_html_once():
    first = read("trs", "/zwgk/zfxxgknb/")
    listed = [x for x in first if isinstance(x, Listed)]
    assert [x.url for x in first if isinstance(x, NextPage)] == [
        SAMPLES["trs"].site.url("/zwgk/zfxxgknb/index_1.html")]
    assert listed and all(x.date for x in listed)
    second = read("trs", "/zwgk/zfxxgknb/index_1.html")
    assert not [x for x in second if isinstance(x, NextPage)]  # only the first page announces


def test_hanweb_column_posts_to_dataproxy_and_reads_the_recordset():
    from pipelines.families.hanweb import DATAPROXY

    (post,) = [x for x in read("hanweb", "/col/col1001/index.html") if isinstance(x, NextPage)]
    assert post.form is not None and DATAPROXY in post.url and post.form["columnid"] == "1001"
    listed = [x for x in read("hanweb", post) if isinstance(x, Listed)]
    assert [x.url.rsplit("/", 1)[1] for x in listed] == ["art_1001_4567.html"]


def test_hanweb_jpaas_column_asks_the_json_api():
    from pipelines.families.hanweb import JPAAS

    (api,) = [x for x in read("hanweb", "/col/col1002/index.html") if isinstance(x, NextPage)]
    assert JPAAS in api.url and api.form is None
    assert [x for x in read("hanweb", api) if isinstance(x, Listed)]


def test_gkmlpt_items_carry_index_number_publisher_and_document_number():
    (api,) = read("gkmlpt", "/gkmlpt/index")
    assert "/gkmlpt/api/all/" in api.url and "sid=" in api.url
    (item,) = [x for x in read("gkmlpt", api) if isinstance(x, Listed)]
    context = item.context(api.url)
    assert context["index_no"] and context["issuing_agency"] and context["date"]


def test_generic_follows_next_page_and_keeps_only_report_titles():
    found = read("generic", "/gate/big5/www.longyang.gov.cn/zwgk/list.html")
    assert any(isinstance(x, NextPage) and x.url.endswith("list_2.html") for x in found)
    listed = [x for x in found if isinstance(x, Listed)]
    assert all(families.judge_report_link(x).taken for x in listed)
    assert all("/tzgg/" not in x.url for x in listed)  # notices are not reports


def test_the_families_run_without_scrapy():
    """pipelines/ reads every family without Scrapy loaded: the crawler is one reader."""
    import subprocess
    import sys

    code = ("import sys; sys.modules['scrapy'] = None\n"
            "import pipelines.families, pipelines.extract\n"
            "print(sorted(pipelines.families.FAMILIES))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == repr(sorted(FAMILIES))


def test_what_a_list_says_is_written_under_the_list_contexts_keys():
    """The crawl context's keys are one list (pipelines.records.ListContext): what a family
    puts there, what the spider watches and what the processing reads are among them."""
    from crawlers.spider import WATCHED_CONTEXT
    from pipelines.document import LIST_FIELDS
    from pipelines.families.gkmlpt import FIELDS, list_context
    from pipelines.records import ListContext

    keys = set(ListContext.__annotations__)
    item = {key: "1581265800" for key, _ in FIELDS}
    written = set(list_context(item)) | set(Listed("u", "t", "2020-01-01").context("l"))
    assert written <= keys and set(LIST_FIELDS) <= keys and set(WATCHED_CONTEXT) <= keys
    assert {"index_no", "issuing_agency", "doc_no", "category"} <= written
