"""Whether a document's bytes end before the document does.

A server that declares a ``Content-Length`` shorter than its body, or a connection that ends
early without the client noticing, leaves bytes that look like a whole document to everything
downstream: pypdf reads the pages it has, an HTML parser closes what is open, and the report
lands with half its text. The transport cannot always tell; the document can. Each format's
own end marker is checked here, so that both the crawler (which records the URL as
``truncated`` and fetches it again) and the extract stage (which rejects the document as
``truncated``, whoever brought it) use one rule.
"""

from __future__ import annotations

import re

#: Where a PDF's last ``%%EOF`` may sit: at the end, after at most some whitespace or a
#: writer's trailing junk (the PDF specification asks readers to look in the last 1,024 bytes).
PDF_TAIL = 2048
#: A zip archive (DOCX, XLSX, OFD) ends with its central directory's end record, followed by
#: a comment of at most 65,535 bytes.
ZIP_TAIL = 22 + 65535
_ZIP_END = b"PK\x05\x06"
_OPENED = re.compile(rb"<(?:html|body)[\s>]", re.I)
_CLOSED = re.compile(rb"</(?:html|body)\s*>", re.I)


def cut_short(data: bytes, kind: str) -> str | None:
    """Why the bytes of a document of ``kind`` (``pipelines.extract.sniff_kind``) end before
    the document does, or None when nothing says so. PDF: no ``%%EOF`` at its end. DOCX, XLSX,
    OFD: no end of the zip's central directory. HTML: it opened ``<html>`` or ``<body>``,
    closes neither, and ends mid-markup (not on a ``>``). Plain text, JSON (a cut JSON does not
    parse) and Word 97 files are not judged."""
    if kind == "pdf":
        if b"%%EOF" not in data[-PDF_TAIL:]:
            return "the PDF ends without its %%EOF marker: its bytes stop before the file does"
    elif data.startswith(b"PK\x03\x04"):
        if not _zip_end_whole(data):
            return (f"the {kind.upper()} file's zip archive has no whole central directory at "
                    "its end: its bytes stop before the file does")
    elif kind == "html":
        if (_OPENED.search(data[:65536]) and not _CLOSED.search(data)
                and not data.rstrip().endswith(b">")):
            return ("the page opened <html>/<body> and ends mid-markup without closing them: "
                    "its bytes stop before the page does")
    return None


def _zip_end_whole(data: bytes) -> bool:
    """Whether the zip's end-of-central-directory record (22 bytes, then its comment, whose
    length the record gives) lies whole at the end of ``data``."""
    tail = data[-ZIP_TAIL:]
    at = tail.rfind(_ZIP_END)
    while at >= 0:
        if at + 22 <= len(tail) and at + 22 + int.from_bytes(tail[at + 20:at + 22],
                                                            "little") <= len(tail):
            return True
        at = tail.rfind(_ZIP_END, 0, at)
    return False
