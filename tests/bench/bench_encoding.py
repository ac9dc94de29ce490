"""Decode + repair throughput beside chardet alone, on the same realistic pages, in one run.

The corpus is every encoding golden input (UTF-8, GBK with true, lying and missing declarations,
Big5, mirror copies, mojibake, script-heavy and short pages, the seeds), repeated to a few
hundred documents. The two contenders alternate round by round so that machine noise hits both;
the median round counts. Target: the whole stage costs less than chardet on every full page
(ratio ≥ 1).
"""

from __future__ import annotations

import json
import statistics
import time
import tracemalloc
from pathlib import Path

import chardet

from pipelines.decode import decode
from pipelines.extract import parse_html, sniff_kind
from pipelines.repair import repair_text

GOLDEN = Path(__file__).parent.parent / "golden" / "encoding"
ROUNDS = 5
COPIES = 20


def corpus() -> list[tuple[bytes, dict, str]]:
    """(raw bytes, headers, the page's text before repair) per document. In the pipeline the
    repairs run on the text extracted from the page; extraction is another stage, so the text
    is extracted here, outside the clock."""
    docs = []
    for case in sorted(p for p in GOLDEN.iterdir() if p.is_dir()):
        [source] = case.glob("input.*")
        meta = json.loads((case / "meta.json").read_text(encoding="utf-8"))
        data = source.read_bytes()
        decoded = decode(data, headers=meta["headers"]).text
        text = parse_html(decoded).text if sniff_kind(data, source.name) == "html" else decoded
        docs.append((data, meta["headers"], text))
    return docs * COPIES


def stage(docs) -> None:
    for data, headers, text in docs:
        decode(data, headers=headers)
        repair_text(text)


def baseline(docs) -> None:
    for data, _, _ in docs:
        chardet.detect(data)


def _timed(fn, docs) -> float:
    started = time.perf_counter()
    fn(docs)
    return time.perf_counter() - started


def run() -> dict:
    docs = corpus()
    megabytes = sum(len(d) for d, _, _ in docs) / 1e6
    stage(docs[:20])  # load OpenCC, pypinyin and the character tables once, outside the clock
    baseline(docs[:20])
    times = {"decode+repair": [], "chardet.detect": []}
    for _ in range(ROUNDS):
        times["decode+repair"].append(_timed(stage, docs))
        times["chardet.detect"].append(_timed(baseline, docs))
    tracemalloc.start()
    stage(docs)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    rates = {name: len(docs) / statistics.median(t) for name, t in times.items()}
    ratio = rates["decode+repair"] / rates["chardet.detect"]
    print(f"encoding: {len(docs)} documents, {megabytes:.1f} MB, median of {ROUNDS} rounds")
    for name, rate in rates.items():
        print(f"  {name:<16} {rate:8.1f} docs/s  {rate * megabytes / len(docs):6.2f} MB/s")
    print(f"  ratio decode+repair / chardet = {ratio:.2f} (target >= 1.0: "
          f"{'met' if ratio >= 1 else 'NOT met'}); stage peak memory {peak / 1e6:.1f} MB")
    return {"documents": len(docs), "megabytes": round(megabytes, 2),
            "docs_per_s": {k: round(v, 1) for k, v in rates.items()},
            "ratio": round(ratio, 2), "stage_peak_mb": round(peak / 1e6, 1)}
