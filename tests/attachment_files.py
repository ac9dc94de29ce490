"""Small attachment files built in memory for the tests: real formats, hostile variants."""

from __future__ import annotations

import io
import struct
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


XLS_ROWS = [["统计指标", "单位", "统计数"], ["主动公开政府信息数", "条", 501],
            ["其中：主动公开规范性文件数", "条", 36]]


def xls_bytes(rows=XLS_ROWS) -> bytes:
    """A BIFF8 (Excel 97–2003) workbook, one sheet of ``rows``, written by xlwt: no timestamps,
    so the same bytes every run."""
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("统计")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# --- OLE2 compound file ([MS-CFB], version 3: 512-byte sectors, 64-byte mini sectors) -------
_SECTOR, _MINI_SECTOR, _MINI_CUTOFF = 512, 64, 4096
_FREESECT, _ENDOFCHAIN, _FATSECT, _NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF


def _sectors(size: int, unit: int) -> int:
    return -(-size // unit)


def ole2_bytes(streams: dict[str, bytes]) -> bytes:
    """A compound file whose root storage holds ``streams``: streams under 4096 bytes go to the
    mini stream (as [MS-CFB] requires), the others to their own sector chains.

    Layout: header, FAT, directory, mini FAT, mini stream, big streams; every chain contiguous.
    Timestamps and CLSIDs are zero, so the bytes depend on the streams only."""
    names = sorted(streams, key=lambda n: (len(n), n.upper()))  # the directory's sibling order
    small = [n for n in names if len(streams[n]) < _MINI_CUTOFF]
    big = [n for n in names if len(streams[n]) >= _MINI_CUTOFF]

    mini_starts, mini_fat = {}, []
    for name in small:
        count = _sectors(len(streams[name]), _MINI_SECTOR)
        mini_starts[name] = len(mini_fat)
        mini_fat += [*range(len(mini_fat) + 1, len(mini_fat) + count), _ENDOFCHAIN]
    mini_stream = b"".join(streams[n].ljust(_sectors(len(streams[n]), _MINI_SECTOR)
                                            * _MINI_SECTOR, b"\0") for n in small)

    dir_count = _sectors(1 + len(names), _SECTOR // 128)
    chains = [dir_count, _sectors(len(mini_fat) * 4, _SECTOR),
              _sectors(len(mini_stream), _SECTOR),
              *(_sectors(len(streams[n]), _SECTOR) for n in big)]
    fat_count = 1
    while fat_count * (_SECTOR // 4) < fat_count + sum(chains):
        fat_count += 1
    assert fat_count <= 109, "more FAT sectors than the header's DIFAT holds"
    fat = [_FATSECT] * fat_count
    starts = []
    for count in chains:
        starts.append(len(fat) if count else _ENDOFCHAIN)
        if count:
            fat += [*range(len(fat) + 1, len(fat) + count), _ENDOFCHAIN]
    fat += [_FREESECT] * (fat_count * (_SECTOR // 4) - len(fat))
    dir_start, mini_fat_start, mini_stream_start, *big_starts = starts
    start_of = {**mini_starts, **dict(zip(big, big_starts, strict=True))}

    # The root's children form a binary search tree in (length, upper-case name) order; all
    # black, which [MS-CFB] allows ("the simplest implementation ... mark every node black").
    left, right = {}, {}

    def subtree(lo: int, hi: int) -> int:
        if lo >= hi:
            return _NOSTREAM
        mid = (lo + hi) // 2
        left[mid], right[mid] = subtree(lo, mid), subtree(mid + 1, hi)
        return mid + 1  # entry 0 is the root

    top = subtree(0, len(names))

    def entry(name, kind, left_id, right_id, child, start, size) -> bytes:
        raw = name.encode("utf-16-le") + b"\0\0" if name else b""
        return (raw.ljust(64, b"\0")
                + struct.pack("<HBBIII", len(raw), kind, 1, left_id, right_id, child)
                + bytes(16 + 4 + 8 + 8)  # CLSID, state bits, creation and modified times
                + struct.pack("<IQ", start, size))

    directory = entry("Root Entry", 5, _NOSTREAM, _NOSTREAM, top, mini_stream_start,
                      len(mini_stream))
    for i, name in enumerate(names):
        directory += entry(name, 2, left[i], right[i], _NOSTREAM, start_of[name],
                           len(streams[name]))
    while len(directory) < dir_count * _SECTOR:  # unused entries: zeros, no siblings
        directory += entry("", 0, _NOSTREAM, _NOSTREAM, _NOSTREAM, 0, 0)

    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(16)
              + struct.pack("<HHHHH6xIIIIIIIII", 0x3E, 3, 0xFFFE, 9, 6, 0, fat_count,
                            dir_start, 0, _MINI_CUTOFF, mini_fat_start,
                            _sectors(len(mini_fat) * 4, _SECTOR), _ENDOFCHAIN, 0)
              + struct.pack("<109I", *range(fat_count), *[_FREESECT] * (109 - fat_count)))
    body = [struct.pack(f"<{len(fat)}I", *fat), directory,
            struct.pack(f"<{len(mini_fat)}I", *mini_fat), mini_stream,
            *(streams[n] for n in big)]
    return header + b"".join(part.ljust(_sectors(len(part), _SECTOR) * _SECTOR, b"\0")
                             for part in body)


# --- Word 97 binary document ([MS-DOC]) -----------------------------------------------------
_FC_MIN = 0x400  # where the text starts in the WordDocument stream, after the FIB, as Word puts it


def _stylesheet() -> bytes:
    """STSH: the 15 fixed style slots [MS-DOC] requires (cstd >= 15), slot 0 "Normal" (a
    paragraph style with empty properties), the others empty (cbStd 0).

    antiword reads the stylesheet without checking lcbStshf: with none it parses a 1-byte
    buffer and crashes (SIGSEGV, seen under valgrind), so a real document needs one."""
    name = "Normal".encode("utf-16-le")
    body = (struct.pack("<H", len(name) // 2) + name + b"\0\0"  # Xstz name
            + struct.pack("<HH", 2, 0)  # UpxPapx: cbUpx 2, istd 0, no sprms
            + struct.pack("<H", 0))  # UpxChpx: cbUpx 0
    # StdfBase: sti 0 (Normal); stk 1 (paragraph) with istdBase 0xFFF (none); cupx 2 with
    # istdNext 0; bchUpe = the STD's size; grfstd 0.
    std = struct.pack("<HHHHH", 0, 1 | 0xFFF << 4, 2, 10 + len(body), 0) + body
    # Stshif: cstd 15, cbSTDBaseInFile 10 (StdfBase only, Word 97), fStdStylenamesWritten,
    # stiMaxWhenSaved and istdMaxFixedWhenSaved 15, nVerBuiltInNamesWhenSaved 0, fonts 0.
    stshif = struct.pack("<HHHHHHhhh", 15, 10, 1, 15, 15, 0, 0, 0, 0)
    return (struct.pack("<H", len(stshif)) + stshif
            + struct.pack("<H", len(std)) + std + struct.pack("<H", 0) * 14)


def doc_bytes(lines=REPORT_LINES, *, word_stream_size: int = _MINI_CUTOFF) -> bytes:
    """A Word 97 (.doc) file whose main text is ``lines``, one paragraph each, stored as UTF-16LE
    in one piece. It holds the structures antiword and catdoc need and leaves out those only
    Word itself wants (section table, formatting FKPs, DOP, font table).

    - ``WordDocument``: the FIB (nFib 0xC1), then the text at 0x400, zero-padded to
      ``word_stream_size`` bytes. antiword refuses a WordDocument stream under 4096 bytes (it
      only reads it from big sectors, not from the mini stream); a smaller size makes that
      file, which catdoc still reads.
    - ``1Table`` (fWhichTblStm = 1): the stylesheet, then the CLX: one Pcdt whose PlcPcd maps CPs
      0..len(text) to the text's offset, bit 30 of fc clear (uncompressed, UTF-16LE).

    catdoc ignores the piece table: it reads fcMin..fcMac (FibBase offsets 0x18/0x1C, "reserved"
    in [MS-DOC] but written by Word 97) and guesses UTF-16 per 256-byte block from an ASCII space,
    CR or punctuation with a zero high byte, so lines longer than 127 characters of CJK text
    would defeat it."""
    text = ("\r".join(lines) + "\r").encode("utf-16-le")  # the last paragraph mark ends the text
    ccp_text = len(text) // 2
    stsh = _stylesheet()
    # CLX: no Prc; Pcdt (clxt 2, lcb) + PlcPcd: CPs [0, ccpText], one Pcd (flags, fc, prm 0).
    plc_pcd = struct.pack("<II", 0, ccp_text) + struct.pack("<HIH", 0, _FC_MIN, 0)
    clx = struct.pack("<BI", 2, len(plc_pcd)) + plc_pcd

    fib = bytearray(_FC_MIN)
    # FibBase: wIdent, nFib, unused, lid (zh-CN), pnNext, flags: fWhichTblStm (0x0200) | fExtChar
    # (0x1000, "MUST be 1"; catdoc reads UTF-16 text only with it); nFibBack 0xBF.
    struct.pack_into("<HHHHHHH", fib, 0x00, 0xA5EC, 0xC1, 0, 0x0804, 0, 0x1200, 0xBF)
    struct.pack_into("<II", fib, 0x18, _FC_MIN, _FC_MIN + len(text))  # fcMin, fcMac
    struct.pack_into("<H", fib, 0x20, 14)  # csw: FibRgW97, 14 words
    struct.pack_into("<H", fib, 0x3C, 0x0804)  # FibRgW97.lidFE
    struct.pack_into("<H", fib, 0x3E, 22)  # cslw: FibRgLw97, 22 longs
    struct.pack_into("<I", fib, 0x40, _FC_MIN + len(text))  # cbMac: bytes of the stream in use
    struct.pack_into("<I", fib, 0x4C, ccp_text)  # ccpText; no footnotes, headers …
    struct.pack_into("<H", fib, 0x98, 0x5D)  # cbRgFcLcb: FibRgFcLcb97 for nFib 0xC1
    struct.pack_into("<II", fib, 0xA2, 0, len(stsh))  # fcStshf, lcbStshf
    struct.pack_into("<II", fib, 0x1A2, len(stsh), len(clx))  # fcClx, lcbClx
    # cswNew at 0x382 stays 0: nFib 0xC1 has no FibRgCswNew.
    word = bytes(fib) + text
    # catdoc stops reading at the end of the stream, not of the text: in Word's files formatting
    # pages follow the text, here at least 256 zero bytes do.
    size = max(word_stream_size, -(-(len(word) + 256) // 512) * 512)
    return ole2_bytes({"WordDocument": word.ljust(size, b"\0"), "1Table": stsh + clx})


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


def pdf_bytes(text: str = "Annual report 2019", *, locked: bool = False) -> bytes:
    """A one-page PDF with a line of Latin text in Helvetica (hand-built: no PDF writer is a
    dependency; Chinese text in PDFs is PDFium's business, tested by it). ``locked``: encrypted
    with the standard security handler (RC4, revision 2) under a user password that is not
    the empty one, so that a reader without the password cannot open it."""
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
    # /O and /U: 32 bytes each; a /U that is not the empty password's hash locks the file.
    security = (b" /Encrypt << /Filter /Standard /V 1 /R 2 /O <%s> /U <%s> /P -4 >>"
                b" /ID [<%s> <%s>]" % (b"ab" * 32, b"cd" * 32, b"01" * 16, b"01" * 16)
                if locked else b"")
    out.write(b"trailer\n<< /Size %d /Root 1 0 R%s >>\nstartxref\n%d\n%%%%EOF\n"
              % (len(objects) + 1, security, xref))
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
