"""Recall and precision of the metadata a report gets, on the metadata goldens
(``tests/golden/metadata/cases.yaml``, ``holdout.yaml``, ``holdout_messy.yaml``: texts written
for the tests, each with what it states).

    python -m tests.golden.metadata.recall

A value is *right* when it equals what the text states, *wrong* when it differs (a wrong value
is worse than NULL: precision must stay 1.0), *missed* when the text states one and the record
holds NULL. Cases whose expectation is null count a value there as wrong.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import yaml

#: The goldens written with the code (cases.yaml) and those written apart from it (holdout*.yaml:
#: by helpers that saw neither the code nor cases.yaml, measured before the fixes they led to).
FILES = tuple(Path(__file__).with_name(name) for name in (
    "cases.yaml", "holdout.yaml", "holdout_messy.yaml"))
#: The fields measured, as the reports table names them.
FIELDS = ("report_year", "province_code", "city_code", "county_code", "issuing_agency")


def load_cases(files=FILES) -> list[dict]:
    return [case for path in files for case in yaml.safe_load(path.read_text(encoding="utf-8"))]


def report_of(case: dict):
    """The record of a golden text, ingested as a plain-text file (no portal, no region)."""
    return ingested_report(case["text"].encode(case.get("encoding", "utf-8")),
                           f"file:///golden/{case['id']}.txt")


def ingested_report(data: bytes, url: str):
    """The record of a plain-text file's bytes as ``ingest`` makes it (no portal, no region)."""
    from pipelines.document import build_report, extract_document
    from pipelines.records import RawDocument, Source

    source = Source(url=url, kind="file", fetched_at="", filename=url.rsplit("/", 1)[-1])
    raw = RawDocument("0" * 64, len(data), source)
    report, _ = build_report(raw, extract_document(raw, data))
    return report


def found(report) -> dict:
    row = report.to_row()
    return {name: row[name] for name in FIELDS}


def judge(case: dict, values: dict, fields=FIELDS) -> dict[str, str]:
    """Field → right | wrong | missed | null (stated nothing, stored nothing)."""
    return {name: verdict(case["expect"].get(name), values[name]) for name in fields}


def verdict(expected, got) -> str:
    """right | wrong | missed | null. ``expected`` is one value or a list of the acceptable
    ones; None (or None in the list) means NULL is acceptable."""
    accepted = expected if isinstance(expected, list) else [expected]
    if got is not None and str(got) in {str(v) for v in accepted if v is not None}:
        return "right"
    if got is not None:
        return "wrong"
    return "null" if None in accepted else "missed"


def measure(files=FILES) -> dict[str, Counter]:
    totals = {name: Counter() for name in FIELDS}
    for case in load_cases(files):
        for name, outcome in judge(case, found(report_of(case))).items():
            totals[name][outcome] += 1
    return totals


def main() -> None:
    for files in ([path] for path in FILES):
        _print(files)
    _print(FILES)


def _print(files) -> None:
    print_totals(f"{' + '.join(p.name for p in files)}: {len(load_cases(files))} texts",
                 measure(files))


def recall(counts: Counter) -> float:
    """right / stated (right + missed); 1.0 when nothing was stated."""
    stated = counts["right"] + counts["missed"]
    return counts["right"] / stated if stated else 1.0


def print_totals(heading: str, totals: dict[str, Counter]) -> None:
    print(heading)
    for name, c in totals.items():
        given = c["right"] + c["wrong"]
        precision = c["right"] / given if given else 1.0
        print(f"  {name:15s} recall {recall(c):6.1%} ({c['right']}/{c['right'] + c['missed']})"
              f"  precision {precision:6.1%}  wrong {c['wrong']}  missed {c['missed']}")


if __name__ == "__main__":
    main()
