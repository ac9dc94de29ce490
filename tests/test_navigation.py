"""Navigation on portals built unlike the sample portals: pagers that are not the detected
family's own, report titles in traditional characters or with pinyin annotations, per-year
sub-columns, and a list that yields nothing. Each portal is a loopback fixture crawled by the
real ``govreports crawl``."""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from crawlers.portals import Portal
from crawlers.samples.server import Page, SampleServer, Site
from pipelines.families import Listed, ListPage, judge_report_link
from pipelines.lake import Lake
from pipelines.records import CrawlEntry
from tests.conftest import GOVREPORTS
from tests.portal_sites import FAST, crawl_manifest, detail_page, write_registry


def page(body: str) -> Page:
    return Page(f'<html><head><meta charset="utf-8"></head><body>{body}</body></html>'.encode())


def rows(items: list[tuple[str, str]]) -> str:
    return "<ul>" + "".join(f'<li><a href="{href}">{title}</a><span>2020-02-26</span></li>'
                            for href, title in items) + "</ul>"


def crawl(tmp_path, site: Site, start: str, *, cms: str = "auto", verbose: bool = False,
          max_list_pages: int = 10, others: tuple[Site, ...] = (), env=dict,
          **entry) -> tuple[dict, list[str], str]:
    """Crawl one fixture portal (``others``: more hosts served meanwhile; ``env()``: more
    environment, once their ports are known); returns its manifest entry, the paths fetched
    (``host path`` for ``others``) and the output."""
    with SampleServer([site, *others]) as server:
        registry = write_registry(tmp_path / "portals.yaml", [{
            "id": "p", "name": "未见过的门户", "cms": cms, "start_urls": [site.url(start)],
            "max_list_pages": max_list_pages, **entry}])
        done = subprocess.run([*GOVREPORTS, "crawl", "--portals", str(registry), "--lake",
                               str(tmp_path / "lake"), *FAST, *(["--verbose"] if verbose
                                                                else [])],
                              capture_output=True, text=True, timeout=120,
                              env={**os.environ, "GOVREPORTS_LAKE": "", **env()})
        paths = [hit.path if hit.site == site.name else f"{hit.site} {hit.path}"
                 for hit in server.hits]
    assert done.returncode in (0, 1), done.stderr[-3000:]
    return crawl_manifest(tmp_path / "lake")["portals"]["p"], paths, done.stdout + done.stderr


def landed_titles(entry: dict) -> set[str]:
    return {d["url"].rsplit("/", 1)[-1] for d in entry["landed"] if d["role"] == "document"}


# -- a TRS-shaped column whose pager is not TRS's script ---------------------------------------

PAGERS = {
    # label of the link to the next page, and the URL of page n (n ≥ 1)
    "next-simplified": ("下一页", lambda n: f"index_{n}.html"),
    "next-traditional": ("下一頁", lambda n: f"index_{n}.html"),
    "guillemet": ("»", lambda n: f"list_{n}.html"),
    "fullwidth-gt": ("＞", lambda n: f"index_{n}.html"),
    "numbered-query": (None, lambda n: f"index.html?page={n}" if n else "index.html"),
}


def paged_site(style: str, pages: int = 3) -> Site:
    label, url_of = PAGERS[style]
    site = Site("paged", "127.0.0.51")
    for n in range(pages):
        items = [(f"./202002/t20200226_{n}{i}.html",
                  f"某某局{n}{i}号2019年政府信息公开工作年度报告") for i in range(2)]
        if label:
            pager = f'<a href="./{url_of(n + 1)}">{label}</a>' if n + 1 < pages else ""
        else:  # page numbers only, every page on each page
            pager = " ".join(f'<a href="./{url_of(k)}">{k + 1}</a>' for k in range(pages))
        path = "/ndbg/index.html" if n == 0 else "/ndbg/" + url_of(n)
        site.routes[path] = page(rows(items) + f'<div class="page">{pager}</div>')
        for href, title in items:
            site.routes["/ndbg/" + href[2:]] = detail_page(title, "2020-02-26")
    return site


@pytest.mark.parametrize("style", list(PAGERS))
def test_every_page_of_a_column_is_read_whatever_its_pager(tmp_path, style):
    entry, _paths, _ = crawl(tmp_path, paged_site(style), "/ndbg/index.html")
    assert entry["counts"]["family"] == "trs"  # detected by its URL shapes
    assert entry["counts"]["list_pages"] == 3, entry["counts"]
    assert len(landed_titles(entry)) == 6 and entry["counts"]["status"] == "ok"


def test_max_list_pages_bounds_a_plain_pager(tmp_path):
    entry, paths, _ = crawl(tmp_path, paged_site("next-simplified", pages=5),
                            "/ndbg/index.html", max_list_pages=2)
    assert entry["counts"]["list_pages"] == 2
    assert "/ndbg/index_2.html" not in paths


# -- titles that only read as reports once normalised ------------------------------------------

TITLES = {
    # title, taken as a report?
    "traditional": ("隆陽區2019年政府信息公開工作年度報告", True),
    "pinyin-annotated": ("西邑鄉2019年政務(wù)信息公開年度報(bào)告", True),
    "fullwidth-and-spaces": ("２０１９年 政府信息公开 工作年度报告", True),
    "long-body-name": ("2019年某某市某某区某某街道办事处综合行政执法队政府信息公开工作报告", True),
    "plain-nianbao": ("2020年政务公开年报", True),
    "notice-about-reports": ("关于做好2019年政府信息公开工作年度报告编制发布工作的通知", False),
    "reading-of-a-report": ("2019年政府信息公开工作年度报告解读", False),
    "work-report": ("2020年政府工作报告", False),
    "news": ("我县召开政务公开工作推进会", False),
}
#: Judged without a row date, on a column-shaped URL: a menu link to the column is no report.
UNDATED = {
    "menu-link-to-the-column": ("http://127.0.0.1/xxgk/ndbg/", "政府信息公开年报", False),
    "undated-report-with-a-year": ("http://127.0.0.1/xxgk/ndbg/a.html",
                                   "2019年政府信息公开工作年度报告", True),
    "undated-report-on-a-document-url": ("http://127.0.0.1/xxgk/202003/t20200302_1.html",
                                         "政府信息公开工作年度报告", True),
}


@pytest.mark.parametrize("title,taken", list(TITLES.values()), ids=list(TITLES))
def test_a_report_link_is_judged_on_its_normalised_title(title, taken):
    judged = judge_report_link(Listed("http://127.0.0.1/xxgk/a.html", title, "2020-02-26"))
    assert judged.taken is taken, judged


@pytest.mark.parametrize("url,title,taken", list(UNDATED.values()), ids=list(UNDATED))
def test_a_link_without_a_date_needs_a_year_or_a_document_url(url, title, taken):
    assert judge_report_link(Listed(url, title, None)).taken is taken


def test_a_generic_list_of_mixed_titles_lands_the_reports_and_says_what_it_passed_over(
        tmp_path):
    site = Site("titles", "127.0.0.52")
    items = [(f"./a{n}.html", title) for n, (title, _) in enumerate(TITLES.values())]
    site.routes["/xxgk/list.html"] = page(rows(items))
    for n, (title, _) in enumerate(TITLES.values()):
        site.routes[f"/xxgk/a{n}.html"] = detail_page(title, "2020-02-26")
    entry, _, log = crawl(tmp_path, site, "/xxgk/list.html", cms="generic", verbose=True)
    expected = {f"a{n}.html" for n, (_, taken) in enumerate(TITLES.values()) if taken}
    assert landed_titles(entry) == expected
    assert "not taken as a report (about reports, not one (通知))" in log
    # Its counts are Scrapy stats too, namespaced by portal (the stats dump of --verbose).
    assert f"'govreports/p/listed': {len(expected)}" in log


# -- per-year sub-columns ----------------------------------------------------------------------

def test_a_column_split_by_year_is_read_through_its_sub_columns(tmp_path):
    site = Site("years", "127.0.0.53")
    site.routes["/ndbg/index.html"] = page('<ul><li><a href="./2019/">2019年度</a></li>'
                                           '<li><a href="./2020/index.html">2020年报</a></li>'
                                           '<li><a href="/about.html">关于我们</a></li></ul>')
    for year in (2019, 2020):
        items = [(f"./t{year + 1}0115_{i}.html", f"某某局{year}年政府信息公开工作年度报告{i}")
                 for i in range(2)]
        listing = f"/ndbg/{year}/" if year == 2019 else f"/ndbg/{year}/index.html"
        site.routes[listing] = page(rows(items))
        for href, title in items:
            site.routes[f"/ndbg/{year}/{href[2:]}"] = detail_page(title, f"{year + 1}-01-15")
    entry, paths, _ = crawl(tmp_path, site, "/ndbg/index.html")
    assert len(landed_titles(entry)) == 4
    assert "/about.html" not in paths


# -- a list that yields nothing ----------------------------------------------------------------

def test_a_list_that_yields_no_report_is_suspect_not_ok(tmp_path):
    site = Site("empty", "127.0.0.54")
    site.routes["/xxgk/list.html"] = page(rows([("./a.html", "我县召开政务公开工作推进会"),
                                                ("./b.html", "关于开展政务公开检查的通知")]))
    entry, _, log = crawl(tmp_path, site, "/xxgk/list.html", cms="generic")
    assert entry["counts"]["status"] == "suspect_empty"
    assert entry["counts"]["list_pages"] == 1 and entry["counts"]["listed"] == 0
    assert "suspect_empty" in log


# What a pager says the column holds, in the shapes portals write it.
ANNOUNCED = {
    "pages-and-entries": ("<div>共 5 页 共 48 条</div>", 5, 48),
    "markup-between": ("<div>共<b>5</b>页，共有<span>48</span>条</div>", 5, 48),
    "current-of-total": ("<div>当前第1/7页</div>", 7, None),
    "records": ("<div>48条记录 1/4页</div>", 4, 48),
    "trs-script": ('<script>createPageHTML(6, 0, "index", "html");</script>', 6, None),
    "in-a-script-only": ('<script>var t = "共9页";</script>', None, None),
    "nothing": ("<div>首页 上一页 下一页 尾页</div>", None, None),
}


@pytest.mark.parametrize("pager,pages,entries", ANNOUNCED.values(), ids=ANNOUNCED.keys())
def test_what_a_pager_announces(pager, pages, entries):
    from pipelines.families import announced

    body = f'<html><body><ul><li>2019年年报</li></ul>{pager}</body></html>'
    assert announced(ListPage.parse("http://127.0.0.1/ndbg/index.html", body)) == {
        "pages": pages, "entries": entries}


def test_a_recordset_announces_its_total():
    from pipelines.families import Hanweb, announced
    from pipelines.families.hanweb import DATAPROXY

    body = "<datastore><totalrecord>131</totalrecord><recordset></recordset></datastore>"
    page = ListPage.parse("http://127.0.0.1" + DATAPROXY, body, content_type="text/xml")
    assert announced(page, Hanweb()) == {"pages": None, "entries": 131}


@pytest.mark.parametrize("pager,note", [
    ('<div>共 48 条</div><a href="javascript:goPage(2)">下一页</a>',
     "announced 48 entries, 2 read"),
    ('<div>共<b>5</b>页</div><a onclick="goPage(2)">下一页</a>', "announced 5 pages, 1 read"),
], ids=["entries", "pages"])
def test_a_list_read_far_short_of_what_its_pager_announced_is_suspect(tmp_path, pager, note):
    site = Site("short", "127.0.0.55")
    items = [(f"./202002/t20200226_{n}.html", f"某某局{n}号2019年政府信息公开工作年度报告")
             for n in range(2)]
    site.routes["/ndbg/index.html"] = page(rows(items) + pager)
    for href, title in items:
        site.routes["/ndbg/" + href[2:]] = detail_page(title, "2020-02-26")
    entry, _, log = crawl(tmp_path, site, "/ndbg/index.html")
    assert entry["counts"]["documents"] == 2
    assert entry["counts"]["status"] == "suspect_empty" and note in entry["counts"]["status_note"]
    said = " ".join(log.split())
    assert "suspect_empty p: the " in said and note in said.split("suspect_empty p: ", 1)[1]


@pytest.mark.parametrize("counts,status", [
    ({"list_pages": 0, "listed": 0}, "down"),
    ({"list_pages": 2, "listed": 0}, "suspect_empty"),
    ({"list_pages": 2, "listed": 30, "announced_entries": 30, "announced_pages": 2}, "ok"),
    ({"list_pages": 2, "listed": 20, "announced_entries": 40}, "ok"),  # half: a mixed column
    ({"list_pages": 2, "listed": 19, "announced_entries": 40}, "suspect_empty"),
    ({"list_pages": 1, "listed": 10, "announced_entries": 20, "needs_browser": 1}, "partial"),
    ({"list_pages": 2, "listed": 30, "announced_pages": 3}, "suspect_empty"),
    ({"list_pages": 2, "listed": 30, "announced_pages": 3, "list_pages_capped": True}, "ok"),
    ({"list_pages": 1}, "ok"),  # a manifest from before the listed count
    ({"list_pages": 1, "listed": 3, "failed": 3}, "failing"),  # every report refused
    ({"list_pages": 1, "listed": 2, "blocked": 1, "failed": 1}, "failing"),  # walls too
    ({"list_pages": 1, "listed": 3, "failed": 2, "documents": 1}, "ok"),  # one landed
    ({"list_pages": 1, "listed": 3, "failed": 1, "attachments": 1}, "ok"),  # a file landed
    ({"list_pages": 1, "listed": 3, "failed": 3, "known_skipped": 3}, "ok"),  # known already
    ({"list_pages": 1, "listed": 3, "failed": 3, "not_modified": 1}, "ok"),  # a 304
], ids=["down", "no-report", "all-read", "half-read", "under-half", "half-behind-a-script",
         "pages-unread",
        "pages-capped", "old-manifest", "all-refused", "all-failed-or-walled", "one-landed",
        "a-file-landed", "all-known", "revalidated"])
def test_a_portals_outcome_from_its_counts(counts, status):
    from pipelines.records import PortalOutcome

    outcome = PortalOutcome("p", counts)
    assert outcome.status == status and outcome.is_down() is (status == "down")


# -- a hub page: every body's report, on the bodies' own hosts ---------------------------------

def test_a_hub_follows_report_links_onto_the_bodies_hosts_and_records_each_host(tmp_path):
    bodies = [Site(f"body{n}", f"127.0.0.{62 + n}") for n in range(3)]
    stranger = Site("stranger", "127.0.0.65")  # neither .gov.cn nor listed: not followed
    for n, body in enumerate(bodies):
        body.routes[f"/xxgk/t20200115_{n}.html"] = detail_page(
            f"某某局{n}2019年政府信息公开工作年度报告", "2020-01-15")
    stranger.routes["/a.html"] = detail_page("外站2019年政府信息公开工作年度报告", "2020-01-15")

    def hub_page(request):  # the hosts' ports are known once the server runs
        items = [(body.url(f"/xxgk/t20200115_{n}.html"), f"某某局{n}2019年政府信息公开工作年度报告")
                 for n, body in enumerate(bodies)]
        return page(rows([*items, (stranger.url("/a.html"), "外站2019年政府信息公开工作年度报告")]))

    hub = Site("hub", "127.0.0.61", {"/ndbg/jzgk.html": hub_page})
    entry, paths, _ = crawl(tmp_path, hub, "/ndbg/jzgk.html", cms="generic", others=(
        *bodies, stranger), kind="hub", province="530000", region="530100",
                            domains=[b.host for b in bodies])
    assert entry["counts"]["documents"] == 3 and entry["counts"]["status"] == "ok"
    for body in bodies:  # each host asked for its own robots.txt first
        asked = [p.split(" ", 1)[1] for p in paths if p.startswith(body.name + " ")]
        assert asked[0] == "/robots.txt" and len(asked) == 2, asked
    assert not any(p.startswith("stranger ") for p in paths)
    lake = Lake.open(str(tmp_path / "lake"))
    sidecars = [d.source for d in lake.raw_documents() if d.source.role == "document"]
    assert sorted(s.context["body_host"] for s in sidecars) == [b.host for b in bodies]
    assert {s.region for s in sidecars} == {"530000"}  # the hub's province, not its own city


def test_a_hub_takes_gov_cn_bodies_and_stops_a_body_redirecting_off_them(tmp_path):
    """Hosts named ``*.gov.cn`` through a forward proxy on loopback: the crawl connects to
    127.0.0.66 only, which answers for every name (routes by absolute URL)."""
    km, yx = "http://www.km.gov.cn/xxgk/t20200115_1.html", "http://www.yx.gov.cn/xxgk/t2.html"
    away, stranger = "http://reports.example.invalid/away.html", "http://example.invalid/a.html"
    proxy = Site("proxy", "127.0.0.66", {
        km: detail_page("昆明市2019年政府信息公开工作年度报告", "2020-01-15"),
        yx: Page(b"", status=302, headers={"Location": away}, validators=False),
        away: detail_page("外站2019年政府信息公开工作年度报告", "2020-01-15"),
        stranger: detail_page("外站2019年政府信息公开工作年度报告", "2020-01-15")})
    hub = Site("hub", "127.0.0.61", {"/ndbg/jzgk.html": page(rows([
        (km, "昆明市2019年政府信息公开工作年度报告"), (yx, "玉溪市2019年政府信息公开工作年度报告"),
        (stranger, "外站2019年政府信息公开工作年度报告")]))})

    entry, paths, _ = crawl(tmp_path, hub, "/ndbg/jzgk.html", cms="generic", others=(proxy,),
                            kind="hub", province="530000",
                            env=lambda: {"http_proxy": proxy.base, "no_proxy": hub.host})
    assert [d["url"] for d in entry["landed"] if d["role"] == "document"] == [km]
    assert [(f["url"], f["reason"]) for f in entry["failures"]] == [(yx, "offsite")]
    assert away in entry["failures"][0]["message"]
    asked = [p.split(" ", 1)[1] for p in paths if p.startswith("proxy ")]
    assert "http://www.km.gov.cn/robots.txt" in asked and away not in asked
    assert stranger not in asked
    lake = Lake.open(str(tmp_path / "lake"))
    [sidecar] = [d.source for d in lake.raw_documents() if d.source.role == "document"]
    assert sidecar.context["body_host"] == "www.km.gov.cn" and sidecar.region == "530000"


@pytest.mark.parametrize("kind,url,taken", [
    ("hub", "http://www.km.gov.cn/zwgk/t20200115_1.html", True),
    ("hub", "http://gov.cn.example.com/a.html", False),
    ("hub", "http://www.example.com/a.html", False),
    ("column", "http://www.km.gov.cn/zwgk/t20200115_1.html", False),
    ("column", "http://www.yn.gov.cn/ndbg/t20200115_1.html", True),
], ids=["hub-gov-cn", "hub-lookalike", "hub-elsewhere", "column-other-gov", "column-own"])
def test_a_hub_takes_documents_on_gov_cn_hosts_a_column_only_on_its_own(kind, url, taken):
    portal = Portal(id="p", name="集中公开", start_urls=("http://www.yn.gov.cn/ndbg/",),
                    kind=kind)
    assert portal.takes_document(url) is taken


# -- what to fetch again -----------------------------------------------------------------------

KNOWN = CrawlEntry(url="http://127.0.0.1/t1.html", sha256="0" * 64, etag='"v1"',
                   last_modified="Mon, 02 Mar 2020",
                   context={"title": "2019年年报", "date": "2020-03-02"})


@pytest.mark.parametrize("entry,context,revalidate,policy,headers", [
    (None, {"title": "2019年年报"}, False, "fresh", {}),
    (KNOWN, {"title": "2019年年报", "date": "2020-03-02"}, False, "skip", {}),
    (KNOWN, {"title": "2019年年报"}, False, "skip", {}),  # the list shows less: not a change
    (KNOWN, {"title": "2019年年报（更正）", "date": "2020-03-02"}, False, "conditional",
     {"If-None-Match": '"v1"', "If-Modified-Since": "Mon, 02 Mar 2020"}),
    (KNOWN, {"title": "2019年年报", "date": "2020-03-09"}, False, "conditional",
     {"If-None-Match": '"v1"', "If-Modified-Since": "Mon, 02 Mar 2020"}),
    (KNOWN, {"title": "2019年年报", "date": "2020-03-02"}, True, "conditional",
     {"If-None-Match": '"v1"', "If-Modified-Since": "Mon, 02 Mar 2020"}),
    (replace(KNOWN, etag=None, last_modified=None), {"title": "新"}, False, "conditional", {}),
], ids=["never-fetched", "unchanged", "list-shows-less", "retitled", "redated", "revalidate",
        "no-validators"])
def test_the_fetch_policy_of_a_listed_url(entry, context, revalidate, policy, headers):
    from crawlers.spider import fetch_policy

    assert fetch_policy(entry, context, revalidate=revalidate) == (policy, headers)


@pytest.mark.parametrize("body,content_type", [
    (b'{"articles": [{"url": "/t20200115_1.html"}], "page": 2}', b"application/json"),
    (b"%PDF-1.4 not a list", b"application/pdf"),
], ids=["json-list-api", "binary"])
def test_navigation_reads_only_pages_with_links(body, content_type):
    from scrapy.http import Request, Response
    from scrapy.http.response.text import TextResponse

    from crawlers.families import list_page
    from pipelines.families import Generic, navigation

    url = "http://127.0.0.1/gkmlpt/api/all/2?page=1"
    cls = TextResponse if content_type == b"application/json" else Response
    response = cls(url, body=body, headers={"Content-Type": content_type},
                   request=Request(url), **({"encoding": "utf-8"} if cls is TextResponse
                                            else {}))
    assert list(navigation(list_page(response), Generic())) == []


@pytest.mark.parametrize("stamp,expected", [
    (1581265800, "2020-02-10"),  # 2020-02-09 16:30 UTC: already the 10th in China
    (1581265800000, "2020-02-10"),  # milliseconds
    ("1581265800", "2020-02-10"),
    ("2020-02-10 09:00:00", "2020-02-10"),
    ("2020-13-45", None),  # no such date
    (99999999999999, None),  # no year a report has
    ([2020], None),
], ids=["seconds", "milliseconds", "seconds-as-text", "text", "no-such-date", "out-of-range",
        "a-list"])
def test_a_gkmlpt_list_reads_its_dates_as_the_document_does(stamp, expected):
    """The list context and the document's own date agree (China time, seconds or
    milliseconds), and one odd date costs only itself, not the list page."""
    from pipelines.families import Gkmlpt
    from pipelines.metadata import parse_date

    url = "http://127.0.0.1/gkmlpt/api/all/2?page=1"
    body = json.dumps({"articles": [{"url": "/a.html", "title": "年报", "date": stamp},
                                    {"url": "/b.html", "title": "年报", "date": 1581265800}]})
    listed = [item for item in Gkmlpt().parse_list(ListPage.parse(url, body))
              if isinstance(item, Listed)]
    assert [item.date for item in listed] == [expected, "2020-02-10"]
    if expected is not None and not isinstance(stamp, list):
        assert parse_date(str(stamp)).isoformat() == expected  # what the extractor reads


@pytest.mark.parametrize("disposition,url,expected", [
    ('attachment; filename="2019年报.pdf"', "http://a.gov.cn/download?id=7", "2019年报.pdf"),
    ("attachment; filename*=UTF-8''2019%E5%B9%B4%E6%8A%A5.pdf", "http://a.gov.cn/d?id=7",
     "2019年报.pdf"),
    ('attachment; filename="x.pdf"; filename*=UTF-8\'\'%E5%B9%B4%E6%8A%A5.pdf',
     "http://a.gov.cn/d", "年报.pdf"),
    ('attachment; filename="a;b.doc"', "http://a.gov.cn/d", "a;b.doc"),
    ("attachment; filename=%E5%B9%B4%E6%8A%A5.docx", "http://a.gov.cn/d", "年报.docx"),
    ("inline", "http://a.gov.cn/files/%E5%B9%B4%E6%8A%A5.pdf", "年报.pdf"),
    (None, "http://a.gov.cn/files/report.xls", "report.xls"),
    (None, "http://a.gov.cn/", None),
], ids=["quoted", "rfc-5987", "both-the-starred-wins", "semicolon-inside-quotes",
        "percent-escaped-plain", "no-filename-parameter", "no-header", "no-name-at-all"])
def test_a_response_names_its_file_from_its_disposition_else_its_url(disposition, url,
                                                                     expected):
    from scrapy.http import Response

    from crawlers.spider import _filename

    headers = {"content-disposition": disposition} if disposition else {}
    assert _filename(Response(url), headers) == expected


#: Year sub-columns as real columns name them (issue 28): (link text, folder) from the column
#: root, and below a year's folder, its bodies' columns.
YEAR_SHAPES = {
    "label-2020年": [("2020年", "./y2020/")],
    "label-bare-2021": [("2021", "./a2021list/index.html")],
    "folder-xxgknb2020": [("市人民政府", "./xxgknb2020/tjsrmzf/")],
    "folder-bare-2024": [("本级", "./2024/")],
    "folder-2018year": [("市政府年报", "./2018year/index.shtml")],
    "folder-then-bodies-nb2022-bmnb2022": [("2022年度", "./nb2022/"),
                                           ("市直部门", "./nb2022/bmnb2022/")],
}


@pytest.mark.parametrize("shape", list(YEAR_SHAPES))
def test_a_column_root_finds_its_years_however_they_are_named(tmp_path, shape):
    """A registry entry starts at the column root; each year's reports are found below it,
    this year's and next year's alike, however the year sub-columns are labelled or named."""
    site = Site("years", "127.0.0.56")
    links = YEAR_SHAPES[shape]
    root_links = links[:1]
    site.routes["/gknb/index.html"] = page(
        "<ul>" + "".join(f'<li><a href="{href}">{label}</a></li>' for label, href in root_links)
        + '<li><a href="/zwgk/2020/">2020年政务动态</a></li></ul>')  # not below the column
    for k, (_label, href) in enumerate(links):
        folder = "/gknb/" + href[2:].rsplit("/", 1)[0] + "/"
        listing = "/gknb/" + href[2:] if not href.endswith("/") else folder
        if k + 1 < len(links):  # a year's folder split into its bodies' columns
            below = links[k + 1][1][2:].removeprefix(href[2:])
            site.routes[listing] = page(f'<ul><li><a href="./{below}">{links[k + 1][0]}</a>'
                                        "</li></ul>")
            continue
        items = [(f"./202102/t20210215_{k}{i}.html", f"某某局{i}号2020年政府信息公开工作年度报告")
                 for i in range(2)]
        site.routes[listing] = page(rows(items))
        for doc, title in items:
            site.routes[folder + doc[2:]] = detail_page(title, "2021-02-15")
    entry, paths, _ = crawl(tmp_path, site, "/gknb/index.html", cms="trs")
    assert len(landed_titles(entry)) == 2, paths
    assert "/zwgk/2020/" not in paths


#: Real report link shapes no family's rules knew (issue 28, from stored copies of registry
#: portals): TRS pages without a date, numeric ids, a Hanweb article with a 32-hex id.
REAL_SHAPES = ["./zfxxgknb/t1078318.shtml", "./201106/t1266170.shtml", "./10269652.shtml",
               "./art/2025/art_36b7055e0b8a4d5c9e2f1a3b4c5d6e7f.html"]


@pytest.mark.parametrize("cms", ["hanweb", "trs", "ucap", "gkmlpt"])
def test_a_wrong_cms_hint_falls_back_to_the_generic_rules(tmp_path, cms):
    """A registry's ``cms`` is a hint: the reports its family's link shapes miss on a list page
    are found by the generic rules, and the crawl record says which rules found what."""
    site = Site("hint", "127.0.0.57")
    items = [(href, f"某某局{i}号2020年政府信息公开工作年度报告")
             for i, href in enumerate(REAL_SHAPES)]
    site.routes["/xxgk/nb/index.html"] = page(rows(items))
    for href, title in items:
        site.routes["/xxgk/nb/" + href[2:]] = detail_page(title, "2021-02-15")
    entry, _paths, output = crawl(tmp_path, site, "/xxgk/nb/index.html", cms=cms)
    assert len(landed_titles(entry)) == len(REAL_SHAPES)
    found_by = entry["counts"]["listed_by"]
    assert sum(found_by.values()) == len(REAL_SHAPES) and found_by.get("generic"), found_by
    assert f"{cms}+generic" in output


#: A TRS report column as real ones are: reports, a body's name as the only title, and notices,
#: readings and news filed beside them. Title → whether it is taken.
MIXED = {
    "某某县人民政府2023年政府信息公开工作年度报告": True,
    "县教育局": True,  # a hub's row names the body only
    "2022年度": True,
    "关于做好2023年政府信息公开工作年度报告编制工作的通知": False,
    "某某县2023年政府信息公开工作年度报告解读": False,
    "我县召开政务公开工作推进会": False,
}


def test_a_report_column_that_mixes_in_notices_and_news_takes_the_reports(tmp_path):
    site = Site("mixed", "127.0.0.58")
    items = [(f"./202402/t20240201_{n}.html", title) for n, title in enumerate(MIXED)]
    site.routes["/nb/index.html"] = page(rows(items))
    for href, title in items:
        site.routes["/nb/" + href[2:]] = detail_page(title, "2024-02-01")
    entry, paths, log = crawl(tmp_path, site, "/nb/index.html", cms="trs", verbose=True)
    taken = {f"t20240201_{n}.html" for n, title in enumerate(MIXED) if MIXED[title]}
    assert landed_titles(entry) == taken
    assert entry["counts"]["passed_over"] == 3
    assert "not taken as a report (news, not a report (召开))" in log
    assert not any(path.endswith(("_3.html", "_4.html", "_5.html")) for path in paths)


#: Script pagers with no static next link (page n of 3): TRS's inline countPage/currentPage
#: and a Pager({...}) config (Beijing's sites).
SCRIPT_PAGERS = {
    "count-page": lambda n: (f"<script>var countPage = 3//共多少页\nvar currentPage = {n};"
                             "//当前页\n</script>"),
    "pager-config": lambda n: (f"<script>new Pager({{ size: 3, current: {n}, prefix: "
                               "'index', suffix: 'html' }});</script>"),
}


@pytest.mark.parametrize("pager", list(SCRIPT_PAGERS))
@pytest.mark.parametrize("cms", ["auto", "generic", "hanweb"])
def test_a_script_pager_with_no_static_link_is_read_whatever_the_cms_hint(tmp_path, cms, pager):
    """A pager a script draws names index_1 … index_N-1: read on any list page, under any
    ``cms``."""
    site = Site("scripted", "127.0.0.61")
    for n in range(3):
        items = [(f"./202002/t20200226_{n}{i}.html",
                  f"某某局{n}{i}号2019年政府信息公开工作年度报告") for i in range(2)]
        site.routes["/ndbg/index.html" if n == 0 else f"/ndbg/index_{n}.html"] = page(
            rows(items) + SCRIPT_PAGERS[pager](n))
        for href, title in items:
            site.routes["/ndbg/" + href[2:]] = detail_page(title, "2020-02-26")
    entry, _paths, _ = crawl(tmp_path, site, "/ndbg/index.html", cms=cms)
    assert len(landed_titles(entry)) == 6
    assert entry["counts"]["list_pages"] == 3


@pytest.mark.parametrize("script,named", [
    ('$.ajax({url: "/js/list2.trsapi", data: {page: 1}, success: render});', "list2.trsapi"),
    ('$.post("/module/xxgk/search.jsp", {infotypeId: "A0001", currpage: 1}, show);',
     "module/xxgk/search.jsp"),
    ('var x = new XMLHttpRequest(); x.open("GET", "/api/list?page=1");', "XMLHttpRequest"),
], ids=["trs-trsapi", "hanweb-search-jsp", "plain-xhr"])
def test_a_list_a_script_fills_from_an_unread_interface_needs_a_browser(tmp_path, script,
                                                                        named):
    """A list page whose table a script fills from an interface no family reads is recorded
    as needing a browser, with the page's URL and what fills it: not ok, not a silent empty."""
    site = Site("scripted-list", "127.0.0.62")
    site.routes["/xxgk/nb/index.html"] = page(f'<table id="list"></table><script>{script}'
                                              "</script>")
    entry, _paths, output = crawl(tmp_path, site, "/xxgk/nb/index.html", cms="auto")
    assert entry["counts"]["status"] == "needs_browser"
    [browser] = entry["needs_browser"]
    assert browser["url"].endswith("/xxgk/nb/index.html") and browser["script"] == named
    assert "needs_browser p: " in output


# -- Hanweb's 信息公开 module: a column page whose list search.jsp draws -----------------------

#: The column page's shell as a public crawler's test quotes a Jilin tax bureau's page
#: (https://jilin.chinatax.gov.cn/col/col13008/index.html): a tree iframe and the
#: loadDynamic call that asks search.jsp for the list.
XXGK_SHELL = (
    '<iframe src="/module/xxgk/tree.jsp?standardXxgk=1&amp;area=11220100MB1507524C'
    '&amp;divid=div4"></iframe><div id="div4"></div>'
    "<script>function show(a, b, c) {"
    "loadDynamic('/module/xxgk/search.jsp?standardXxgk=1&infotypeId='+a+"
    "'&vc_title='+encodeURI(b)+'&vc_number='+encodeURI(c)+"
    "'&area=11220100MB1507524C', 'div4', '0','0','950','1','','');}</script>")


def _xxgk_rows(number: int, template: str) -> str:
    """Page ``number`` of the search's answer, in the old (table rows) or new (list) template:
    two reports, dated in the row."""
    links = [(f"/art/2024/2/{number}/art_13008_{number}{i}.html",
              f"某某局{number}{i}号2023年政府信息公开工作年度报告", f"2024-02-0{number}")
             for i in range(2)]
    if template == "rows":
        rows = "".join(f'<tr class="tr_main_value_{"odd" if i % 2 else "even"}"><td>{i}</td>'
                       f'<td><a href="{href}" title="{title}" target="_blank">{title[:8]}…'
                       f"</a></td><td>{date}</td></tr>" for i, (href, title, date)
                       in enumerate(links))
        return (f'<table>{rows}</table><table class="tb_title"><tr><td>共2页</td>'
                "</tr></table>")
    items = "".join(f'<li><a href="{href}" title="{title}">{title}</a><b>{date}</b></li>'
                    for href, title, date in links)
    return f'<div class="zfxxgk_zdgkc"><ul>{items}</ul></div><span>共2页</span>'


@pytest.mark.parametrize("template", ["rows", "list"], ids=["old-table-rows", "new-list"])
def test_a_hanweb_xxgk_column_is_read_through_search_jsp(tmp_path, template):
    site = Site("xxgk", "127.0.0.63")
    asked: list[dict] = []

    def search(request):
        asked.append(request.form)
        number = int(request.form.get("currpage") or 1)
        return page(_xxgk_rows(number, template))

    site.routes["/col/col13008/index.html"] = page(XXGK_SHELL)
    site.routes["/module/xxgk/search.jsp"] = search
    for number in (1, 2):
        for i in range(2):
            site.routes[f"/art/2024/2/{number}/art_13008_{number}{i}.html"] = detail_page(
                f"某某局{number}{i}号2023年政府信息公开工作年度报告", f"2024-02-0{number}")
    entry, _paths, _ = crawl(tmp_path, site, "/col/col13008/index.html", cms="auto")
    assert len(landed_titles(entry)) == 4
    assert entry["counts"]["family"] == "hanweb" and entry["counts"]["status"] == "ok"
    assert [form["currpage"] for form in asked] == ["1", "2"]
    assert {(f["area"], f["divid"], f["standardXxgk"], f["jdid"]) for f in asked} == {
        ("11220100MB1507524C", "div4", "1", "1")}
    listed = {d["url"]: d for d in entry["landed"] if d["role"] == "document"}
    assert len(listed) == 4


# -- TRS: a list from the WAS5 search server ----------------------------------------------------

def _was5_answer(number: int, dialect: str) -> Page:
    """A search server's answer as Fujian sites give it: JSON-like text with raw line breaks
    inside its strings; WAS5's ``docs`` and ``pagenum``, or /fjdzapp/search's ``data`` and
    ``pageCount`` (the keys public crawlers of Fujian's sites read)."""
    keys = ("title", "url", "pubtime", "docs", "pagenum") if dialect == "was5" else \
        ("doctitle", "docpuburl", "docreltime", "data", "pageCount")
    docs = ",".join(
        f'{{"{keys[0]}":"某某厅{number}{i}号2023年政府信息公开\r\n工作年度报告",'
        f'"{keys[1]}":"/zwgk/ndbg/202402/t20240201_{number}{i}.htm",'
        f'"{keys[2]}":"2024-02-0{number} 10:00:00","fileno":""}}' for i in range(2))
    return Page(f'{{"{keys[4]}":2,"{keys[3]}":[{docs}]}}'.encode(),
                content_type="text/html; charset=utf-8")


@pytest.mark.parametrize("path,dialect", [
    ("/was5/web/search", "was5"), ("/fjdzapp/search", "fjdzapp"),
], ids=["was5", "fjdzapp"])
def test_a_trs_column_filled_from_the_search_server(tmp_path, path, dialect):
    site = Site("was5", "127.0.0.64")
    site.routes["/zwgk/ndbg/index.htm"] = page(
        f'<div id="list"></div><script>var url = "{path}?channelid=229105&amp;'
        'templet=docs.jsp&amp;sortfield=-docreltime&amp;classsql=chnlid%3D18040&amp;prepage=2'
        '&amp;page=1"; $.ajax({url: url, success: render});</script>')
    site.routes[path] = lambda request: _was5_answer(int(request.query["page"]), dialect)
    for number in (1, 2):
        for i in range(2):
            site.routes[f"/zwgk/ndbg/202402/t20240201_{number}{i}.htm"] = detail_page(
                f"某某厅{number}{i}号2023年政府信息公开工作年度报告", f"2024-02-0{number}")
    entry, paths, _ = crawl(tmp_path, site, "/zwgk/ndbg/index.htm", cms="auto")
    assert entry["counts"]["family"] == "trs" and entry["counts"]["status"] == "ok"
    assert len(landed_titles(entry)) == 4
    assert sum(p.startswith(f"{path}?") for p in paths) == 2


@pytest.mark.parametrize("dialect", ["was5", "fjdzapp"])
def test_a_search_servers_answer_gives_each_row_its_title_and_date(dialect):
    from pipelines.families.base import Listed, ListPage, NextPage
    from pipelines.families.trs import Trs

    url = "http://h/fjdzapp/search?channelid=229105&page=1"
    found = list(Trs().parse_list(ListPage.parse(
        url, _was5_answer(1, dialect).body.decode(), content_type="application/json",
        state={"was5": url, "page": 1})))
    rows = [(item.title, item.date) for item in found if isinstance(item, Listed)]
    assert rows == [(f"某某厅1{i}号2023年政府信息公开工作年度报告", "2024-02-01") for i in range(2)]
    assert [item.state["page"] for item in found if isinstance(item, NextPage)] == [2]


@pytest.mark.parametrize("row,date", [
    ('<ul><li><a href="t20240201_1.html">年报</a><span>2024-02-01</span></li></ul>',
     "2024-02-01"),
    ('<table><tr><td><a href="t20240201_1.html">年报</a></td><td>2024/02/01</td></tr></table>',
     "2024-02-01"),
    ('<dl><dt><a href="t20240201_1.html">年报</a></dt><dd>2024-02-01</dd>'
     '<dt><a href="t20230201_2.html">年报</a></dt><dd>2023-02-01</dd></dl>', "2024-02-01"),
    ('<dl><dt><a href="t20240201_1.html">年报</a></dt><dt><a href="x.html">其他</a></dt>'
     "<dd>2023-02-01</dd></dl>", None),
], ids=["li-span", "table-cells", "dt-then-its-dd", "dt-without-its-own-dd"])
def test_a_list_rows_date_is_its_own(row, date):
    """The date of a list link is its row's, never a neighbour's: a ``<dd>`` right after its
    ``<dt>`` is its row (real lists put the date there)."""
    from pipelines.families.base import anchors, markup_tree

    first = next(anchors(markup_tree(f"<html><body>{row}</body></html>"), "http://h/nb/"))
    assert first.date == date


# -- saved real list pages (tests/realpages/lists, sources in its sources.yaml) -----------------

REAL_LISTS = Path(__file__).parent / "realpages" / "lists"
#: Name → (its file, the address it is read at, its family, documents taken, of which reports,
#: passed over, further list pages, entries its script announces). Taken: the family's links
#: less the notices and news its titles give away.
REAL_LIST_READS = {
    "fj-pingtan-zfxxgknb-list": ("fj-pingtan-zfxxgknb-list.html",
                                 "https://www.pingtan.gov.cn/zwgk/zfxxgk/zfxxgknb/index.htm",
                                 "trs", 10, 10, 0, 0, 20),
    "nmg-ordos-engebei-xxgknb-list": ("nmg-ordos-engebei-xxgknb-list.html",
                                      "http://www.ordos.gov.cn/xxgk/xxgknb/index.html",
                                      "trs", 7, 4, 3, 1, None),
    "jx-yichun-yuanzhou-zwyw-list": ("jx-yichun-yuanzhou-zwyw-list.html",
                                     "http://www.yzq.gov.cn/zwgk/zwdt/zwyw/index.html",
                                     "trs", 18, 0, 7, 119, None),
    # a dataproxy.jsp answer: 45 rows of notices and 公示, none a report, nothing announced
    "gs-dingxi-dataproxy-recordset": (
        "gs-dingxi-dataproxy-recordset.xml",
        "http://zwgk.dingxi.gov.cn/module/web/jpage/dataproxy.jsp?startrecord=1&endrecord=45"
        "&perpage=15", "hanweb", 12, 0, 33, 0, None),
}


@pytest.mark.parametrize("name", sorted(REAL_LIST_READS))
def test_a_saved_real_list_page_is_read_as_its_family(name):
    from pipelines.families import announced, detect, read_list

    file, url, name_, taken, reports, passed, further, entries = REAL_LIST_READS[name]
    listing = ListPage.parse(url, (REAL_LISTS / file).read_text(encoding="utf-8"))
    family = detect(listing)
    items, _by, passed_over = read_list(listing, family)
    documents = [item for item in items if isinstance(item, Listed)]
    assert family.name == name_
    assert len(documents) == taken and all(item.date for item in documents)
    assert len(passed_over) == passed and all(item.date for item, _why in passed_over)
    assert sum("年度报告" in (item.title or "") for item in documents) == reports
    assert len({item.url for item in items if not isinstance(item, Listed)}) == further
    assert announced(listing, family)["entries"] == entries


def test_a_real_list_that_announces_more_than_it_shows_is_partial(tmp_path):
    """The saved Pingtan 年报 column (10 rows shown, its TRS list model announcing 20, the rest
    behind list2.trsapi), served on loopback: its reports land and the crawl says partial,
    with the numbers, not ok."""
    site = Site("real-list", "127.0.0.68")
    html = (REAL_LISTS / "fj-pingtan-zfxxgknb-list.html").read_text(encoding="utf-8")
    site.routes["/zwgk/zfxxgk/zfxxgknb/index.htm"] = Page(html.encode("utf-8"))
    for href in re.findall(r'href="\./(\d{6}/t\d{8}_\d+\.htm)"', html):
        site.routes[f"/zwgk/zfxxgk/zfxxgknb/{href}"] = detail_page(
            "平潭综合实验区政府信息公开工作年度报告", "2024-03-08")
    entry, _paths, output = crawl(tmp_path, site, "/zwgk/zfxxgk/zfxxgknb/index.htm", cms="auto")
    assert len(landed_titles(entry)) == 10
    assert entry["counts"]["status"] == "partial"
    assert entry["counts"]["status_note"].startswith("the lists announced 20 entries, 10 read")
    assert [page["script"] for page in entry["needs_browser"]] == ["list2.trsapi"]
    assert "partial p: " in output
