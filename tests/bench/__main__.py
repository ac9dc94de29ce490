"""Run every benchmark: ``python -m tests.bench [--json PATH]``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tests.bench import bench_crawl, bench_encoding, bench_layouts, bench_ocr, bench_text

BENCHES = {"encoding": bench_encoding.run, "text": bench_text.run,
           "layouts": bench_layouts.run, "crawl": bench_crawl.run, "ocr": bench_ocr.run}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--only", choices=sorted(BENCHES), action="append")
    parser.add_argument("--runs", type=int, default=bench_layouts.RUNS,
                        help="runs of each side-by-side figure of the layouts benchmark")
    args = parser.parse_args()
    bench_layouts.RUNS = args.runs
    results = {name: bench() for name, bench in BENCHES.items()
               if not args.only or name in args.only}
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
