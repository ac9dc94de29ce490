"""Text of attached files: PDF, DOCX, DOC/WPS, XLSX, XLS and OFD, with guards against hostile
files. Each reader takes bytes and returns text, or raises :class:`DocumentRejected` with a
reason (``too_large``, ``zip_bomb``, ``xml_entities``, ``encrypted_pdf``, ``corrupt_*``,
``unsupported``). Readers never follow links, never resolve XML entities and never write
anywhere but a private temporary file for the Debian tools that only read paths.
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

from pipelines.errors import DocumentRejected

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


def pdf_text(data: bytes) -> str:
    """Text of a PDF, page by page (pypdfium2: PDFium's text layer, fast and robust)."""
    import pypdfium2 as pdfium

    check_size(data, "pdf")
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        reason = "encrypted_pdf" if "password" in str(exc).lower() else "corrupt_pdf"
        raise _reject(reason, f"the PDF cannot be opened: {exc}") from exc
    try:
        pages = []
        for page in pdf:
            textpage = page.get_textpage()
            pages.append(textpage.get_text_range())
            textpage.close()
            page.close()
        return "\n".join(pages).replace("\r\n", "\n")
    finally:
        pdf.close()


def docx_text(data: bytes) -> str:
    """Paragraphs, then tables row by row (cells separated by tabs)."""
    import docx

    if "word/document.xml" not in open_zip(data, "docx").namelist():
        raise _reject("unsupported_zip", "a zip archive that is not a DOCX, XLSX or OFD")
    try:
        document = docx.Document(io.BytesIO(data))
        parts = [p.text for p in document.paragraphs]
        for table in document.tables:
            for row in table.rows:
                parts.append("\t".join(cell.text.strip() for cell in row.cells))
    # python-docx, lxml and zlib raise many unrelated types on a truncated or damaged part.
    except Exception as exc:  # noqa: BLE001
        raise _reject("corrupt_docx", f"the DOCX cannot be read: {type(exc).__name__}: "
                                      f"{exc}") from exc
    return "\n".join(parts)


def xlsx_text(data: bytes) -> str:
    """Every sheet, row by row, cells separated by tabs."""
    import openpyxl

    open_zip(data, "xlsx")
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        # Sheets are read lazily: a damaged sheet fails here, mid-way, not at opening.
        return _rows_text((sheet.title, sheet.iter_rows(values_only=True)) for sheet in book)
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
    to catdoc; no Python library reads these reliably."""
    check_size(data, "doc")
    tools = [cmd for cmd in (["antiword", "-m", "UTF-8.txt", "-w", "0"], ["catdoc", "-d", "utf-8"])
             if shutil.which(cmd[0])]
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


READERS: dict[str, Callable[[bytes], str]] = {
    "pdf": pdf_text, "docx": docx_text, "doc": doc_text, "xlsx": xlsx_text, "xls": xls_text,
    "ofd": ofd_text,
}
