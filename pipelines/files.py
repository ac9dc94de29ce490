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


def _suffixes(suffixes) -> re.Pattern[str]:
    """A URL (or href) ending in one of ``suffixes``, before a query or fragment."""
    return re.compile(r"\.(?:{})(?=$|[?#])".format(
        "|".join(sorted((suffix[1:] for suffix in suffixes), key=len, reverse=True))), re.I)


#: A URL naming a document file (or an archive). Lists link reports as these; their images
#: are thumbnails, never reports.
ATTACHMENT = _suffixes((*FILE_KINDS, *ARCHIVES))
#: A URL naming a page image: on a document page, a scan of the report (a link to it, or the
#: pictures a report published as images is made of: pipelines.extract.picture_pages).
IMAGE = _suffixes(IMAGE_KINDS)


def is_attachment_url(url: str) -> bool:
    """Whether a URL names a file a report can be attached as (PDF, Word, OFD, a scan's image,
    …), not a page."""
    return bool(ATTACHMENT.search(url) or IMAGE.search(url))
