"""Text of attached files: PDF, DOCX, DOC/WPS, XLSX, XLS, OFD and page images (scans, read by
OCR: :mod:`pipelines.ocr`), with guards against hostile files. Each reader (:data:`READERS`)
takes bytes and returns text and what OCR did, or raises :class:`DocumentRejected` with a
reason (``too_large``, ``zip_bomb``, ``xml_entities``, ``encrypted_pdf``, ``corrupt_*``,
``too_slow``, ``unsupported``). Readers never follow links, never resolve XML entities and
never write anywhere but a private temporary file for the Debian tools that only read paths.
"""

from __future__ import annotations

import io
import math
import re
import shutil
import subprocess
import tempfile
import zipfile
import zlib
from collections.abc import Callable

from pipelines.errors import DocumentRejected, RejectReason
from pipelines.ocr import OcrRun, read_image, read_pdf_pages

#: Documents (attachments and pages) above this size are refused before they are parsed: with
#: the workers' address-space cap (pipelines.workers) it bounds one document's memory.
MAX_BYTES = 64 * 1024 * 1024
#: Zip archives (DOCX, XLSX, OFD) may expand to at most this much, at most this ratio per part.
MAX_UNZIPPED = 256 * 1024 * 1024
MAX_RATIO = 200
#: Seconds a Debian converter (antiword, catdoc) may take on one file.
TOOL_TIMEOUT = 60

# What zipfile (and zlib under it) raise on a damaged archive or member.
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError,
               UnicodeDecodeError)
_DOCTYPE = re.compile(rb"<!DOCTYPE|<!ENTITY", re.I)


def _reject(reason: str, message: str) -> DocumentRejected:
    return DocumentRejected(reason, message, stage="extract")


def check_size(data: bytes, kind: str) -> None:
    """Refuse (``too_large``) a document over :data:`MAX_BYTES` before anything parses it."""
    if len(data) > MAX_BYTES:
        raise _reject("too_large", f"the {kind} file is {len(data) >> 20} MiB, over the "
                                   f"{MAX_BYTES >> 20} MiB limit")


def open_zip(data: bytes, kind: str) -> zipfile.ZipFile:
    """A zip archive checked against bombs and XML entity tricks before anything reads it."""
    check_size(data, kind)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except _ZIP_ERRORS as exc:
        raise _reject(f"corrupt_{kind}", f"the {kind} file is not a readable zip: {exc}") from exc
    total = sum(m.file_size for m in members)
    if total > MAX_UNZIPPED or len(members) > 20000 or any(
            m.compress_size and m.file_size / m.compress_size > MAX_RATIO for m in members):
        raise _reject("zip_bomb", f"the {kind} file would expand to {total >> 20} MiB "
                                  f"in {len(members)} parts: refused as a zip bomb")
    for member in members:
        if member.filename.lower().endswith((".xml", ".rels")):
            try:
                with archive.open(member) as part:
                    head = part.read(4096)
            except _ZIP_ERRORS as exc:
                raise _reject(f"corrupt_{kind}", f"{member.filename} in the {kind} file cannot "
                                                 f"be read: {exc}") from exc
            if _DOCTYPE.search(head):
                raise _reject("xml_entities", f"{member.filename} in the {kind} file "
                                              "declares a DTD or entities: refused (XXE)")
    return archive


def zip_kind(data: bytes) -> str | None:
    """``docx``, ``xlsx`` or ``ofd`` for an Office/OFD zip, None for anything else."""
    try:
        names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
    except _ZIP_ERRORS:
        return None
    if "word/document.xml" in names:
        return "docx"
    if "xl/workbook.xml" in names:
        return "xlsx"
    if "OFD.xml" in names:
        return "ofd"
    return None


def pdf_read(data: bytes) -> tuple[str, OcrRun | None]:
    """Text of a PDF, page by page: PDFium's text layer (pypdfium2: fast and robust), and OCR
    for the pages that are scans (:func:`pipelines.ocr.read_pdf_pages`), with what OCR did."""
    import pypdfium2 as pdfium

    check_size(data, "pdf")
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        locked = exc.err_code in (pdfium.raw.FPDF_ERR_PASSWORD, pdfium.raw.FPDF_ERR_SECURITY)
        reason = RejectReason.ENCRYPTED_PDF if locked else RejectReason.CORRUPT_PDF
        raise _reject(reason, f"the PDF cannot be opened: {exc}") from exc
    try:
        pages, ocr = read_pdf_pages(pdf)
        return "\n".join(pages).replace("\r\n", "\n"), ocr
    finally:
        pdf.close()


def docx_text(data: bytes) -> str:
    """The body in document order: a paragraph per line, a table row per line (cells separated
    by tabs), text boxes after their paragraph.

    Read from ``word/document.xml`` by hand: python-docx's paragraphs and cells skip text held
    in content controls (``w:sdt``), tracked insertions, smart tags, fields, nested tables and
    text boxes, which Word-made reports use, and a report must not lose them silently."""
    from lxml import etree

    archive = open_zip(data, "docx")
    if "word/document.xml" not in archive.namelist():
        raise _reject("unsupported_zip", "a zip archive that is not a DOCX, XLSX or OFD")
    try:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
        root = etree.fromstring(archive.read("word/document.xml"), parser=parser)
        body = root.find(f"{_W}body")
        lines = _docx_blocks(body if body is not None else root)
    # lxml and zlib raise many unrelated types on a truncated or damaged part.
    except Exception as exc:  # noqa: BLE001
        raise _reject("corrupt_docx", f"the DOCX cannot be read: {type(exc).__name__}: "
                                      f"{exc}") from exc
    return "\n".join(lines)


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
# Parts of a paragraph that hold no text of it: properties (their w:tab are tab stops),
# deleted text, field instructions.
_DOCX_SKIP = {f"{_W}{name}" for name in ("pPr", "rPr", "delText", "instrText", "sectPr",
                                         "del", "moveFrom")}


def _docx_blocks(container) -> list[str]:
    """Lines of a body, cell or text box: paragraphs and table rows, whatever wraps them."""
    lines: list[str] = []
    for child in container:
        if not isinstance(child.tag, str) or child.tag in _DOCX_SKIP:
            continue
        if child.tag == f"{_W}p":
            lines.extend(_docx_paragraph(child))
        elif child.tag == f"{_W}tbl":
            lines.extend(_docx_rows(child))
        elif child.tag == f"{_MC}AlternateContent":
            lines.extend(_docx_blocks(child[0]) if len(child) else [])  # the Choice only
        else:  # w:sdt, w:sdtContent, w:customXml, w:ins …: wrappers
            lines.extend(_docx_blocks(child))
    return lines


def _docx_paragraph(paragraph) -> list[str]:
    parts: list[str] = []
    boxes: list = []

    def walk(node) -> None:
        for child in node:
            tag = child.tag
            if not isinstance(tag, str) or tag in _DOCX_SKIP:
                continue
            if tag == f"{_W}t":
                parts.append(child.text or "")
            elif tag == f"{_W}tab":
                parts.append("\t")
            elif tag in (f"{_W}br", f"{_W}cr"):
                parts.append("\n")
            elif tag == f"{_W}txbxContent":
                boxes.append(child)  # a text box: its own paragraphs, after this one
            elif tag == f"{_MC}AlternateContent":
                if len(child):
                    walk(child[0])  # Choice; the Fallback repeats it for old readers
            else:
                walk(child)

    walk(paragraph)
    lines = "".join(parts).split("\n")
    for box in boxes:
        lines.extend(_docx_blocks(box))
    return lines


def _docx_rows(table) -> list[str]:
    rows: list[str] = []
    for row in _docx_children(table, "tr"):
        cells = [" ".join(line.strip() for line in _docx_blocks(cell) if line.strip())
                 for cell in _docx_children(row, "tc")]
        rows.append("\t".join(cells))
    return rows


def _docx_children(node, name: str):
    """``w:<name>`` children of a table or row, also inside content controls wrapping them."""
    for child in node:
        if child.tag == f"{_W}{name}":
            yield child
        elif isinstance(child.tag, str) and child.tag not in _DOCX_SKIP and \
                child.tag not in (f"{_W}tbl", f"{_W}tr", f"{_W}tc"):
            yield from _docx_children(child, name)


def xlsx_text(data: bytes) -> str:
    """Every sheet, row by row, cells separated by tabs."""
    import openpyxl

    open_zip(data, "xlsx")
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheets = []
        for sheet in book:
            if hasattr(sheet, "reset_dimensions"):
                # A stale <dimension ref="A1"/> would make read-only mode stop at A1.
                sheet.reset_dimensions()
            sheets.append((sheet.title, sheet.iter_rows(values_only=True)))
        # Sheets are read lazily: a damaged sheet fails here, mid-way, not at opening.
        return _rows_text(sheets)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many unrelated types
        raise _reject("corrupt_xlsx", f"the XLSX cannot be read: {type(exc).__name__}: "
                                      f"{exc}") from exc


def xls_text(data: bytes) -> str:
    """Legacy Excel (BIFF) sheets, row by row."""
    import xlrd

    check_size(data, "xls")
    try:
        book = xlrd.open_workbook(file_contents=data)
        return _rows_text((s.name, (s.row_values(i) for i in range(s.nrows)))
                          for s in book.sheets())
    except Exception as exc:  # noqa: BLE001 - xlrd.XLRDError, struct and index errors
        raise _reject("corrupt_xls", f"the XLS cannot be read: {type(exc).__name__}: "
                                     f"{exc}") from exc


def _rows_text(sheets) -> str:
    lines = []
    for _name, rows in sheets:
        for row in rows:
            cells = ["" if v is None else (str(int(v)) if isinstance(v, float) and v.is_integer()
                                           else str(v)) for v in row]
            if any(c.strip() for c in cells):
                lines.append("\t".join(cells).rstrip("\t"))
    return "\n".join(lines)


def doc_text(data: bytes) -> str:
    """Word 97–2003 (and WPS files saved in that format) through Debian's antiword, falling back
    to catdoc; no Python library reads these reliably. Both print a paragraph on one line
    (antiword ``-w 0``, catdoc ``-w``), as the other readers do."""
    check_size(data, "doc")
    readers = (["antiword", "-m", "UTF-8.txt", "-w", "0"], ["catdoc", "-w", "-d", "utf-8"])
    tools = [cmd for cmd in readers if shutil.which(cmd[0])]
    if not tools:
        raise _reject("unsupported", "no DOC reader installed: install antiword or catdoc "
                                     "(make install does)")
    with tempfile.NamedTemporaryFile(suffix=".doc") as handle:
        handle.write(data)
        handle.flush()
        errors = []
        for cmd in tools:
            try:
                done = subprocess.run([*cmd, handle.name], capture_output=True,
                                      timeout=TOOL_TIMEOUT, check=False)
            except subprocess.TimeoutExpired:
                errors.append(f"{cmd[0]} timed out")
                continue
            text = done.stdout.decode("utf-8", errors="replace")
            if done.returncode == 0 and text.strip():
                return text
            errors.append(f"{cmd[0]}: {done.stderr.decode('utf-8', 'replace').strip()[:120]}")
    raise _reject("corrupt_doc", "the DOC/WPS file cannot be read (" + "; ".join(errors) + ")")


def ofd_text(data: bytes) -> str:
    """Text of an OFD (GB/T 33190) document: each page's ``TextCode`` runs in reading order.

    Read by hand from the XML because text is all we need; the OFD libraries on PyPI render
    pages to images and bring a PDF toolchain with them."""
    from defusedxml import ElementTree

    archive = open_zip(data, "ofd")
    names = archive.namelist()
    pages = sorted((n for n in names if re.search(r"Pages/Page_\d+/Content\.xml$", n)),
                   key=lambda n: [int(x) for x in re.findall(r"\d+", n)])
    lines = []
    for name in pages:
        try:
            root = ElementTree.fromstring(archive.read(name))
        except Exception as exc:  # defusedxml refuses entities; ParseError on broken XML
            raise _reject("corrupt_ofd", f"{name} in the OFD cannot be read: {exc}") from exc
        runs = []
        for obj in root.iter():
            if obj.tag.endswith("TextObject"):
                boundary = ((obj.get("Boundary") or "").split() + ["0", "0"])[:2]
                left, top = _number(boundary[0]), _number(boundary[1])
                for code in obj:
                    if code.tag.endswith("TextCode") and code.text:
                        y = top + _number(code.get("Y"))
                        x = left + _number(code.get("X"))
                        runs.append((round(y, 1), x, code.text))
        current_y, line = None, []
        for y, _x, text in sorted(runs):
            if current_y is not None and abs(y - current_y) > 1.0:
                lines.append("".join(line))
                line = []
            current_y = y
            line.append(text)
        if line:
            lines.append("".join(line))
    if not pages:
        raise _reject("corrupt_ofd", "the OFD file has no pages")
    return "\n".join(lines)


def _number(value: str | None) -> float:
    """A coordinate of an OFD page; one that is not a finite number places its text at 0 (it
    only orders text, and a damaged position must not lose the text)."""
    try:
        number = float(value or 0)
    except ValueError:
        return 0.0
    return number if math.isfinite(number) else 0.0


def _no_ocr(reader: Callable[[bytes], str]) -> Callable[[bytes], tuple[str, None]]:
    return lambda data: (reader(data), None)


#: Each file kind's reader: its text, and what OCR did for it (PDFs and images only).
READERS: dict[str, Callable[[bytes], tuple[str, OcrRun | None]]] = {
    "pdf": pdf_read, "image": read_image, "docx": _no_ocr(docx_text), "doc": _no_ocr(doc_text),
    "xlsx": _no_ocr(xlsx_text), "xls": _no_ocr(xls_text), "ofd": _no_ocr(ofd_text),
}
