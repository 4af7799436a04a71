"""Small files that cost a naive reader minutes and gigabytes (issue #14), written byte by byte here.

No library that could refuse to write them is used: PDFs are assembled by hand (objects, xref, trailer), Office
files with zipfile, PNGs chunk by chunk.  Each is what the probe of issue #14 crafted, at its size.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from functools import cache
from io import BytesIO

_XLSX_TYPES = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
               '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
               '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
               '<Default Extension="xml" ContentType="application/xml"/>'
               '<Override PartName="/xl/workbook.xml" '
               'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
               '<Override PartName="/xl/worksheets/sheet1.xml" '
               'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>')
_RELS = '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{}</Relationships>'
_REL = ('<Relationship Id="{}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/{}" '
        'Target="{}"/>')
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def pdf(pages: int, width: float, height: float) -> bytes:
    """A PDF of `pages` blank pages of width x height points: no text layer, so a reader takes it for a scan."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               f"<< /Type /Pages /Kids [{' '.join(f'{3 + 2 * i} 0 R' for i in range(pages))}] "
               f"/Count {pages} >>".encode()]
    for i in range(pages):
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width} {height}] "
                       f"/Contents {4 + 2 * i} 0 R >>".encode())
        objects.append(b"<< /Length 0 >>\nstream\n\nendstream")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def xlsx(cells: dict[str, str]) -> bytes:
    """A one-sheet XLSX with inline-string cells at the given references ({"A1": "x", "XFD1048576": "y"})."""
    rows: dict[int, list[str]] = {}
    for ref, text in cells.items():
        number = int(ref.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
        rows.setdefault(number, []).append(f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>')
    sheet = (f'<worksheet xmlns="{_MAIN}"><sheetData>'
             + "".join(f'<row r="{n}">{"".join(c)}</row>' for n, c in sorted(rows.items()))
             + "</sheetData></worksheet>")
    workbook = (f'<workbook xmlns="{_MAIN}" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
                'relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>')
    return _zip({
        "[Content_Types].xml": _XLSX_TYPES,
        "_rels/.rels": _RELS.format(_REL.format("rId1", "officeDocument", "xl/workbook.xml")),
        "xl/workbook.xml": workbook,
        "xl/_rels/workbook.xml.rels": _RELS.format(_REL.format("rId1", "worksheet", "worksheets/sheet1.xml")),
        "xl/worksheets/sheet1.xml": sheet,
    })


def docx_bomb(docx: bytes, unpacked: int) -> bytes:
    """`docx` with its document.xml grown to `unpacked` bytes of empty paragraphs: small on the wire (~0.3 %)."""
    source = zipfile.ZipFile(BytesIO(docx))
    head, tail = source.read("word/document.xml").split(b"<w:body>")
    out = BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb:
        for info in source.infolist():
            if info.filename != "word/document.xml":
                bomb.writestr(info.filename, source.read(info))
                continue
            with bomb.open("word/document.xml", "w", force_zip64=True) as member:
                member.write(head + b"<w:body>")
                paragraphs = b"<w:p/>" * (1 << 16)
                for _ in range(-(-unpacked // len(paragraphs))):  # rounded up
                    member.write(paragraphs)
                member.write(tail)
    return out.getvalue()


@cache
def png(width: int, height: int) -> bytes:
    """A grey PNG of width x height white pixels, its pixel data deflated (~1000:1) row by row."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    deflate = zlib.compressobj(9)
    row = b"\x00" + b"\xff" * width  # filter byte, then the row
    rows = 1 << 12
    block = row * min(rows, height)
    pixels = [deflate.compress(block) for _ in range(height // rows)]
    pixels.append(deflate.compress(row * (height % rows)))
    pixels.append(deflate.flush())
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", b"".join(pixels)) + chunk(b"IEND", b"")


def nested_html(depth: int) -> bytes:
    """A report page whose text sits `depth` <div>s deep."""
    return ('<html><head><meta charset="utf-8"><title>2024年政府信息公开工作年度报告</title></head><body>'
            "<p>一、总体情况</p>" + "<div>" * depth + "<p>二、主动公开政府信息情况</p>" + "</div>" * depth
            + "</body></html>").encode()


def _zip(members: dict[str, str]) -> bytes:
    out = BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return out.getvalue()
