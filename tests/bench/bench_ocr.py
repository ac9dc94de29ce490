"""Scans the project draws itself, read by the pipeline's OCR (pipelines.ocr, RapidOCR) beside
Tesseract 5 ``chi_sim`` (the engine it was measured against; run when ``tesseract`` and its
``chi_sim`` data are installed: ``apt-get install tesseract-ocr tesseract-ocr-chi-sim``).

Four seed reports (the 繁體 mirror left out: both engines read simplified characters), their
first 40 lines on an A4 page in 12 pt, under each condition: clean at 150, 200 and 300 dpi; a
red seal with 1.5° and with −2° of skew; JPEG at quality 40 with scanner grain; a page in two
columns; and a scanned PDF (the 200 dpi seal page inside a PDF with no text layer, read by
the pipeline's PDF path). Per condition: mean character error (edit distance over the drawn
text, NFKC, spaces ignored), the report year, province and agency found against what the text
path finds on the same lines, pages per CPU-second (the process's CPU time: one engine thread),
and the process's peak memory. Then 表三 of the 2021 template (three sets of numbers) drawn
as a Word table prints, ruled and unruled, at 150–300 dpi, with a seal, skew and JPEG: the
share of its cells read right, the cells read wrong, and tables the 勾稽 checks pass.
"""

from __future__ import annotations

import io
import resource
import shutil
import subprocess
import time
import unicodedata

from tests.conftest import SEEDS
from tests.scans import draw_page, image_bytes, page_lines, scanned_pdf

SEEDS_READ = [p for p in sorted(SEEDS.glob("*.txt")) if not p.name.startswith("001")]
CONDITIONS = {
    "clean 150 dpi": {"dpi": 150},
    "clean 200 dpi": {"dpi": 200},
    "clean 300 dpi": {"dpi": 300},
    "seal, 1.5° skew, 200 dpi": {"dpi": 200, "seal": "某某县人民政府办公室", "skew": 1.5},
    "seal, −2° skew, 200 dpi": {"dpi": 200, "seal": "某某县人民政府办公室", "skew": -2.0},
    "JPEG q40 + grain, 200 dpi": {"dpi": 200, "noise": True, "jpeg": 40},
    "two columns, 200 dpi": {"dpi": 200, "columns": 2},
    "scanned PDF, seal, 1.5°, 200 dpi": {"dpi": 200, "seal": "某某县人民政府办公室",
                                          "skew": 1.5, "pdf": True},
}
FIELDS = ("report_year", "province_code", "issuing_agency")
#: A 2021-template 表三 (25 rows of 7 two- to four-digit numbers, consistent) drawn as a Word
#: table prints, alone on a page, ruled and unruled.
TABLE_CONDITIONS = {
    "表三 ruled 150 dpi": {"dpi": 150, "ruled": True},
    "表三 ruled 200 dpi": {"dpi": 200, "ruled": True},
    "表三 ruled 300 dpi": {"dpi": 300, "ruled": True},
    "表三 unruled 200 dpi": {"dpi": 200, "ruled": False},
    "表三 ruled, seal, 1.5° skew, 200 dpi": {"dpi": 200, "ruled": True, "skew": 1.5,
                                             "seal": True},
    "表三 unruled, −2° skew, JPEG q60, 200 dpi": {"dpi": 200, "ruled": False, "skew": -2.0,
                                                 "jpeg": 60},
}
TABLE_SEEDS = (11, 12, 13)


def _plain(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKC", text) if not c.isspace())


def cer(found: str, gold: str) -> float:
    """Character error rate: edit distance over the gold's length (spaces ignored)."""
    a, b = _plain(gold), _plain(found)
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1] / max(1, len(a))


def _lines(text: str, condition: dict) -> list[str]:
    """The drawn lines: 40 of 34 characters, or two columns of 40 lines of 15."""
    if condition.get("columns") == 2:
        return page_lines(text, width=15, lines=80)
    return page_lines(text)


def _scan(lines: list[str], condition: dict) -> bytes:
    options = {k: v for k, v in condition.items()
               if k in ("dpi", "seal", "skew", "noise", "columns")}
    page = draw_page(lines, **options)
    if condition.get("pdf"):
        return scanned_pdf([page], dpi=condition["dpi"])
    if condition.get("jpeg"):
        return image_bytes(page, "JPEG", quality=condition["jpeg"])
    return image_bytes(page)


def _fields(data: bytes, name: str) -> dict:
    """The year, province and agency the pipeline finds in a document's bytes."""
    from pipelines.document import build_report, extract_document
    from pipelines.records import RawDocument, Source

    raw = RawDocument("0" * 64, len(data), Source(url=f"file:///bench/{name}", kind="file",
                                                  fetched_at="", filename=name))
    extracted = extract_document(raw, data)
    row = build_report(raw, extracted)[0].to_row()
    return {"text": extracted.text, **{f: row[f] for f in FIELDS}}


def _tesseract(data: bytes) -> str | None:
    """Tesseract's reading of a page image (seal ink taken out as the pipeline does), or None
    when it is not installed."""
    from PIL import Image

    from pipelines.ocr import _without_seal

    if not shutil.which("tesseract"):
        return None
    out = io.BytesIO()
    _without_seal(Image.open(io.BytesIO(data)).convert("RGB")).save(out, "PNG")
    done = subprocess.run(["tesseract", "stdin", "stdout", "-l", "chi_sim", "--psm", "6"],
                          input=out.getvalue(), capture_output=True, timeout=300)
    return done.stdout.decode("utf-8", "replace") if done.returncode == 0 else None


def run() -> dict:
    from pipelines import ocr

    results: dict[str, dict] = {}
    texts = {seed.name: seed.read_text(encoding="utf-8") for seed in SEEDS_READ}
    ocr._engine()  # loaded before the clock starts: a worker loads it once
    for label, condition in CONDITIONS.items():
        errors, tesseract_errors, agree, cpu, tesseract_wall = [], [], 0, 0.0, 0.0
        gold = {name: _lines(text, condition) for name, text in texts.items()}
        text_path = {name: _fields("\n".join(lines).encode(), name)
                     for name, lines in gold.items()}
        for name, lines in gold.items():
            data = _scan(lines, condition)
            suffix = "pdf" if condition.get("pdf") else "jpg" if condition.get("jpeg") else "png"
            started = time.process_time()
            found = _fields(data, f"scan.{suffix}")
            cpu += time.process_time() - started
            drawn = "\n".join(lines)
            errors.append(cer(found["text"], drawn))
            agree += sum(found[f] == text_path[name][f] for f in FIELDS)
            if not condition.get("pdf"):
                began = time.monotonic()
                read = _tesseract(data)
                tesseract_wall += time.monotonic() - began
                if read is not None:
                    tesseract_errors.append(cer(read, drawn))
        pages = len(gold)
        results[label] = {
            "cer": round(sum(errors) / pages, 4),
            "fields_as_text_path": f"{agree}/{pages * len(FIELDS)}",
            "pages_per_cpu_s": round(pages / cpu, 3),
            "tesseract_cer": round(sum(tesseract_errors) / len(tesseract_errors), 4)
            if tesseract_errors else None,
            "tesseract_s_per_page": round(tesseract_wall / pages, 2) if tesseract_errors
            else None}
        r = results[label]
        print(f"ocr {label:34s}: CER {r['cer']:.2%}; year/province/agency as the text path "
              f"{r['fields_as_text_path']}; {r['pages_per_cpu_s']} pages per CPU-s"
              + (f"; tesseract CER {r['tesseract_cer']:.2%}, {r['tesseract_s_per_page']} s a page"
                 if r["tesseract_cer"] is not None else ""))
    results.update(_tables())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    results["peak_rss_mib"] = round(peak, 1)
    print(f"ocr peak memory (this process, the engine loaded): {peak:.0f} MiB")
    if not shutil.which("tesseract"):
        print("ocr: tesseract is not installed, no side-by-side figures "
              "(apt-get install tesseract-ocr tesseract-ocr-chi-sim)")
    return results


def _table_page(seed: int, condition: dict) -> tuple[bytes, dict]:
    """A 表三 page scanned under a condition, and its cells' values."""
    from PIL import ImageDraw, ImageFont

    from tests.scans import FONT, table3

    draw_page_of, gold = table3(seed)
    dpi = condition["dpi"]
    page = draw_page_of(ruled=condition["ruled"], dpi=dpi)
    if condition.get("seal"):  # over the table's upper right cells, as a stamp lands
        draw = ImageDraw.Draw(page)
        cx, cy, radius = int(page.width * 0.7), int(2.2 * dpi), int(0.8 * dpi)
        draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius),
                     outline=(220, 30, 30), width=max(3, dpi // 40))
        draw.text((cx - radius * 0.8, cy), "某某县人民政府办公室", fill=(220, 30, 30),
                  font=ImageFont.truetype(FONT, int(dpi / 6)))
    if condition.get("skew"):
        page = page.rotate(condition["skew"], fillcolor="white")
    data = image_bytes(page, "JPEG", quality=condition["jpeg"]) if condition.get("jpeg") \
        else image_bytes(page)
    return data, gold


def _tables() -> dict:
    """Per table condition: the share of 表三's cells read right, the cells read wrong (a
    value stored that is not the drawn one), tables the checks call consistent, pages per
    CPU-second."""
    from decimal import Decimal

    from pipelines.extract import extract
    from pipelines.stat_tables import parse

    results = {}
    for label, condition in TABLE_CONDITIONS.items():
        right = wrong = total = consistent = 0
        cpu = 0.0
        for seed in TABLE_SEEDS:
            data, gold = _table_page(seed, condition)
            started = time.process_time()
            text = extract(data, filename="table.png").text
            stats = parse("bench", text)
            cpu += time.process_time() - started
            cells = {(c.row_key, c.column_key): c.value for c in stats.cells if c.table == "三"}
            right += sum(1 for key, value in cells.items() if value == Decimal(gold.get(key, -1)))
            wrong += sum(1 for key, value in cells.items()
                         if value is not None and value != Decimal(gold.get(key, -1)))
            total += len(gold)
            consistent += bool(stats.consistent)
        results[label] = {"cells_right": round(right / total, 4), "cells_wrong": wrong,
                          "consistent": f"{consistent}/{len(TABLE_SEEDS)}",
                          "pages_per_cpu_s": round(len(TABLE_SEEDS) / cpu, 3)}
        r = results[label]
        print(f"ocr {label:40s}: cells right {r['cells_right']:.1%}, wrong {wrong} of {total}; "
              f"consistent {r['consistent']}; {r['pages_per_cpu_s']} pages per CPU-s")
    return results


if __name__ == "__main__":
    run()
