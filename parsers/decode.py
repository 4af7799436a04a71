"""Bytes to text for HTML and plain-text reports.

Portals serve UTF-8, GBK, GB18030 and GB2312 — declared, undeclared, or declared wrongly (a page that says
gb2312 but uses GBK-only characters).  w3lib knows the HTML rules (BOM, HTTP header, <meta charset>) and maps
gb2312/gbk to their superset gb18030; charset-normalizer guesses when nothing is declared.
"""

from __future__ import annotations

import codecs

from charset_normalizer import from_bytes
from w3lib.encoding import html_to_unicode

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def decode_html(data: bytes, content_type: str | None = None) -> str:
    """Decode an HTML page by BOM, HTTP header, then <meta>, then detection."""
    _, text = html_to_unicode(content_type, data, auto_detect_fun=_guess_encoding)
    return text


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
        try:
            data.decode(encoding)
            return encoding
        except UnicodeDecodeError:
            continue
    best = from_bytes(data).best()
    return best.encoding if best else None
