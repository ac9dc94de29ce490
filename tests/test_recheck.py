"""Silent edits, through the crawler on a loopback portal: each night re-checks a share of the
known pages and files with conditional requests, the longest-unchecked first, so that every one
is checked within the window; an edit found that way is a new version with what it changed, a
re-rendered page is none (crawlers.spider.recheck_due, pipelines.history)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from crawlers.samples.server import Page, SampleServer, Site
from crawlers.spider import recheck_due
from pipelines.lake import Lake
from pipelines.query import run_query
from pipelines.records import CrawlEntry
from tests.conftest import SEEDS
from tests.portal_sites import FAST, gaps, many_reports_site, trs_list, write_registry
from tests.test_versions import REMOVED, _edited

SEED = SEEDS / "003_6f0460d6ccc8a243.txt"
HOST = "127.0.0.71"
FLOOR = 0.25  # seconds between two requests to the host (DOWNLOAD_DELAY)


def _page(title: str, body: str, menu: str = '<a href="/">首页</a>') -> Page:
    paragraphs = "".join(f"<p>{line}</p>" for line in body.split("\n") if line.strip())
    return Page((f'<html><head><meta charset="utf-8"><title>{title}</title></head><body>'
                 f'<div class="menu">{menu}</div>'
                 f'<div class="TRS_Editor">{paragraphs}</div></body></html>').encode())


def _pdf(text: str) -> bytes:
    from crawlers.samples.sites import _pdf as draw

    return draw([line for line in text.split("\n") if line.strip()][:60])


COUNTED = "乡政府2019年政府信息公开工作年度报告\n一、总体情况\n全年主动公开信息120条。\n" \
          "我乡认真落实条例，做好政府信息公开工作。\n"


def _site(table: str, footer: str, pdf: str) -> Site:
    items = [("./2020/t20200131_1.html", "西邑乡2019年政府信息公开年度报告", "2020-01-31"),
             ("./2020/t20200201_2.html", "某乡2019年政府信息公开工作年度报告", "2020-02-01"),
             ("./2020/t20200202_3.html", "某镇2019年政府信息公开工作年度报告", "2020-02-02")]
    site = Site("recheck", HOST)
    site.routes["/ndbg/index.html"] = trs_list(items, 0, 1)
    site.routes["/ndbg/2020/t20200131_1.html"] = _page(items[0][1], table)
    site.routes["/ndbg/2020/t20200201_2.html"] = _page(items[1][1], COUNTED + footer)
    site.routes["/ndbg/2020/t20200202_3.html"] = Page(
        ('<html><head><meta charset="utf-8"></head><body><div class="TRS_Editor">'
         '<p>某镇2019年政府信息公开工作年度报告</p><p>详见附件：<a href="../files/report.pdf">'
         '年度报告.pdf</a></p></div></body></html>').encode())
    site.routes["/ndbg/files/report.pdf"] = Page(_pdf(pdf), content_type="application/pdf")
    return site


def _night(cli_process, registry, lake, env):
    done = cli_process("run", "--portals", registry, "--lake", lake, *FAST,
                       "--set", f"DOWNLOAD_DELAY={FLOOR}", env=env)
    assert done.returncode == 0, done.stderr + done.stdout
    return _crawl_record(lake)["portals"]["recheck"]["counts"]


def _crawl_record(lake) -> dict:
    """The newest crawl's manifest (``run`` writes the processing's after it)."""
    store = Lake.open(str(lake))
    return next(m for m in (store.read_json(k) for k in reversed(store.manifest_keys("")))
                if m.get("command") == "crawl")


def _by_night(hits, nights) -> list[list]:
    """The hits of each night (``hits_to``: where its hits end)."""
    ends = [night["hits_to"] for night in nights]
    return [hits[start:end] for start, end in zip([0, *ends], ends, strict=False)]


def _rows(lake, sql):
    columns, rows = run_query(Lake.open(str(lake)), sql)
    return [dict(zip(columns, row, strict=True)) for row in rows]


@pytest.mark.e2e
def test_nightly_rechecks_find_edits_and_ignore_re_rendering(cli_process, tmp_path):
    original = SEED.read_text(encoding="utf-8")
    pdf_text = COUNTED.replace("乡政府", "某镇") + "二、主动公开政府信息情况\n公开文件12件。\n"
    site = _site(original, "更新时间：2020-02-01 10:00:00\n浏览次数：12", pdf_text)
    lake = tmp_path / "lake"
    env = {"GOVREPORTS_RECHECK_DAYS": "2"}
    with SampleServer([site]) as server:
        registry = write_registry(tmp_path / "p.yaml", [{
            "id": "recheck", "name": "复查", "cms": "trs", "region": "530502",
            "start_urls": [site.url("/ndbg/index.html")]}])
        first = _night(cli_process, registry, lake, env)
        assert (first["documents"], first["attachments"], first["rechecked"]) == (3, 1, 0)
        # Between the nights, silently (the list shows nothing new): a number edited and a
        # paragraph removed; a page re-rendered in a new template (its menu, its footer's
        # stamp and counter); the PDF replaced.
        site.routes["/ndbg/2020/t20200131_1.html"] = _page("西邑乡", _edited(original))
        site.routes["/ndbg/2020/t20200201_2.html"] = _page(
            "某乡", COUNTED + "更新时间：2020-03-09 16:41:02\n浏览次数：97",
            menu='<a href="/">首页</a> | <a href="/xw/">新闻</a> | <a href="/gg/">公告</a>')
        site.routes["/ndbg/files/report.pdf"] = Page(
            _pdf(pdf_text.replace("12件", "15件")), content_type="application/pdf")
        since = len(server.hits)
        nights = []
        for _ in range(2):
            nights.append(_night(cli_process, registry, lake, env))
            nights[-1]["hits_to"] = len(server.hits)
        hits = server.hits[since:]
        for night in nights:
            night["hits_to"] -= since

    # Three known pages, two days: two a night, the longest-unchecked first, so each is
    # checked within the window; the PDF with its page, whenever that is.
    pages = [[h.path for h in night if h.conditional and h.path.endswith(".html")]
             for night in _by_night(hits, nights)]
    assert [len(p) for p in pages] == [2, 2] and len(set(pages[0] + pages[1])) == 3
    assert [n["rechecked"] for n in nights] == [
        len(p) + ("/ndbg/2020/t20200202_3.html" in p) for p in pages]
    # New bytes: the edited page, the re-rendered one and the PDF; a 304 for the rest.
    assert sum(n["recheck_changed"] for n in nights) == 3
    assert sum(n["recheck_unchanged"] for n in nights) == sum(len(p) for p in pages) - 2 + \
        sum("/ndbg/2020/t20200202_3.html" in p for p in pages) - 1
    assert min(gaps([h.at for h in hits if h.path != "/robots.txt"])) >= FLOOR * 0.95

    changes = {row["url"].rsplit("/", 1)[-1]: row for row in _rows(lake, (
        "select url, to_version, chars_added, chars_removed, sections_changed, cells_changed, "
        "from_sha256, to_sha256, from_attachments_sha256, to_attachments_sha256, "
        "from_fetched_at, to_fetched_at from report_changes"))}
    assert set(changes) == {"t20200131_1.html", "t20200202_3.html"}  # not the re-rendered one
    table = changes["t20200131_1.html"]
    assert table["sections_changed"] == ["三、收到和处理政府信息公开申请情况",
                                         "五、存在的主要问题及改进措施"]
    assert {(c["cell"], c["old"], c["new"]) for c in table["cells_changed"]} == {
        ("三/received_new/natural_person", Decimal(0), Decimal(2)),
        ("三/received_new/total", Decimal(0), Decimal(2))}
    assert table["chars_removed"] > len(REMOVED)
    replaced = changes["t20200202_3.html"]
    assert replaced["sections_changed"] == ["二、主动公开政府信息情况"]
    # The page's bytes stand; its PDF's changed, and the version is as late as the new PDF.
    assert replaced["from_sha256"] == replaced["to_sha256"]
    assert replaced["from_attachments_sha256"] != replaced["to_attachments_sha256"]
    assert replaced["to_fetched_at"] > replaced["from_fetched_at"]
    footer = _rows(lake, "select version, first_seen, last_seen from reports "
                         "where url like '%t20200201_2.html'")
    assert [row["version"] for row in footer] == [1]
    assert footer[0]["last_seen"] > footer[0]["first_seen"]  # seen again, re-rendered
    # A 304 is a sighting too (the page checked on both nights had one on the second): each
    # report was last seen when its page (and its PDF, checked with it) were last found as
    # they are, or when the new PDF was fetched, in reports and in its latest version alike.
    state = Lake.open(str(lake)).crawl_state("recheck")
    seen = _rows(lake, "select r.url, r.last_seen, v.last_seen as version_last_seen "
                       "from reports r join report_versions v "
                       "on v.doc_id = r.doc_id and v.version = r.version")
    assert len(seen) == 3
    for row in seen:
        entry = state[row["url"]]
        checked = min(datetime.fromisoformat(state[url].checked_at)
                      for url in (row["url"], *entry.links))
        assert row["last_seen"] == row["version_last_seen"], row["url"]
        if entry.links:
            assert row["last_seen"] == max(checked, replaced["to_fetched_at"])
        else:
            assert row["last_seen"] == checked, row["url"]


def _entry(url: str, checked: str, role: str = "document", **extra) -> CrawlEntry:
    return CrawlEntry(url=url, sha256="0" * 64, role=role, fetched_at=checked, **extra)


NOW = datetime(2026, 12, 7, tzinfo=UTC)


def _ago(days: float) -> str:
    return (NOW - timedelta(days=days)).isoformat()


@pytest.mark.parametrize("entries,days,cap,due", [
    ([_entry(f"u{i}", _ago(i * 0.4)) for i in range(10)], 5, 100, ["u9", "u8"]),
    ([_entry(f"u{i}", _ago(i)) for i in range(10)], 5, 100, ["u9", "u8", "u7", "u6"]),
    ([_entry(f"u{i}", _ago(40 + i)) for i in range(10)], 30, 100,
     [f"u{i}" for i in range(9, -1, -1)]),  # all older than the window: all due
    ([_entry(f"u{i}", _ago(40 + i)) for i in range(10)], 30, 3, ["u9", "u8", "u7"]),
    ([_entry("list", _ago(9), role="list"), _entry("alias", _ago(9), alias_of="u1"),
      _entry("u1", _ago(1))], 1, 100, ["u1"]),
    ([_entry("u1", _ago(9), checked_at=_ago(0.5)), _entry("u2", _ago(2))], 2, 100, ["u2"]),
    ([], 30, 100, []),
], ids=["a-share-oldest-first", "the-overdue-beyond-the-share", "overdue-all-due", "capped",
        "no-lists-no-aliases", "checked-later-than-fetched", "nothing-known"])
def test_which_known_documents_a_night_rechecks(entries, days, cap, due):
    known = {e.url: e for e in entries}
    assert [e.url for e in recheck_due(known, now=NOW, days=days, cap=cap)] == due


@pytest.mark.e2e
def test_a_list_entry_changed_on_a_recheck_night_is_recorded_that_night(cli_process, tmp_path):
    site = many_reports_site("relisted", "127.0.0.72", reports=1)
    lake = tmp_path / "lake"
    with SampleServer([site]) as server:
        registry = write_registry(tmp_path / "p.yaml", [{
            "id": "relisted", "name": "重列", "cms": "trs",
            "start_urls": [site.url("/ndbg/index.html")]}])

        def night(**env) -> list:
            since = len(server.hits)
            done = cli_process("crawl", "--portals", registry, "--lake", lake, *FAST, env=env)
            assert done.returncode == 0, done.stderr
            return [h for h in server.hits[since:] if "/t2020" in h.path]

        night()
        listing = site.routes["/ndbg/index.html"]
        listing.body = listing.body.replace(b"2020-01-15", b"2020-01-20")  # a new date listed
        both = night(GOVREPORTS_RECHECK_DAYS="1")  # the page is due for its re-check too
        after = night(GOVREPORTS_RECHECK_MAX="0")
    assert [(h.conditional, h.status) for h in both] == [(True, 304), (True, 304)]
    assert after == []  # the list's new date was recorded on the night it appeared
