"""Every fault a portal can throw ends recorded in the run manifest, never as a crash; the
address guard and the anti-bot detector are tested without sending any traffic."""

from __future__ import annotations

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
from crawlers.samples.server import SampleServer, Site
from pipelines.lake import Lake
from tests.conftest import GOVREPORTS
from tests.portal_sites import FAST, fault_site, many_reports_site, write_registry

FAULT_SETTINGS = [*FAST, "--set", "DOWNLOAD_TIMEOUT=1", "--set", "RETRY_TIMES=2",
                  "--set", "DOWNLOAD_MAXSIZE=100000", "--set", "REDIRECT_MAX_TIMES=4"]


@pytest.fixture(scope="module")
def fault_crawl(tmp_path_factory):
    """One crawl of the fault portal (and of a second host the portal redirects to)."""
    tmp = tmp_path_factory.mktemp("faults")
    other = Site("elsewhere", "127.0.0.32", {"/stolen.html": many_reports_site(
        "x", "127.0.0.32", reports=1).routes["/ndbg/202001/t20200115_0.html"]})
    with SampleServer([other]) as first:
        site, expected = fault_site("faulty", "127.0.0.31", elsewhere=other.base)
        with SampleServer([site]) as server:
            registry = write_registry(tmp / "portals.yaml", [{
                "id": "faulty", "name": "故障门户", "cms": "generic",
                "start_urls": [site.url("/list.html")]}])
            lake = str(tmp / "lake")
            env = {**os.environ, "GOVREPORTS_LAKE": ""}
            result = subprocess.run(
                [*GOVREPORTS, "crawl", "--portals", str(registry), "--lake", lake,
                 *FAULT_SETTINGS], capture_output=True, text=True, env=env, timeout=300)
            hits = list(server.hits)
            peak = server.peak_in_flight["faulty"]
        stolen = [h for h in first.hits if h.path != "/robots.txt"]
    manifest_key = sorted(Lake.open(lake).store.list("_runs/"))[-1]
    manifest = json.loads(Lake.open(lake).store.read(manifest_key))["portals"]["faulty"]
    return result, manifest, expected, hits, stolen, site, peak


def test_the_fault_crawl_finishes_and_reports(fault_crawl):
    result, manifest, *_ = fault_crawl
    assert result.returncode == 0, result.stderr
    assert "failed" in result.stdout and "anti-bot" in result.stdout


CASES = ["/ok.html", "/flaky.html", "/busy.html", "/slow.html", "/truncated.html",
         "/loop-a.html", "/away.html", "/private/report.html", "/ruishu.html", "/jsl.html",
         "/huge.html", "/gone.html"]


@pytest.mark.parametrize("path", CASES, ids=[c.strip("/").replace(".html", "") for c in CASES])
def test_each_fault_ends_recorded_with_its_reason(fault_crawl, path):
    _, manifest, expected, _, _, site, _ = fault_crawl
    url = site.url(path)
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


def test_crawl_delay_from_robots_txt_spaces_requests(tmp_path, cli):
    site = many_reports_site("slowhost", "127.0.0.33", reports=3,
                             robots="User-agent: *\nCrawl-delay: 1\n")
    with SampleServer([site]) as server:
        registry = write_registry(tmp_path / "p.yaml", [{
            "id": "slowhost", "name": "慢站", "cms": "trs",
            "start_urls": [site.url("/ndbg/index.html")]}])
        result = cli("crawl", "--portals", registry, "--lake", tmp_path / "lake", *FAST)
        assert result.returncode == 0, result.stderr
        times = [h.at for h in server.hits if h.path != "/robots.txt"]
    assert len(times) == 4  # the list and three reports
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert min(gaps) >= 0.95, gaps


def test_a_portal_that_cannot_be_reached_fails_alone(tmp_path, cli):
    good = many_reports_site("good", "127.0.0.34", reports=2)
    with SampleServer([good]):
        registry = write_registry(tmp_path / "p.yaml", [
            {"id": "good", "name": "好", "cms": "trs",
             "start_urls": [good.url("/ndbg/index.html")]},
            {"id": "down", "name": "坏", "cms": "trs",
             "start_urls": ["http://127.0.0.35:9/ndbg/index.html"]}])  # nothing listens
        result = cli("run", "--portals", registry, "--lake", tmp_path / "lake", *FAST,
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
        env = {**os.environ, "GOVREPORTS_LAKE": ""}
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


ALLOWED = ["127.0.0.1", "127.0.0.36", "::1", "202.96.128.86", "www.gov.cn"]


@pytest.mark.parametrize("address", ALLOWED, ids=ALLOWED)
def test_the_guard_lets_public_and_loopback_addresses_through(address):
    check_address(address)  # no exception; nothing is resolved or connected here


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
