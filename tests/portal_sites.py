"""Fixture sites for the crawl tests and the crawl benchmark (on top of the sample portals):
a site of many reports, and a site where every fault the crawler must survive lives."""

from __future__ import annotations

import itertools
from pathlib import Path

import yaml

from crawlers.samples.server import Page, Request, Site

#: Scrapy settings that take the politeness delays out of functional tests (the delays are
#: tested on their own, and measured in the benchmark).
FAST = ["--set", "DOWNLOAD_DELAY=0", "--set", "AUTOTHROTTLE_ENABLED=False"]

REPORT = ("<p>{title}</p><p>一、总体情况</p>"
          "<p>本机关认真贯彻落实《中华人民共和国政府信息公开条例》，主动公开政府信息。</p>" * 3)


def detail_page(title: str, date: str) -> Page:
    html = (f'<html><head><meta charset="utf-8"><title>{title}</title></head><body>'
            f'<table><tr><td>发布日期：</td><td>{date}</td></tr></table>'
            f'<div class="TRS_Editor">{REPORT.format(title=title)}</div></body></html>')
    return Page(html.encode("utf-8"))


def trs_list(items: list[tuple[str, str, str]], page: int, count: int) -> Page:
    lis = "".join(f'<li><a href="{href}">{title}</a><span>{date}</span></li>'
                  for href, title, date in items)
    html = (f'<html><head><meta charset="utf-8"></head><body><ul>{lis}</ul>'
            f'<script>createPageHTML({count}, {page}, "index", "html");</script></body></html>')
    return Page(html.encode("utf-8"))


def many_reports_site(name: str, host: str, *, reports: int, per_page: int = 10,
                      delay: float = 0.0, robots: str | None = None) -> Site:
    """A TRS column with ``reports`` detail pages, ``per_page`` to a list page."""
    site = Site(name, host)
    if robots is not None:
        site.robots = robots
    entries = [(f"./2020{(i % 12) + 1:02d}/t2020{(i % 12) + 1:02d}15_{i}.html",
                f"某某单位{i}号2019年政府信息公开工作年度报告", f"2020-{(i % 12) + 1:02d}-15")
               for i in range(reports)]
    pages = [entries[i:i + per_page] for i in range(0, reports, per_page)] or [[]]
    for number, items in enumerate(pages):
        path = "/ndbg/index.html" if number == 0 else f"/ndbg/index_{number}.html"
        site.routes[path] = trs_list(items, number, len(pages))
        for href, title, date in items:
            page = detail_page(title, date)
            page.delay = delay
            site.routes["/ndbg/" + href[2:]] = page
    return site


def wall_site(name: str, host: str, path: str, page: Page) -> Site:
    """A host of the portal that answers with an anti-bot wall (which stops that host)."""
    return Site(name, host, {path: page})


RUISHU = Page(b"<html><script>$_ts=window['$_ts'];$_ts.nsd=1;</script></html>", status=412,
              validators=False)
JIASULE = Page(b"<script>document.cookie=('__jsl_clearance=1');location.href=location.pathname"
               b"</script>", status=521, validators=False)


def fault_site(name: str, host: str, elsewhere: str,
               walls: dict[str, str]) -> tuple[Site, dict[str, str]]:
    """A list of links to faulty pages, and the reason key each must end recorded with.
    ``elsewhere`` is the base URL of another fixture host, outside this portal; ``walls`` maps
    the anti-bot pages' paths to the base URLs of the portal's walled hosts."""
    site = Site(name, host, robots="User-agent: *\nDisallow: /private/\n")
    flaky = itertools.count()

    def flaky_page(request: Request) -> Page:  # two 500s, then the report
        if next(flaky) < 2:
            return Page(b"<html>busy</html>", status=500, validators=False)
        return detail_page("重试后成功的2019年政府信息公开工作年度报告", "2020-01-10")

    busy = itertools.count()

    def busy_page(request: Request) -> Page:  # a 503 asking to come back in a second
        if next(busy) < 1:
            return Page(b"busy", status=503, headers={"Retry-After": "1"}, validators=False)
        return detail_page("稍后重试的2019年政府信息公开工作年度报告", "2020-01-11")

    routes: dict[str, object] = {
        "/ok.html": detail_page("正常的2019年政府信息公开工作年度报告", "2020-01-09"),
        "/flaky.html": flaky_page,
        "/busy.html": busy_page,
        "/slow.html": Page(b"<html>late</html>", delay=4.0),
        "/truncated.html": Page(b"<html><body>" + "半截".encode() * 400 + b"</body></html>",
                                truncate=True),
        "/loop-a.html": Page(status=302, headers={"Location": "/loop-b.html"},
                             validators=False),
        "/loop-b.html": Page(status=302, headers={"Location": "/loop-c.html"},
                             validators=False),
        "/loop-c.html": Page(status=302, headers={"Location": "/loop-a.html"},
                             validators=False),
        "/away.html": Page(status=302, headers={"Location": f"{elsewhere}/stolen.html"},
                           validators=False),
        "/private/report.html": detail_page("不许抓取的年度报告", "2020-01-12"),
        "/huge.html": Page(b"<html>" + b"x" * 300_000 + b"</html>"),
        "/gone.html": Page(b"<html>not here</html>", status=404, validators=False),
    }
    expected = {"/ok.html": "landed", "/flaky.html": "landed", "/busy.html": "landed",
                "/slow.html": "timeout", "/truncated.html": "truncated",
                "/loop-a.html": "redirect_loop", "/away.html": "offsite",
                "/private/report.html": "robots_disallowed", "/ruishu.html": "anti_bot",
                "/jsl.html": "anti_bot", "/huge.html": "too_large", "/gone.html": "http_404"}
    site.routes.update(routes)
    links = "".join(f'<li><a href="{walls.get(path, "")}{path}">测试{n}2019年度报告</a>'
                    f"<span>2020-01-0{n % 9 + 1}</span></li>" for n, path in enumerate(expected))
    site.routes["/list.html"] = Page(f'<html><head><meta charset="utf-8"></head><body><ul>{links}'
                                     "</ul></body></html>".encode())
    return site, expected


def write_registry(path: Path, entries: list[dict]) -> Path:
    path.write_text(yaml.safe_dump({"portals": entries}, allow_unicode=True), encoding="utf-8")
    return path


def crawl_manifest(lake_dir) -> dict:
    """The newest run manifest of a local lake (the crawl a test just ran)."""
    from pipelines.lake import Lake

    lake = Lake.open(str(lake_dir))
    return lake.read_json(lake.manifest_keys("")[-1])


def times_by_host(hits) -> dict[str, list[float]]:
    """When each fixture host was asked for something (a sample server's ``hits``), in order."""
    by_host: dict[str, list[float]] = {}
    for hit in hits:
        by_host.setdefault(hit.site, []).append(hit.at)
    return {host: sorted(times) for host, times in by_host.items()}


def gaps(times: list[float]) -> list[float]:
    """The intervals between consecutive requests to one host."""
    return [b - a for a, b in zip(times, times[1:], strict=False)]
