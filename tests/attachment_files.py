"""Small attachment files built in memory for the tests: real formats, hostile variants."""

from __future__ import annotations

import io
import zipfile

REPORT_LINES = ["西邑乡2019年政府信息公开年度报告", "一、总体情况",
                "本年新收政府信息公开申请数量\t0"]


def docx_bytes(lines=REPORT_LINES) -> bytes:
    import docx

    document = docx.Document()
    for line in lines:
        document.add_paragraph(line.replace("\t", " "))
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "行政许可", "42"
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def xlsx_bytes() -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["统计指标", "单位", "统计数"])
    sheet.append(["主动公开政府信息数", "条", 501])
    sheet.append(["其中：主动公开规范性文件数", "条", 36])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def ofd_bytes(lines=REPORT_LINES) -> bytes:
    """A minimal OFD: OFD.xml, a document and one page of TextObjects, one per line."""
    ns = 'xmlns:ofd="http://www.ofdspec.org/2016"'
    objects = "".join(
        f'<ofd:TextObject ID="{i + 10}" Boundary="10 {20 + 10 * i} 180 8" Font="1" Size="5">'
        f'<ofd:TextCode X="0" Y="5">{line.replace(chr(9), " ")}</ofd:TextCode></ofd:TextObject>'
        for i, line in enumerate(lines))
    files = {
        "OFD.xml": f'<?xml version="1.0" encoding="UTF-8"?><ofd:OFD {ns} Version="1.1">'
                   "<ofd:DocBody><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody>"
                   "</ofd:OFD>",
        "Doc_0/Document.xml": f'<?xml version="1.0" encoding="UTF-8"?><ofd:Document {ns}>'
                              '<ofd:Pages><ofd:Page ID="1" BaseLoc="Pages/Page_0/Content.xml"/>'
                              "</ofd:Pages></ofd:Document>",
        "Doc_0/Pages/Page_0/Content.xml": f'<?xml version="1.0" encoding="UTF-8"?><ofd:Page {ns}>'
                                          f"<ofd:Content><ofd:Layer ID=\"2\">{objects}"
                                          "</ofd:Layer></ofd:Content></ofd:Page>",
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text.encode("utf-8"))
    return buffer.getvalue()


def pdf_bytes(text: str = "Annual report 2019") -> bytes:
    """A one-page PDF with a line of Latin text in Helvetica (hand-built: no PDF writer is a
    dependency; Chinese text in PDFs is PDFium's business, tested by it)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
              % (len(objects) + 1, xref))
    return out.getvalue()


def zip_bomb_docx() -> bytes:
    """A DOCX-looking zip whose one part expands 1000-fold (300 MiB of zeros)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"<w:document/>")
        with archive.open("word/media/bomb.bin", "w", force_zip64=True) as part:
            chunk = bytes(1 << 20)
            for _ in range(300):
                part.write(chunk)
    return buffer.getvalue()


def xxe_docx() -> bytes:
    """A DOCX whose document.xml declares an external entity (XXE)."""
    good = zipfile.ZipFile(io.BytesIO(docx_bytes()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for item in good.infolist():
            data = good.read(item)
            if item.filename == "word/document.xml":
                data = data.replace(b"?>", b'?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
                                    1)
            archive.writestr(item, data)
    return buffer.getvalue()


_DOCX_NAMESPACES = " ".join(f'xmlns:{prefix}="{uri}"' for prefix, uri in {
    "w": "http://schemas.openxmlformats.org/wordprocessingml/2006/main",
    "mc": "http://schemas.openxmlformats.org/markup-compatibility/2006",
    "wps": "http://schemas.microsoft.com/office/word/2010/wordprocessingShape",
    "wp": "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing",
    "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
    "v": "urn:schemas-microsoft-com:vml"}.items())


def docx_with_body(body_xml: str) -> bytes:
    """A DOCX (python-docx's package) whose body is ``body_xml``: the shapes Word writes
    (content controls, tracked changes, text boxes…) that python-docx cannot make."""
    source = zipfile.ZipFile(io.BytesIO(docx_bytes(["x"])))
    document = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                f"<w:document {_DOCX_NAMESPACES}><w:body>{body_xml}</w:body></w:document>")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            data = (document.encode("utf-8") if info.filename == "word/document.xml"
                    else source.read(info))
            archive.writestr(info.filename, data)
    return buffer.getvalue()
