"""Extract stage: a document's bytes → its text and the page's own metadata hints.

Pure: bytes (+ filename, headers) in, :class:`Extracted` out; no network, clock or settings.
The kind is sniffed from the bytes first (``%PDF``, a DOCX zip) and the filename second, since
portals serve attachments under misleading names and types.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field

from pipelines.decode import decode
from pipelines.errors import DocumentRejected
from pipelines.repair import repair_text

#: Kinds the extract stage understands, by file extension (used by ``ingest`` to pick files).
EXTENSIONS = {".html": "html", ".htm": "html", ".shtml": "html", ".txt": "text", ".pdf": "pdf",
              ".docx": "docx"}

_DROP_TAGS = ("script", "style", "noscript", "template", "iframe", "object")


@dataclass
class Extracted:
    kind: str  # html | text | pdf | docx
    text: str
    title: str | None = None
    meta: dict[str, str] = field(default_factory=dict)  # <meta name=… content=…> of a page
    encoding_declared: str | None = None
    encoding_detected: str | None = None
    repairs: list[str] = field(default_factory=list)
    unrecoverable_chars: int = 0


def sniff_kind(data: bytes, filename: str | None) -> str:
    """What the bytes are: ``pdf``, ``docx``, ``html`` or ``text``."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        return "docx"
    head = data[:2048].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")) or b"<html" in head or b"<body" in head:
        return "html"
    ext = "." + filename.rsplit(".", 1)[-1].lower() if filename and "." in filename else ""
    return EXTENSIONS.get(ext, "text")


def extract(data: bytes, *, filename: str | None = None, headers: dict[str, str] | None = None,
            encoding: str | None = None) -> Extracted:
    """Text and page metadata of one document, decoded and repaired (see :mod:`pipelines.decode`
    and :mod:`pipelines.repair`); :class:`DocumentRejected` when there is no text.

    ``encoding`` overrides every declaration and detection (a portal known to lie)."""
    kind = sniff_kind(data, filename)
    if kind == "pdf":
        result = Extracted(kind, _pdf_text(data))
    elif kind == "docx":
        result = Extracted(kind, _docx_text(data))
    else:
        decoded = decode(data, headers=headers, override=encoding)
        result = html_text(decoded.text) if kind == "html" else Extracted(kind, decoded.text)
        result.encoding_declared = decoded.encoding_declared
        result.encoding_detected = decoded.encoding_detected
        result.repairs = list(decoded.repairs)
    repaired = repair_text(result.text)
    result.text = repaired.text
    result.repairs += repaired.repairs
    result.unrecoverable_chars = repaired.unrecoverable_chars
    if result.title:
        result.title = repair_text(result.title).text
    if not result.text.strip():
        raise DocumentRejected("no_text", f"the {kind} document contains no text", stage="extract")
    return result


def html_text(html: str) -> Extracted:
    import lxml.html

    try:
        root = lxml.html.document_fromstring(html)
    except Exception as exc:  # lxml raises several unrelated types on hopeless markup
        raise DocumentRejected("bad_html", f"the HTML cannot be parsed: {exc}",
                               stage="extract") from exc
    meta = {}
    for node in root.iter("meta"):
        name = node.get("name") or node.get("property")
        if name and node.get("content") is not None:
            meta.setdefault(name, node.get("content").strip())
    title_node = root.find(".//title")
    title = meta.get("ArticleTitle") or (
        title_node.text_content().strip() if title_node is not None else None)
    for bad in root.iter(*_DROP_TAGS):
        bad.drop_tree()
    for block in root.iter("p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "table"):
        block.tail = "\n" + (block.tail or "")
    for cell in root.iter("td", "th"):
        cell.tail = "\t" + (cell.tail or "")
    body = root.find("body")
    text = (body if body is not None else root).text_content()
    # Cells stay tab-separated so that label/value pairs of a metadata table stay paired.
    lines = [re.sub(r"[ \xa0\u3000]+", " ", line).strip(" \t") for line in text.splitlines()]
    return Extracted("html", "\n".join(line for line in lines if line), title=title or None,
                     meta=meta)


def _pdf_text(data: bytes) -> str:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        reason = "encrypted_pdf" if "password" in str(exc).lower() else "corrupt_pdf"
        raise DocumentRejected(reason, f"the PDF cannot be opened: {exc}", stage="extract") from exc
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


def _docx_text(data: bytes) -> str:
    import docx

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if "word/document.xml" not in archive.namelist():
                raise DocumentRejected("unsupported_zip", "a zip archive that is not a DOCX",
                                       stage="extract")
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise DocumentRejected("corrupt_docx", f"the DOCX cannot be read: {exc}",
                               stage="extract") from exc
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.append("\t".join(cell.text for cell in row.cells))
    return "\n".join(parts)
