"""The crawl against its politeness bound: many loopback hosts (127.0.1.x), each a TRS column
of reports, crawled by ``govreports crawl`` with the shipped settings (one connection and a 1 s
delay per host, AutoThrottle on, robots.txt fetched first). A host that answers ``n`` requests
politely needs at least ``n − 1`` seconds between its first and its last, so the bound for the
whole crawl is ``hosts × 1 page/s``; the ratio is what the crawl achieved against it, in one
process. Target ≥ 0.9. Peak memory is the crawl process's maximum RSS.

Also what the nightly re-check of known pages adds to a night (:func:`_recheck_nights`).
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from crawlers.samples.server import SampleServer
from tests.portal_sites import gaps, many_reports_site, times_by_host, write_registry

HOSTS = 40
WIDE = 120  # beyond one shard's usual size: where a 2-core machine starts to fall behind
REPORTS = 8  # per host: robots.txt + 1 list page + 8 reports = 10 requests, ≥ 9 s


def _run_crawl(registry: Path, lake: Path, *extra: str, env: dict | None = None,
               command: str = "crawl") -> float:
    """Seconds a ``govreports crawl`` (or ``run``: the crawl, then its processing) of the
    registry into the lake took."""
    command = [str(Path(sys.executable).with_name("govreports")), command,
               "--portals", str(registry), "--lake", str(lake), *extra]
    started = time.monotonic()
    subprocess.run(command, check=True, capture_output=True,
                   env={**os.environ, "GOVREPORTS_LAKE": "",
                        "GOVREPORTS_ALLOW_LOOPBACK": "1", **(env or {})})  # loopback hosts
    return time.monotonic() - started


def _crawl(hosts: int, reports: int, *extra: str) -> dict:
    sites = [many_reports_site(f"h{i}", f"127.0.1.{i + 1}", reports=reports)
             for i in range(hosts)]
    with tempfile.TemporaryDirectory() as tmp, SampleServer(sites) as server:
        registry = write_registry(Path(tmp) / "portals.yaml", [
            {"id": f"bench-{site.name}", "name": site.name, "cms": "trs",
             "start_urls": [site.url("/ndbg/index.html")]} for site in sites])
        wall = _run_crawl(registry, Path(tmp) / "lake", *extra)
        # The largest child so far: run() measures the smaller crawl first.
        peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        hits = list(server.hits)
    by_host = times_by_host(hits)
    span = max(h.at for h in hits) - min(h.at for h in hits)
    intervals = sum(len(times) - 1 for times in by_host.values())
    every_gap = [gap for times in by_host.values() for gap in gaps(times)]
    return {
        "hosts": hosts, "requests": len(hits), "wall_s": round(wall, 2),
        "span_s": round(span, 2), "pages_per_s": round(len(hits) / span, 2),
        "bound_pages_per_s": hosts,
        "ratio_to_bound": round(intervals / (hosts * span), 3),
        "min_gap_same_host_s": round(min(every_gap), 3),
        "peak_rss_mib": round(peak_kib / 1024, 1),
    }


#: The rolling re-check (issue 32): one portal of this many known reports, at this delay.
KNOWN, RECHECK_DELAY = 300, 0.2


def _recheck_nights() -> dict:
    """What the nightly re-check of known pages adds to a night: a portal of :data:`KNOWN`
    reports crawled and processed once (``govreports run``), then later nights with the
    re-check off and on (twice, alternating), each night's wall time (its processing and load
    included: a re-check's 304 moves its report's ``last_seen``), requests and conditional
    requests."""
    site = many_reports_site("known", "127.0.1.250", reports=KNOWN, per_page=50)
    nights: dict[str, list[dict]] = {"off": [], "on": []}
    with tempfile.TemporaryDirectory() as tmp, SampleServer([site]) as server:
        registry = write_registry(Path(tmp) / "portals.yaml", [
            {"id": "bench-known", "name": "known", "cms": "trs",
             "start_urls": [site.url("/ndbg/index.html")]}])
        for night in ("first", "off", "on", "off", "on"):
            since = len(server.hits)
            wall = _run_crawl(registry, Path(tmp) / "lake",
                              "--set", f"DOWNLOAD_DELAY={RECHECK_DELAY}",
                              "--set", "AUTOTHROTTLE_ENABLED=False",
                              env={"GOVREPORTS_RECHECK_MAX": "0"} if night == "off" else None,
                              command="run")
            hits = server.hits[since:]
            figures = {"wall_s": round(wall, 2), "requests": len(hits),
                       "conditional": sum(1 for h in hits if h.conditional)}
            if night == "first":
                first = figures
            else:
                nights[night].append(figures)
    off, on = nights["off"], nights["on"]
    return {"known": KNOWN, "delay_s": RECHECK_DELAY, "first_night": first,
            "off": off, "on": on,
            "added_requests": [b["requests"] - a["requests"] for a, b in zip(off, on,
                                                                            strict=True)],
            "added_wall_s": [round(b["wall_s"] - a["wall_s"], 2) for a, b in zip(off, on,
                                                                               strict=True)]}


def run() -> dict:
    # Side by side: one host (the delay alone) and many hosts (the crawl's own overhead shows
    # as a ratio falling below the single host's).
    single = _crawl(1, REPORTS)
    many = _crawl(HOSTS, REPORTS)
    wide = _crawl(WIDE, REPORTS)
    result = {"single_host": single, "many_hosts": many, "wide": wide,
              "ratio_many_vs_single": round(many["ratio_to_bound"] / single["ratio_to_bound"], 3),
              "target_ratio_to_bound": 0.9}
    for name in ("single_host", "many_hosts", "wide"):
        r = result[name]
        print(f"crawl {name:11s}: {r['hosts']:3d} hosts, {r['requests']:4d} requests in "
              f"{r['span_s']:6.2f} s = {r['pages_per_s']:6.2f} pages/s; bound "
              f"{r['bound_pages_per_s']} pages/s; ratio {r['ratio_to_bound']:.3f}; min gap "
              f"on a host {r['min_gap_same_host_s']:.3f} s; peak RSS {r['peak_rss_mib']} MiB")
    print(f"crawl many/single ratio: {result['ratio_many_vs_single']:.3f} (target: ratio to "
          "bound ≥ 0.9)")
    recheck = result["recheck"] = _recheck_nights()
    print(f"crawl recheck: {recheck['known']} known reports at {recheck['delay_s']} s a request; "
          f"first night {recheck['first_night']['requests']} requests in "
          f"{recheck['first_night']['wall_s']} s; later nights "
          + ", ".join(f"off {a['requests']} requests {a['wall_s']} s / on {b['requests']} "
                      f"requests ({b['conditional']} conditional) {b['wall_s']} s"
                      for a, b in zip(recheck["off"], recheck["on"], strict=True))
          + f"; added {recheck['added_requests']} requests, {recheck['added_wall_s']} s")
    return result


if __name__ == "__main__":
    run()
