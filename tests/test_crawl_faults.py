"""Every fault a portal can throw ends recorded in the run manifest, never as a crash; the
address guard and the anti-bot detector are tested without sending any traffic."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import time

import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from twisted.internet.error import DNSLookupError

from crawlers.guards import (
    AddressGuardMiddleware,
    ForbiddenAddress,
    GuardedResolver,
    check_address,
    detect_anti_bot,
)
from crawlers.politeness import retry_after_seconds
from crawlers.samples.server import Page, SampleServer, Site
from crawlers.spider import MAX_ATTACHMENTS
from pipelines.lake import Lake
from pipelines.stages import crawled_documents
from tests.conftest import GOVREPORTS
from tests.portal_sites import (
    FAST,
    JIASULE,
    RUISHU,
    crawl_manifest,
    fault_site,
    gaps,
    many_reports_site,
    times_by_host,
    wall_site,
    write_registry,
)

pytestmark = pytest.mark.e2e  # real processes: crawls, races, Airflow
#: Nights without the rolling re-check of known pages (tested in tests/test_recheck.py), for the
#: tests of what a night fetches on its own account.
NO_RECHECK = {"GOVREPORTS_RECHECK_MAX": "0"}

FAULT_SETTINGS = [*FAST, "--set", "DOWNLOAD_TIMEOUT=1", "--set", "RETRY_TIMES=2",
                  "--set", "DOWNLOAD_MAXSIZE=100000", "--set", "REDIRECT_MAX_TIMES=4"]


@pytest.fixture(scope="module")
def fault_crawl(tmp_path_factory):
    """One crawl of the fault portal (and of a second host the portal redirects to)."""
    tmp = tmp_path_factory.mktemp("faults")
    other = Site("elsewhere", "127.0.0.32", {"/stolen.html": many_reports_site(
        "x", "127.0.0.32", reports=1).routes["/ndbg/202001/t20200115_0.html"]})
    walls = [wall_site("ruishu", "127.0.0.37", "/ruishu.html", RUISHU),
             wall_site("jsl", "127.0.0.38", "/jsl.html", JIASULE)]
    with SampleServer([other]) as first, SampleServer(walls) as walled:
        site, expected = fault_site("faulty", "127.0.0.31", elsewhere=other.base,
                                    walls={"/ruishu.html": walls[0].base,
                                           "/jsl.html": walls[1].base})
        with SampleServer([site]) as server:
            registry = write_registry(tmp / "portals.yaml", [{
                "id": "faulty", "name": "故障门户", "cms": "generic",
                "start_urls": [site.url("/list.html")],
                "domains": ["127.0.0.37", "127.0.0.38"]}])
            lake = str(tmp / "lake")
            env = {**os.environ, "GOVREPORTS_LAKE": ""}
            result = subprocess.run(
                [*GOVREPORTS, "crawl", "--portals", str(registry), "--lake", lake,
                 *FAULT_SETTINGS], capture_output=True, text=True, env=env, timeout=300)
            hits = list(server.hits) + list(walled.hits)
            peak = server.peak_in_flight["faulty"]
        stolen = [h for h in first.hits if h.path != "/robots.txt"]
    manifest_key = sorted(Lake.open(lake).store.list("_runs/"))[-1]
    manifest = json.loads(Lake.open(lake).store.read(manifest_key))["portals"]["faulty"]
    urls = {path: (walls[0].url(path) if path == "/ruishu.html" else
                   walls[1].url(path) if path == "/jsl.html" else site.url(path))
            for path in expected}
    return result, manifest, expected, hits, stolen, urls, peak


def test_the_fault_crawl_finishes_and_reports(fault_crawl):
    result, manifest, *_ = fault_crawl
    assert result.returncode == 0, result.stderr
    assert "failed" in result.stdout and "anti-bot" in result.stdout


CASES = ["/ok.html", "/flaky.html", "/busy.html", "/slow.html", "/truncated.html",
         "/loop-a.html", "/away.html", "/private/report.html", "/ruishu.html", "/jsl.html",
         "/huge.html", "/gone.html"]


@pytest.mark.parametrize("path", CASES, ids=[c.strip("/").replace(".html", "") for c in CASES])
def test_each_fault_ends_recorded_with_its_reason(fault_crawl, path):
    _, manifest, expected, _, _, urls, _ = fault_crawl
    url = urls[path]
    landed = {d["url"] for d in manifest["landed"]}
    failed = {f["url"]: f["reason"] for f in manifest["failures"]}
    blocked = {b["url"]: b["kind"] for b in manifest["blocked"]}
    if expected[path] == "landed":
        assert url in landed, (failed.get(url), blocked.get(url))
    elif expected[path] == "anti_bot":
        assert blocked.get(url) in ("ruishu", "jiasule"), (failed.get(url), blocked)
    else:
        assert failed.get(url) == expected[path], manifest["failures"]


def test_a_redirect_to_another_host_is_not_followed(fault_crawl):
    *_, stolen, _, _ = fault_crawl
    assert stolen == []


def test_robots_disallow_is_obeyed_and_anti_bot_pages_are_not_retried(fault_crawl):
    _, _, _, hits, *_ = fault_crawl
    paths = [h.path for h in hits]
    assert "/private/report.html" not in paths
    assert paths.count("/ruishu.html") == 1 and paths.count("/jsl.html") == 1
    assert paths.count("/flaky.html") == 3  # two 500s, retried, then the page


def test_one_request_at_a_time_per_host_even_without_a_delay(fault_crawl):
    *_, peak = fault_crawl  # the crawl ran with DOWNLOAD_DELAY=0 and a 4 s page among others
    assert peak == 1


def test_retry_after_is_waited_for(fault_crawl):
    _, _, _, hits, *_ = fault_crawl
    busy = [h for h in hits if h.path == "/busy.html"]
    assert [h.status for h in busy] == [503, 200]
    assert busy[1].at - busy[0].at >= 0.95


def test_crawl_delay_from_robots_txt_spaces_requests(tmp_path, cli_process):
    site = many_reports_site("slowhost", "127.0.0.33", reports=3,
                             robots="User-agent: *\nCrawl-delay: 1\n")
    with SampleServer([site]) as server:
        registry = write_registry(tmp_path / "p.yaml", [{
            "id": "slowhost", "name": "慢站", "cms": "trs",
            "start_urls": [site.url("/ndbg/index.html")]}])
        result = cli_process("crawl", "--portals", registry, "--lake", tmp_path / "lake", *FAST)
        assert result.returncode == 0, result.stderr
        times = [h.at for h in server.hits if h.path != "/robots.txt"]
    assert len(times) == 4  # the list and three reports
    assert min(gaps(times)) >= 0.95, gaps(times)


def test_a_portal_that_cannot_be_reached_fails_alone(tmp_path, cli_process):
    good = many_reports_site("good", "127.0.0.34", reports=2)
    with SampleServer([good]):
        registry = write_registry(tmp_path / "p.yaml", [
            {"id": "good", "name": "好", "cms": "trs",
             "start_urls": [good.url("/ndbg/index.html")]},
            {"id": "down", "name": "坏", "cms": "trs",
             "start_urls": ["http://127.0.0.35:9/ndbg/index.html"]}])  # nothing listens
        result = cli_process("run", "--portals", registry, "--lake", tmp_path / "lake", *FAST,
                     "--set", "RETRY_TIMES=0")
    assert result.returncode == 1
    assert "portal 'down' could not be crawled (connection_failed)" in result.stderr
    assert "reports 2" in result.stdout


def test_a_crawl_killed_mid_way_completes_on_the_next_run_without_duplicates(tmp_path):
    site = many_reports_site("big", "127.0.0.36", reports=12, per_page=4, delay=0.15)
    with SampleServer([site]) as server:
        registry = write_registry(tmp_path / "p.yaml", [{
            "id": "big", "name": "大", "cms": "trs", "start_urls": [site.url("/ndbg/index.html")]}])
        lake_dir = tmp_path / "lake"
        args = [*GOVREPORTS, "crawl", "--portals", str(registry), "--lake", str(lake_dir), *FAST]
        env = {**os.environ, "GOVREPORTS_LAKE": "", **NO_RECHECK}
        victim = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, start_new_session=True)
        journal = lake_dir / "_crawl" / "big" / "journal"
        deadline = time.time() + 60
        while time.time() < deadline and len(list(journal.glob("*.json"))) < 4:
            time.sleep(0.05)
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait()
        landed_before = {json.loads(p.read_text())["url"] for p in journal.glob("*.json")}
        assert 4 <= len(landed_before) < 12
        since = len(server.hits)
        again = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
        assert again.returncode == 0, again.stderr
        refetched = {site.url(h.path) for h in server.hits[since:] if "/t2020" in h.path}
    assert not refetched & landed_before
    lake = Lake.open(str(lake_dir))
    documents = [d for d in lake.raw_documents() if d.source.role == "document"]
    assert len(documents) == 12 and len({d.source.url for d in documents}) == 12
    # The second crawl takes on what the killed one landed: processing it processes all 12.
    assert len(crawled_documents(lake, crawl_manifest(lake_dir))) == 12
    assert len(lake.crawl_state("big")) == 12
    assert list(journal.glob("*.json")) == []  # folded into state.json


# -- no traffic: the guard, the anti-bot detector, Retry-After ---------------------------------

FORBIDDEN = ["10.0.0.1", "10.255.1.2", "172.16.0.1", "172.31.255.254", "192.168.1.1",
             "169.254.169.254", "169.254.0.5", "100.100.100.200", "fd00:ec2::254", "fe80::1",
             "::ffff:10.1.2.3", "0.0.0.0", "metadata.google.internal"]


@pytest.mark.parametrize("address", FORBIDDEN, ids=FORBIDDEN)
def test_the_guard_refuses_private_link_local_and_metadata_addresses(address):
    with pytest.raises(ForbiddenAddress):
        check_address(address)
    host = f"[{address}]" if ":" in address else address
    request = Request(f"http://{host}/zwgk/index.html")
    with pytest.raises(IgnoreRequest):  # the middleware refuses before any connection
        AddressGuardMiddleware().process_request(request)


ALLOWED = ["202.96.128.86", "www.gov.cn", "2400:89c0:1053:3::69"]


@pytest.mark.parametrize("address", ALLOWED, ids=ALLOWED)
def test_the_guard_lets_public_addresses_through(address):
    check_address(address)  # no exception; nothing is resolved or connected here


@pytest.mark.parametrize("address", ["127.0.0.1", "127.0.0.36", "::1"],
                         ids=["localhost", "loopback-net", "ipv6-loopback"])
def test_loopback_is_refused_unless_fixture_portals_are_allowed(address, monkeypatch):
    monkeypatch.delenv("GOVREPORTS_ALLOW_LOOPBACK")
    with pytest.raises(ForbiddenAddress, match="set GOVREPORTS_ALLOW_LOOPBACK=1"):
        check_address(address)
    monkeypatch.setenv("GOVREPORTS_ALLOW_LOOPBACK", "1")
    check_address(address)


def test_a_name_resolving_to_a_private_address_is_refused():
    with pytest.raises(DNSLookupError, match="www.example.gov.cn"):
        GuardedResolver.checked("192.168.10.3", "www.example.gov.cn")
    assert GuardedResolver.checked("202.96.128.86", "www.example.gov.cn") == "202.96.128.86"


ANTI_BOT = [
    (b"<html><script>$_ts=window['$_ts'];if(!$_ts)$_ts={};</script></html>", "ruishu"),
    (b"<script>document.cookie=('__jsl_clearance=1573');location.href=location.pathname"
     b"</script>", "jiasule"),
    (b"<html><script>document.cookie='sec=abc';window.location.reload();</script></html>",
     "cookie-challenge"),
    ("<html><body><p>政府信息公开工作年度报告</p><script>document.cookie='a=b'</script>"
     "</body></html>".encode(), None),
]


@pytest.mark.parametrize("body,kind", ANTI_BOT, ids=["ruishu", "jiasule", "cookie", "report"])
def test_anti_bot_pages_are_recognised(body, kind):
    assert detect_anti_bot(body) == kind


@pytest.mark.parametrize("value,seconds", [("120", 120.0), (" 5 ", 5.0), ("soon", None),
                                           ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0), (None, None)],
                         ids=["seconds", "padded", "junk", "past-date", "absent"])
def test_retry_after_values(value, seconds):
    assert retry_after_seconds(value, now=2_000_000_000) == seconds


def test_retry_after_as_a_future_date():
    assert retry_after_seconds("Thu, 01 Jan 1970 00:01:40 GMT", now=40) == 60.0


# -- a host that stops the run, redirects, unreadable lists, bounds ---------------------------

@pytest.mark.parametrize("answer,reason", [
    (RUISHU, "anti-bot ruishu"),
    (Page(b"come back tomorrow", status=429, headers={"Retry-After": "86400"},
          validators=False), "Retry-After 86400s"),
], ids=["anti-bot-wall", "retry-after-a-day"])
def test_a_host_that_says_stop_gets_no_more_requests_this_run(tmp_path, cli_process, answer,
                                                              reason):
    site = many_reports_site("stop", "127.0.0.43", reports=5)
    for path in [p for p in site.routes if "/t2020" in p]:
        site.routes[path] = answer
    with SampleServer([site]) as server:
        registry = write_registry(tmp_path / "p.yaml", [{
            "id": "stop", "name": "停", "cms": "trs",
            "start_urls": [site.url("/ndbg/index.html")]}])
        # A delay between requests, as a polite crawl has: the next request is not on its way
        # yet when the first answer says stop.
        result = cli_process("crawl", "--portals", registry, "--lake", tmp_path / "lake", *FAST,
                     "--set", "DOWNLOAD_DELAY=0.3")
        detail = [h for h in server.hits if "/t2020" in h.path]
    assert result.returncode == 0, result.stderr
    assert len(detail) == 1  # the first answer stops the host; four are never sent
    portal = crawl_manifest(tmp_path / "lake")["portals"]["stop"]
    held = [f for f in portal["failures"] if f["reason"] == "host_blocked"]
    assert len(held) == 4 and all(reason in f["message"] for f in held)


def test_a_listed_url_that_redirects_is_not_fetched_again_next_night(tmp_path, cli_process):
    site = many_reports_site("moved", "127.0.0.44", reports=1)
    (old,) = [p for p in site.routes if "/t2020" in p]
    new = old.replace("/ndbg/", "/ndbg/new/")
    site.routes[new] = site.routes[old]
    site.routes[old] = Page(status=301, headers={"Location": new}, validators=False)
    with SampleServer([site]) as server:
        registry = write_registry(tmp_path / "p.yaml", [{
            "id": "moved", "name": "搬家", "cms": "trs",
            "start_urls": [site.url("/ndbg/index.html")]}])
        for _ in range(2):
            result = cli_process("run", "--portals", registry, "--lake", tmp_path / "lake", *FAST,
                                 env=NO_RECHECK)
            assert result.returncode == 0, result.stderr
        fetched = [h.path for h in server.hits if "/t2020" in h.path]
    assert fetched == [old, new]  # the second night asks for neither
    assert "reports 0" in result.stdout


def test_a_list_that_cannot_be_read_is_recorded(tmp_path, cli_process):
    site = Site("maint", "127.0.0.45", {
        "/gkmlpt/index": Page(b"<html><script>window._CONFIG = {SID: '1', TREE: {id: 2}}"
                              b"</script></html>"),
        "/gkmlpt/api/all/2": Page("系统维护中".encode(), "text/html; charset=utf-8")})
    with SampleServer([site]):
        registry = write_registry(tmp_path / "p.yaml", [{
            "id": "maint", "name": "维护", "cms": "gkmlpt",
            "start_urls": [site.url("/gkmlpt/index")]}])
        result = cli_process("crawl", "--portals", registry, "--lake", tmp_path / "lake", *FAST)
    assert result.returncode == 0, result.stderr
    failures = crawl_manifest(tmp_path / "lake")["portals"]["maint"]["failures"]
    assert [f["reason"] for f in failures] == ["parse_error"]
    assert failures[0]["url"].endswith("/gkmlpt/api/all/2?page=1&sid=1")


def test_max_list_pages_bounds_announced_pagination(tmp_path, cli_process):
    site = many_reports_site("long", "127.0.0.46", reports=40, per_page=2)  # 20 list pages
    with SampleServer([site]) as server:
        registry = write_registry(tmp_path / "p.yaml", [{
            "id": "long", "name": "长", "cms": "trs", "max_list_pages": 3,
            "start_urls": [site.url("/ndbg/index.html")]}])
        result = cli_process("crawl", "--portals", registry, "--lake", tmp_path / "lake", *FAST)
        lists = [h.path for h in server.hits if "/index" in h.path]
    assert result.returncode == 0, result.stderr
    assert len(lists) == 3


def test_a_304_records_the_new_list_entry_so_the_check_is_not_repeated(tmp_path, cli_process):
    site = many_reports_site("redated", "127.0.0.47", reports=1)
    with SampleServer([site]) as server:
        registry = write_registry(tmp_path / "p.yaml", [{
            "id": "redated", "name": "改日期", "cms": "trs",
            "start_urls": [site.url("/ndbg/index.html")]}])
        args = ("crawl", "--portals", registry, "--lake", tmp_path / "lake", *FAST)
        assert cli_process(*args, env=NO_RECHECK).returncode == 0
        listing = site.routes["/ndbg/index.html"]
        listing.body = listing.body.replace(b"2020-01-15", b"2020-01-20")  # same document
        since = len(server.hits)
        assert cli_process(*args, env=NO_RECHECK).returncode == 0
        second = [h for h in server.hits[since:] if "/t2020" in h.path]
        revalidated = crawl_manifest(tmp_path / "lake")["portals"]["redated"]["revalidated"]
        since = len(server.hits)
        assert cli_process(*args, env=NO_RECHECK).returncode == 0
        third = [h for h in server.hits[since:] if "/t2020" in h.path]
    assert [(h.conditional, h.status) for h in second] == [(True, 304)]
    assert len(revalidated) == 1 and third == []


def test_a_portal_on_loopback_is_refused_in_a_real_crawl(tmp_path, cli_process):
    site = many_reports_site("local", "127.0.0.48", reports=1)
    with SampleServer([site]) as server:
        registry = write_registry(tmp_path / "p.yaml", [{
            "id": "local", "name": "本机", "cms": "trs",
            "start_urls": [site.url("/ndbg/index.html")]}])
        result = cli_process("crawl", "--portals", registry, "--lake", tmp_path / "lake", *FAST,
                     env={"GOVREPORTS_ALLOW_LOOPBACK": ""})
        assert server.hits == []  # nothing was sent
    assert result.returncode == 1
    assert "portal 'local' could not be crawled (forbidden_address)" in result.stderr


# -- the resolver guard, on a real name lookup ------------------------------------------------

def crawl_by_name(tmp, allow_loopback: str):
    """Crawl a fixture portal on 127.0.0.1 reached by the name ``localhost``. The URL names no
    address, so AddressGuardMiddleware lets it pass: only GuardedResolver, judging what the real
    lookup answers (/etc/hosts: 127.0.0.1), can refuse it. Returns the CLI's result, the paths
    the server was asked for, the start URL and the portal's manifest entry."""
    site = many_reports_site("named", "127.0.0.1", reports=1)
    with SampleServer([site]) as server:
        start = f"http://localhost:{site.port}/ndbg/index.html"
        registry = write_registry(tmp / "p.yaml", [{
            "id": "named", "name": "本机名", "cms": "trs", "start_urls": [start]}])
        env = {**os.environ, "GOVREPORTS_LAKE": "", "GOVREPORTS_ALLOW_LOOPBACK": allow_loopback}
        result = subprocess.run(
            [*GOVREPORTS, "crawl", "--portals", str(registry), "--lake", str(tmp / "lake"),
             *FAST, "--set", "RETRY_TIMES=0"], capture_output=True, text=True, env=env,
            timeout=120)
        paths = [h.path for h in server.hits]
    return result, paths, start, crawl_manifest(tmp / "lake")["portals"]["named"]


@pytest.fixture(scope="module")
def refused_by_name(tmp_path_factory):
    return crawl_by_name(tmp_path_factory.mktemp("by-name"), "")


def test_a_name_resolving_to_loopback_is_refused_before_any_connection(refused_by_name):
    result, paths, start, portal = refused_by_name
    assert paths == []  # not even robots.txt: the lookup itself was refused
    assert result.returncode == 1
    assert "portal 'named' could not be crawled" in result.stderr
    assert [f["url"] for f in portal["failures"]] == [start]


def test_a_name_resolving_to_loopback_is_recorded_as_a_forbidden_address(refused_by_name):
    result, _paths, _start, portal = refused_by_name
    assert "portal 'named' could not be crawled (forbidden_address)" in result.stderr
    (failure,) = portal["failures"]
    assert failure["reason"] == "forbidden_address"
    assert "refusing localhost: loopback" in failure["message"]


def test_a_name_resolving_to_loopback_is_crawled_when_loopback_is_allowed(tmp_path):
    result, paths, _start, portal = crawl_by_name(tmp_path, "1")
    assert result.returncode == 0, result.stderr
    assert "/ndbg/index.html" in paths and any("/t2020" in p for p in paths)
    assert portal["failures"] == []


def test_the_per_host_floor_holds_at_120_hosts_with_the_shipped_settings(tmp_path):
    """DOWNLOAD_DELAY (1 s), a portal's own ``delay`` and AutoThrottle together, on 120 hosts
    at once: as the hosts see it, two requests to one host are never closer than the floor."""
    sites = [many_reports_site(f"f{i}", f"127.0.2.{i + 1}", reports=1) for i in range(120)]
    with SampleServer(sites) as server:
        registry = write_registry(tmp_path / "p.yaml", [
            {"id": f"f{i}", "name": site.name, "cms": "trs",
             "start_urls": [site.url("/ndbg/index.html")], **({"delay": 1.5} if i == 0 else {})}
            for i, site in enumerate(sites)])
        done = subprocess.run([*GOVREPORTS, "crawl", "--portals", str(registry), "--lake",
                               str(tmp_path / "lake")], capture_output=True, text=True,
                              timeout=300, env={**os.environ, "GOVREPORTS_LAKE": ""})
        hits = list(server.hits)
    assert done.returncode == 0, done.stderr[-2000:]
    by_host = times_by_host(hits)
    assert len(by_host) == 120 and all(len(t) == 3 for t in by_host.values())  # robots, list, doc
    smallest = {host: min(gaps(times)) for host, times in by_host.items()}
    assert min(smallest.values()) >= 1.0, sorted(smallest.items(), key=lambda kv: kv[1])[:3]
    assert smallest["f0"] >= 1.5


def test_the_delay_counts_from_the_answer_of_a_host_slow_to_answer(tmp_path):
    """Three reports queued from one list; the first one asked takes longer than the delay
    to answer (1.3 s), the others are quick. The next request waits the whole delay after that
    answer: counted from when the slow one left the queue, the delay was over when it was
    answered, and the next went at once (as in a crawl process busy with 250 hosts on two
    cores, whose requests left the queue long before they were sent: hosts saw two requests
    0.2 s apart)."""
    site = many_reports_site("slowfirst", "127.0.0.69", reports=3)
    asked = itertools.count()

    def first_slow(page):
        def answer(request):
            if next(asked) == 0:
                time.sleep(1.3)
            return page
        return answer

    for path, page in list(site.routes.items()):
        if path.startswith("/ndbg/2020"):
            site.routes[path] = first_slow(page)
    with SampleServer([site]) as server:
        registry = write_registry(tmp_path / "p.yaml", [{
            "id": "slowfirst", "name": "慢", "cms": "trs",
            "start_urls": [site.url("/ndbg/index.html")]}])
        done = subprocess.run([*GOVREPORTS, "crawl", "--portals", str(registry), "--lake",
                               str(tmp_path / "lake"), "--set", "AUTOTHROTTLE_ENABLED=False"],
                              capture_output=True, text=True, timeout=300,
                              env={**os.environ, "GOVREPORTS_LAKE": "", **NO_RECHECK})
        hits = list(server.hits)  # each recorded as it is answered
    assert done.returncode == 0, done.stderr[-2000:]
    assert len(hits) == 5 and next(asked) == 3  # robots.txt, the list, three reports
    answered = [h.at for h in hits]
    assert min(gaps(answered)) >= 1.0, gaps(answered)


def _padded_robots(size: int) -> bytes:
    """A robots.txt of ``size`` bytes: a rule within the first 500 KiB, comment lines to pad
    it, and a rule beyond the cap (ignored, as Google ignores it)."""
    head = b"User-agent: *\nDisallow: /ndbg/202002/\n"
    tail = b"User-agent: *\nDisallow: /ndbg/202001/\n"
    line = b"# " + b"padding " * 12 + b"\n"
    return head + line * ((size - len(head) - len(tail)) // len(line)) + tail


ROBOTS = {
    "50-mb-with-length": Page(_padded_robots(50_000_000), "text/plain"),
    "20-mb-without-length": Page(_padded_robots(20_000_000), "text/plain", declared_length=-1),
    "just-over-the-cap": Page(_padded_robots(520 * 1024), "text/plain"),
    "one-line-of-50-mb": Page(b"User-agent: *\nDisallow: /ndbg/202002/\n#" + b"x" * 50_000_000,
                              "text/plain", declared_length=-1),
}


@pytest.mark.parametrize("robots", list(ROBOTS.values()), ids=list(ROBOTS))
def test_robots_txt_is_read_up_to_500_kib_and_the_crawl_record_says_so(tmp_path, cli_process,
                                                                       robots):
    site = many_reports_site("bigrobots", "127.0.0.47", reports=2)
    site.routes["/robots.txt"] = robots
    with SampleServer([site]) as server:
        registry = write_registry(tmp_path / "p.yaml", [{
            "id": "bigrobots", "name": "大", "cms": "trs",
            "start_urls": [site.url("/ndbg/index.html")]}])
        result = cli_process("crawl", "--portals", registry, "--lake", tmp_path / "lake", *FAST)
        fetched = [h.path for h in server.hits]
    assert result.returncode == 0, result.stderr
    portal = crawl_manifest(tmp_path / "lake")["portals"]["bigrobots"]
    assert portal["counts"]["robots_truncated"] == 1
    # The rule within the cap holds; the one beyond it is ignored.
    assert not any(p.startswith("/ndbg/202002/") for p in fetched), fetched
    assert any(p.startswith("/ndbg/202001/") for p in fetched), fetched
    assert [f["reason"] for f in portal["failures"]] == ["robots_disallowed"]


def test_a_small_robots_txt_is_not_counted_as_cut(tmp_path, cli_process):
    site = many_reports_site("smallrobots", "127.0.0.48", reports=1)
    with SampleServer([site]):
        registry = write_registry(tmp_path / "p.yaml", [{
            "id": "smallrobots", "name": "小", "cms": "trs",
            "start_urls": [site.url("/ndbg/index.html")]}])
        assert cli_process("crawl", "--portals", registry, "--lake", tmp_path / "lake",
                           *FAST).returncode == 0
    counts = crawl_manifest(tmp_path / "lake")["portals"]["smallrobots"]["counts"]
    assert counts["robots_truncated"] == 0 and counts["links_capped"] == 0


def _junk_list(junk: int, *, reports_first: bool) -> Page:
    reports = "".join(f'<li><a href="./2020{i + 1:02d}/t2020{i + 1:02d}15_{i}.html">某单位{i}号'
                      f'2019年政府信息公开工作年度报告</a><span>2020-{i + 1:02d}-15</span></li>'
                      for i in (0, 1))
    junk_links = "".join(f'<a href="/junk/{n}.html">链接{n}</a>' for n in range(junk))
    body = (reports + junk_links) if reports_first else (junk_links + reports)
    return Page(f'<html><head><meta charset="utf-8"></head><body><ul>{body}</ul>'
                f'</body></html>'.encode())


@pytest.mark.parametrize("role", ["list", "document"])
def test_links_read_from_one_page_are_capped_and_the_crawl_record_says_so(tmp_path, cli_process,
                                                                          role):
    site = many_reports_site("junk", "127.0.0.49", reports=2)
    if role == "list":
        site.routes["/ndbg/index.html"] = _junk_list(200_000, reports_first=True)
    else:  # a report page that also holds 200,000 links (its attachments are looked for)
        page = site.routes["/ndbg/202001/t20200115_0.html"]
        page.body = page.body.replace(b"</body>", b"".join(
            b'<a href="/junk/%d.pdf">x</a>' % n for n in range(200_000)) + b"</body>")
    with SampleServer([site]) as server:
        registry = write_registry(tmp_path / "p.yaml", [{
            "id": "junk", "name": "杂", "cms": "trs", "max_list_pages": 2,
            "start_urls": [site.url("/ndbg/index.html")]}])
        result = cli_process("crawl", "--portals", registry, "--lake", tmp_path / "lake", *FAST,
                             "--set", "RETRY_TIMES=0")
        fetched = [h.path for h in server.hits]
    assert result.returncode == 0, result.stderr
    counts = crawl_manifest(tmp_path / "lake")["portals"]["junk"]["counts"]
    assert counts["links_capped"] == 1 and counts["documents"] == 2, counts
    if role == "document":  # the page's first attachments are still fetched, not all
        junk = [p for p in fetched if p.startswith("/junk/")]
        assert len(junk) == MAX_ATTACHMENTS, len(junk)


@pytest.mark.parametrize("refusal", ["robots", "not-found", "anti-bot"])
def test_a_portal_whose_every_listed_report_was_refused_is_failing_not_ok(tmp_path, cli_process,
                                                                          refusal):
    site = many_reports_site("refuser", "127.0.0.52", reports=3)
    if refusal == "robots":
        site.robots = "User-agent: *\nDisallow: /ndbg/2020\n"
    for path in [p for p in site.routes if "/t2020" in p]:
        if refusal == "not-found":
            del site.routes[path]
        elif refusal == "anti-bot":
            site.routes[path] = RUISHU
    with SampleServer([site]):
        registry = write_registry(tmp_path / "p.yaml", [{
            "id": "refuser", "name": "拒", "cms": "trs",
            "start_urls": [site.url("/ndbg/index.html")]}])
        result = cli_process("crawl", "--portals", registry, "--lake", tmp_path / "lake", *FAST,
                             "--set", "RETRY_TIMES=0")
    assert result.returncode == 0, result.stderr
    counts = crawl_manifest(tmp_path / "lake")["portals"]["refuser"]["counts"]
    assert counts["status"] == "failing" and "none landed" in counts["status_note"], counts
    assert "failing refuser" in " ".join(result.stdout.split())
