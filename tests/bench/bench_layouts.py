"""``govreports ingest`` beside bare ``trafilatura.extract`` on the same pages, and beside the
previous release (:mod:`tests.bench.sides`), in one run, :data:`RUNS` times: start-up, speed
on varied layouts, text F1, and peak memory at two batch sizes.

- **Start-up**: a one-file ingest against ``python -c "import pyarrow, trafilatura, duckdb"``,
  each the median of :data:`REPEATS` alternating runs. Target: at most 2×.
- **Layouts**: 400 pages of the layouts of :mod:`tests.bench.layouts` (written apart from the
  extraction code; several with no content container the extractor knows). The ratio is bare
  trafilatura's time (one process, extraction only, after a warm-up) over the whole ingest
  command's wall time: start-up, decode, repair, extraction, metadata, statistics, the lake's
  writes and the Parquet load, on the machine's cores. Target ≥ 3 at equal or better F1. The
  cost per page without start-up is the 400-page wall minus the one-file wall, over 399.
- **Real pages**: 400 copies of the saved portal pages of ``tests/realpages`` (no gold text:
  speed only), the same way.
- **Memory**: the peaks of the command's process tree at 1,000 and 10,000 pages, as PSS
  (pages shared between processes counted once) and as summed RSS, sampled every 20 ms.
  Target: under 500 MB, and the larger batch within 1.2× of the smaller.

Every figure is printed as the median of the runs with its spread (min–max).
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import trafilatura

from tests.bench.bench_text import f1
from tests.bench.layouts import FALLBACK, LAYOUTS, write
from tests.bench.sides import Side, measure, previous_release, this_tree

PAGES = 400
BATCHES = (1_000, 10_000)
RUNS = 3
REPEATS = 5
IMPORTS = [sys.executable, "-c", "import pyarrow, trafilatura, duckdb"]


def _ingest(side: Side, folder: Path, lake: Path, *, sample_memory: bool = False):
    done = measure(side.command("ingest", "--lake", str(lake), str(folder)), side.env,
                   sample_memory=sample_memory, cwd=side.cwd)
    if done.returncode != 0:
        raise RuntimeError(f"{side.name}: ingest of {folder} failed: {done.stderr[-2000:]}")
    return done


def _texts(lake: Path) -> dict[str, str]:
    done = measure(this_tree().command("query", "--lake", str(lake), "--format", "json",
                                       "select url, text from reports"), sample_memory=False)
    return {row["url"].rsplit("/", 1)[-1]: row["text"] for row in json.loads(done.stdout)}


def _startup(sides: list[Side], one_file: Path, tmp: Path) -> dict[str, float]:
    """Median wall of ``python -c "import pyarrow, trafilatura, duckdb"`` and of each side's
    one-file ingest (into a new lake each time), in alternating runs."""
    walls: dict[str, list[float]] = {"imports": [], **{s.name: [] for s in sides}}
    for n in range(REPEATS):
        walls["imports"].append(measure(IMPORTS, sample_memory=False).wall_s)
        for side in sides:
            walls[side.name].append(
                _ingest(side, one_file, tmp / f"one-{side.name}-{n}".replace(" ", "_")).wall_s)
    return {name: statistics.median(values) for name, values in walls.items()}


def _bare(folder: Path, *, warm: int) -> tuple[float, dict[str, str]]:
    """Bare ``trafilatura.extract`` over the folder's files in this process, after ``warm``
    of them (imports, tables): seconds, and each file's text by name."""
    files = sorted(folder.iterdir())
    for path in files[:warm]:
        trafilatura.extract(path.read_bytes())
    started = time.perf_counter()
    texts = {path.name: trafilatura.extract(path.read_bytes()) or "" for path in files}
    return time.perf_counter() - started, texts


def _one_run(sides: list[Side], folder: Path, golds: dict[str, str], one_file: Path,
             tmp: Path, run: int) -> dict:
    figures: dict = {}
    start = _startup(sides, one_file, tmp / f"run{run}")
    figures["imports_s"] = {"": start["imports"]}
    bare_s, bare = _bare(folder, warm=len(LAYOUTS))
    figures["trafilatura_s"] = {"": bare_s}
    for side in sides:
        lake = tmp / f"run{run}-{side.name}".replace(" ", "_")
        wall = _ingest(side, folder, lake).wall_s
        texts = _texts(lake)
        one = start[side.name]
        figures.setdefault("one_file_s", {})[side.name] = one
        figures.setdefault("startup_ratio", {})[side.name] = one / start["imports"]
        figures.setdefault("ingest_s", {})[side.name] = wall
        figures.setdefault("ratio", {})[side.name] = bare_s / wall
        figures.setdefault("ms_per_page", {})[side.name] = (wall - one) / (PAGES - 1) * 1000
        by_layout = {layout: statistics.mean(f1(texts.get(n, ""), golds[n]) for n in golds
                                             if n.startswith(layout + "-"))
                     for layout in LAYOUTS}
        figures.setdefault("f1", {})[side.name] = statistics.mean(by_layout.values())
        figures.setdefault("f1_by_layout", {})[side.name] = by_layout
    figures["ms_per_page"]["trafilatura"] = bare_s / PAGES * 1000
    figures["f1"]["trafilatura"] = statistics.mean(
        statistics.mean(f1(bare[n], golds[n]) for n in golds if n.startswith(layout + "-"))
        for layout in LAYOUTS)
    return figures


#: Where the time of the per-document work goes: cProfile's own time per area.
AREAS = (("trafilatura", ("/trafilatura/", "/justext/", "/courlan/", "/htmldate/")),
         ("lxml", ("lxml",)), ("regular expressions", ("re.Pattern", "/re/", "'re.", "_sre")),
         ("pyarrow", ("pyarrow",)), ("opencc", ("opencc",)), ("chardet", ("chardet",)))


def _area(where: tuple[str, int, str]) -> str:
    filename, _line, function = where
    text = f"{filename} {function}"
    if "/pipelines/" in filename:
        return "pipelines/" + filename.split("/pipelines/", 1)[1].removesuffix(".py")
    for area, needles in AREAS:
        if any(needle in text for needle in needles):
            return area
    return "other (stdlib, builtins)"


def _profile(folder: Path) -> dict[str, float]:
    """The per-document work of the 400 pages (what the workers run: decode, extraction,
    repair, metadata, statistics, the record's Arrow check) in this process under cProfile:
    seconds of own time per area, largest first."""
    import cProfile
    import hashlib
    import pstats

    from pipelines.process import extract_or_build
    from pipelines.records import RawDocument, Source

    docs = []
    for path in sorted(folder.iterdir()):
        data = path.read_bytes()
        source = Source(url=path.as_uri(), kind="file", fetched_at="2026-01-01T00:00:00",
                        filename=path.name)
        docs.append((RawDocument(hashlib.sha256(data).hexdigest(), len(data), source), data))
    extract_or_build(*docs[0])  # warm: tables, compiled patterns
    profile = cProfile.Profile()
    profile.enable()
    for raw, data in docs:
        extract_or_build(raw, data)
    profile.disable()
    areas: dict[str, float] = {}
    for where, (_calls, _prim, own, _cum, _callers) in pstats.Stats(profile).stats.items():
        area = _area(where)
        areas[area] = areas.get(area, 0.0) + own
    return dict(sorted(areas.items(), key=lambda kv: -kv[1]))


REAL_PAGES = Path(__file__).parent.parent / "realpages" / "pages"


def _real_pages(folder: Path) -> list[Path]:
    """400 copies of the real saved portal pages of ``tests/realpages`` (layouts no one here
    wrote), each made distinct by a trailing comment so that each is stored and read."""
    folder.mkdir(parents=True, exist_ok=True)
    pages = sorted(REAL_PAGES.glob("*.html"))
    for n in range(PAGES):
        page = pages[n % len(pages)]
        (folder / f"{n:04d}-{page.name}").write_bytes(
            page.read_bytes() + f"<!-- copy {n} -->".encode())
    return sorted(folder.iterdir())


def _real_run(sides: list[Side], folder: Path, tmp: Path, run: int) -> dict:
    """The real pages: whole ingest against bare trafilatura (no gold text: speed only)."""
    figures: dict = {"real_trafilatura_s": {"": _bare(folder, warm=25)[0]}}
    for side in sides:
        lake = tmp / f"real{run}-{side.name}".replace(" ", "_")
        wall = _ingest(side, folder, lake).wall_s
        figures.setdefault("real_ingest_s", {})[side.name] = wall
        figures.setdefault("real_ratio", {})[side.name] = \
            figures["real_trafilatura_s"][""] / wall
    return figures


def _memory(sides: list[Side], tmp: Path, run: int) -> dict:
    figures: dict = {}
    for count in BATCHES:
        folder = tmp / f"pages-{count}"
        if not folder.exists():
            write(folder, count)
        for side in sides:
            lake = tmp / f"mem{run}-{count}-{side.name}".replace(" ", "_")
            done = _ingest(side, folder, lake, sample_memory=True)
            figures.setdefault(f"wall_{count}_s", {})[side.name] = done.wall_s
            figures.setdefault(f"pss_{count}_mib", {})[side.name] = done.peak_pss_mib
            figures.setdefault(f"rss_{count}_mib", {})[side.name] = done.peak_rss_mib
    small, large = BATCHES
    for side in sides:
        for kind in ("pss", "rss"):
            peak = {count: figures[f"{kind}_{count}_mib"][side.name] for count in BATCHES}
            figures.setdefault(f"{kind}_growth", {})[side.name] = peak[large] / peak[small]
    return figures


TARGETS = {"startup_ratio": "<= 2", "ratio": ">= 3", "f1": ">= trafilatura's",
           "real_ratio": ">= 3",
           "pss_growth": "<= 1.2", "rss_growth": "<= 1.2",
           f"pss_{BATCHES[1]}_mib": "< 500"}
FORMATS = {"imports_s": "{:.2f} s", "one_file_s": "{:.2f} s", "startup_ratio": "{:.2f}×",
           "trafilatura_s": "{:.2f} s", "ingest_s": "{:.2f} s", "ratio": "{:.2f}×",
           "ms_per_page": "{:.2f} ms", "f1": "{:.3f}", "real_trafilatura_s": "{:.2f} s",
           "real_ingest_s": "{:.2f} s", "real_ratio": "{:.2f}×"}


def _fmt(name: str, values: list[float]) -> str:
    form = FORMATS.get(name) or ("{:.2f}×" if "growth" in name else
                                 "{:.0f} MiB" if name.endswith("mib") else "{:.1f} s")
    middle = form.format(statistics.median(values))
    if len(values) == 1:
        return middle
    return f"{middle} ({form.format(min(values))}–{form.format(max(values))})"


def _table(runs: list[dict], columns: list[str]) -> dict:
    """Print each figure's median (spread) per side; return the medians."""
    medians: dict = {}
    width = 30
    print("  " + " " * 22 + "".join(f"{c:<{width}}" for c in columns) + "target")
    for name in runs[0]:
        if name == "f1_by_layout":
            continue
        cells = []
        for column in columns:
            values = [run[name][column] for run in runs if column in run[name]]
            if not values and "" in runs[0][name] and column == columns[0]:
                values = [run[name][""] for run in runs]
            cells.append(_fmt(name, values) if values else "")
            if values:
                medians.setdefault(name, {})[column or "all"] = round(
                    statistics.median(values), 4)
        print(f"  {name:<22}" + "".join(f"{c:<{width}}" for c in cells) + TARGETS.get(name, ""))
    return medians


def run() -> dict:
    sides = [this_tree()]
    baseline = previous_release()
    if baseline is not None:
        sides.append(baseline)
    columns = [s.name for s in sides]
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        folder = tmp / "pages"
        golds = write(folder, PAGES)
        one_file = tmp / "one" / sorted(golds)[0]
        one_file.parent.mkdir()
        one_file.write_bytes((folder / one_file.name).read_bytes())
        speed = [_one_run(sides, folder, golds, one_file, tmp, n) for n in range(RUNS)]
        print(f"layouts: {PAGES} pages of {len(LAYOUTS)} layouts ({len(FALLBACK)} without a "
              f"known content container), {RUNS} runs side by side: median (min–max)")
        medians = _table(speed, [*columns, "trafilatura"])
        real = tmp / "real"
        _real_pages(real)
        realruns = [_real_run(sides, real, tmp, n) for n in range(RUNS)]
        print(f"real pages: {PAGES} copies of the {len(list(REAL_PAGES.glob('*.html')))} saved "
              "portal pages of tests/realpages (speed only: no gold text)")
        medians.update(_table(realruns, columns))
        profile = _profile(folder)
        total = sum(profile.values())
        print(f"profile: the per-document work of the {PAGES} pages in one process under "
              f"cProfile ({total:.2f} s with the profiler's overhead), own time by area:")
        for area, seconds in list(profile.items())[:12]:
            print(f"  {area:<30} {seconds:6.2f} s  {seconds / total:6.1%}")
        memory = [_memory(sides, tmp, n) for n in range(RUNS)]
        print(f"memory: ingest of {BATCHES[0]} and {BATCHES[1]} pages, peaks of the process "
              f"tree, {RUNS} runs")
        medians.update(_table(memory, columns))
    by_layout = {side: {layout: round(statistics.median(r["f1_by_layout"][side][layout]
                                                        for r in speed), 4)
                        for layout in LAYOUTS} for side in columns}
    for layout in LAYOUTS:
        mark = "*" if layout in FALLBACK else " "
        print(f"   {mark}{layout:<20} F1 " + "  ".join(
            f"{side} {by_layout[side][layout]:.3f}" for side in columns))
    return {"pages": PAGES, "runs": RUNS, "sides": columns, "medians": medians,
            "f1_by_layout": by_layout, "profile_s": {k: round(v, 3) for k, v in profile.items()},
            "speed_runs": speed, "real_runs": realruns, "memory_runs": memory}
