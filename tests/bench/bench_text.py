"""The whole text stage (decode → repair → extract → metadata) beside bare
``trafilatura.extract`` on the same pages, in one run: throughput and text quality.

Pages: every golden HTML input that has a ``gold.txt`` (its report text as authored), across
the CMS layouts and the encoding cases. Quality is character-level F1 against the gold text,
after both sides are put in the same form (whitespace dropped, traditional → simplified, mirror
pinyin removed), so that it scores which text was kept, not how it was spelled. Target: at
least 3× trafilatura's throughput at equal or better mean F1.
"""

from __future__ import annotations

import json
import statistics
import time
from collections import Counter
from pathlib import Path

import trafilatura

from pipelines.extract import extract
from pipelines.metadata import extract_metadata
from pipelines.repair import strip_pinyin, to_simplified

GOLDEN = Path(__file__).parent.parent / "golden"
ROUNDS = 5
COPIES = 10


def pages() -> list[tuple[str, bytes, dict, str, str | None]]:
    """(case, bytes, headers, gold text, url) of every golden HTML page with a gold text."""
    found = []
    for gold in sorted(GOLDEN.glob("*/*/gold.txt")):
        case = gold.parent
        [source] = case.glob("input.*")
        if source.suffix != ".html":
            continue
        meta = json.loads((case / "meta.json").read_text(encoding="utf-8"))
        found.append((f"{case.parent.name}/{case.name}", source.read_bytes(),
                      meta.get("headers") or {}, gold.read_text(encoding="utf-8"),
                      meta.get("url")))
    return found


def ours(data: bytes, headers: dict, url: str | None) -> str:
    result = extract(data, filename="page.html", headers=headers, url=url)
    extract_metadata(result.text, title=result.title, meta=result.meta,
                     metadata_lines=result.metadata_lines)
    return result.text


def bare(data: bytes, headers: dict, url: str | None) -> str:
    return trafilatura.extract(data) or ""


def _normal(text: str) -> Counter:
    return Counter(c for c in to_simplified(strip_pinyin(text)) if not c.isspace())


def f1(predicted: str, gold: str) -> float:
    """Character-level F1 (bag of characters) of a predicted text against the gold one."""
    pred, ref = _normal(predicted), _normal(gold)
    overlap = sum((pred & ref).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / sum(pred.values()), overlap / sum(ref.values())
    return 2 * precision * recall / (precision + recall)


def _timed(fn, corpus) -> float:
    started = time.perf_counter()
    for _, data, headers, _, url in corpus:
        fn(data, headers, url)
    return time.perf_counter() - started


def run() -> dict:
    found = pages()
    corpus = found * COPIES
    for _, data, headers, _, url in found:  # warm both up: imports, tables, caches
        ours(data, headers, url)
        bare(data, headers, url)
    times = {"text stage": [], "trafilatura": []}
    for _ in range(ROUNDS):
        times["text stage"].append(_timed(ours, corpus))
        times["trafilatura"].append(_timed(bare, corpus))
    rates = {name: len(corpus) / statistics.median(t) for name, t in times.items()}
    scores = {"text stage": {}, "trafilatura": {}}
    for case, data, headers, gold, url in found:
        scores["text stage"][case] = f1(ours(data, headers, url), gold)
        scores["trafilatura"][case] = f1(bare(data, headers, url), gold)
    mean = {name: statistics.mean(s.values()) for name, s in scores.items()}
    ratio = rates["text stage"] / rates["trafilatura"]
    print(f"text: {len(found)} pages × {COPIES}, median of {ROUNDS} rounds")
    for name in rates:
        print(f"  {name:<12} {rates[name]:8.1f} pages/s   mean char-F1 {mean[name]:.3f}")
    met = ratio >= 3 and mean["text stage"] >= mean["trafilatura"]
    print(f"  throughput ratio {ratio:.2f}, F1 {mean['text stage']:.3f} vs "
          f"{mean['trafilatura']:.3f} (target ratio >= 3 at equal or better F1: "
          f"{'met' if met else 'NOT met'})")
    worst = sorted(scores["text stage"].items(), key=lambda kv: kv[1])[:3]
    print("  lowest text-stage F1: " + ", ".join(f"{c} {s:.3f}" for c, s in worst))
    return {"pages": len(found), "pages_per_s": {k: round(v, 1) for k, v in rates.items()},
            "ratio": round(ratio, 2), "mean_f1": {k: round(v, 4) for k, v in mean.items()},
            "f1": {k: {c: round(s, 4) for c, s in v.items()} for k, v in scores.items()}}
