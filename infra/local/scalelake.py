"""The lake at scale (``make scale``): the Parquet tables grown to 100k and 1M reports, and
what a night and a reader pay for them, on local disk and on an S3 endpoint on loopback.

The rows are made by the pipeline itself: the seed reports (``crawlers/samples/seeds``, real texts)
are ingested into a small lake, and their ``reports`` and ``report_stats`` rows are the
templates. Every grown report is a template's row with keys of its own (``doc_id``, ``url``,
``content_sha256``, ``portal_id``, ``report_key``), a province and year drawn with realistic
weights (provinces by their number of county-level bodies; later years more), and a text of
the template's size made its own (its lines rotated, its digits re-drawn), so that Parquet
cannot fold a million copies of five texts into five. Its cells are the template's cells.

Measured for each size, on each store:
- the lake's objects and bytes per table (and bytes per report, beside one seed text alone
  compressed with zstd: what a report costs with no neighbour to share its words);
- a nightly batch landed by the load every run uses (:func:`pipelines.load.load`): new
  reports of the current year in every province, the time, partitions written, bytes read
  and written, S3 requests;
- ``report_latest``, ``report_panel`` and three consumer queries (reports per province and
  year; one province-year's reports with their text; a national figure from ``report_stats``)
  in DuckDB (``govreports query``'s connection) and in pyarrow (datasets, the same answers);
- the quality page (``govreports report``).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SEEDS = ROOT / "crawlers" / "samples" / "seeds"

#: Province weights: roughly each province's number of county-level divisions (where its
#: reports come from: counties, their departments and townships).
PROVINCE_WEIGHTS = {
    "110000": 16, "120000": 16, "130000": 167, "140000": 117, "150000": 103, "210000": 100,
    "220000": 60, "230000": 121, "310000": 16, "320000": 95, "330000": 90, "340000": 104,
    "350000": 84, "360000": 100, "370000": 136, "410000": 157, "420000": 103, "430000": 122,
    "440000": 122, "450000": 111, "460000": 25, "500000": 38, "510000": 183, "520000": 88,
    "530000": 129, "540000": 74, "610000": 107, "620000": 86, "630000": 44, "640000": 22,
    "650000": 107,
}
#: Report years: 2008 (the first year of the regulations) to the last; later years more
#: (more bodies publish, and online).
YEARS = range(2008, 2026)
NIGHT_YEAR = 2025
#: A nightly batch: the new reports of a busy night (reports come out in January to March).
NIGHT_REPORTS = 2000
#: Days within which the nightly crawl re-checks every known page (GOVREPORTS_RECHECK_DAYS).
RECHECK_DAYS = 30


def _year_weight(year: int) -> float:
    return 1.0 + 0.25 * (year - YEARS[0])


def log(message: str) -> None:
    print(f"scale lake: {message}", flush=True)


def templates(work: Path):
    """The seed reports' rows, made by ``govreports ingest`` (the real pipeline)."""
    from pipelines.lake import Lake
    from pipelines.query import table_dataset
    from pipelines.schema import TABLES

    lake_dir = work / "seed-lake"
    shutil.rmtree(lake_dir, ignore_errors=True)
    subprocess.run([str(BIN / "govreports"), "ingest", "--lake", str(lake_dir), "--jobs", "1",
                    str(SEEDS)], check=True, capture_output=True,
                   env={**os.environ, "GOVREPORTS_LAKE": ""})
    lake = Lake.open(str(lake_dir))
    reports, stats = (table_dataset(lake, t).to_table().select(TABLES[t].names).cast(TABLES[t])
                      for t in ("reports", "report_stats"))
    return reports.sort_by("doc_id"), stats


#: Character tables a grown text is written through, one picked per row (made on first use).
_TABLES: list[dict[int, str]] = []
TABLE_COUNT = 256


def _own_text(text: str, rng: random.Random) -> str:
    """The template's text made this row's own: its lines rotated and its characters (hanzi
    and digits) exchanged through one of :data:`TABLE_COUNT` random permutations of the
    characters it uses. A row keeps the repetition of a real text within itself, but shares no
    run of characters with its neighbours: Parquet compresses it about as much as one report
    alone (rotation and new digits alone left rows that zstd folded into each other: 736 bytes
    a report at 100,000, where one seed text alone takes 4,865)."""
    lines = text.split("\n")
    k = rng.randrange(len(lines))
    return "\n".join(lines[k:] + lines[:k]).translate(rng.choice(_TABLES))


def prepare_tables(texts: list[str]) -> None:
    """The permutations :func:`_own_text` writes through, of every hanzi and digit the
    templates use."""
    rng = random.Random(3)
    chars = sorted({c for text in texts if text for c in text
                    if "\u4e00" <= c <= "\u9fff" or c.isdigit()})
    _TABLES.clear()
    for _ in range(TABLE_COUNT):
        shuffled = chars[:]
        rng.shuffle(shuffled)
        _TABLES.append(str.maketrans(dict(zip(chars, shuffled, strict=True))))


def partition_counts(n: int) -> dict[tuple[str, int], int]:
    weights = {(p, y): w * _year_weight(y) for p, w in PROVINCE_WEIGHTS.items() for y in YEARS}
    total = sum(weights.values())
    counts = {key: int(n * w / total) for key, w in weights.items()}
    short = n - sum(counts.values())
    for key in sorted(weights, key=weights.get, reverse=True)[:short]:
        counts[key] += 1
    return counts


def grown_rows(reports, stats, part: tuple[str, int], count: int, start: int, rng, *,
               prefix: str = "g"):
    """``count`` reports (and their cells) for one partition, numbered from ``start``."""
    import hashlib

    import pyarrow as pa

    from pipelines.regions import PROVINCES

    picks = [rng.randrange(reports.num_rows) for _ in range(count)]
    rows = reports.take(picks)
    ids = [f"{prefix}{start + i:09d}" for i in range(count)]
    texts = rows["text"].to_pylist()
    province, year = part
    columns = {
        "doc_id": ids,
        "url": [f"http://www.example{(start + i) % 20000}.gov.cn/xxgk/ndbg/{year}/t{start + i}.html"
                for i in range(count)],
        "content_sha256": [hashlib.sha256(d.encode()).hexdigest() for d in ids],
        "portal_id": [f"portal-{(start + i) % 20000}" for i in range(count)],
        "report_key": [f"{province}:body-{(start + i) % 20000}:{year}" for i in range(count)],
        "text": [_own_text(t, rng) if t else t for t in texts],
        "province_code": [province] * count,
        "province_name": [PROVINCES[province]] * count,
        "report_year": [year] * count,
    }
    for name, values in columns.items():
        index = rows.schema.get_field_index(name)
        rows = rows.set_column(index, rows.schema.field(index),
                               pa.array(values, type=rows.schema.field(index).type))
    # Each report's cells: its template's, under its own doc_id.
    by_template: dict[str, list[int]] = {}
    template_ids = reports["doc_id"].to_pylist()
    stat_ids = stats["doc_id"].to_pylist()
    for i, doc in enumerate(stat_ids):
        by_template.setdefault(doc, []).append(i)
    take, doc_of = [], []
    for doc_id, pick in zip(ids, picks, strict=True):
        cells = by_template.get(template_ids[pick], [])
        take += cells
        doc_of += [doc_id] * len(cells)
    cells = stats.take(pa.array(take, pa.int64()))
    index = cells.schema.get_field_index("doc_id")
    cells = cells.set_column(index, cells.schema.field(index), pa.array(doc_of, pa.string()))
    return rows, cells


def grow(store_url: str, reports, stats, n: int, seed: int = 1) -> dict:
    """Write a lake of ``n`` reports at ``store_url`` through the lake's own writer."""
    from pipelines.lake import Lake, Partition
    from pipelines.load import SORT_KEYS

    lake = Lake.open(store_url, writable=True)
    rng = random.Random(seed)
    started, number = time.monotonic(), 0
    for (province, year), count in sorted(partition_counts(n).items()):
        if not count:
            continue
        rows, cells = grown_rows(reports, stats, (province, year), count, number, rng)
        number += count
        part = Partition(province, year)
        lake.write_partition_if("reports", part, rows.sort_by(SORT_KEYS["reports"]), None)
        lake.write_partition_if("report_stats", part,
                                cells.sort_by(SORT_KEYS["report_stats"]), None)
    return {"reports": number, "grow_s": round(time.monotonic() - started, 1)}


def objects(store_url: str) -> dict:
    """Objects and bytes per top folder of the lake."""
    from pyarrow import fs

    from pipelines.lake import Lake

    filesystem, base = Lake.open(store_url).store.arrow_filesystem()
    sizes: dict[str, list[int]] = {}
    for info in filesystem.get_file_info(fs.FileSelector(base, recursive=True)):
        if info.type == fs.FileType.File:
            top = info.path[len(base):].lstrip("/").split("/", 1)[0]
            sizes.setdefault(top, [0, 0])
            sizes[top][0] += 1
            sizes[top][1] += info.size
    return {top: {"objects": o, "bytes": b} for top, (o, b) in sorted(sizes.items())}


def written_bytes(store_url: str, keys: list[str]) -> int:
    from pipelines.lake import Lake

    filesystem, base = Lake.open(store_url).store.arrow_filesystem()
    return sum(info.size for info in filesystem.get_file_info([f"{base}/{k}" for k in keys]))


class PeakRSS(threading.Thread):
    """This process's peak resident memory while a step runs (sampled every 50 ms)."""

    def __init__(self):
        super().__init__(daemon=True)
        import psutil

        self.process = psutil.Process()
        self.peak = self.process.memory_info().rss
        self.done = threading.Event()

    def run(self):
        while not self.done.wait(0.05):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.join()


def night(store_url: str, reports, stats, n: int, counts=None, *, recheck: bool,
          prefix: str) -> dict:
    """A night landed by the load every run uses: :data:`NIGHT_REPORTS` new reports of
    :data:`NIGHT_YEAR` over the provinces, and with ``recheck`` the night's share of the
    rolling re-check: every known report is asked again within :data:`RECHECK_DAYS` days, so a
    night confirms about one in 30 of them, anywhere in the lake, and the load moves their
    ``last_seen`` (:func:`pipelines.history.sighted`)."""
    import hashlib
    from datetime import UTC, datetime

    from pipelines.history import Sighting
    from pipelines.lake import Lake
    from pipelines.load import load
    from pipelines.process import table_state
    from pipelines.spool import Spool

    lake = Lake.open(store_url, writable=True)
    rng = random.Random(7)
    spool = Spool()
    total = sum(PROVINCE_WEIGHTS.values())
    number = n
    for province, weight in PROVINCE_WEIGHTS.items():
        count = max(1, round(NIGHT_REPORTS * weight / total))
        rows, cells = grown_rows(reports, stats, (province, NIGHT_YEAR), count, number, rng,
                                 prefix=prefix)
        number += count
        spool.add_tables(rows, cells)
    seen = {}
    if recheck:
        now = datetime.now(UTC).isoformat()
        pick = random.Random(11)
        for i in range(n):
            if pick.random() < 1 / RECHECK_DAYS:
                doc_id = f"g{i:09d}"
                seen[doc_id] = Sighting(hashlib.sha256(doc_id.encode()).hexdigest(), now)
    if counts:
        counts(reset=True)
    # What a night's plan reads first: every partition, whole (pipelines.process.table_state).
    scan_s, _state = _timed(lambda: table_state(lake, []))
    with PeakRSS() as memory:
        started = time.monotonic()
        result = load(lake, spool, seen=seen, run_id=f"scale-{prefix}-{n}", command="scale")
        wall = time.monotonic() - started
    figures = {"reports": number - n, "rechecked": len(seen), "plan_scan_s": scan_s,
               "load_s": round(wall, 1), "peak_rss_mib": round(memory.peak / 2**20),
               "written": len(result.written), "unchanged": result.unchanged,
               "written_bytes": written_bytes(store_url, result.written)}
    if counts:
        asked = counts()
        figures["s3_requests"] = asked["requests"]
        figures["s3_bytes_in"] = sum(asked["bytes_in"].values())
        figures["s3_bytes_out"] = sum(asked["bytes_out"].values())
    return figures


def _timed(call) -> tuple[float, object]:
    started = time.monotonic()
    result = call()
    return round(time.monotonic() - started, 2), result


def queries_duckdb(store_url: str) -> dict:
    from pipelines.lake import Lake
    from pipelines.query import connect

    con = connect(Lake.open(store_url))
    sqls = {
        "report_latest": "select report_key, doc_id from report_latest",
        "report_panel": "select report_year, count(*), sum(requests_received) from report_panel "
                        "group by all",
        "per_province_year": "select province_code, report_year, count(*) from reports "
                             "group by all",
        "one_partition_text": "select doc_id, title, text from reports where province_code = "
                              "'510000' and report_year = 2024",
        "national_figure": "select r.report_year, sum(s.value) from report_stats s join reports "
                           "r using (doc_id) where s.\"table\" = '三' and s.row_key = "
                           "'received_new' and s.column_key = 'total' group by all",
    }
    out = {}
    for name, sql in sqls.items():
        seconds, rows = _timed(lambda sql=sql: con.sql(sql).fetchall())
        out[name] = {"s": seconds, "rows": len(rows)}
    return out


def queries_pyarrow(store_url: str) -> dict:
    """The same answers with pyarrow datasets alone."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from pipelines.lake import Lake
    from pipelines.query import PANEL_INDICATORS, table_dataset

    lake = Lake.open(store_url)
    reports = table_dataset(lake, "reports")
    stats = table_dataset(lake, "report_stats")

    def latest() -> pa.Table:
        rows = reports.to_table(columns=["report_key", "doc_id", "url", "published_date",
                                         "fetched_at", "document_kind", "report_year"])
        kind = pc.fill_null(rows["document_kind"], "report")
        rows = rows.filter(pc.and_(pc.equal(kind, "report"), pc.is_valid(rows["report_key"])))
        gov = pc.if_else(pc.match_substring_regex(rows["url"], r"^https?://([^/:]+[.])?gov[.]cn"
                                                               r"([:/]|$)"), 0, 1)
        rows = rows.append_column("gov", gov).sort_by([
            ("report_key", "ascending"), ("gov", "ascending"),
            ("published_date", "descending"), ("fetched_at", "descending"),
            ("doc_id", "ascending")])
        keys = rows["report_key"].to_numpy(zero_copy_only=False)
        first = np.ones(len(keys), dtype=bool)
        first[1:] = keys[1:] != keys[:-1]
        return rows.filter(pa.array(first))

    def panel() -> pa.Table:
        best = latest().select(["doc_id", "report_year"])
        cells = stats.to_table(columns=["doc_id", "table", "row_key", "column_key", "value"],
                               filter=pc.field("table").isin(["二", "三", "四"]))
        for indicator in PANEL_INDICATORS:
            mask = pc.and_(pc.and_(pc.equal(cells["table"], indicator.table),
                                   pc.is_in(cells["row_key"],
                                            value_set=pa.array(indicator.row_keys))),
                           pc.is_in(cells["column_key"],
                                    value_set=pa.array(indicator.column_keys)))
            summed = cells.filter(mask).group_by("doc_id").aggregate([("value", "sum")]) \
                .rename_columns(["doc_id", indicator.column])
            best = best.join(summed, "doc_id", join_type="left outer")
        return best.group_by("report_year").aggregate([("doc_id", "count"),
                                                       ("requests_received", "sum")])

    calls = {
        "report_latest": lambda: latest().num_rows,
        "report_panel": lambda: panel().num_rows,
        "per_province_year": lambda: reports.to_table(columns=["province_code", "report_year"])
        .group_by(["province_code", "report_year"]).aggregate([([], "count_all")]).num_rows,
        "one_partition_text": lambda: reports.to_table(
            columns=["doc_id", "title", "text"],
            filter=(pc.field("province") == "510000") & (pc.field("year") == 2024)).num_rows,
        "national_figure": lambda: stats.to_table(
            columns=["doc_id", "value"],
            filter=(pc.field("table") == "三") & (pc.field("row_key") == "received_new")
            & (pc.field("column_key") == "total"))
        .join(reports.to_table(columns=["doc_id", "report_year"]), "doc_id")
        .group_by("report_year").aggregate([("value", "sum")]).num_rows,
    }
    out = {}
    for name, call in calls.items():
        seconds, rows = _timed(call)
        out[name] = {"s": seconds, "rows": rows}
    return out


def quality_page(store_url: str, out: Path, env: dict) -> float:
    started = time.monotonic()
    subprocess.run([str(BIN / "govreports"), "report", "--lake", store_url, "--out", str(out)],
                   check=True, capture_output=True, env={**os.environ, **env})
    return round(time.monotonic() - started, 1)


def seed_text_alone_bytes() -> int:
    """A seed report's text compressed alone with zstd (no neighbour to share words with),
    averaged over the seeds."""
    import pyarrow as pa

    codec = pa.Codec("zstd")
    sizes = [len(codec.compress(p.read_bytes())) for p in sorted(SEEDS.glob("*.txt"))]
    return round(sum(sizes) / len(sizes))


def run(sizes: list[int], work: Path, s3=None, s3_sizes: list[int] | None = None) -> dict:
    """Grow and measure a lake of each size on local disk, and on ``s3`` (a localdeploy.S3)
    for the sizes of ``s3_sizes``."""
    work.mkdir(parents=True, exist_ok=True)
    reports, stats = templates(work)
    prepare_tables(reports["text"].to_pylist())
    results = {"seed_text_alone_zstd_bytes": seed_text_alone_bytes(),
               "template_cells_per_report": round(stats.num_rows / reports.num_rows, 1),
               "sizes": {}}
    for n in sizes:
        stores = {"local": str(work / f"lake-{n}")}
        if s3 is not None and n in (s3_sizes or []):
            stores["s3"] = f"s3://{s3.bucket}/lake-{n}"
        for where, url in stores.items():
            if where == "local":
                shutil.rmtree(url, ignore_errors=True)
            log(f"{n} reports on {where}: growing")
            figures = grow(url, reports, stats, n)
            figures["objects"] = objects(url)
            data = sum(v["bytes"] for k, v in figures["objects"].items()
                       if k in ("reports", "report_stats"))
            figures["bytes_per_report"] = round(data / n)
            log(f"{n} reports on {where}: grown in {figures['grow_s']} s, "
                f"{data / 2**20:.0f} MiB; a night")
            counts = s3.counts if where == "s3" else None
            figures["night_new_only"] = night(url, reports, stats, n, counts, recheck=False,
                                              prefix="new")
            log(f"{n} on {where}: a night of new reports only {figures['night_new_only']}")
            figures["night"] = night(url, reports, stats, n, counts, recheck=True,
                                     prefix="night")
            log(f"{n} on {where}: a night with its re-checks {figures['night']}")
            figures["duckdb"] = queries_duckdb(url)
            figures["pyarrow"] = queries_pyarrow(url)
            figures["quality_page_s"] = quality_page(
                url, work / f"report-{n}-{where}", s3.own() if where == "s3" else {})
            log(f"{n} on {where}: duckdb {figures['duckdb']}; pyarrow {figures['pyarrow']}; "
                f"quality page {figures['quality_page_s']} s")
            results["sizes"].setdefault(str(n), {})[where] = figures
            if where == "local":
                shutil.rmtree(url, ignore_errors=True)
            (work / "lake.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    return results
