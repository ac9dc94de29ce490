"""Text of page images by OCR: scanned PDF pages with no usable text layer, and image files.

The engine is RapidOCR (PP-OCR's detection, orientation and recognition models, CPU only),
its models run by OpenVINO. The models and the steps around them ship inside the
``rapidocr-onnxruntime`` wheel, so it runs offline. It was chosen by measurement over Tesseract
5 ``chi_sim`` (Debian's), on seed reports the project draws (``make bench``, "ocr"; seal ink
taken out for both): with a red seal and 1.5° or −2° of skew at 200 dpi, mean character error
1.9 % and 0.2 % against 1.0 % and 3.1 %; a page in two columns 0.1 % against 86 % (Tesseract
reads across the columns); clean pages 0.9 % against 0.8 %. On ONNX Runtime, the wheel's own
runtime, a page took about 5 s of CPU (as Tesseract does); OpenVINO runs the same models in
1.3–1.6 s (0.6–0.8 pages per CPU-second in the benchmark), their character error within a
point of ONNX Runtime's on every drawn condition.

OpenVINO compiles kernels for each input shape it meets and keeps them: a worker reading pages
of many sizes grew by about 30 MiB a page (2.1 GiB resident after 40 sizes). With that cache
off (``CPU_RUNTIME_CACHE_CAPACITY`` 0) a worker stayed at 1.2 GiB resident and 3.4 GiB of
address space over 100 page sizes, about a fifth slower. Its threads reserve address space they
never use, so a worker that loads the engine may map ``GOVREPORTS_OCR_MEMORY_MB`` more.

The engine loads on the first page a worker process meets (0.8 s and 260 MiB here): a run of text
documents never pays for it. Seal ink is taken out before the engine reads a page (a red
seal's lettering over a title or a signature is not text of the report), and so are a ruled
table's lines. The lines are put back together from the boxes the engine returns, on the page
turned straight: boxes whose vertical middles lie
within half a line of each other are one line, left to right, and a gap wider than about two
characters between two of them is a cell boundary (a tab). A table is read by position: each
row of numbers is a row, and the lines of the labels wrapped in their cells beside it are its
first cells, so that a statistics table drawn in a scan reads as its rows do in HTML
(:mod:`pipelines.stat_tables` takes tab-separated cells). A page set in two columns is read
column by column.

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

#: The engine as the ``ocr_engine`` column names it: RapidOCR's models and steps, run by OpenVINO.
ENGINE = "rapidocr+openvino"
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
        import openvino  # noqa: F401 - checked here, so that a missing one is one message
        from rapidocr_onnxruntime import RapidOCR
    except ImportError as exc:  # pragma: no cover - an install without the engine
        raise DocumentRejected(
            "unsupported", "OCR is not installed: pip install 'rapidocr-onnxruntime>=1.4,<1.5' "
            "'openvino>=2026.4,<2027' (make install does)", stage="extract") from exc
    _allow_engine_memory()
    # One thread per model: the pool already runs a worker per core.
    engine = RapidOCR(**{f"{model}{op}_op_num_threads": 1 for model in ("", "det_", "cls_", "rec_")
                         for op in ("intra", "inter")})
    models = _model_paths()
    # RapidOCR keeps each model's session in an attribute it calls with a batch and indexes
    # the outputs of; the OpenVINO models take their places.
    engine.text_det.infer = _OpenVinoModel(models["Det"])
    engine.text_cls.infer = _OpenVinoModel(models["Cls"])
    engine.text_rec.session = _OpenVinoModel(models["Rec"])
    return engine


def _model_paths() -> dict[str, str]:
    """The paths of the models inside the wheel, as RapidOCR's own configuration names them."""
    from rapidocr_onnxruntime.main import DEFAULT_CFG_PATH
    from rapidocr_onnxruntime.utils import read_yaml, update_model_path

    config = update_model_path(read_yaml(DEFAULT_CFG_PATH))
    return {part: config[part]["model_path"] for part in ("Det", "Cls", "Rec")}


class _OpenVinoModel:
    """One ONNX model compiled by OpenVINO for the CPU, on one thread, with its cache of
    shape-specific kernels off (see the module docstring)."""

    def __init__(self, path: str):
        import openvino

        core = openvino.Core()
        compiled = core.compile_model(core.read_model(path), "CPU", {
            "INFERENCE_NUM_THREADS": 1, "CPU_RUNTIME_CACHE_CAPACITY": 0})
        self._request = compiled.create_infer_request()

    def __call__(self, batch):
        self._request.infer([batch])
        # The output tensor is the request's own memory, overwritten by its next run.
        return [self._request.get_output_tensor().data.copy()]


def _allow_engine_memory() -> None:
    """Let this process map ``GOVREPORTS_OCR_MEMORY_MB`` more address space than its bound (a
    worker's, set when it started), for the engine."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY:
        return
    more = soft + current().ocr_memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (more if hard == resource.RLIM_INFINITY
                                            else min(more, hard), hard))


@functools.cache
def engine_version() -> str:
    """RapidOCR's version and OpenVINO's (``1.4.4+openvino-2026.4.1``)."""
    from importlib.metadata import version

    return f"{version('rapidocr-onnxruntime')}+openvino-{version('openvino')}"


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

    found, _elapsed = _engine()(_without_rules(np.asarray(_without_seal(image))))
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


#: A dark run this long (a share of the page's shorter side) is a table's rule, not a stroke:
#: a character is a thirtieth of an A4 page's width or less.
RULE_SHARE = 1 / 20


def _without_rules(pixels):
    """The page with a ruled table's lines taken out: dark runs, across or down, longer than
    :data:`RULE_SHARE` of the page (OpenCV's morphological opening, which the engine's
    package brings) become paper. The engine reads a cell's border beside a lone digit as part
    of it (6 for 9, 88 for 38); on pages without rules nothing changes."""
    import cv2
    import numpy as np

    gray = cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY) if pixels.ndim == 3 else pixels
    dark = (gray < 140).astype(np.uint8)
    length = max(40, int(min(dark.shape) * RULE_SHARE))
    rules = cv2.morphologyEx(dark, cv2.MORPH_OPEN, np.ones((1, length), np.uint8)) | \
        cv2.morphologyEx(dark, cv2.MORPH_OPEN, np.ones((length, 1), np.uint8))
    if not rules.any():
        return pixels
    cleaned = pixels.copy()
    cleaned[rules.astype(bool)] = 255
    return cleaned


@dataclass(frozen=True)
class _Box:
    """One box the engine read: its horizontal extent, vertical middle and height (on the
    page turned straight), and its text."""

    left: float
    right: float
    middle: float
    height: float
    text: str


#: A table's value as a box of its own: a number (with its unit), a dash or a slash.
_VALUE = re.compile(r"^[+-]?\d+(?:[.,]\d+)?(?:万元|元|件|条|个|次|人次|人|项|%)?$|^[-—/／]{1,2}$")


def _lines(found: list) -> list[str]:
    """The engine's boxes (``[corners, text, score]``) as lines, in reading order.

    Boxes whose vertical middles lie within half a line are one line, left to right; a gap of
    more than two characters' width between two boxes is a cell boundary (a tab). A table is
    read by its values: each row of value boxes is a row of the table, and the labels whose
    lines wrap within a cell beside it (a cell's lines, a span's label) are its first cells,
    so that a statistics table drawn in a scan reads as its rows do in HTML. A page set in two
    columns is read column by column."""
    boxes = _straightened(found)
    table_rows = _value_rows([box for box in boxes if _VALUE.match(box.text.strip())])
    in_rows = {id(box) for row in table_rows for box in row}
    rest = [box for box in boxes if id(box) not in in_rows]
    placed: dict[int, list[_Box]] = {}
    if table_rows:
        labels, rest = rest, []
        for box in labels:
            row = _row_of(box, table_rows)
            if row is None:
                rest.append(box)
            else:
                placed.setdefault(row, []).append(box)
    rows = _text_rows(rest)
    gutter = None if table_rows else _gutter(rows)
    if gutter is not None:  # a page set in two columns: the left one, then the right one
        return [line for side in (lambda b: b.right <= gutter, lambda b: b.left >= gutter)
                for line in _joined([[b for b in row if side(b)] for row in rows])]
    lines = [(row[0].middle, line) for row, line in zip(rows, _joined(rows), strict=True)]
    for index, row in enumerate(table_rows):
        lines.append((row[0].middle, _table_row(placed.get(index, []), row)))
    return [line for _middle, line in sorted(lines, key=lambda item: item[0])]


def _straightened(found: list) -> list[_Box]:
    """The boxes, turned back by the page's skew: the median slope of the long boxes' top
    edges (a scan a degree askew drifts half a line across a wide table)."""
    import math

    slopes = sorted(math.atan2(c[1][1] - c[0][1], c[1][0] - c[0][0]) for c, _t, _s in found
                    if abs(c[1][0] - c[0][0]) > 3 * abs(c[3][1] - c[0][1]) > 0)
    angle = slopes[len(slopes) // 2] if slopes else 0.0
    cos, sin = math.cos(-angle), math.sin(-angle)
    boxes = []
    for corners, text, _score in found:
        xs = [x * cos - y * sin for x, y in corners]
        ys = [x * sin + y * cos for x, y in corners]
        boxes.append(_Box(min(xs), max(xs), (min(ys) + max(ys)) / 2, max(ys) - min(ys), text))
    return boxes


def _text_rows(boxes: list[_Box]) -> list[list[_Box]]:
    """Boxes whose vertical middles lie within half a line of a row's first are that row."""
    rows: list[list[_Box]] = []
    for box in sorted(boxes, key=lambda b: (b.middle, b.left)):
        row = rows[-1] if rows else None
        if row is not None and abs(box.middle - row[0].middle) <= max(row[0].height,
                                                                         box.height) / 2:
            row.append(box)
        else:
            rows.append([box])
    for row in rows:
        row.sort(key=lambda box: box.left)
    return rows


def _value_rows(values: list[_Box]) -> list[list[_Box]]:
    """The rows of a table's values: value boxes on one line, two or more of them (a lone
    number is a page number or a figure in a sentence)."""
    return [row for row in _text_rows(values) if len(row) >= 2]


def _row_of(box: _Box, rows: list[list[_Box]]) -> int | None:
    """The table row a text box belongs to: the value row whose middle is nearest, when the
    box lies nearer to it than to its neighbours (a wrapped label's lines lie around its row's
    middle; a header above the table, a paragraph below it, belong to none)."""
    middles = [row[0].middle for row in rows]
    best = min(range(len(rows)), key=lambda i: abs(middles[i] - box.middle))
    if len(rows) == 1:
        up = down = 1.5 * rows[0][0].height
    else:
        up = (middles[best] - middles[best - 1]) / 2 if best else \
            (middles[1] - middles[0]) / 2
        down = (middles[best + 1] - middles[best]) / 2 if best + 1 < len(rows) else \
            (middles[best] - middles[best - 1]) / 2
    return best if -up <= box.middle - middles[best] <= down else None


def _table_row(labels: list[_Box], values: list[_Box]) -> str:
    """A table row as a line: its label cells left to right (the lines of a label wrapped in
    its cell, boxes one above the other, joined), then its values, each a cell of its own."""
    cells: list[list[_Box]] = []
    for box in sorted(labels, key=lambda b: (b.middle, b.left)):
        cell = next((cell for cell in cells if any(
            box.left < other.right and other.left < box.right for other in cell)), None)
        if cell is None:
            cells.append([box])
        else:
            cell.append(box)
    cells.sort(key=lambda cell: min(b.left for b in cell))
    line = ""
    for before, cell in zip([None, *cells], cells, strict=False):
        # Two boxes side by side on one line with a narrow gap are one label the engine cut
        # in two; anything else beside each other is two cells.
        one = before is not None and len(before) == len(cell) == 1 and \
            abs(before[0].middle - cell[0].middle) <= cell[0].height / 2 and \
            cell[0].left - before[0].right <= 2 * cell[0].height
        line += ("" if one or before is None else "\t") + "".join(b.text for b in cell)
    return "\t".join(([line] if cells else []) + [box.text.strip() for box in values])


def _joined(rows: list[list[_Box]]) -> list[str]:
    """Each row's boxes as a line; a gap of more than two characters' width is a tab."""
    lines = []
    for row in rows:
        if not row:
            continue
        line = row[0].text
        for before, box in zip(row, row[1:], strict=False):
            char = max(1.0, (before.right - before.left) / max(1, len(before.text)))
            line += "\t" if box.left - before.right > 2 * char else ""
            line += box.text
        lines.append(line)
    return lines


def _gutter(rows: list[list[_Box]]) -> float | None:
    """Where a page set in two columns divides, or None: most of its rows are two boxes whose
    typical width is running text's (a quarter of the text's width or more on both sides,
    unlike a table's label and numbers), and no box crosses the line between them."""
    boxes = [box for row in rows for box in row]
    if len(rows) < 6 or not boxes:
        return None
    span = max(b.right for b in boxes) - min(b.left for b in boxes)
    pairs = [row for row in rows if len(row) == 2]
    if len(pairs) < 0.6 * len(rows):
        return None
    for side in (0, 1):
        widths = sorted(row[side].right - row[side].left for row in pairs)
        if widths[len(widths) // 2] < span / 4:
            return None
    ends = sorted(row[0].right for row in pairs)
    starts = sorted(row[1].left for row in pairs)
    middle = (ends[len(ends) // 2] + starts[len(starts) // 2]) / 2
    if any(b.left < middle < b.right for b in boxes):
        return None
    return middle
