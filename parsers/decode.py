"""Bytes to text for HTML and plain-text reports.

Portals serve UTF-8, GBK, GB18030 and GB2312 — declared, undeclared, or declared wrongly (a page that says
gb2312 but uses GBK-only characters; a CMS template that says UTF-8 around an article stored in GBK, or the
reverse).  w3lib knows the HTML rules (BOM, HTTP header, <meta charset>) and maps gb2312/gbk to their superset
gb18030; charset-normalizer guesses when nothing is declared.  A declaration is believed only as far as the
bytes bear it out.
"""

from __future__ import annotations

import codecs

from charset_normalizer import from_bytes
from w3lib.encoding import html_body_declared_encoding, html_to_unicode, http_content_type_encoding, read_bom

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def decode_html(data: bytes, content_type: str | None = None) -> str:
    """Decode an HTML page in the encoding html_encoding finds."""
    _, text = html_to_unicode(f"text/html; charset={html_encoding(data, content_type)}", data)
    return text


def html_utf8(data: bytes, content_type: str | None = None) -> bytes:
    """The page as decode_html reads it, in UTF-8: for parsers that take bytes in a fixed encoding.

    Valid UTF-8 without a BOM is UTF-8 to html_encoding, so such a page (the common case) comes back as it is,
    neither decoded nor re-encoded.
    """
    if not data.startswith(codecs.BOM_UTF8) and _decodes(data, "utf-8"):
        return data
    return decode_html(data, content_type).encode("utf-8")


def html_encoding(data: bytes, content_type: str | None = None) -> str:
    """The encoding an HTML page is really in: its BOM; else UTF-8 when the bytes are valid UTF-8 (GBK text
    practically never is, so such a page declaring GBK is lying); else the HTTP header's or <meta>'s encoding
    unless GB18030 reads the bytes with fewer errors (GBK bytes declared UTF-8); else detection."""
    bom, _ = read_bom(data)
    if bom:
        return bom
    if _decodes(data, "utf-8"):
        return "utf-8"
    declared = http_content_type_encoding(content_type) or html_body_declared_encoding(data)
    if declared is None:
        return _guess_encoding(data) or "utf-8"
    candidates = dict.fromkeys((declared, "gb18030"))
    if len(candidates) == 1:
        return declared  # GB18030 declared (gbk and gb2312 resolve to it): no other reading to weigh it against
    return min(candidates, key=lambda encoding: _decode_errors(data, encoding))


def _decode_errors(data: bytes, encoding: str) -> float:
    """How many undecodable bytes (or sequences) `data` has in `encoding`; infinite for an unknown encoding."""
    try:
        return data.decode(encoding, errors="replace").count("\ufffd")
    except LookupError:
        return float("inf")


def decode_text(data: bytes) -> str:
    """Decode plain text: BOM, then strict UTF-8, then strict GB18030, then detection."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding, errors="replace")
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode(_guess_encoding(data) or "utf-8", errors="replace")


def _guess_encoding(data: bytes) -> str | None:
    """Strict UTF-8, else GB18030 when it decodes cleanly (the common case for undeclared Chinese pages),
    else charset-normalizer's best guess."""
    for encoding in ("utf-8", "gb18030"):
        if _decodes(data, encoding):
            return encoding
    best = from_bytes(data).best()
    return best.encoding if best else None


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True
