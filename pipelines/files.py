"""The file formats reports are published in, by suffix: one list for the extractor (which
reader opens a file), ``ingest`` (which files of a folder to take) and the CMS families (which
links of a page are attachments)."""

from __future__ import annotations

import re

#: Suffix → the reader's kind (pipelines.attachments). .wps/.et: Kingsoft WPS Office.
FILE_KINDS = {".pdf": "pdf", ".docx": "docx", ".doc": "doc", ".wps": "doc", ".xlsx": "xlsx",
              ".xls": "xls", ".et": "xls", ".ofd": "ofd"}
#: Page images (a scan sent as pictures, a folder of them): read by OCR (pipelines.ocr).
IMAGE_KINDS = dict.fromkeys((".jpg", ".jpeg", ".png", ".gif", ".tif", ".tiff", ".bmp"), "image")
#: Archives portals attach reports in. Fetched and kept as raw bytes, so that nothing a page
#: attaches is lost, though no reader opens them (they are rejected with their reason).
ARCHIVES = (".zip", ".rar")
#: A URL (or href) naming an attachment: one of the suffixes above, before a query or fragment.
ATTACHMENT = re.compile(r"\.(?:{})(?=$|[?#])".format(
    "|".join(sorted((suffix[1:] for suffix in (*FILE_KINDS, *ARCHIVES)), key=len,
                    reverse=True))), re.I)


def is_attachment_url(url: str) -> bool:
    """Whether a link points to a file a report can be attached as (PDF, Word, OFD, …)."""
    return bool(ATTACHMENT.search(url))
