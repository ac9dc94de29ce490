"""Report stage: what the lake holds and how good it is, as one static HTML page.

Coverage (reports per province × year), field completeness, templates and 勾稽 consistency by
year, repairs and encodings, rejects by reason, and portal health from the crawl manifests.
Every number comes from one SQL statement of :data:`QUERIES`, run on the connection and views of
``govreports query`` (:func:`pipelines.query.connect`), so the page and a query agree by
construction; the page shows each statement beside its figure. Portal health is read from the
crawl manifests (``_runs/``) read as :class:`pipelines.records.RunManifest`.

The page is a Jinja2 template (``pipelines/templates/quality_page.html``, autoescaped: a
portal id, a URL or a reason from the lake is text, never markup). The plots are matplotlib
figures rendered to SVG (text drawn as paths, with a CJK font for the province names) and
inlined: the page needs no script, no server and no network.
"""

from __future__ import annotations

import functools
import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.decode import codec_for
from pipelines.errors import ConfigError
from pipelines.lake import Lake
from pipelines.query import on_sound_files
from pipelines.regions import MAINLAND_PROVINCES, PROVINCES

log = logging.getLogger(__name__)

#: The fields whose completeness is shown: (label, SQL condition of a filled value).
FIELDS = (*((name, f"{name} IS NOT NULL") for name in (
    "title", "index_no", "issuing_agency", "category", "doc_no", "written_date",
    "published_date", "report_year", "province_code", "city_code", "county_code",
    "report_key")),
    ("template", "template IS NOT NULL AND template <> 'unknown'"),
    ("stats_consistent", "stats_consistent IS NOT NULL"))

_COMPLETENESS = ",\n       ".join(
    f"round(100.0 * count(*) FILTER (WHERE {condition}) / count(*), 1) AS {name}_pct"
    for name, condition in FIELDS)

#: The numeric changes the page lists, largest first.
LARGEST_CHANGES = 20

#: Every number of the page: one statement each over the views of ``govreports query``.
QUERIES = {
    "totals": """SELECT (SELECT count(*) FROM report_latest) AS reports,
       (SELECT count(*) FROM reports) AS copies,
       (SELECT count(*) FROM report_stats) AS stat_cells,
       (SELECT count(*) FROM rejects) AS rejects""",
    "coverage": """SELECT province_code, report_year, count(*) AS reports
FROM report_latest
GROUP BY ALL ORDER BY ALL""",
    "completeness": f"""SELECT province_code, grouping(province_code) = 1 AS all_provinces,
       count(*) AS copies,
       {_COMPLETENESS}
FROM reports
GROUP BY GROUPING SETS ((province_code), ())
ORDER BY all_provinces, province_code""",
    "templates": """SELECT report_year, template, count(*) AS copies
FROM reports
GROUP BY ALL ORDER BY ALL""",
    "consistency": """SELECT report_year, count(stats_consistent) AS checked,
       count(*) FILTER (WHERE stats_consistent) AS consistent,
       round(100.0 * count(*) FILTER (WHERE stats_consistent)
             / nullif(count(stats_consistent), 0), 1) AS consistent_pct
FROM reports
GROUP BY ALL ORDER BY ALL""",
    "repairs": """SELECT repair, count(*) AS copies
FROM (SELECT unnest(repairs) AS repair FROM reports)
GROUP BY ALL ORDER BY copies DESC, repair""",
    "encodings": """SELECT encoding_detected, encoding_declared, count(*) AS copies
FROM reports
GROUP BY ALL ORDER BY copies DESC, encoding_detected NULLS LAST, encoding_declared NULLS LAST""",
    "rejects": """SELECT stage, reason, count(*) AS documents
FROM rejects
GROUP BY ALL ORDER BY documents DESC, stage, reason""",
    "changed": """SELECT province, year, count(DISTINCT doc_id) AS reports, count(*) AS changes,
       sum(len(cells_changed)) AS cells_changed
FROM report_changes
GROUP BY ALL ORDER BY ALL""",
    "ocr": """SELECT report_year, count(*) AS copies, sum(ocr_pages) AS pages,
       sum(len(ocr_low_confidence_pages)) AS low_confidence_pages,
       round(avg(ocr_confidence), 3) AS mean_confidence
FROM reports
WHERE ocr_engine IS NOT NULL
GROUP BY ALL ORDER BY ALL""",
    "largest_changes": f"""SELECT url, from_version, to_version, from_fetched_at, to_fetched_at,
       from_sha256, to_sha256, from_attachments_sha256, to_attachments_sha256,
       c.cell, c.old, c.new,
       abs(coalesce(c.new, 0) - coalesce(c.old, 0)) AS change
FROM report_changes, unnest(cells_changed) AS t(c)
ORDER BY change DESC, url, to_version, c.cell
LIMIT {LARGEST_CHANGES}""",
}

#: What the page calls a NULL province or year.
UNKNOWN = "unknown"


@dataclass
class Result:
    columns: list[str]
    rows: list[tuple]

    def dicts(self) -> list[dict]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


@dataclass
class PortalHealth:
    """One portal over every crawl the lake's manifests record."""

    portal_id: str
    crawls: int = 0
    last_crawl: str | None = None  # when the latest crawl of it started
    last_status: str | None = None  # ok | partial | suspect_empty | needs_browser | failing | down
    last_note: str | None = None
    last_ok: str | None = None  # when the latest crawl that found it ok started
    failures: Counter = field(default_factory=Counter)  # reason → URLs, latest crawl
    blocked: Counter = field(default_factory=Counter)  # anti-bot kind → URLs, latest crawl


def portal_health(lake: Lake) -> list[PortalHealth]:
    """Per portal: its crawls, the latest one's status, failures by reason and anti-bot walls,
    and the latest crawl that found it ok; from the crawl manifests, oldest first."""
    crawls = sorted((m for m in lake.manifests() if m.command == "crawl"),
                    key=lambda m: m.started_at or "")
    health: dict[str, PortalHealth] = {}
    for manifest in crawls:
        started = manifest.started_at
        for portal_id, outcome in manifest.portals.items():
            h = health.setdefault(portal_id, PortalHealth(portal_id))
            h.crawls += 1
            h.last_crawl, h.last_status = started, outcome.status
            h.last_note = _text(outcome.counts.get("status_note")) or (
                ", ".join(outcome.down_reasons()) if outcome.is_down() else None)
            h.failures = Counter(f["reason"] for f in outcome.failures)
            h.blocked = Counter(b["kind"] for b in outcome.blocked)
            if outcome.status == "ok":
                h.last_ok = started
    return sorted(health.values(), key=lambda h: h.portal_id)


def _text(value) -> str | None:
    return None if value is None else str(value)


def run_queries(lake: Lake) -> dict[str, Result]:
    """The results of :data:`QUERIES` over the lake."""
    def run(con) -> dict[str, Result]:
        results = {}
        for name, sql in QUERIES.items():
            relation = con.sql(sql)
            results[name] = Result(relation.columns, relation.fetchall())
        return results

    return on_sound_files(lake, run)


def build(lake: Lake, *, generated: str) -> str:
    """The report page of the lake, as HTML; ``generated`` is the date (or time) it shows.
    :class:`~pipelines.errors.ConfigError` when the lake does not exist."""
    if lake.store.missing():
        raise ConfigError(f"lake {lake.url} does not exist: build it with `govreports ingest`, "
                          "`govreports run` or `make run`, or pass --lake")
    results = run_queries(lake)
    portals = portal_health(lake)
    return _page(lake.url, generated, results, portals)


def write(lake: Lake, out: Path, *, generated: str) -> Path:
    """Write the report page to ``out/index.html``; returns its path."""
    page = build(lake, generated=generated)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "index.html"
    path.write_text(page, encoding="utf-8")
    return path


def publish(lake: Lake, day: str) -> list[str]:
    """Write the report page into the lake: ``_reports/<day>/index.html`` and
    ``_reports/latest/index.html``; returns the keys written."""
    page = build(lake, generated=day).encode()
    keys = [lake.report_page_key(day), lake.report_page_key("latest")]
    for key in keys:
        lake.store.write(key, page)
    return keys


# -- the page ------------------------------------------------------------------------------------



def _province_label(code: str | None) -> str:
    if code is None:
        return UNKNOWN
    return f"{code} {PROVINCES.get(code, '')}".strip()


def _year_label(year: int | None) -> str:
    return UNKNOWN if year is None else str(year)


def _when(iso: str | None) -> str | None:
    """An ISO 8601 UTC time to the minute (``2026-12-03 11:33 UTC``)."""
    return f"{iso[:16].replace('T', ' ')} UTC" if iso else None


def _sql(*names: str) -> str:
    return "\n\n".join(QUERIES[name] for name in names)


def _table(columns: list[str], rows: list[list], attrs: list[list[dict]] | None = None) -> dict:
    """A table for the template's ``table`` macro: each cell its value and attributes (numbers
    right-aligned: class ``n``, unless the cell has a class of its own)."""
    cells = []
    for r, row in enumerate(rows):
        line = []
        for c, value in enumerate(row):
            attr = dict(attrs[r][c]) if attrs else {}
            if isinstance(value, int | float) and not isinstance(value, bool):
                attr = {"class": "n", **attr}
            line.append({"value": "" if value is None else value, "attrs": attr})
        cells.append(line)
    return {"columns": columns, "rows": cells}


def _svg(figure: str):
    """A figure for the template: matplotlib's own SVG (ids prefixed by plots), not escaped."""
    from markupsafe import Markup

    return Markup(figure)


@functools.cache
def _template():
    """The page's template (``pipelines/templates/quality_page.html``), autoescaped: every
    value is escaped but the SVG figures, which are marked safe where they are made."""
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    environment = Environment(loader=PackageLoader("pipelines", "templates"),
                              autoescape=select_autoescape(["html"]), undefined=StrictUndefined,
                              keep_trailing_newline=True)
    return environment.get_template("quality_page.html")


def _page(lake_url: str, generated: str, results: dict[str, Result],
          portals: list[PortalHealth]) -> str:
    from pipelines import plots

    totals = results["totals"].dicts()[0]
    coverage = results["coverage"].dicts()
    provinces_covered = {r["province_code"] for r in coverage} & set(MAINLAND_PROVINCES)
    sections = {}
    if totals["copies"]:
        sections = {
            "coverage": _coverage_section(plots, coverage),
            "completeness": _completeness_section(plots, results["completeness"]),
            "templates": _templates_section(plots, results["templates"],
                                            results["consistency"]),
            "repairs": _repairs_section(plots, results["repairs"], results["encodings"]),
            "changed": _changed_section(lake_url, results["changed"],
                                        results["largest_changes"]),
            "ocr": _ocr_section(results["ocr"])}
    return _template().render(
        lake_url=lake_url, generated=generated, totals=totals,
        provinces_covered=len(provinces_covered), provinces_total=len(MAINLAND_PROVINCES),
        rejects=_rejects_section(plots, results["rejects"]),
        portals=_portals_section(plots, portals), **sections)


def _coverage_section(plots, coverage: list[dict]) -> dict:
    counts = {(r["province_code"], r["report_year"]): r["reports"] for r in coverage}
    provinces = list(MAINLAND_PROVINCES) + sorted(
        {p for p, _ in counts if p is not None and p not in MAINLAND_PROVINCES})
    if any(p is None for p, _ in counts):
        provinces.append(None)
    known_years = sorted({y for _, y in counts if y is not None})
    years: list[int | None] = (list(range(known_years[0], known_years[-1] + 1))
                               if known_years else [])
    if any(y is None for _, y in counts):
        years.append(None)
    grid = [[counts.get((p, y), 0) for y in years] for p in provinces]
    figure = plots.heatmap(grid, [_province_label(p) for p in provinces],
                           [_year_label(y) for y in years], fmt="{:.0f}", cmap="Blues",
                           title="Reports per province and report year", cell_height=0.28)
    rows = [[_province_label(p), *[counts.get((p, y), 0) for y in years],
             sum(counts.get((p, y), 0) for y in years)] for p in provinces]
    attrs = [[{}, *[{"data-province": p or UNKNOWN, "data-year": _year_label(y)}
                    for y in years], {}] for p in provinces]
    return {"svg": _svg(figure), "sql": _sql("coverage"),
            "table": _table(["province", *map(_year_label, years), "all years"], rows, attrs)}


def _completeness_section(plots, completeness: Result) -> dict:
    rows = completeness.dicts()
    names = [name for name, _ in FIELDS]
    labels = ["all" if r["all_provinces"] else _province_label(r["province_code"])
              for r in rows]
    grid = [[r[f"{name}_pct"] for r in rows] for name in names]
    figure = plots.heatmap(grid, names, labels, fmt="{:.0f}", cmap="RdYlGn", vmin=0, vmax=100,
                           title="Field completeness (% of rows with a value)",
                           cell_height=0.3, rotate_columns=True)
    table_rows = [[label, r["copies"], *[r[f"{name}_pct"] for name in names]]
                  for label, r in zip(labels, rows, strict=True)]
    keys = ["all" if r["all_provinces"] else (r["province_code"] or UNKNOWN) for r in rows]
    attrs = [[{}, {}, *[{"data-province": key, "data-field": name} for name in names]]
             for key in keys]
    return {"svg": _svg(figure), "sql": _sql("completeness"),
            "table": _table(["province", "rows", *names], table_rows, attrs)}


def _templates_section(plots, templates: Result, consistency: Result) -> dict:
    by_year: dict[int | None, dict[str, int]] = {}
    for r in templates.dicts():
        by_year.setdefault(r["report_year"], {})[r["template"] or UNKNOWN] = r["copies"]
    rates = {r["report_year"]: r for r in consistency.dicts()}
    years = sorted(by_year, key=lambda y: (y is None, y or 0))
    kinds = [k for k in ("2021", "2019", "pre2019", "unknown")
             if any(k in by_year[y] for y in years)]
    figure = plots.stacked_bars(
        [_year_label(y) for y in years], {k: [by_year[y].get(k, 0) for y in years]
                                          for k in kinds},
        rate=[rates[y]["consistent_pct"] for y in years],
        title="Templates by report year, and the share of checked reports whose tables add up",
        rate_label="consistent (%)")
    rows = [[_year_label(y), *[by_year[y].get(k, 0) for k in kinds], rates[y]["checked"],
             rates[y]["consistent"],
             "" if rates[y]["consistent_pct"] is None else rates[y]["consistent_pct"]]
            for y in years]
    return {"svg": _svg(figure), "sql": _sql("templates", "consistency"),
            "table": _table(["year", *kinds, "checked", "consistent", "consistent %"], rows)}


def _repairs_section(plots, repairs: Result, encodings: Result) -> dict:
    enc_rows = encodings.dicts()
    detected = Counter()
    for r in enc_rows:
        detected[r["encoding_detected"] or UNKNOWN] += r["copies"]
    figure = plots.bars_side_by_side(
        ("Repairs applied (rows)", [(r["repair"], r["copies"]) for r in repairs.dicts()]),
        ("Encodings detected (rows)", detected.most_common()))
    # A declaration counts by the codec it names (a GB2312 page decoded as GB18030, its
    # superset, is what the decode stage does for every GB label: no contradiction).
    mismatched = sum(r["copies"] for r in enc_rows if r["encoding_declared"]
                     and r["encoding_detected"]
                     and codec_for(r["encoding_declared"]) != codec_for(r["encoding_detected"]))
    return {"svg": _svg(figure), "sql": _sql("repairs", "encodings"), "mismatched": mismatched,
            "repairs": _table(["repair", "rows"], [list(r) for r in repairs.rows]),
            "encodings": _table(["detected", "declared", "rows"],
                                [[r["encoding_detected"] or UNKNOWN,
                                  r["encoding_declared"] or "—", r["copies"]]
                                 for r in enc_rows])}


def _changed_section(lake_url: str, changed: Result, largest: Result) -> dict | None:
    """Reports whose content changed after it was first fetched (``report_changes``): counts by
    province and year, and the largest numeric changes, each with both versions' fetch times
    and raw bytes."""
    rows = changed.dicts()
    if not rows:
        return None
    by_part = _table(["province", "year", "reports changed", "changes", "cells changed"],
                     [[_province_label(r["province"]), _year_label(r["year"]), r["reports"],
                       r["changes"], r["cells_changed"] or 0] for r in rows],
                     [[{"data-changed-province": r["province"] or UNKNOWN},
                       {"data-changed-year": r["year"] or UNKNOWN},
                       {"data-changed-reports": f"{r['province']}/{r['year']}"}, {}, {}]
                      for r in rows])

    def raw(sha: str) -> str:
        return f"{lake_url.rstrip('/')}/raw/{sha[:2]}/{sha}"

    def changed_bytes(r: dict) -> tuple[str, str]:
        """The raw objects that differ: the page's, or (its bytes unchanged) its file's."""
        if r["from_sha256"] != r["to_sha256"]:
            return r["from_sha256"], r["to_sha256"]
        before = sorted(set(r["from_attachments_sha256"] or ()) -
                        set(r["to_attachments_sha256"] or ()))
        after = sorted(set(r["to_attachments_sha256"] or ()) -
                       set(r["from_attachments_sha256"] or ()))
        return (before or [r["from_sha256"]])[0], (after or [r["to_sha256"]])[0]

    cells = []
    for r in largest.dicts():
        before, after = changed_bytes(r)
        cells.append([{"href": r["url"], "text": r["url"]},
                      f"v{r['from_version']} {_when(_text(r['from_fetched_at']))}",
                      f"v{r['to_version']} {_when(_text(r['to_fetched_at']))}",
                      r["cell"], _number(r["old"]), _number(r["new"]),
                      {"href": raw(before), "text": "before"},
                      {"href": raw(after), "text": "after"}])
    return {"sql": _sql("changed", "largest_changes"), "table": by_part,
            "reports": sum(r["reports"] for r in rows), "largest": cells}


def _ocr_section(ocr: Result) -> dict | None:
    """Reports whose text came from page images (``ocr_*``): rows, pages and the pages read
    with low confidence, by year. None when there are none."""
    rows = ocr.dicts()
    if not rows:
        return None
    return {"copies": sum(r["copies"] for r in rows), "pages": sum(r["pages"] for r in rows),
            "low": sum(r["low_confidence_pages"] for r in rows), "sql": _sql("ocr"),
            "table": _table(["year", "rows", "pages", "low-confidence pages", "mean confidence"],
                            [[_year_label(r["report_year"]), r["copies"], r["pages"],
                              r["low_confidence_pages"], r["mean_confidence"]] for r in rows],
                            [[{}, {}, {}, {"data-ocr-low": _year_label(r["report_year"])}, {}]
                             for r in rows])}


def _number(value) -> str:
    return "—" if value is None else f"{value.normalize():f}"


def _rejects_section(plots, rejects: Result) -> dict | None:
    rows = rejects.dicts()
    if not rows:
        return None
    by_reason = Counter()
    for r in rows:
        by_reason[r["reason"]] += r["documents"]
    figure = plots.bars_side_by_side(("Rejected documents by reason", by_reason.most_common()))
    attrs = [[{}, {"data-reason": r["reason"]}, {"data-reason-count": r["reason"]}]
             for r in rows]
    return {"svg": _svg(figure), "sql": _sql("rejects"),
            "table": _table(["stage", "reason", "documents"],
                            [[r["stage"], r["reason"], r["documents"]] for r in rows], attrs)}


def _portals_section(plots, portals: list[PortalHealth]) -> dict | None:
    if not portals:
        return None
    reasons = sorted({r for p in portals for r in p.failures})
    series = {reason: [p.failures.get(reason, 0) for p in portals] for reason in reasons}
    # anti-bot walls are failures too (reason anti_bot); their kinds are in the table
    figure = _svg(plots.stacked_barh([p.portal_id for p in portals], series,
                                    title="Failed URLs by reason in each portal's latest crawl")
                 ) if reasons else None
    rows, attrs = [], []
    for p in portals:
        cls = {"down": "bad", "failing": "bad", "suspect_empty": "warn",
               "needs_browser": "warn", "partial": "warn"}.get(
            p.last_status or "", "")
        rows.append([p.portal_id, p.last_status, _when(p.last_crawl), _when(p.last_ok) or "never",
                     p.crawls,
                     ", ".join(f"{k} {n}" for k, n in sorted(p.failures.items())) or "—",
                     ", ".join(f"{k} {n}" for k, n in sorted(p.blocked.items())) or "—",
                     p.last_note or ""])
        attrs.append([{}, {"class": cls, "data-portal-status": p.portal_id}, {}, {}, {}, {},
                      {}, {}])
    by_status = Counter(p.last_status for p in portals)
    return {"svg": figure, "count": len(portals), "down": by_status["down"],
            "failing": by_status["failing"], "empty": by_status["suspect_empty"],
            "walled": sum(1 for p in portals if p.blocked),
            "table": _table(["portal", "latest status", "latest crawl", "last ok crawl",
                             "crawls", "failures (latest crawl)",
                             "anti-bot walls (latest crawl)", "note"], rows, attrs)}
