"""The crawl commands of ``govreports``: ``crawl``, ``run``, ``serve-samples``, ``portals``.

They join the processing commands of :mod:`pipelines.cli` on one command group; the console
script points here so that ``pipelines/`` never imports the crawler.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from pipelines.cli import LAKE_HELP, command_errors, err, main, out, print_run_summary
from pipelines.errors import ConfigError
from pipelines.settings import env_name

#: serve-samples lists its portals in a table up to this many (10,000 are one line).
SAMPLES_SHOWN = 50
PORTALS_HELP = ("Portal registry YAML [env GOVREPORTS_PORTALS; default "
                "crawlers/portals.yaml]")


def _settings(pairs: tuple[str, ...]) -> dict[str, str]:
    settings = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.isupper():
            raise ConfigError(f"--set {pair!r} must be NAME=VALUE with a Scrapy setting name, "
                              "e.g. --set DOWNLOAD_DELAY=2")
        settings[name] = value
    return settings


def _crawl(portals_file, portal_ids, lake_url, settings, revalidate, verbose, run_id=None):
    from crawlers.crawl import crawl
    from crawlers.portals import load_portals, select
    from pipelines.lake import Lake

    overrides = _settings(settings)
    portals = select(load_portals(portals_file), portal_ids)
    if not portals:
        raise ConfigError("no enabled portal to crawl: enable one in the registry or name it "
                          "with --portal")
    Lake.open(lake_url, writable=True)  # a bad lake fails here, before any request
    return crawl(portals, lake_url, registry=portals_file, settings=overrides,
                 revalidate=revalidate, run_id=run_id,
                 log_level="INFO" if verbose else "WARNING")


def _print_crawl(crawled) -> None:
    from pipelines.records import portal_outcomes

    manifest = crawled.manifest
    table = Table(title=f"crawl {manifest['run_id']}", title_justify="left")
    columns = ("portal", "status", "family", "lists", "listed", "documents", "attachments",
               "new", "known", "304", "failed", "blocked")
    for column in columns:
        table.add_column(column, justify="left" if column in columns[:3] else "right")
    outcomes = portal_outcomes(manifest)
    for portal_id, portal in outcomes.items():
        c = portal.counts
        family = c["family"] or "-"
        if (c.get("listed_by") or {}).get("generic") and family != "generic":
            family += "+generic"  # reports the family's link shapes missed
        table.add_row(portal_id, portal.status, family, *(str(c[k]) for k in (
            "list_pages", "listed", "documents", "attachments", "new_bytes", "known_skipped",
            "not_modified", "failed", "blocked")))
    out.print(table)
    for portal_id, portal in outcomes.items():
        if portal.status == "needs_browser":
            out.print(f"[yellow]needs_browser[/] {escape(portal_id)}: " + ", ".join(
                f"{escape(page['url'])} ({escape(page['script'])})"
                for page in portal.needs_browser), highlight=False, soft_wrap=True)
        elif portal.status in ("suspect_empty", "partial"):
            out.print(f"[yellow]{portal.status}[/] {escape(portal_id)}: "
                      f"{escape(portal.counts.get('status_note') or '')}; check its list "
                      "layout with `govreports crawl --verbose`", highlight=False,
                      soft_wrap=True)
        elif portal.status == "failing":
            out.print(f"[red]failing[/] {escape(portal_id)}: "
                      f"{escape(portal.counts.get('status_note') or '')}", highlight=False,
                      soft_wrap=True)
        for failure in portal.failures:
            out.print(f"[yellow]failed[/] {escape(portal_id)} {escape(failure['url'])}: "
                      f"{escape(failure['message'])} [{failure['reason']}]", highlight=False,
                      soft_wrap=True)
        for block in portal.blocked:
            out.print(f"[red]anti-bot[/] {escape(portal_id)} {escape(block['url'])}: "
                      f"{block['kind']} (HTTP {block['status']}); not retried",
                      highlight=False, soft_wrap=True)
    out.print(f"lake {manifest['lake']} · manifest {crawled.manifest_key}", highlight=False)


def _exit_if_down(crawled) -> None:
    down = crawled.down
    if down:
        for portal_id, why in down.items():
            err.print(f"govreports: portal {portal_id!r} could not be crawled ({why}): check "
                      "its start_urls with `govreports portals check`", highlight=False)
        sys.exit(1)


_crawl_options = [
    click.option("--portals", "portals_file", help=PORTALS_HELP),
    click.option("--portal", "portal_ids", multiple=True,
                 help="Crawl only this portal id (repeatable); default every enabled one."),
    click.option("--lake", "lake_url", help=LAKE_HELP),
    click.option("--revalidate", is_flag=True, help="Re-check every known document with a "
                 "conditional request (default: only those whose list entry changed)."),
    click.option("--set", "settings", multiple=True, metavar="NAME=VALUE",
                 help="Override a Scrapy setting, e.g. --set DOWNLOAD_DELAY=2 (repeatable)."),
    click.option("--run-id", help="Name the run manifest _runs/<RUN_ID>.json (a scheduler's "
                 "retry then rewrites the same manifest); default: UTC time + random suffix."),
    click.option("-v", "--verbose", is_flag=True, help="Show Scrapy's log."),
]


def crawl_options(func):
    for option in reversed(_crawl_options):
        func = option(func)
    return func


@main.command()
@crawl_options
def crawl(portals_file, portal_ids, lake_url, revalidate, settings, run_id, verbose):
    """Crawl portals of the registry into the lake's raw zone (incremental: what the lake
    already holds is not fetched again). Exit 1 when a portal could not be crawled at all."""
    with command_errors():
        crawled = _crawl(portals_file, portal_ids, lake_url, settings, revalidate, verbose,
                         run_id)
    _print_crawl(crawled)
    _exit_if_down(crawled)


@main.command()
@crawl_options
@click.option("--allow-rejects", is_flag=True, help="Exit 0 even if documents were rejected.")
def run(portals_file, portal_ids, lake_url, revalidate, settings, run_id, verbose,
        allow_rejects):
    """Crawl, then process what the crawl landed into reports (the nightly job)."""
    from pipelines import batch, process
    from pipelines.lake import Lake
    from pipelines.stages import crawled_documents

    with command_errors():
        crawled = _crawl(portals_file, portal_ids, lake_url, settings, revalidate, verbose,
                         run_id)
        _print_crawl(crawled)
        lake = Lake.open(lake_url, writable=True)
        states: dict = {}  # each portal's crawl state read once
        docs = crawled_documents(lake, crawled.manifest, states)
        result = process.new_run("run", lake)
        batch.run(lake, docs, result, crawl_states=states)
    print_run_summary(result, allow_rejects or bool(crawled.down))
    _exit_if_down(crawled)


@main.command("serve-samples", context_settings={"ignore_unknown_options": True})
@click.option("--port", type=int, default=None, show_default="8780",
              help="Port on every sample address (127.0.0.11…); 0 picks free ports.")
@click.option("--registry", "registry_out", type=click.Path(dir_okay=False),
              help="Write the registry of the served portals to this file.")
@click.option("--copies", type=int, default=1, show_default=True,
              help="Serve every family this many times (copy k on 127.a.b.11…, k = 256a + b), "
                   "for runs at scale.")
@click.option("--hits", "hits_log", type=click.Path(dir_okay=False),
              help="Also write every request answered to this file, one JSON line each (site, "
                   "method, path, status, at, conditional).")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
def serve_samples(port, registry_out, copies, hits_log, command):
    """Serve the fixture portals (one per CMS family, built from the seeds) on loopback
    addresses until interrupted, or only while COMMAND runs (after `--`; exits with its
    status). `crawlers/sample_portals.yaml` crawls the default port:

      govreports serve-samples -- govreports run --portals crawlers/sample_portals.yaml"""
    from crawlers.portals import dump_portals
    from crawlers.samples.server import SampleServer
    from crawlers.samples.sites import DEFAULT_PORT, registry_entries, sample_portals

    with command_errors():
        samples = sample_portals(DEFAULT_PORT if port is None else port, copies)
    server = SampleServer([s.site for s in samples], Path(hits_log) if hits_log else None)
    try:
        server.start()
    except OSError as exc:
        with command_errors():
            raise ConfigError(f"cannot listen on {samples[0].site.host}:{port or DEFAULT_PORT} "
                              f"({exc.strerror}): pass --port 0 or another free port") from exc
    entries = registry_entries(samples)
    if registry_out:  # whole or not at all: another process waits for it to appear
        partial = Path(registry_out).with_name(Path(registry_out).name + ".partial")
        partial.write_text(dump_portals(entries), encoding="utf-8")
        partial.replace(registry_out)
    if len(samples) <= SAMPLES_SHOWN:
        table = Table("portal", "family", "start URLs", "reports", title="sample portals",
                      title_justify="left")
        for sample, entry in zip(samples, entries, strict=True):
            table.add_row(entry["id"], entry["cms"], "\n".join(entry["start_urls"]),
                          str(sample.reports))
        out.print(table)
    else:
        out.print(f"{len(samples)} sample portals on {samples[0].site.host}…"
                  f"{samples[-1].site.host}, port {samples[0].site.port}", highlight=False)
    if command:
        try:
            # The sample portals are on loopback, which the crawler refuses unless told.
            env = {**os.environ, env_name("allow_loopback"): "1"}
            status = subprocess.run(list(command), env=env).returncode
        except OSError as exc:
            status = 127
            err.print(f"cannot run {command[0]!r}: {exc.strerror}")
        finally:
            server.stop()
        raise SystemExit(status)
    out.print("serving until interrupted (Ctrl-C)", highlight=False)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    server.stop()


@main.group()
def portals():
    """Inspect the portal registry."""


@portals.command("list")
@click.option("--portals", "portals_file", help=PORTALS_HELP)
def portals_list(portals_file):
    """Validate the registry and list its portals, then how many enabled portals cover each
    of the 31 provincial-level divisions and which have none."""
    from crawlers.portals import load_portals

    with command_errors():
        entries = load_portals(portals_file)
    table = Table("id", "name", "cms", "region", "start URLs", "source")
    for p in entries:
        table.add_row(p.id, p.name, p.cms, p.region or p.province or "", "\n".join(p.start_urls),
                      p.source or "")
    out.print(table)
    for line in _coverage_lines(entries):
        out.print(line, markup=False, highlight=False, soft_wrap=True)


def _coverage_lines(entries) -> list[str]:
    """``portals list``'s coverage summary: one line per province (code, name, enabled portals),
    then the provinces with none."""
    from collections import Counter

    from pipelines.regions import MAINLAND_PROVINCES, PROVINCES

    enabled = [p for p in entries if p.enabled]
    counts = Counter(p.province for p in enabled if p.province)
    codes = list(MAINLAND_PROVINCES)
    others = sorted(c for c in counts if c not in codes)  # e.g. a portal filed under 710000
    lines = [f"coverage by province (enabled portals; {len(enabled)} of {len(entries)} "
             "portals enabled):"]
    lines += [f"  {code} {PROVINCES[code]}: {counts.get(code, 0)}" for code in codes + others]
    missing = [f"{code} {PROVINCES[code]}" for code in codes if not counts.get(code)]
    unplaced = sum(1 for p in enabled if not p.province)
    if unplaced:
        lines.append(f"enabled portals with no province (central bodies): {unplaced}")
    lines.append(f"provinces covered: {len(codes) - len(missing)} of {len(codes)}")
    lines.append("provinces with no enabled portal: " + (", ".join(missing) or "none"))
    return lines


@portals.command("check")
@click.option("--portals", "portals_file", help=PORTALS_HELP)
@click.option("--portal", "portal_ids", multiple=True, help="Check only this portal id.")
@click.option("--timeout", type=float, default=15.0, show_default=True)
def portals_check(portals_file, portal_ids, timeout):
    """Probe each portal's start URLs (needs the network): status, CMS family, anti-bot."""
    from crawlers.portals import load_portals, select
    from crawlers.probe import FLAGS, probe

    with command_errors():
        chosen = select(load_portals(portals_file), portal_ids)
    table = Table("portal", "url", "status", "family", "verdict")
    bad = 0
    flagged: Counter = Counter()
    for portal in chosen:
        for url in portal.start_urls:
            result = probe(url, timeout=timeout)
            bad += not result.ok or bool(result.flags)
            flagged.update(next((key for key in FLAGS if flag.startswith(key)), flag)
                           for flag in result.flags)
            if not result.ok:
                flagged["unreachable or refused"] += 1
            verdict = result.verdict
            if portal.single_year and any(f.startswith("one-year") for f in result.flags):
                verdict += f" (single_year: {portal.single_year_reason})"
            table.add_row(portal.id, url, str(result.status or "-"), result.family or "-",
                          verdict)
    out.print(table)
    checked = sum(len(portal.start_urls) for portal in chosen)
    out.print(f"{checked} start URL(s): {checked - bad} ok" + "".join(
        f", {n} {key}" for key, n in flagged.most_common()), highlight=False)
    sys.exit(1 if bad else 0)
