"""Text of page images by OCR: scanned PDF pages with no usable text layer, and image files.

The engine is RapidOCR (PP-OCR's detection, orientation and recognition models on ONNX
Runtime, CPU only). Its models ship inside the ``rapidocr-onnxruntime`` wheel, so it runs
offline. It was chosen by measurement over Tesseract 5 ``chi_sim`` (Debian's), on seed
reports the project draws (``make bench``, "ocr"; seal ink taken out for both): with a red
seal and 1.5° or −2° of skew at 200 dpi, mean character error 1.1 % and 0.5 % against 1.0 %
and 3.1 %; a page in two columns 0.2 % against 86 % (Tesseract reads across the columns);
clean pages 1.7 % against 0.8 %. It needs about 1.2 GiB of memory where Tesseract needs 130
MiB, at about 5 s of CPU a page for both.

The engine loads on the first page a worker process meets (about 0.5 s and 300 MiB): a run of
text documents never pays for it. Seal ink is taken out before the engine reads a page (a red
seal's lettering over a title or a signature is not text of the report). The lines are put
back together from the boxes the engine returns: boxes whose vertical middles lie within half
a line of each other are one line, left to right, and a gap wider than about two characters
between two of them is a cell boundary (a tab), so that a statistics table drawn in a scan
reads as its rows (:mod:`pipelines.stat_tables` takes tab-separated cells). A page set in two
columns is read column by column.

Each page has a time budget (``GOVREPORTS_OCR_PAGE_SECONDS``): a scan that overruns it is a
``too_slow`` reject that says how many pages were read.
"""

from __future__ import annotations

import functools
import io
import re
import time
from dataclasses import dataclass, field

from pipelines.errors import DocumentRejected
from pipelines.settings import current

ENGINE = "rapidocr-onnxruntime"
#: Pages are drawn at this resolution for the engine (its models read 150–300 dpi alike; 200
#: is the measured compromise of error and time).
DPI = 200
#: A PDF page whose text layer holds fewer characters than this per square inch of its area
#: (a text page holds 5–10) is read by OCR, when it has an image to read.
MIN_CHARS_PER_SQUARE_INCH = 0.5
#: A page whose mean line confidence is below this is flagged as low-confidence.
LOW_CONFIDENCE = 0.8
#: The largest image read, in pixels (a 600 dpi A3 scan is 70 million): beyond it, too_large.
MAX_PIXELS = 80_000_000
#: What the image readers are given a file as (by its first bytes).
IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"II*\x00",
               b"MM\x00*")


@dataclass
class OcrRun:
    """What OCR did for one document: the engine and its version, the pages it read, their
    mean confidence, and the pages (1-based) read with low confidence."""

    engine: str
    version: str
    pages: int = 0
    confidences: list[float] = field(default_factory=list)
    low_pages: list[int] = field(default_factory=list)

    @property
    def confidence(self) -> float | None:
        return sum(self.confidences) / len(self.confidences) if self.confidences else None

    def add(self, other: OcrRun | None) -> None:
        """Another document's OCR (a page's attachments), counted with this one's."""
        if other is None:
            return
        self.low_pages += [self.pages + page for page in other.low_pages]
        self.pages += other.pages
        self.confidences += other.confidences


def is_image(data: bytes) -> bool:
    """Whether bytes are a page image, by their first bytes (a BMP's two-letter mark only with
    the zeros its header holds after its size: "BM" may start a text)."""
    return data.startswith(IMAGE_MAGIC) or (
        data.startswith(b"BM") and len(data) > 26 and data[6:10] == b"\0\0\0\0")


#: A PDF's page objects, as its bytes name them (/Type /Page, not /Pages).
_PDF_PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")
#: Pages a budget counts at most (a PDF that names more is cut off by the in-worker budget).
MAX_PAGES_HINT = 1000


def pages_hint(data: bytes) -> int:
    """How many pages OCR may have to read in a document, judged from its bytes without parsing
    them (the caller's process must not open a hostile file): a PDF's page objects, 1 for an
    image, 0 for anything else."""
    if data.startswith(b"%PDF-"):
        return min(MAX_PAGES_HINT, sum(1 for _ in _PDF_PAGE.finditer(data)))
    return 1 if is_image(data) else 0


@functools.cache
def _engine():
    """The engine, loaded once per process (a worker that meets no scan never loads it)."""
    try:
        from rapidocr_onnxruntime import RapidOCR
    except ImportError as exc:  # pragma: no cover - an install without the engine
        raise DocumentRejected(
            "unsupported", "OCR is not installed: pip install rapidocr-onnxruntime "
            "(make install does)", stage="extract") from exc
    # One thread per model: the pool already runs a worker per core (ONNX Runtime's default, a
    # thread per core in every worker, left each page slower under a full pool).
    return RapidOCR(**{f"{model}{op}_op_num_threads": 1 for model in ("", "det_", "cls_", "rec_")
                       for op in ("intra", "inter")})


@functools.cache
def engine_version() -> str:
    from importlib.metadata import version

    return version(ENGINE)


class _Budget:
    """The time a document's pages may take: ``GOVREPORTS_OCR_PAGE_SECONDS`` a page."""

    def __init__(self, pages: int):
        self.pages = pages
        self.started = time.monotonic()
        self.each = current().ocr_page_seconds

    def check(self, done: int) -> None:
        """After ``done`` pages (of ``pages``): a reject when they took more than their share."""
        if time.monotonic() - self.started > self.each * done:
            raise DocumentRejected(
                "too_slow", f"OCR read {done} of {self.pages} page(s) in more than "
                f"{self.each:g} s a page (GOVREPORTS_OCR_PAGE_SECONDS); the document is kept "
                "in raw/", stage="extract")


def read_image(data: bytes) -> tuple[str, OcrRun]:
    """The text of an image file (every frame of a multi-page TIFF or GIF)."""
    from PIL import Image, ImageSequence, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # a decompression bomb raises, never allocates
    try:
        image = Image.open(io.BytesIO(data))
        frames = [frame.convert("RGB") for frame in ImageSequence.Iterator(image)]
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise DocumentRejected("corrupt_image", f"the image cannot be read: {exc}",
                               stage="extract") from exc
    except Image.DecompressionBombError as exc:
        raise DocumentRejected("too_large", f"the image is too large to read: {exc}",
                               stage="extract") from exc
    run = OcrRun(ENGINE, engine_version())
    budget = _Budget(len(frames))
    pages = []
    for frame in frames:
        pages.append(_read_page(frame, run))
        budget.check(run.pages)
    return "\n".join(pages), run


def read_pdf_pages(pdf) -> tuple[list[str], OcrRun | None]:
    """Each page's text of an open PDF (pypdfium2): its text layer, or, for a page whose layer
    is too thin for its area and that holds an image, what OCR reads of it drawn at
    :data:`DPI`. The run is None when no page needed OCR."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    texts: list[str] = []
    scanned: list[int] = []
    for index, page in enumerate(pdf):
        textpage = page.get_textpage()
        text = textpage.get_text_range()
        textpage.close()
        width, height = page.get_size()  # points
        area = width * height / 72 / 72
        if len(re.sub(r"\s", "", text)) < MIN_CHARS_PER_SQUARE_INCH * area and any(
                True for _ in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=2)):
            scanned.append(index)
        texts.append(text)
        page.close()
    if not scanned:
        return texts, None
    run = OcrRun(ENGINE, engine_version())
    budget = _Budget(len(scanned))
    for index in scanned:
        page = pdf[index]
        try:
            bitmap = page.render(scale=DPI / 72)
            image = bitmap.to_pil().convert("RGB")
        except pdfium.PdfiumError as exc:
            raise DocumentRejected("corrupt_pdf", f"page {index + 1} cannot be drawn: {exc}",
                                   stage="extract") from exc
        finally:
            page.close()
        if image.width * image.height > MAX_PIXELS:
            raise DocumentRejected("too_large", f"page {index + 1} is too large to read",
                                   stage="extract")
        read = _read_page(image, run)
        texts[index] = read if len(read) > len(texts[index].strip()) else texts[index]
        budget.check(run.pages)
    return texts, run


def _read_page(image, run: OcrRun) -> str:
    """One page's text, its confidence counted in ``run``."""
    import numpy as np

    found, _elapsed = _engine()(np.asarray(_without_seal(image)))
    run.pages += 1
    lines = _lines(found or [])
    scores = [score for _box, _text, score in found or []]
    confidence = sum(scores) / len(scores) if scores else 0.0
    run.confidences.append(confidence)
    if confidence < LOW_CONFIDENCE:
        run.low_pages.append(run.pages)
    return "\n".join(lines)


def _without_seal(image):
    """The page with seal ink taken out: a pixel redder than it is green or blue (a red seal, a
    red stamp) becomes paper."""
    import numpy as np
    from PIL import Image

    pixels = np.asarray(image).astype(np.int16)
    redness = pixels[..., 0] - np.maximum(pixels[..., 1], pixels[..., 2])
    if not (redness > 60).any():
        return image
    # The ink, and the faint pink rim that smoothing and JPEG leave around its strokes (the
    # engine reads a word's outline as well as the word); black text has no redness at all.
    pixels[redness > 15] = 255
    return Image.fromarray(pixels.astype(np.uint8))


def _lines(found: list) -> list[str]:
    """The engine's boxes (``[corners, text, score]``) as lines: boxes whose vertical middles lie
    within half a line are one line, left to right; a gap of more than two characters' width
    between two boxes is a cell boundary (a tab)."""
    boxes = []
    for corners, text, _score in found:
        xs = [point[0] for point in corners]
        ys = [point[1] for point in corners]
        height = max(ys) - min(ys)
        boxes.append((min(xs), max(xs), (min(ys) + max(ys)) / 2, height, text))
    boxes.sort(key=lambda box: (box[2], box[0]))
    rows: list[list[tuple]] = []
    for box in boxes:
        row = rows[-1] if rows else None
        if row is not None and abs(box[2] - row[0][2]) <= max(row[0][3], box[3]) / 2:
            row.append(box)
        else:
            rows.append([box])
    for row in rows:
        row.sort(key=lambda box: box[0])
    gutter = _gutter(rows)
    if gutter is not None:  # a page set in two columns: the left one, then the right one
        return [line for side in (lambda b: b[1] <= gutter, lambda b: b[0] >= gutter)
                for line in _joined([[b for b in row if side(b)] for row in rows])]
    return _joined(rows)


def _joined(rows: list[list[tuple]]) -> list[str]:
    """Each row's boxes as a line; a gap of more than two characters' width is a tab."""
    lines = []
    for row in rows:
        if not row:
            continue
        line = row[0][4]
        for before, box in zip(row, row[1:], strict=False):
            char = max(1.0, (before[1] - before[0]) / max(1, len(before[4])))
            line += "\t" if box[0] - before[1] > 2 * char else ""
            line += box[4]
        lines.append(line)
    return lines


def _gutter(rows: list[list[tuple]]) -> float | None:
    """Where a page set in two columns divides, or None: most of its rows are two boxes whose
    typical width is running text's (a quarter of the text's width or more on both sides,
    unlike a table's label and numbers), and no box crosses the line between them."""
    boxes = [box for row in rows for box in row]
    if len(rows) < 6 or not boxes:
        return None
    span = max(b[1] for b in boxes) - min(b[0] for b in boxes)
    pairs = [row for row in rows if len(row) == 2]
    if len(pairs) < 0.6 * len(rows):
        return None
    for side in (0, 1):
        widths = sorted(row[side][1] - row[side][0] for row in pairs)
        if widths[len(widths) // 2] < span / 4:
            return None
    ends = sorted(row[0][1] for row in pairs)
    starts = sorted(row[1][0] for row in pairs)
    middle = (ends[len(ends) // 2] + starts[len(starts) // 2]) / 2
    if any(b[0] < middle < b[1] for b in boxes):
        return None
    return middle
