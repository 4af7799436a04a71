"""Clean the text a layout reader (PDF, DOCX, spreadsheet, OCR) finds in a cell or paragraph.

Layout readers see text the way it was *drawn*: a label wrapped inside a narrow cell arrives as several lines,
and PDF extraction puts a space wherever glyphs sit a little apart (`湘潭县数据局 2024 年`).  Chinese puts no
spaces between words, so line breaks and spaces next to a CJK character carry no meaning and are dropped;
between two Latin letters or digits they are kept as one space, so `12\n34` never silently becomes 1234.
"""

from __future__ import annotations

import re

_SPACE_NEXT_TO_WIDE = re.compile(r"(?<=[^\x00-\x7f])\s+|\s+(?=[^\x00-\x7f])")
_SPACES = re.compile(r"\s+")


def join_lines(text: str | None) -> str:
    """One line of text from a cell's or paragraph's wrapped lines."""
    if not text:
        return ""
    text = text.replace("\u00a0", " ").replace("\u3000", " ")
    return _SPACES.sub(" ", _SPACE_NEXT_TO_WIDE.sub("", text)).strip()
