"""Tell a document's form from its bytes (magic numbers), using the name and Content-Type only as tie-breakers.

Portals mislabel files all the time (a PDF served as application/octet-stream, a .doc that is really HTML,
a WPS file named .doc), so the bytes decide.
"""

from __future__ import annotations

import io
import zipfile

FORMS = ("html", "text", "pdf", "docx", "xlsx", "doc", "wps", "xls", "image")

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM", b"II*\x00", b"MM\x00*")


def sniff(data: bytes, source: str = "", content_type: str | None = None) -> str | None:
    """Return one of FORMS, or None when the bytes are no document we can read."""
    head = data[:4096]
    if head.startswith(b"%PDF") or b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return _zip_form(data)
    if head.startswith(_OLE_MAGIC):
        return _ole_form(data, source)
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP" or head.startswith(_IMAGE_MAGIC):
        return "image"
    if _is_binary(head):
        return None
    lowered = head.lower()
    if any(
        tag in lowered
        for tag in (b"<html", b"<!doctype html", b"<body", b"<table", b"<div", b"<p>", b"<meta")
    ):
        return "html"
    if content_type and "html" in content_type.lower() and b"<" in lowered:
        return "html"
    return "text"


def _zip_form(data: bytes) -> str | None:
    try:
        names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
    except (zipfile.BadZipFile, ValueError, OSError):
        return None
    if "word/document.xml" in names:
        return "docx"
    if "xl/workbook.xml" in names:
        return "xlsx"
    return None


def _ole_form(data: bytes, source: str) -> str:
    """OLE2 compound files: Word (.doc), WPS (.wps, Word-compatible streams) or Excel (.xls)."""
    if b"W\x00o\x00r\x00k\x00b\x00o\x00o\x00k" in data or b"B\x00o\x00o\x00k\x00" in data[:65536]:
        return "xls"
    if source.lower().endswith(".wps"):
        return "wps"
    return "doc"


_CONTROL = bytes([*range(9), *range(14, 32)])


def _is_binary(head: bytes) -> bool:
    if not head:
        return False
    if b"\x00" in head:
        # UTF-16 text has NULs too; a BOM says so.
        return not head.startswith((b"\xff\xfe", b"\xfe\xff"))
    control = len(head) - len(head.translate(None, _CONTROL))
    return control > len(head) * 0.05
