"""``govreports ingest`` beside bare ``trafilatura.extract`` on the same pages, in one run: pages
of eight layouts the project wrote (:mod:`tests.bench.layouts`; four with no content container
the extractor knows), throughput, text F1 against each page's gold text, and the command's peak
memory at two batch sizes.

The ratio is bare trafilatura's time (one process, extraction only) over the whole ingest
command's wall time (start-up, decode, repair, extraction, metadata, statistics, the lake's
writes and the Parquet load, on the machine's cores). Target ≥ 3 at equal or better F1.
Peak memory is the largest sum of PSS (resident memory, pages shared between processes
counted once) over the command's process tree, sampled every 20 ms; target: under 500 MB, and
the larger batch within 20% of the smaller.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import trafilatura

from tests.bench.bench_text import f1
from tests.bench.layouts import FALLBACK, LAYOUTS, write

PAGES = 400
BATCHES = (1_000, 10_000)
GOVREPORTS = str(Path(sys.executable).with_name("govreports"))


def _peak_rss(command: list[str]) -> tuple[float, float, subprocess.CompletedProcess]:
    """Run ``command``; (wall seconds, peak MiB (PSS) of its process tree, the completed
    process)."""
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        root = psutil.Process(proc.pid)
        while not done.is_set():
            try:
                tree = [root, *root.children(recursive=True)]
                peak = max(peak, sum(p.memory_full_info().pss for p in tree
                                     if p.is_running()))
            except psutil.Error:
                pass
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    return wall, peak / 2**20, subprocess.CompletedProcess(command, proc.returncode, out, err)


def _texts(lake: Path) -> dict[str, str]:
    done = subprocess.run([GOVREPORTS, "query", "--lake", str(lake), "--format", "json",
                           "select url, text from reports"], capture_output=True, text=True,
                          check=True)
    return {row["url"].rsplit("/", 1)[-1]: row["text"] for row in json.loads(done.stdout)}


def run() -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "pages"
        golds = write(folder, PAGES)
        files = sorted(folder.iterdir())
        for path in files[:len(LAYOUTS)]:  # warm up: imports, tables
            trafilatura.extract(path.read_bytes())
        started = time.perf_counter()
        bare = {path.name: trafilatura.extract(path.read_bytes()) or "" for path in files}
        bare_s = time.perf_counter() - started
        ours_s, ours_mib, done = _peak_rss([GOVREPORTS, "ingest", "--lake",
                                            str(Path(tmp) / "lake"), str(folder)])
        if done.returncode != 0:
            raise RuntimeError(f"ingest failed: {done.stderr[-2000:]}")
        ours = _texts(Path(tmp) / "lake")
    by_layout = {}
    for layout in LAYOUTS:
        names = [n for n in golds if n.startswith(layout + "-")]
        by_layout[layout] = {
            "ours": round(statistics.mean(f1(ours.get(n, ""), golds[n]) for n in names), 4),
            "trafilatura": round(statistics.mean(f1(bare[n], golds[n]) for n in names), 4)}
    mean = {side: round(statistics.mean(v[side] for v in by_layout.values()), 4)
            for side in ("ours", "trafilatura")}
    ratio = bare_s / ours_s
    print(f"layouts: {PAGES} pages of {len(LAYOUTS)} layouts ({len(FALLBACK)} without a known "
          "content container)")
    print(f"  trafilatura.extract {bare_s:6.2f} s   govreports ingest {ours_s:6.2f} s   "
          f"ratio {ratio:.2f} (target >= 3)")
    print(f"  mean char-F1: ours {mean['ours']:.3f}, trafilatura {mean['trafilatura']:.3f}")
    for layout, scores in by_layout.items():
        mark = "*" if layout in FALLBACK else " "
        print(f"   {mark}{layout:<20} F1 ours {scores['ours']:.3f}  trafilatura "
              f"{scores['trafilatura']:.3f}")
    memory: dict[int, dict] = {}
    for count in BATCHES:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "pages"
            write(folder, count)
            wall, mib, done = _peak_rss([GOVREPORTS, "ingest", "--lake",
                                         str(Path(tmp) / "lake"), str(folder)])
            if done.returncode != 0:
                raise RuntimeError(f"ingest of {count} failed: {done.stderr[-2000:]}")
        memory[count] = {"wall_s": round(wall, 1), "peak_pss_mib": round(mib, 1)}
        print(f"  ingest of {count:>6} pages: {wall:6.1f} s, peak PSS {mib:6.1f} MiB")
    small, large = (memory[c]["peak_pss_mib"] for c in BATCHES)
    growth = large / small - 1
    print(f"  peak PSS growth {BATCHES[0]} → {BATCHES[1]}: {growth:+.1%} (target < 20%, "
          "both < 500 MiB)")
    return {"pages": PAGES, "trafilatura_s": round(bare_s, 2), "ingest_s": round(ours_s, 2),
            "ratio": round(ratio, 2), "ingest_peak_pss_mib": round(ours_mib, 1),
            "mean_f1": mean, "f1_by_layout": by_layout, "memory": memory,
            "rss_growth": round(growth, 3)}
